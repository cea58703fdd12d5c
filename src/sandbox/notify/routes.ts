/**
 * HTTP sides of the notification sinks, on the sandbox's port:
 *
 *   twilio   POST /twilio/2010-04-01/Accounts/{AccountSid}/Messages.json   Twilio's Messages API
 *   hooks    POST /hooks/{name}                                          a Slack/Teams-style webhook
 *   admin    /__admin/smtp/messages, /__admin/twilio/messages, /__admin/webhooks (GET, DELETE),
 *            GET /__admin/notify, GET/POST /__admin/notify/settings
 *
 * Twilio's rules as its API applies them: HTTP Basic AccountSid:AuthToken (else 401, code
 * 20003), To in E.164 (21211), From (the account's number) or MessagingServiceSid (21603/21606),
 * Body present (21602) and at most 1600 characters (21617); 201 with the message resource.
 */
import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../context.js';
import { delay, HttpError, parseBasicAuth, sendEmpty, sendJson, type Route } from '../http.js';
import { parseNotifyFaultRules, type NotifyFaultRule, type NotifyService } from './store.js';

type NotifyRoute = Route<RequestContext>;

export const TWILIO_PREFIX = '/twilio';
const FOREVER_MS = 3_600_000;
const SMS_MAX_LENGTH = 1600;
const E164 = /^\+[1-9]\d{6,14}$/;

function twilioError(status: number, code: number, message: string): HttpError {
  return new HttpError(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

/** Any error a Twilio handler threw, as Twilio would answer. */
export function twilioResponse(err: unknown): HttpError {
  return err instanceof HttpError ? err : twilioError(500, 20500, 'An internal server error has occurred');
}

export function hooksResponse(err: unknown): HttpError {
  return err instanceof HttpError ? err : new HttpError(500, 'internal_error', 'text/plain; charset=utf-8');
}

export const twilioNotFound = (): HttpError => twilioError(404, 20404, 'The requested resource was not found');
export const hooksNotFound = (): HttpError => new HttpError(404, 'no_service', 'text/plain; charset=utf-8');

/** A status or hang fault for this HTTP sink, if one applies: throws the status, or waits. */
async function applyHttpFault(ctx: RequestContext, service: NotifyService): Promise<void> {
  const rule: NotifyFaultRule | undefined = ctx.state.notify.takeFault(service);
  if (!rule) return;
  if (ctx.logEntry) ctx.logEntry.fault = `${service}.${rule.kind}`;
  if (rule.kind === 'hang') {
    await delay(rule.ms ?? FOREVER_MS, ctx.state.closing.signal);
    if (rule.ms === undefined) {
      ctx.res.destroy();
      throw new HttpError(503, 'closed');
    }
    return;
  }
  const status = rule.status ?? 500;
  throw service === 'twilio'
    ? twilioError(status, status === 429 ? 20429 : 20500, rule.message ?? 'Service unavailable (sandbox fault)')
    : new HttpError(status, rule.message ?? 'fault', 'text/plain; charset=utf-8');
}

/** Segments the way carriers count them: 160/153 GSM-7 characters, or 70/67 for anything else. */
function segments(body: string): number {
  const length = [...body].length;
  const gsm = /^[\x20-\x7e\n\r]*$/.test(body);
  const [single, multi] = gsm ? [160, 153] : [70, 67];
  return length <= single ? 1 : Math.ceil(length / multi);
}

async function postTwilioMessage(ctx: RequestContext, params: Readonly<Record<string, string>>): Promise<void> {
  const { twilio } = ctx.state.notify.config;
  const auth = parseBasicAuth(ctx.req.headers.authorization);
  if (!auth || auth.user !== twilio.accountSid || auth.password !== twilio.authToken || params.sid !== twilio.accountSid) {
    throw twilioError(401, 20003, 'Authenticate');
  }
  await applyHttpFault(ctx, 'twilio');
  const form = await ctx.params();
  const to = form.get('To');
  const from = form.get('From');
  const service = form.get('MessagingServiceSid');
  const body = form.get('Body');
  if (!to) throw twilioError(400, 21604, "A 'To' phone number is required.");
  if (!E164.test(to)) throw twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
  if (!from && !service) throw twilioError(400, 21603, "A 'From' phone number is required.");
  if (from && from !== twilio.from) {
    throw twilioError(400, 21606, `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`);
  }
  if (!body) throw twilioError(400, 21602, 'Message body is required.');
  if ([...body].length > SMS_MAX_LENGTH) throw twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
  const sid = `SM${randomBytes(16).toString('hex')}`;
  const now = new Date();
  ctx.state.notify.sms.push({ sid, received_at: now.toISOString(), account_sid: twilio.accountSid, to, from: from ?? null, messaging_service_sid: service ?? null, body });
  sendJson(ctx.res, 201, {
    sid,
    account_sid: twilio.accountSid,
    to,
    from: from ?? null,
    messaging_service_sid: service ?? null,
    body,
    status: service ? 'accepted' : 'queued',
    num_segments: String(segments(body)),
    direction: 'outbound-api',
    api_version: '2010-04-01',
    price: null,
    error_code: null,
    error_message: null,
    date_created: now.toUTCString().replace('GMT', '+0000'),
    uri: `/2010-04-01/Accounts/${twilio.accountSid}/Messages/${sid}.json`,
  });
}

export const TWILIO_ROUTES: readonly NotifyRoute[] = [
  { method: 'POST', path: `${TWILIO_PREFIX}/2010-04-01/Accounts/{sid}/Messages.json`, handle: postTwilioMessage },
];

async function postHook(ctx: RequestContext, params: Readonly<Record<string, string>>): Promise<void> {
  await applyHttpFault(ctx, 'webhook');
  const text = (await ctx.body()).toString('utf8');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // kept as text
  }
  const { notify } = ctx.state;
  notify.webhooks.push({ id: notify.nextId(), received_at: new Date().toISOString(), path: `/hooks/${params.name ?? ''}`, content_type: ctx.req.headers['content-type'] ?? null, body });
  ctx.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
  ctx.res.end('ok');
}

export const HOOK_ROUTES: readonly NotifyRoute[] = [{ method: 'POST', path: '/hooks/{name}', handle: postHook }];

function adminError(status: number, message: string): HttpError {
  return new HttpError(status, { error: message });
}

function describeNotify(ctx: RequestContext): Record<string, unknown> {
  const { notify, url } = ctx.state;
  return {
    smtp: notify.endpoint
      ? { host: '127.0.0.1', port: notify.endpoint.port, tls_port: notify.endpoint.tlsPort, ...notify.config.smtp, certificate_pem: notify.endpoint.certificatePem }
      : null,
    twilio: { base_url: `${url}${TWILIO_PREFIX}`, account_sid: notify.config.twilio.accountSid, auth_token: notify.config.twilio.authToken, from: notify.config.twilio.from },
    webhook_base_url: `${url}/hooks`,
    received: { emails: notify.emails.length, sms: notify.sms.length, webhooks: notify.webhooks.length },
    refused_logins: notify.refusedLogins,
    faults: notify.faults,
    faults_applied: { ...notify.faultsApplied },
  };
}

async function postNotifySettings(ctx: RequestContext): Promise<void> {
  const raw = (await ctx.body()).toString('utf8');
  let body: unknown;
  try {
    body = raw === '' ? {} : JSON.parse(raw);
  } catch {
    throw adminError(400, 'Body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw adminError(400, 'body must be a JSON object');
  const faults = (body as Record<string, unknown>).faults;
  if (faults !== undefined) {
    try {
      ctx.state.notify.faults = parseNotifyFaultRules(faults);
    } catch (err) {
      throw adminError(400, err instanceof Error ? err.message : String(err));
    }
    ctx.state.notify.faultsApplied = {};
  }
  sendJson(ctx.res, 200, describeNotify(ctx));
}

/** Routes for admin.ts's table (no auth, JSON). */
export const NOTIFY_ADMIN_ROUTES: readonly NotifyRoute[] = [
  { method: 'GET', path: '/__admin/notify', handle: (ctx) => sendJson(ctx.res, 200, describeNotify(ctx)) },
  { method: 'GET', path: '/__admin/notify/settings', handle: (ctx) => sendJson(ctx.res, 200, describeNotify(ctx)) },
  { method: 'POST', path: '/__admin/notify/settings', handle: postNotifySettings },
  { method: 'GET', path: '/__admin/smtp/messages', handle: (ctx) => sendJson(ctx.res, 200, { messages: ctx.state.notify.emails, refused_logins: ctx.state.notify.refusedLogins }) },
  {
    method: 'DELETE',
    path: '/__admin/smtp/messages',
    handle: (ctx) => {
      ctx.state.notify.emails = [];
      sendEmpty(ctx.res, 204);
    },
  },
  { method: 'GET', path: '/__admin/twilio/messages', handle: (ctx) => sendJson(ctx.res, 200, { messages: ctx.state.notify.sms }) },
  {
    method: 'DELETE',
    path: '/__admin/twilio/messages',
    handle: (ctx) => {
      ctx.state.notify.sms = [];
      sendEmpty(ctx.res, 204);
    },
  },
  { method: 'GET', path: '/__admin/webhooks', handle: (ctx) => sendJson(ctx.res, 200, { requests: ctx.state.notify.webhooks }) },
  {
    method: 'DELETE',
    path: '/__admin/webhooks',
    handle: (ctx) => {
      ctx.state.notify.webhooks = [];
      sendEmpty(ctx.res, 204);
    },
  },
];
