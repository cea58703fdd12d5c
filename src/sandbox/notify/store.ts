/**
 * The sandbox's notification sinks: what the SMTP sink, the Twilio-like endpoint and the webhook
 * receiver were sent, their credentials, and their faults. Faults are rules like the HTTP
 * families' (fault-rules.ts), with their own kinds:
 *
 *   service  kind          effect
 *   smtp     refuse_login  AUTH answers 535 (bad credentials)
 *   smtp     reject_data   the end of DATA answers `status` (default 554) and `message`
 *   smtp     hang          at `stage` greeting (default) or data: say nothing for `ms` (default: until the client leaves)
 *   twilio   status        answer `status` (default 500) with Twilio's JSON error
 *   twilio   hang          answer nothing for `ms` (default: until the client leaves)
 *   webhook  status, hang  as for twilio
 *
 * Each message takes the first matching rule with uses left (`times`; absent = every one).
 */

export type NotifyService = 'smtp' | 'twilio' | 'webhook';
export type NotifyFaultKind = 'refuse_login' | 'reject_data' | 'hang' | 'status';

export interface NotifyFaultRule {
  service: NotifyService;
  kind: NotifyFaultKind;
  times?: number;
  status?: number;
  message?: string;
  ms?: number;
  stage?: 'greeting' | 'data';
}

const KINDS: Record<NotifyService, readonly NotifyFaultKind[]> = {
  smtp: ['refuse_login', 'reject_data', 'hang'],
  twilio: ['status', 'hang'],
  webhook: ['status', 'hang'],
};
const RULE_KEYS = new Set(['service', 'kind', 'times', 'status', 'message', 'ms', 'stage']);

export interface NotifySandboxOptions {
  smtp?: { username?: string; password?: string };
  twilio?: { accountSid?: string; authToken?: string; from?: string };
  /** Fault rules applied from the start; POST /__admin/notify/settings {"faults": [...]} replaces them. */
  faults?: unknown[];
}

export interface NotifySandboxConfig {
  smtp: { username: string; password: string };
  twilio: { accountSid: string; authToken: string; from: string };
  faults: NotifyFaultRule[];
}

export const NOTIFY_DEFAULTS = {
  smtp: { username: 'sandbox-smtp-user', password: 'sandbox-smtp-password' },
  // The sender is Twilio's magic test number; the SID has the real shape (AC + 32 hex digits).
  twilio: { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: 'sandbox-twilio-token', from: '+15005550006' },
} as const;

function count(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

export function parseNotifyFaultRule(raw: unknown, name: string): NotifyFaultRule {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${name} must be an object`);
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!RULE_KEYS.has(key)) throw new Error(`${name}.${key}: unknown key`);
  if (o.service !== 'smtp' && o.service !== 'twilio' && o.service !== 'webhook') throw new Error(`${name}.service must be one of smtp, twilio, webhook`);
  const kinds = KINDS[o.service];
  if (!(kinds as readonly unknown[]).includes(o.kind)) throw new Error(`${name}.kind must be one of ${kinds.join(', ')} for ${o.service}`);
  const rule: NotifyFaultRule = { service: o.service, kind: o.kind as NotifyFaultKind };
  const times = count(o.times, `${name}.times`, 0);
  if (times !== undefined) rule.times = times;
  const status = count(o.status, `${name}.status`, 400, 599);
  if (status !== undefined) rule.status = status;
  const ms = count(o.ms, `${name}.ms`, 0);
  if (ms !== undefined) rule.ms = ms;
  if (o.message !== undefined) {
    if (typeof o.message !== 'string') throw new Error(`${name}.message must be a string`);
    rule.message = o.message;
  }
  if (o.stage !== undefined) {
    if (o.stage !== 'greeting' && o.stage !== 'data') throw new Error(`${name}.stage must be greeting or data`);
    rule.stage = o.stage;
  }
  return rule;
}

export function parseNotifyFaultRules(raw: unknown, name = 'faults'): NotifyFaultRule[] {
  if (!Array.isArray(raw)) throw new Error(`${name} must be an array of fault rules`);
  return raw.map((r, i) => parseNotifyFaultRule(r, `${name}[${i}]`));
}

export function resolveNotifyOptions(options: NotifySandboxOptions = {}): NotifySandboxConfig {
  return {
    smtp: { ...NOTIFY_DEFAULTS.smtp, ...options.smtp },
    twilio: { ...NOTIFY_DEFAULTS.twilio, ...options.twilio },
    faults: options.faults === undefined ? [] : parseNotifyFaultRules(options.faults, 'notify.faults'),
  };
}

export interface ReceivedEmail {
  id: number;
  received_at: string;
  /** SMTP envelope: MAIL FROM and every RCPT TO. */
  envelope: { from: string | null; to: string[] };
  /** The user that logged in (AUTH PLAIN/LOGIN), or null. */
  auth_user: string | null;
  /** True when the session was encrypted (STARTTLS or implicit TLS). */
  tls: boolean;
  headers: Record<string, string>;
  subject: string;
  from: string | null;
  to: string | null;
  text: string | null;
  html: string | null;
  attachments: string[];
  size: number;
}

export interface ReceivedSms {
  sid: string;
  received_at: string;
  account_sid: string;
  to: string;
  from: string | null;
  messaging_service_sid: string | null;
  body: string;
}

export interface ReceivedWebhook {
  id: number;
  received_at: string;
  path: string;
  content_type: string | null;
  /** Parsed JSON, or the text when it is not JSON. */
  body: unknown;
}

export class NotifySinks {
  emails: ReceivedEmail[] = [];
  sms: ReceivedSms[] = [];
  webhooks: ReceivedWebhook[] = [];
  faults: NotifyFaultRule[];
  faultsApplied: Record<string, number> = {};
  /** SMTP logins refused (bad credentials or a refuse_login fault). */
  refusedLogins = 0;
  /** Set once the SMTP sink listens (smtp.ts). */
  endpoint: { port: number; tlsPort: number; certificatePem: string } | undefined;
  private seq = 0;

  constructor(readonly config: NotifySandboxConfig) {
    this.faults = config.faults.map((f) => ({ ...f }));
  }

  nextId(): number {
    return ++this.seq;
  }

  /** The first rule for this service (and kind, when given) with uses left, used once. */
  takeFault(service: NotifyService, accepts: (rule: NotifyFaultRule) => boolean = () => true): NotifyFaultRule | undefined {
    const rule = this.faults.find((r) => r.service === service && (r.times === undefined || r.times > 0) && accepts(r));
    if (!rule) return undefined;
    if (rule.times !== undefined) rule.times--;
    const key = `${service}.${rule.kind}`;
    this.faultsApplied[key] = (this.faultsApplied[key] ?? 0) + 1;
    return rule;
  }

  clearReceived(): void {
    this.emails = [];
    this.sms = [];
    this.webhooks = [];
  }

  reset(): void {
    this.clearReceived();
    this.faults = this.config.faults.map((f) => ({ ...f }));
    this.faultsApplied = {};
    this.refusedLogins = 0;
  }
}
