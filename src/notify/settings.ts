/**
 * Notification settings shared by both binaries: the same flat keys (they suit Meltano and
 * environment variables) in src/schemas/tap-mixpanel.config.json and
 * src/schemas/target-mailchimp.config.json. This module checks the combinations JSON Schema
 * says badly (a channel with recipients but no server, a password over a plain connection) and
 * resolves the keys into the channels of a digest or an alert.
 */
import { registerSecret } from '../log/redact.js';
import type { JsonObject } from '../singer/messages.js';

export type SmtpSecurity = 'starttls' | 'tls' | 'none';

/** The alert keys, in both binaries. */
export interface NotifyConfig {
  smtp_host?: string;
  smtp_port?: number;
  smtp_security?: SmtpSecurity;
  smtp_username?: string;
  smtp_password?: string;
  smtp_tls_ca_file?: string;
  email_from?: string;
  alert_email_to?: string[] | string;
  twilio_account_sid?: string;
  twilio_auth_token?: string;
  twilio_from?: string;
  twilio_messaging_service_sid?: string;
  twilio_api_base_url?: string;
  alert_sms_to?: string[] | string;
  alert_webhook_url?: string;
  alert_empty_streams?: string[] | string;
  alert_retry_threshold?: number;
  notify_timeout_seconds?: number;
}

/** The digest keys, target-mailchimp only (the tap creates nobody). */
export interface DigestConfig extends NotifyConfig {
  digest_email_to?: string[] | string;
  digest_sms_to?: string[] | string;
  notify_webhook_url?: string;
  digest_send_empty?: boolean;
  digest_email_max_people?: number;
}

export const DEFAULT_TWILIO_BASE_URL = 'https://api.twilio.com';
export const DEFAULT_NOTIFY_TIMEOUT_SECONDS = 30;
export const DEFAULT_EMAIL_MAX_PEOPLE = 100;
export const DEFAULT_RETRY_THRESHOLD = 10;
const DEFAULT_PORTS: Record<SmtpSecurity, number> = { starttls: 587, tls: 465, none: 25 };

export interface SmtpSettings {
  host: string;
  port: number;
  security: SmtpSecurity;
  username?: string;
  password?: string;
  caFile?: string;
}

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  from?: string;
  messagingServiceSid?: string;
  baseUrl: string;
}

export type Channel =
  | { kind: 'email'; smtp: SmtpSettings; from: string; to: string[] }
  | { kind: 'sms'; twilio: TwilioSettings; to: string[] }
  | { kind: 'webhook'; url: string; setting: 'notify_webhook_url' | 'alert_webhook_url' };

export type ChannelKind = Channel['kind'];

/** A setting that may be an array or a comma-separated string, as a clean list. */
export function listOf(value: string[] | string | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : value.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

const E164 = /^\+[1-9]\d{6,14}$/;
// Either a bare address or "Name <address>"; the server has the last word on the rest.
const EMAIL = /^(?:[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+|[^<>]*<[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>)$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function str(config: JsonObject, key: string): string | undefined {
  const value = config[key];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function list(config: JsonObject, key: string): string[] {
  const value = config[key];
  if (typeof value === 'string') return listOf(value);
  if (Array.isArray(value)) return listOf(value.filter((v): v is string => typeof v === 'string'));
  return [];
}

/**
 * One problem line per impossible combination of notification settings. `digest` is true for
 * the target, whose schema also has the digest keys.
 */
export function checkNotifyConfig(config: JsonObject, options: { digest: boolean }): string[] {
  const problems: string[] = [];
  const emailKeys = options.digest ? ['digest_email_to', 'alert_email_to'] : ['alert_email_to'];
  const smsKeys = options.digest ? ['digest_sms_to', 'alert_sms_to'] : ['alert_sms_to'];

  for (const key of emailKeys) {
    for (const address of list(config, key)) {
      if (!EMAIL.test(address)) problems.push(`"${key}" holds ${JSON.stringify(address)}, which is not an email address: use name@example.org`);
    }
  }
  const emailUser = emailKeys.find((k) => list(config, k).length > 0);
  if (emailUser) {
    if (!str(config, 'smtp_host')) problems.push(`"smtp_host" is required with ${emailUser}: the SMTP server of your mail provider, e.g. smtp.sendgrid.net or smtp.office365.com`);
    if (!str(config, 'email_from')) problems.push(`"email_from" is required with ${emailUser}: the sender address, e.g. "Data team <data@example.org>"`);
  }
  const from = str(config, 'email_from');
  if (from && !EMAIL.test(from)) problems.push(`"email_from" (${JSON.stringify(from)}) is not an email address: use data@example.org or "Data team <data@example.org>"`);
  const user = str(config, 'smtp_username');
  const password = str(config, 'smtp_password');
  if (user && !password) problems.push('"smtp_password" is required with smtp_username (your provider\'s SMTP password or API key)');
  if (password && !user) problems.push('"smtp_username" is required with smtp_password (for API-key providers it is often "apikey")');
  const host = str(config, 'smtp_host');
  if (config.smtp_security === 'none' && password && host && !isLoopback(host)) {
    problems.push(
      `"smtp_security" is none, which would send smtp_password unencrypted to ${host}: use starttls (port 587) or tls (port 465); none is for a relay on this machine`,
    );
  }

  for (const key of smsKeys) {
    for (const number of list(config, key)) {
      if (!E164.test(number)) problems.push(`"${key}" holds ${JSON.stringify(number)}, which is not a phone number in E.164 form: use + and the country code, e.g. +14155550100`);
    }
  }
  const smsUser = smsKeys.find((k) => list(config, k).length > 0);
  if (smsUser) {
    if (!str(config, 'twilio_account_sid')) problems.push(`"twilio_account_sid" is required with ${smsUser}: the Account SID (AC...) from the Twilio console`);
    if (!str(config, 'twilio_auth_token')) problems.push(`"twilio_auth_token" is required with ${smsUser}: the Auth Token from the Twilio console, next to the Account SID`);
    if (!str(config, 'twilio_from') && !str(config, 'twilio_messaging_service_sid')) {
      problems.push(`"twilio_from" or "twilio_messaging_service_sid" is required with ${smsUser}: a Twilio number such as +14155550100, or a Messaging Service SID (MG...)`);
    }
  }
  const twilioFrom = str(config, 'twilio_from');
  if (twilioFrom && !E164.test(twilioFrom)) problems.push(`"twilio_from" (${JSON.stringify(twilioFrom)}) is not a phone number in E.164 form, e.g. +14155550100`);
  return problems;
}

/** Registers what the schema's `secret` flag cannot: the parts of webhook URLs that carry their secret. */
export function registerNotifySecrets(config: NotifyConfig & { notify_webhook_url?: string }): void {
  for (const url of [config.notify_webhook_url, config.alert_webhook_url]) {
    if (!url) continue;
    try {
      const parsed = new URL(url);
      // Slack and Teams put the secret in the path; log lines name paths without the query.
      registerSecret(parsed.pathname + parsed.search);
      if (parsed.pathname !== '/') registerSecret(parsed.pathname);
      if (parsed.search) registerSecret(parsed.search.slice(1));
    } catch {
      // the schema's uri format reports it
    }
  }
  const { smtp_username: user, smtp_password: password } = config;
  if (password) {
    // The forms AUTH PLAIN and LOGIN put on the wire, should a transcript ever be shown.
    registerSecret(Buffer.from(password).toString('base64'));
    if (user) registerSecret(Buffer.from(`\u0000${user}\u0000${password}`).toString('base64'));
  }
}

function smtpSettings(config: NotifyConfig): SmtpSettings {
  const security = config.smtp_security ?? 'starttls';
  return {
    host: config.smtp_host ?? '',
    port: config.smtp_port ?? DEFAULT_PORTS[security],
    security,
    ...(config.smtp_username ? { username: config.smtp_username } : {}),
    ...(config.smtp_password ? { password: config.smtp_password } : {}),
    ...(config.smtp_tls_ca_file ? { caFile: config.smtp_tls_ca_file } : {}),
  };
}

function twilioSettings(config: NotifyConfig): TwilioSettings {
  return {
    accountSid: config.twilio_account_sid ?? '',
    authToken: config.twilio_auth_token ?? '',
    ...(config.twilio_from ? { from: config.twilio_from } : {}),
    ...(config.twilio_messaging_service_sid ? { messagingServiceSid: config.twilio_messaging_service_sid } : {}),
    baseUrl: (config.twilio_api_base_url ?? DEFAULT_TWILIO_BASE_URL).replace(/\/+$/, ''),
  };
}

function channels(config: NotifyConfig, emailTo: string[], smsTo: string[], webhook: Channel | undefined): Channel[] {
  const out: Channel[] = [];
  if (emailTo.length > 0 && config.smtp_host && config.email_from) out.push({ kind: 'email', smtp: smtpSettings(config), from: config.email_from, to: emailTo });
  if (smsTo.length > 0 && config.twilio_account_sid && config.twilio_auth_token) out.push({ kind: 'sms', twilio: twilioSettings(config), to: smsTo });
  if (webhook) out.push(webhook);
  return out;
}

/** Where alerts and warnings go: every channel with recipients. */
export function alertChannels(config: NotifyConfig): Channel[] {
  const webhook = config.alert_webhook_url ? { kind: 'webhook' as const, url: config.alert_webhook_url, setting: 'alert_webhook_url' as const } : undefined;
  return channels(config, listOf(config.alert_email_to), listOf(config.alert_sms_to), webhook);
}

/** Where the digest of added people goes: every channel with digest recipients. */
export function digestChannels(config: DigestConfig): Channel[] {
  const webhook = config.notify_webhook_url ? { kind: 'webhook' as const, url: config.notify_webhook_url, setting: 'notify_webhook_url' as const } : undefined;
  return channels(config, listOf(config.digest_email_to), listOf(config.digest_sms_to), webhook);
}

export function notifyTimeoutMs(config: NotifyConfig): number {
  return (config.notify_timeout_seconds ?? DEFAULT_NOTIFY_TIMEOUT_SECONDS) * 1000;
}
