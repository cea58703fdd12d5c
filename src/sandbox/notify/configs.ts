/**
 * The notification settings that point both binaries at a running sandbox's sinks: its SMTP
 * sink (STARTTLS when the caller saved the sandbox's certificate to a file, plain SMTP on
 * 127.0.0.1 otherwise), its Twilio endpoint and its webhook receiver.
 */
import type { Sandbox } from '../server.js';

export interface SandboxNotifyOptions {
  /** A file holding sandbox.notify.smtp.certificatePem: the config then uses STARTTLS and trusts it. */
  caFile?: string;
  /** Recipients; default one address and one number of the example ranges. */
  emailTo?: string[];
  smsTo?: string[];
  /** Path segment of the webhook URLs (default digest and alerts). */
  hookName?: { digest?: string; alert?: string };
}

export function sandboxNotifyConfig(sandbox: Pick<Sandbox, 'notify'>, options: SandboxNotifyOptions = {}): Record<string, unknown> {
  const { smtp, twilio, webhookBaseUrl } = sandbox.notify;
  const emailTo = options.emailTo ?? ['team@example.org'];
  const smsTo = options.smsTo ?? ['+14155550100'];
  return {
    smtp_host: smtp.host,
    smtp_port: smtp.port,
    smtp_security: options.caFile ? 'starttls' : 'none',
    ...(options.caFile ? { smtp_tls_ca_file: options.caFile } : {}),
    smtp_username: smtp.username,
    smtp_password: smtp.password,
    email_from: 'Data pipelines <pipelines@example.org>',
    twilio_account_sid: twilio.accountSid,
    twilio_auth_token: twilio.authToken,
    twilio_from: twilio.from,
    twilio_api_base_url: twilio.baseUrl,
    digest_email_to: emailTo,
    digest_sms_to: smsTo,
    notify_webhook_url: `${webhookBaseUrl}/${options.hookName?.digest ?? 'digest'}`,
    alert_email_to: emailTo,
    alert_sms_to: smsTo,
    alert_webhook_url: `${webhookBaseUrl}/${options.hookName?.alert ?? 'alerts'}`,
  };
}
