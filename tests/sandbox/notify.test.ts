/**
 * The notification sinks: the SMTP sink (plain, STARTTLS, implicit TLS, AUTH, faults), the
 * Twilio-like Messages API and the webhook receiver, through real clients over 127.0.0.1.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import nodemailer from 'nodemailer';
import { parseEmail } from '../../src/sandbox/notify/mime.js';
import type { ReceivedEmail, ReceivedSms, ReceivedWebhook } from '../../src/sandbox/notify/store.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { basic, call } from './helpers.js';

let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({ port: 0, profiles: 5, days: 1, eventsPerDay: 1 });
});

afterAll(async () => {
  await sb.close();
});

beforeEach(async () => {
  await call(`${sb.url}/__admin/reset`, { method: 'POST' });
});

type TransportOptions = Parameters<typeof nodemailer.createTransport>[0];

function transport(options: Record<string, unknown> = {}) {
  const { smtp } = sb.notify;
  return nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: false,
    auth: { user: smtp.username, pass: smtp.password },
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 5000,
    ...options,
  } as TransportOptions);
}

const mail = { from: 'Data <data@example.org>', to: ['ann@example.org', 'bob@example.org'], subject: 'Über 3 new people ✓', text: 'plain body\nline two', html: '<p>html &amp; body</p>' };

async function emails(): Promise<ReceivedEmail[]> {
  return (await call<{ messages: ReceivedEmail[] }>(`${sb.url}/__admin/smtp/messages`)).body.messages;
}

async function setFaults(faults: unknown[]): Promise<void> {
  const response = await call(`${sb.url}/__admin/notify/settings`, { json: { faults } });
  expect(response.status).toBe(200);
}

describe('SMTP sink', () => {
  it('the certificate names 127.0.0.1 and localhost and is valid now', () => {
    const cert = new X509Certificate(sb.notify.smtp.certificatePem);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(Date.parse(cert.validFrom)).toBeLessThan(Date.now());
    expect(Date.parse(cert.validTo)).toBeGreaterThan(Date.now());
  });

  it('records a message sent over STARTTLS with a login: envelope, headers, subject, text and HTML decoded', async () => {
    await transport({ requireTLS: true, tls: { ca: sb.notify.smtp.certificatePem } }).sendMail(mail);
    const [received, ...rest] = await emails();
    expect(rest).toEqual([]);
    expect(received).toMatchObject({
      envelope: { from: 'data@example.org', to: ['ann@example.org', 'bob@example.org'] },
      auth_user: sb.notify.smtp.username,
      tls: true,
      subject: 'Über 3 new people ✓',
      from: 'Data <data@example.org>',
      to: 'ann@example.org, bob@example.org',
      text: 'plain body\nline two',
      html: '<p>html &amp; body</p>',
      attachments: [],
    });
    expect(received?.headers['message-id']).toMatch(/^<.+@.+>$/);
  });

  it('implicit TLS on the second port', async () => {
    await transport({ port: sb.notify.smtp.tlsPort, secure: true, tls: { ca: sb.notify.smtp.certificatePem } }).sendMail(mail);
    expect((await emails()).map((m) => m.tls)).toEqual([true]);
  });

  it('plain SMTP (no TLS) is accepted for local tests', async () => {
    await transport({ ignoreTLS: true }).sendMail(mail);
    expect((await emails()).map((m) => [m.tls, m.auth_user])).toEqual([[false, sb.notify.smtp.username]]);
  });

  it('refuses wrong credentials and the refuse_login fault with 535, and counts them', async () => {
    await expect(transport({ ignoreTLS: true, auth: { user: 'x', pass: 'wrong' } }).sendMail(mail)).rejects.toMatchObject({ code: 'EAUTH', responseCode: 535 });
    await setFaults([{ service: 'smtp', kind: 'refuse_login', times: 1 }]);
    await expect(transport({ ignoreTLS: true }).sendMail(mail)).rejects.toMatchObject({ code: 'EAUTH', responseCode: 535 });
    await transport({ ignoreTLS: true }).sendMail(mail);
    const state = await call<{ refused_logins: number; messages: unknown[] }>(`${sb.url}/__admin/smtp/messages`);
    expect(state.body).toMatchObject({ refused_logins: 2 });
    expect(state.body.messages).toHaveLength(1);
  });

  it('reject_data answers the end of DATA with the status given, and keeps nothing', async () => {
    await setFaults([{ service: 'smtp', kind: 'reject_data', status: 451, message: '4.3.0 try later', times: 1 }]);
    await expect(transport({ ignoreTLS: true }).sendMail(mail)).rejects.toMatchObject({ responseCode: 451 });
    expect(await emails()).toEqual([]);
  });

  it('hang at the greeting: the client times out', async () => {
    await setFaults([{ service: 'smtp', kind: 'hang', times: 1 }]);
    await expect(transport({ ignoreTLS: true, greetingTimeout: 300 }).sendMail(mail)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const settings = await call<{ faults_applied: Record<string, number> }>(`${sb.url}/__admin/notify`);
    expect(settings.body.faults_applied).toEqual({ 'smtp.hang': 1 });
  });

  it('rejects unknown fault rules with a message naming the key', async () => {
    const response = await call<{ error: string }>(`${sb.url}/__admin/notify/settings`, { json: { faults: [{ service: 'smtp', kind: 'status' }] } });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('faults[0].kind must be one of refuse_login, reject_data, hang for smtp');
  });
});

describe('Twilio Messages API', () => {
  const path = () => `${sb.notify.twilio.baseUrl}/2010-04-01/Accounts/${sb.notify.twilio.accountSid}/Messages.json`;
  const auth = () => ({ authorization: basic(sb.notify.twilio.accountSid, sb.notify.twilio.authToken) });

  it('201 with the message resource, and the SMS is recorded', async () => {
    const response = await call<Record<string, unknown>>(path(), { headers: auth(), form: { To: '+14155550100', From: sb.notify.twilio.from, Body: 'hello' } });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ to: '+14155550100', from: sb.notify.twilio.from, body: 'hello', status: 'queued', num_segments: '1', account_sid: sb.notify.twilio.accountSid });
    expect(response.body.sid).toMatch(/^SM[0-9a-f]{32}$/);
    const list = await call<{ messages: ReceivedSms[] }>(`${sb.url}/__admin/twilio/messages`);
    expect(list.body.messages.map((m) => [m.to, m.body])).toEqual([['+14155550100', 'hello']]);
  });

  it.each([
    ['no credentials', {}, { To: '+14155550100', From: '+15005550006', Body: 'x' }, 401, 20003],
    ['a bad To', null, { To: '4155550100', From: '+15005550006', Body: 'x' }, 400, 21211],
    ['no From', null, { To: '+14155550100', Body: 'x' }, 400, 21603],
    ['another From', null, { To: '+14155550100', From: '+15550001111', Body: 'x' }, 400, 21606],
    ['no Body', null, { To: '+14155550100', From: '+15005550006' }, 400, 21602],
    ['a Body over 1600 characters', null, { To: '+14155550100', From: '+15005550006', Body: 'x'.repeat(1601) }, 400, 21617],
  ])('refuses %s as Twilio does', async (_what, headers, form, status, code) => {
    const response = await call<{ code: number; status: number }>(path(), { headers: headers ?? auth(), form: form as Record<string, string> });
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ code, status });
  });

  it('a MessagingServiceSid instead of From is accepted', async () => {
    const response = await call(path(), { headers: auth(), form: { To: '+14155550100', MessagingServiceSid: 'MG0123456789abcdef0123456789abcdef', Body: 'x' } });
    expect(response.status).toBe(201);
  });

  it('a status fault answers with Twilio\'s error JSON, once', async () => {
    await setFaults([{ service: 'twilio', kind: 'status', status: 503, times: 1 }]);
    const form = { To: '+14155550100', From: sb.notify.twilio.from, Body: 'x' };
    const first = await call<{ code: number }>(path(), { headers: auth(), form });
    expect(first.status).toBe(503);
    expect(first.body.code).toBe(20500);
    expect((await call(path(), { headers: auth(), form })).status).toBe(201);
  });
});

describe('webhook receiver', () => {
  it('records JSON POSTs to /hooks/{name} and answers ok', async () => {
    const response = await fetch(`${sb.notify.webhookBaseUrl}/T000-SECRET`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hi' }) });
    expect([response.status, await response.text()]).toEqual([200, 'ok']);
    const list = await call<{ requests: ReceivedWebhook[] }>(`${sb.url}/__admin/webhooks`);
    expect(list.body.requests).toEqual([expect.objectContaining({ path: '/hooks/T000-SECRET', body: { text: 'hi' } })]);
  });

  it('reset forgets everything received', async () => {
    await fetch(`${sb.notify.webhookBaseUrl}/x`, { method: 'POST', body: 'text' });
    await call(`${sb.url}/__admin/reset`, { method: 'POST' });
    expect((await call<{ requests: unknown[] }>(`${sb.url}/__admin/webhooks`)).body.requests).toEqual([]);
  });
});

describe('parseEmail', () => {
  it('unfolds headers, decodes encoded words, quoted-printable and base64 parts of a nested multipart', () => {
    const raw = [
      'Subject: =?UTF-8?Q?caf=C3=A9?=',
      ' =?UTF-8?B?IOKckw==?=',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'a long line that was wrapped=',
      ' here =E2=9C=93',
      '--inner',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('<b>&lt;script&gt;</b>').toString('base64'),
      '--inner--',
      '--outer',
      'Content-Type: application/pdf',
      'Content-Disposition: attachment; filename=a.pdf',
      '',
      'JVBERi0=',
      '--outer--',
      '',
    ].join('\r\n');
    expect(parseEmail(Buffer.from(raw, 'latin1'))).toMatchObject({
      subject: 'café ✓',
      text: 'a long line that was wrapped here ✓',
      html: '<b>&lt;script&gt;</b>',
      attachments: ['application/pdf'],
    });
  });
});
