/**
 * SMS through Twilio's REST API (POST /2010-04-01/Accounts/{Sid}/Messages.json, HTTP Basic
 * SID:token, form fields To, From or MessagingServiceSid, Body) over the project's HttpClient,
 * one message per recipient. twilio_api_base_url points it elsewhere (the sandbox).
 */
import { HttpClient } from '../../http/client.js';
import { HttpError } from '../../http/errors.js';
import { RemoteError } from '../../errors/index.js';
import type { Notification } from '../message.js';
import type { TwilioSettings } from '../settings.js';

export interface TwilioMessage {
  sid?: string;
  status?: string;
}

export async function sendSms(twilio: TwilioSettings, to: readonly string[], message: Notification, signal: AbortSignal, userAgent: string): Promise<void> {
  const client = new HttpClient({
    name: 'Twilio',
    baseUrl: twilio.baseUrl,
    auth: { type: 'basic', username: twilio.accountSid, password: twilio.authToken },
    userAgent,
    // A retried POST after a 5xx may send the message twice; a second SMS beats a lost alert, a third does not.
    retry: { maxAttempts: 2, baseDelayMs: 500 },
    timeouts: { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 },
    signal,
    describeAuthFailure: (status) => `Twilio refused twilio_account_sid and twilio_auth_token (${status}): copy both from the Twilio console`,
  });
  const failures: string[] = [];
  try {
    await Promise.all(
      to.map(async (number) => {
        try {
          await client.json<TwilioMessage>({
            method: 'POST',
            path: `/2010-04-01/Accounts/${encodeURIComponent(twilio.accountSid)}/Messages.json`,
            form: {
              To: number,
              ...(twilio.messagingServiceSid ? { MessagingServiceSid: twilio.messagingServiceSid } : { From: twilio.from }),
              Body: message.sms,
            },
          });
        } catch (err) {
          failures.push(err instanceof HttpError || err instanceof Error ? err.message : String(err));
        }
      }),
    );
  } finally {
    await client.close();
  }
  if (failures.length > 0) {
    throw new RemoteError(`${failures.length} of ${to.length} text messages were not sent: ${failures[0]}`);
  }
}
