/**
 * The one entry both binaries use to tell people something: `notify(channels, message)` sends
 * a digest, an alert or a warning by every channel given (email, SMS, webhook), in parallel,
 * within one deadline (notify_timeout_seconds: a dead SMTP server must not hang a cron job).
 *
 * A notification never fails a run: each channel's failure is logged (redacted) as a warning
 * and reported in the result, and the caller's exit code and state output stay as they were.
 */
import { errorMessage } from '../errors/index.js';
import type { Logger } from '../log/logger.js';
import { redactNotification, type Notification } from './message.js';
import type { Channel, ChannelKind } from './settings.js';

export type { Notification } from './message.js';
export type { Channel } from './settings.js';

export interface NotifyOptions {
  log: Logger;
  /** Total time for every channel together. */
  timeoutMs: number;
  userAgent?: string;
}

export interface ChannelResult {
  channel: ChannelKind;
  recipients: number;
  ok: boolean;
  error?: string;
}

const WHAT: Record<Notification['kind'], string> = { digest: 'the digest', alert: 'the alert', warning: 'the warning' };

function recipients(channel: Channel): number {
  return channel.kind === 'webhook' ? 1 : channel.to.length;
}

function describeChannel(channel: Channel): string {
  switch (channel.kind) {
    case 'email':
      return `by email to ${channel.to.length} ${channel.to.length === 1 ? 'recipient' : 'recipients'}`;
    case 'sms':
      return `by SMS to ${channel.to.length} ${channel.to.length === 1 ? 'number' : 'numbers'}`;
    case 'webhook':
      return `to ${channel.setting}`;
  }
}

type Send = (channel: Channel, safe: Notification, deadlineMs: number, signal: AbortSignal, userAgent: string) => Promise<void>;

/**
 * Each channel's module (and its client: nodemailer, undici) is loaded when it is first used,
 * before the deadline starts: the deadline is for the services' answers, and loading a module
 * on a busy machine must not use it up (an SMS cut off because nodemailer was slow to load).
 */
async function loadSender(kind: ChannelKind): Promise<Send> {
  switch (kind) {
    case 'email': {
      const { sendEmail } = await import('./channels/email.js');
      return (c, safe, deadlineMs) => (c.kind === 'email' ? sendEmail(c.smtp, c.from, c.to, safe, deadlineMs) : Promise.resolve());
    }
    case 'sms': {
      const { sendSms } = await import('./channels/sms.js');
      return (c, safe, _deadline, signal, userAgent) => (c.kind === 'sms' ? sendSms(c.twilio, c.to, safe, signal, userAgent) : Promise.resolve());
    }
    case 'webhook': {
      const { sendWebhook } = await import('./channels/webhook.js');
      return (c, safe, _deadline, signal, userAgent) => (c.kind === 'webhook' ? sendWebhook(c.url, safe, signal, userAgent) : Promise.resolve());
    }
  }
}

export async function notify(channels: readonly Channel[], message: Notification, options: NotifyOptions): Promise<ChannelResult[]> {
  if (channels.length === 0) return [];
  const safe = redactNotification(message);
  const senders = new Map<ChannelKind, Send>();
  for (const kind of new Set(channels.map((c) => c.kind))) senders.set(kind, await loadSender(kind));
  const deadlineMs = Date.now() + options.timeoutMs;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const userAgent = options.userAgent ?? 'tap-mixpanel-target-mailchimp';
  const send = (channel: Channel): Promise<void> => (senders.get(channel.kind) as Send)(channel, safe, deadlineMs, controller.signal, userAgent);
  try {
    return await Promise.all(
      channels.map(async (channel): Promise<ChannelResult> => {
        const result = { channel: channel.kind, recipients: recipients(channel) };
        try {
          await send(channel);
          options.log.info(`sent ${WHAT[message.kind]} ${describeChannel(channel)}`);
          return { ...result, ok: true };
        } catch (err) {
          const reason = controller.signal.aborted ? `no answer within notify_timeout_seconds (${errorMessage(err)})` : errorMessage(err);
          options.log.warn(`could not send ${WHAT[message.kind]} ${describeChannel(channel)}: ${reason}`);
          return { ...result, ok: false, error: reason };
        }
      }),
    );
  } finally {
    clearTimeout(timer);
  }
}
