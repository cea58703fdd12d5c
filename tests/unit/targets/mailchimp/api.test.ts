import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../../src/errors/index.js';
import { HttpError } from '../../../../src/http/errors.js';
import { clearSecrets, redact, registerSecret } from '../../../../src/log/redact.js';
import { OfficialMailchimpApi, toHttpError } from '../../../../src/targets/mailchimp/api/api.js';
import { capturingLogger } from '../../helpers/capture-log.js';
import { AutoAdvanceClock } from '../../helpers/fake-clock.js';

const API_KEY = '0123456789abcdef0123456789abcdef-us6';
const BASIC = Buffer.from(`user:${API_KEY}`).toString('base64');
const URL_ = 'https://us6.api.mailchimp.com/3.0/lists/L1/members/abc';

/** The shape superagent rejects with: the request, Authorization header included, hangs off it. */
function superagentError(extra: Record<string, unknown>): unknown {
  const headers = { authorization: `Basic ${BASIC}`, 'user-agent': 'node-superagent' };
  return Object.assign(new Error(extra.message as string | undefined ?? 'Bad Request'), {
    request: { method: 'PATCH', url: URL_, header: headers, _header: `PATCH /3.0/lists/L1/members/abc HTTP/1.1\r\nAuthorization: Basic ${BASIC}\r\n` },
    config: { apiKey: API_KEY },
    ...extra,
  });
}

function leaks(err: HttpError): string[] {
  const texts = [err.message, err.serviceMessage ?? '', err.url, String(err.stack)];
  return texts.filter((t) => t.includes(API_KEY) || t.includes(BASIC) || t.includes(API_KEY.slice(0, 32)));
}

afterEach(() => clearSecrets());

describe('toHttpError', () => {
  it('keeps status and Mailchimp\'s title and detail, and nothing of the request', () => {
    const err = toHttpError(
      superagentError({
        status: 400,
        response: {
          status: 400,
          body: { type: 'https://mailchimp.com/developer/marketing/docs/errors/', title: 'Invalid Resource', status: 400, detail: 'Your merge fields were invalid.', instance: 'x' },
          headers: {},
        },
      }),
      'PATCH',
      URL_,
    );
    expect(err).toBeInstanceOf(HttpError);
    expect(err.status).toBe(400);
    expect(err.serviceMessage).toBe('Invalid Resource: Your merge fields were invalid.');
    expect(err.message).toBe(`PATCH ${URL_} failed: 400 Bad Request: Invalid Resource: Your merge fields were invalid.`);
    expect(err.cause).toBeUndefined();
    expect(leaks(err)).toEqual([]);
  });

  it('a body that echoes the Authorization header and the key is redacted (the key is registered, as the API does)', () => {
    registerSecret(API_KEY);
    const err = toHttpError(
      superagentError({
        status: 400,
        response: { status: 400, text: `{"title":"Bad","detail":"got Authorization: Basic ${BASIC} and apikey ${API_KEY}"}`, headers: {} },
      }),
      'PATCH',
      URL_,
    );
    expect(err.serviceMessage).toContain('Bad');
    expect(leaks(err)).toEqual([]);
  });

  it('a network error keeps the code, and its message is redacted too', () => {
    registerSecret(API_KEY);
    const err = toHttpError(superagentError({ code: 'ECONNRESET', message: `socket hang up (Authorization: Basic ${BASIC}; key ${API_KEY})` }), 'GET', URL_);
    expect(err.status).toBeUndefined();
    expect(err.code).toBe('ECONNRESET');
    expect(err.message).toMatch(/^GET https:\/\/us6\.api\.mailchimp\.com\/3\.0\/lists\/L1\/members\/abc failed: network error ECONNRESET: socket hang up/);
    expect(leaks(err)).toEqual([]);
  });

  it('a timeout becomes ETIMEDOUT', () => {
    expect(toHttpError(superagentError({ timeout: 120000, message: 'Timeout of 120000ms exceeded' }), 'GET', URL_).code).toBe('ETIMEDOUT');
  });

  it.each<[string | undefined, number | undefined]>([
    ['7', 7000],
    ['0', 0],
    ['1.5', 1500],
    [undefined, undefined],
    ['soon', undefined],
  ])('Retry-After %j -> %j ms', (header, ms) => {
    const err = toHttpError(
      superagentError({ status: 429, response: { status: 429, body: { title: 'Too Many Requests' }, headers: header === undefined ? {} : { 'retry-after': header } } }),
      'POST',
      URL_,
    );
    expect(err.status).toBe(429);
    expect(err.retryAfterMs).toBe(ms);
  });

  it('Retry-After as an HTTP date is the time left until then', () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    const err = toHttpError(superagentError({ status: 503, response: { status: 503, headers: { 'retry-after': at } } }), 'GET', URL_);
    expect(err.retryAfterMs).toBeGreaterThan(55_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('an HttpError passes through unchanged', () => {
    const original = new HttpError({ method: 'GET', url: URL_, status: 500 });
    expect(toHttpError(original, 'GET', URL_)).toBe(original);
  });

  it('anything thrown (even undefined) becomes an HttpError', () => {
    expect(toHttpError(undefined, 'GET', URL_)).toBeInstanceOf(HttpError);
    expect(toHttpError('boom', 'GET', URL_)).toBeInstanceOf(HttpError);
  });
});

describe('OfficialMailchimpApi against a server on 127.0.0.1', () => {
  interface Seen {
    method: string;
    url: string;
    authorization: string | undefined;
    body: unknown;
  }
  let server: Server;
  let base: string;
  let seen: Seen[] = [];
  let answers: Array<{ status: number; body: unknown; headers?: Record<string, string> }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body: text ? JSON.parse(text) : undefined });
        const answer = answers.shift() ?? { status: 200, body: {} };
        // A hostile server echoes the credentials back in its error.
        const body = answer.status >= 400 ? { ...(answer.body as object), detail: `${(answer.body as { detail?: string }).detail ?? ''} (you sent ${req.headers.authorization})` } : answer.body;
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/3.0`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => {
    seen = [];
    answers = [];
  });

  const api = (clock = new AutoAdvanceClock(), log = capturingLogger()) =>
    new OfficialMailchimpApi({ baseUrl: base, apiKey: API_KEY, maxConcurrent: 2, clock, logger: log, retry: { maxAttempts: 3 }, random: () => 0 });

  it('sends Basic auth with the key, and tags with is_syncing so automations do not fire', async () => {
    await api().updateTags('L1', 'abc', [{ name: 'plan:pro', status: 'active' }, { name: 'plan:free', status: 'inactive' }]);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/3.0/lists/L1/members/abc/tags',
        authorization: `Basic ${BASIC}`,
        body: { tags: [{ name: 'plan:pro', status: 'active' }, { name: 'plan:free', status: 'inactive' }], is_syncing: true },
      },
    ]);
  });

  it('PATCHes merge fields only: no status, no status_if_new', async () => {
    answers = [{ status: 200, body: { email_address: 'a@example.org', status: 'unsubscribed' } }];
    const member = await api().updateMember('L1', 'abc', { merge_fields: { FNAME: 'Ada' } });
    expect(member.status).toBe('unsubscribed');
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([['PATCH', '/3.0/lists/L1/members/abc', { merge_fields: { FNAME: 'Ada' } }]]);
  });

  it('batch subscribe sends update_existing false and the members as given', async () => {
    answers = [{ status: 200, body: { new_members: [], updated_members: [], errors: [], total_created: 0, total_updated: 0, error_count: 0 } }];
    await api().batchSubscribe('L1', [{ email_address: 'a@example.org', status: 'pending' }], { updateExisting: false });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/3.0/lists/L1', body: { members: [{ email_address: 'a@example.org', status: 'pending' }], update_existing: false } });
  });

  it('a 400 is thrown as an HttpError with Mailchimp\'s text and no credentials, even when echoed', async () => {
    answers = [{ status: 400, body: { title: 'Invalid Resource', status: 400, detail: 'Your merge fields were invalid.' } }];
    const client = api();
    const err = await client.updateMember('L1', 'abc', { merge_fields: { LTV: 'x' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    const httpErr = err as HttpError;
    expect(httpErr.status).toBe(400);
    expect(httpErr.serviceMessage).toContain('Invalid Resource: Your merge fields were invalid.');
    expect(leaks(httpErr)).toEqual([]);
    expect(seen).toHaveLength(1);
    expect(client.calls).toBe(1);
  });

  it('429 with Retry-After is waited out as asked and retried; calls counts every attempt', async () => {
    answers = [
      { status: 429, body: { title: 'Too Many Requests', detail: 'slow down' }, headers: { 'retry-after': '3' } },
      { status: 200, body: {} },
    ];
    const clock = new AutoAdvanceClock();
    const log = capturingLogger();
    const client = api(clock, log);
    await client.updateTags('L1', 'abc', [{ name: 't', status: 'active' }]);
    expect(seen).toHaveLength(2);
    expect(client.calls).toBe(2);
    expect(clock.sleeps).toContain(3000);
    const output = log.lines.map((l) => `${l.message} ${JSON.stringify(l.fields ?? {})}`).join('\n');
    expect(redact(output)).toBe(output);
    expect(output).not.toContain(API_KEY);
    expect(output).not.toContain(BASIC);
  });

  it('registers the key and its Basic token as secrets, so a bare echo of either is masked anywhere', () => {
    api();
    expect(redact(`token=${BASIC} key=${API_KEY}`)).toBe('token=[REDACTED] key=[REDACTED]');
  });

  it('401 is a ConfigError that says what to check, without the key', async () => {
    answers = [{ status: 401, body: { title: 'API Key Invalid', detail: 'Your API key may be invalid.' } }];
    const err = await api().ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toContain('Mailchimp refused the api_key (401)');
    expect(message).not.toContain(API_KEY);
    expect(message).not.toContain(BASIC);
  });
});
