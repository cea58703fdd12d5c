import { gzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { MockAgent, type Interceptable } from 'undici';
import { ConfigError } from '../../../src/errors/index.js';
import { RequestBudget } from '../../../src/http/budget.js';
import { HttpClient, type HttpClientOptions } from '../../../src/http/client.js';
import { HttpError } from '../../../src/http/errors.js';
import { configureLogging } from '../../../src/log/logger.js';
import { clearSecrets, registerSecret } from '../../../src/log/redact.js';
import { capturingLogger, type CapturingLogger } from '../helpers/capture-log.js';
import { AutoAdvanceClock, ManualClock, settle } from '../helpers/fake-clock.js';

const ORIGIN = 'https://api.example.test';
const USER = 'svc.reader';
const PASSWORD = 'pa55-w0rd-s3cret';
const BASIC_TOKEN = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const API_SECRET = 'legacy-api-secret-7f3a';

let agent: MockAgent;
let pool: Interceptable;
let log: CapturingLogger;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  pool = agent.get(ORIGIN);
  log = capturingLogger();
});

afterEach(async () => {
  agent.assertNoPendingInterceptors();
  await agent.close();
  clearSecrets();
});

function client(options: Partial<HttpClientOptions> = {}): HttpClient {
  return new HttpClient({
    name: 'Example API',
    baseUrl: ORIGIN,
    dispatcher: agent,
    clock: new AutoAdvanceClock(),
    random: () => 0,
    logger: log,
    retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryAfterMs: 60_000 },
    ...options,
  });
}

/** What the mock server saw of one request. */
interface Seen {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function lowerCaseHeaders(headers: Headers | Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const entries: Iterable<[string, string]> = headers instanceof Headers ? headers.entries() : Object.entries(headers);
  for (const [name, value] of entries) out[name.toLowerCase()] = String(value);
  return out;
}

/** Intercepts one request and answers `status`/`data`, recording what was sent. */
function answer(
  method: string,
  path: string | ((path: string) => boolean),
  status: number,
  data: string | Buffer | object,
  headers: Record<string, string> = {},
): Seen[] {
  const seen: Seen[] = [];
  pool.intercept({ method, path }).reply((opts) => {
    seen.push({
      path: opts.path,
      method: opts.method,
      headers: lowerCaseHeaders(opts.headers),
      body: typeof opts.body === 'string' ? opts.body : opts.body == null ? undefined : String(opts.body),
    });
    return { statusCode: status, data: typeof data === 'object' && !Buffer.isBuffer(data) ? JSON.stringify(data) : data, responseOptions: { headers } };
  });
  return seen;
}

async function thrownBy(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

async function readAll(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8');
}

describe('HttpClient requests', () => {
  it('parses a JSON answer, sending a User-Agent and an Accept header', async () => {
    const seen = answer('GET', '/api/app/me', 200, { results: { projects: { '42': { name: 'Demo' } } } });
    const me = await client({ userAgent: 'tap-mixpanel/1.0 (data@example.org)' }).json<{ results: unknown }>({ path: '/api/app/me' });
    expect(me).toEqual({ results: { projects: { '42': { name: 'Demo' } } } });
    expect(seen[0]?.headers['user-agent']).toBe('tap-mixpanel/1.0 (data@example.org)');
    expect(seen[0]?.headers.accept).toBe('application/json, text/plain, */*');
  });

  it('encodes defaultQuery then the request query, leaving out undefined values', async () => {
    const seen = answer('GET', (path) => path.startsWith('/api/2.0/export'), 200, {});
    await client({ defaultQuery: { project_id: 42, workspace_id: undefined } }).json({
      path: '/api/2.0/export',
      query: { from_date: '2024-01-01', event: JSON.stringify(['Sign Up', 'Log&In']), where: undefined, limit: 10, time_in_ms: true },
    });
    expect(seen[0]?.path).toBe(
      '/api/2.0/export?project_id=42&from_date=2024-01-01&event=%5B%22Sign+Up%22%2C%22Log%26In%22%5D&limit=10&time_in_ms=true',
    );
  });

  it('lets a request query value replace a default one', async () => {
    const seen = answer('GET', (path) => path.startsWith('/x'), 200, {});
    await client({ defaultQuery: { project_id: 42 } }).json({ path: 'x', query: { project_id: 7 } });
    expect(seen[0]?.path).toBe('/x?project_id=7');
  });

  it('joins a base URL with a path prefix and a trailing slash', async () => {
    const seen = answer('GET', (path) => path.startsWith('/3.0/lists'), 200, {});
    await client({ baseUrl: `${ORIGIN}/3.0/` }).json({ path: '/lists' });
    expect(seen[0]?.path).toBe('/3.0/lists');
  });

  it('sends a form body as application/x-www-form-urlencoded', async () => {
    const seen = answer('POST', '/api/query/engage', 200, { results: [] });
    await client().json({
      method: 'POST',
      path: '/api/query/engage',
      form: { where: 'properties["$email"] != null', page: 2, session_id: undefined },
    });
    expect(seen[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen[0]?.body).toBe('where=properties%5B%22%24email%22%5D+%21%3D+null&page=2');
  });

  it('sends a json body as application/json', async () => {
    const seen = answer('PUT', '/lists/l1/members/abc', 200, { id: 'abc' });
    await client().json({ method: 'PUT', path: '/lists/l1/members/abc', json: { email_address: 'a@example.org', status_if_new: 'pending' } });
    expect(seen[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ email_address: 'a@example.org', status_if_new: 'pending' });
  });

  it('sends HTTP Basic credentials', async () => {
    const seen = answer('GET', '/me', 200, {});
    await client({ auth: { type: 'basic', username: USER, password: PASSWORD } }).json({ path: '/me' });
    expect(seen[0]?.headers.authorization).toBe(`Basic ${BASIC_TOKEN}`);
  });

  it('sends the legacy project secret as the Basic user name with an empty password', async () => {
    const seen = answer('GET', '/me', 200, {});
    await client({ auth: { type: 'basic', username: API_SECRET, password: '' } }).json({ path: '/me' });
    expect(seen[0]?.headers.authorization).toBe(`Basic ${Buffer.from(`${API_SECRET}:`).toString('base64')}`);
  });

  it('sends a Bearer token', async () => {
    const seen = answer('GET', '/me', 200, {});
    await client({ auth: { type: 'bearer', token: 'oauth-token-1234' } }).json({ path: '/me' });
    expect(seen[0]?.headers.authorization).toBe('Bearer oauth-token-1234');
  });
});

describe('HttpClient retries', () => {
  it('retries a 500 and returns the answer that follows, after the back-off', async () => {
    answer('GET', '/flaky', 500, { error: 'temporarily broken' });
    answer('GET', '/flaky', 200, { ok: true });
    const clock = new AutoAdvanceClock();
    const http = client({ clock });
    await expect(http.json({ path: '/flaky' })).resolves.toEqual({ ok: true });
    expect(clock.sleeps).toEqual([500]);
    expect(http.requestCount).toBe(2);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      'Example API: GET /flaky failed (500 (temporarily broken)); retry 1 of 2 in 500 ms',
    ]);
  });

  it('gives up after maxAttempts and throws the last HttpError', async () => {
    for (let i = 0; i < 3; i++) answer('GET', '/down', 503, 'Service Unavailable');
    const clock = new AutoAdvanceClock();
    const err = await thrownBy(client({ clock }).json({ path: '/down' }));
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(503);
    expect(clock.sleeps).toEqual([500, 1000]);
  });

  it('retries a connection reset', async () => {
    pool.intercept({ method: 'GET', path: '/reset' }).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    answer('GET', '/reset', 200, { ok: 1 });
    const clock = new AutoAdvanceClock();
    await expect(client({ clock }).json({ path: '/reset' })).resolves.toEqual({ ok: 1 });
    expect(clock.sleeps).toEqual([500]);
  });

  it('does not retry a network error that another try cannot fix', async () => {
    pool.intercept({ method: 'GET', path: '/dns' }).replyWithError(Object.assign(new Error('getaddrinfo ENOTFOUND api.example.test'), { code: 'ENOTFOUND' }));
    const clock = new AutoAdvanceClock();
    const err = await thrownBy(client({ clock }).json({ path: '/dns' }));
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).message).toBe('GET https://api.example.test/dns failed: network error ENOTFOUND: getaddrinfo ENOTFOUND api.example.test');
    expect(clock.sleeps).toEqual([]);
  });

  it('waits the 7 s of Retry-After on a 429, and pauses the shared budget for everyone meanwhile', async () => {
    answer('GET', '/engage', 429, 'Query rate limit exceeded: 61/60 queries in the last hour', { 'retry-after': '7' });
    answer('GET', '/engage', 200, { page: 0 });
    const clock = new ManualClock();
    const budget = new RequestBudget({ name: 'Example query API', clock, logger: log });
    const pending = client({ clock, budget }).json({ path: '/engage' });

    await clock.sleepsRequested(1);
    expect(clock.sleeps).toEqual([7000]);

    let otherGranted = false;
    const other = budget.acquire().then((release) => {
      otherGranted = true;
      return release;
    });
    await clock.sleepsRequested(2);
    expect(clock.sleeps).toEqual([7000, 7000]); // the other stream waits for the same pause
    clock.advance(6999);
    await settle();
    expect(otherGranted).toBe(false);

    clock.advance(1);
    await expect(pending).resolves.toEqual({ page: 0 });
    (await other)();
    expect(log.lines.find((l) => l.level === 'warn')?.message).toBe(
      'Example API: rate limited on GET /engage (429 (Query rate limit exceeded: 61/60 queries in the last hour)); waiting 7s (Retry-After asked for 7s, plus jitter) before retry 1 of 2',
    );
  });

  it('does not retry a 404, and names method, URL and the service message', async () => {
    answer('GET', (path) => path.startsWith('/things/7'), 404, { error: 'no such thing' });
    const clock = new AutoAdvanceClock();
    const err = await thrownBy(client({ clock, defaultQuery: { project_id: 42 } }).json({ path: '/things/7' }));
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).kind).toBe('remote');
    expect((err as HttpError).message).toBe('GET https://api.example.test/things/7?project_id=42 failed: 404 Not Found: no such thing');
    expect(clock.sleeps).toEqual([]);
  });

  it('does not retry an answer that is not JSON, and says so', async () => {
    answer('GET', '/broken', 200, '<html>maintenance</html>');
    const clock = new AutoAdvanceClock();
    const err = await thrownBy(client({ clock }).json({ path: '/broken' }));
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).code).toBe('ERR_INVALID_JSON');
    expect((err as HttpError).message).toContain('GET https://api.example.test/broken failed');
    expect((err as HttpError).message).toContain('answered with invalid JSON (<html>maintenance</html>)');
    expect((err as HttpError).cause).toBeInstanceOf(SyntaxError);
    expect(clock.sleeps).toEqual([]);
  });
});

describe('HttpClient credentials failures', () => {
  it.each([401, 403])('turns a %i into a ConfigError with the describeAuthFailure sentence, without retrying', async (status) => {
    answer('GET', '/api/app/me', status, { error: 'Invalid credentials' });
    const clock = new AutoAdvanceClock();
    const http = client({
      clock,
      auth: { type: 'basic', username: USER, password: PASSWORD },
      describeAuthFailure: (s, url) => `Mixpanel refused the credentials (${s}) at ${url.host}: check service_account_secret`,
    });
    const err = await thrownBy(http.json({ path: '/api/app/me' }));
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    expect(message).toBe(
      `Mixpanel refused the credentials (${status}) at api.example.test: check service_account_secret (the service said: Invalid credentials)`,
    );
    expect(message).not.toContain(PASSWORD);
    expect(message).not.toContain(BASIC_TOKEN);
    expect((err as ConfigError).cause).toBeInstanceOf(HttpError);
    expect(clock.sleeps).toEqual([]);
  });

  it('has a default sentence naming the service and the host', async () => {
    answer('GET', '/me', 401, '');
    const err = await thrownBy(client({ auth: { type: 'bearer', token: 'oauth-token-1234' } }).json({ path: '/me' }));
    expect((err as ConfigError).message).toBe('Example API rejected the credentials (401) for api.example.test');
  });
});

describe('HttpClient keeps secrets out of error messages', () => {
  it('masks a secret query parameter in the URL of an HTTP error', async () => {
    answer('GET', (path) => path.startsWith('/things'), 404, { error: 'no such thing' });
    const err = await thrownBy(client({ defaultQuery: { api_secret: API_SECRET } }).json({ path: '/things' }));
    expect((err as HttpError).message).toBe('GET https://api.example.test/things?api_secret=[REDACTED] failed: 404 Not Found: no such thing');
    expect((err as HttpError).url).not.toContain(API_SECRET);
  });

  it('masks it in the URL of a network error too', async () => {
    for (let i = 0; i < 3; i++) {
      pool.intercept({ method: 'GET', path: (path) => path.startsWith('/things') }).replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    }
    const err = await thrownBy(client({ defaultQuery: { api_secret: API_SECRET } }).json({ path: '/things' }));
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).message).toBe(
      'GET https://api.example.test/things?api_secret=[REDACTED] failed: network error ECONNREFUSED: connect ECONNREFUSED',
    );
  });

  it('masks a registered secret that the service echoes back in its error body', async () => {
    // Express's default 404 body is "Cannot GET <path with query>": a proxy or a wrong base URL answers like this.
    registerSecret(API_SECRET);
    answer('GET', (path) => path.startsWith('/things'), 404, `Cannot GET /things?api_secret=${API_SECRET}`, { 'content-type': 'text/html' });
    const err = await thrownBy(client({ defaultQuery: { api_secret: API_SECRET } }).json({ path: '/things' }));
    expect((err as HttpError).message).not.toContain(API_SECRET);
    expect((err as HttpError).serviceMessage ?? '').not.toContain(API_SECRET);
  });

  it('keeps the password and Basic token out of the retry warnings written to stderr', async () => {
    const written: string[] = [];
    configureLogging({ level: 'debug', sink: { write: (line) => void written.push(line) } });
    try {
      answer('GET', '/flaky', 502, `upstream rejected Authorization: Basic ${BASIC_TOKEN} for ${USER}:${PASSWORD}`);
      answer('GET', '/flaky', 200, {});
      // No logger option: the client logs through src/log, which redacts every line.
      await new HttpClient({
        name: 'Example API',
        baseUrl: ORIGIN,
        dispatcher: agent,
        clock: new AutoAdvanceClock(),
        random: () => 0,
        auth: { type: 'basic', username: USER, password: PASSWORD },
      }).json({ path: '/flaky' });
    } finally {
      configureLogging({ level: 'info', sink: { write: (line) => void process.stderr.write(line) } });
    }
    const warning = written.find((line) => line.includes('WARN'));
    expect(warning).toContain('Example API: GET /flaky failed (502 (upstream rejected Authorization: Basic [REDACTED] for svc.reader:[REDACTED]))');
    expect(written.join('')).not.toContain(BASIC_TOKEN);
    expect(written.join('')).not.toContain(PASSWORD);
  });
});

describe('HttpClient.stream', () => {
  it('decompresses a gzip-encoded body as it streams, after asking for gzip', async () => {
    const lines = '{"event":"Sign Up","properties":{"time":1700000000}}\n{"event":"Log In","properties":{"time":1700000001}}\n';
    const seen = answer('GET', (path) => path.startsWith('/api/2.0/export'), 200, gzipSync(lines), {
      'content-encoding': 'gzip',
      'content-type': 'text/plain',
    });
    const response = await client().stream({ path: '/api/2.0/export', query: { from_date: '2024-01-01' }, gzip: true });
    expect(seen[0]?.headers['accept-encoding']).toBe('gzip');
    expect(response.status).toBe(200);
    expect(response.url).toBe('https://api.example.test/api/2.0/export?from_date=2024-01-01');
    expect(await readAll(response.body)).toBe(lines);
  });

  it('passes a body that is not compressed through as it is', async () => {
    answer('GET', '/plain', 200, 'a\nb\n', { 'content-type': 'text/plain' });
    const response = await client().stream({ path: '/plain' });
    expect(await readAll(response.body)).toBe('a\nb\n');
  });

  it('holds its budget slot until the body has been read', async () => {
    answer('GET', '/export', 200, 'x\n');
    const budget = new RequestBudget({ name: 'export', maxConcurrent: 1, clock: new AutoAdvanceClock(), logger: log });
    const response = await client({ budget }).stream({ path: '/export' });

    let granted = false;
    const next = budget.acquire().then((release) => {
      granted = true;
      return release;
    });
    await settle();
    expect(granted).toBe(false);

    await readAll(response.body);
    (await next)();
    expect(granted).toBe(true);
  });

  it('gives the slot back when the request fails', async () => {
    answer('GET', '/export', 404, 'no such export');
    const budget = new RequestBudget({ name: 'export', maxConcurrent: 1, clock: new AutoAdvanceClock(), logger: log });
    await expect(client({ budget }).stream({ path: '/export' })).rejects.toBeInstanceOf(HttpError);
    (await budget.acquire())();
  });

  it('fails the read of a gzip body cut short, and gives the slot back', async () => {
    const whole = gzipSync('{"event":"a"}\n'.repeat(1000));
    answer('GET', '/export', 200, whole.subarray(0, Math.floor(whole.length / 2)), { 'content-encoding': 'gzip' });
    const budget = new RequestBudget({ name: 'export', maxConcurrent: 1, clock: new AutoAdvanceClock(), logger: log });
    const response = await client({ budget }).stream({ path: '/export', gzip: true });
    const err = await thrownBy(readAll(response.body));
    expect((err as NodeJS.ErrnoException).code).toBe('Z_BUF_ERROR');
    (await budget.acquire())();
  });

  it('retries a failure that comes before the body', async () => {
    answer('GET', '/export', 503, 'busy');
    answer('GET', '/export', 200, 'ok\n');
    const clock = new AutoAdvanceClock();
    const response = await client({ clock }).stream({ path: '/export' });
    expect(await readAll(response.body)).toBe('ok\n');
    expect(clock.sleeps).toEqual([500]);
  });
});
