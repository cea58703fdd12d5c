/**
 * The sandbox misbehaves on request: Mixpanel's rate limits (429 with Retry-After and Mixpanel's
 * text, windows shrinkable) and injected faults, set at start or through /__admin/settings.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startSandbox } from '../../src/sandbox/server.js';
import type { Sandbox } from '../../src/sandbox/server.js';
import { call, exportUrl, groundTruth, secretAuth } from './helpers.js';

const NOW = '2024-06-10T12:00:00Z';

interface Outcome {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  /** True when the connection closed before the response was complete. */
  broken: boolean;
}

/** GET that reports a broken response instead of failing on it. */
function get(url: string, headers: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      let broken = false;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('aborted', () => (broken = true));
      res.on('error', () => (broken = true));
      res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks), broken: broken || !res.complete }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function settings(sb: Sandbox, body: unknown): Promise<Record<string, unknown>> {
  const res = await call<Record<string, unknown>>(`${sb.url}/__admin/settings`, { json: body });
  if (res.status !== 200) throw new Error(`settings: ${JSON.stringify(res.body)}`);
  return res.body;
}

describe('rate limits', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ port: 0, seed: 5, now: NOW, days: 2, eventsPerDay: 5, profiles: 30, engagePageSize: 10 });
  });
  afterAll(() => sb.close());
  beforeEach(async () => {
    await call(`${sb.url}/__admin/reset`, { method: 'POST' });
  });

  const day = () => sb.dataRange.toDate;

  it('are off by default', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await get(exportUrl(sb, { from_date: day(), to_date: day() }), secretAuth(sb))).status).toBe(200);
    }
  });

  it('export: the 4th request in a second gets 429 with Retry-After and Mixpanel\'s text; not counted', async () => {
    // A long "second" so the test cannot race the window.
    await settings(sb, { rate_limits: { second_ms: 60_000 } });
    const statuses: number[] = [];
    let refused: Outcome | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await get(exportUrl(sb, { from_date: day(), to_date: day() }), secretAuth(sb));
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const body = JSON.parse(refused?.bytes.toString('utf8') ?? '{}') as { error: string; status: string };
    expect(body.status).toBe('error');
    expect(body.error).toMatch(/rate limit exceeded: 4\/3 queries for project \d+ in the last second/);
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    const state = await call<{ rate_limited: { export: number } }>(`${sb.url}/__admin/settings`);
    expect(state.body.rate_limited.export).toBe(2);
  });

  it('export: the hourly limit, with the hour shrunk and the clock moved past it', async () => {
    await settings(sb, { rate_limits: { hour_ms: 600_000, export: { per_hour: 2, per_second: 0 } } });
    const url = exportUrl(sb, { from_date: day(), to_date: day() });
    expect((await get(url, secretAuth(sb))).status).toBe(200);
    expect((await get(url, secretAuth(sb))).status).toBe(200);
    const refused = await get(url, secretAuth(sb));
    expect(refused.status).toBe(429);
    expect(refused.bytes.toString()).toContain('3/2 queries');
    expect(refused.bytes.toString()).toContain('in the last hour');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(590);
    await call(`${sb.url}/__admin/clock`, { json: { advance_ms: 600_001 } });
    expect((await get(url, secretAuth(sb))).status).toBe(200);
  });

  it('query: 60 per hour; engage pages after the first do not count', async () => {
    await settings(sb, { rate_limits: { query: { per_hour: 1 } } });
    const engage = `${sb.url}/api/2.0/engage`;
    const first = await call<{ session_id: string }>(engage, { headers: secretAuth(sb), form: {} });
    expect(first.status).toBe(200);
    const page1 = await call(engage, { headers: secretAuth(sb), form: { page: '1', session_id: first.body.session_id } });
    expect(page1.status).toBe(200);
    const again = await call<{ error: string }>(engage, { headers: secretAuth(sb), form: {} });
    expect(again.status).toBe(429);
    expect(again.body.error).toMatch(/^Query rate limit exceeded: 2\/1 queries/);
    expect(again.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('query: more than 5 requests in flight get 429', async () => {
    await settings(sb, { rate_limits: { query: { concurrent: 2, per_hour: 0 } }, latency_ms: { query: 300 } });
    const results = await Promise.all(
      Array.from({ length: 4 }, () => call(`${sb.url}/api/2.0/engage`, { headers: secretAuth(sb), form: {} })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(JSON.stringify(results.find((r) => r.status === 429)?.body)).toContain('concurrent');
  });

  it('rejects unknown settings with a 400 naming the key', async () => {
    const res = await call<{ error: string }>(`${sb.url}/__admin/settings`, { json: { rate_limits: { export: { per_minute: 3 } } } });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('rate_limits.export.per_minute');
  });

  it('can be enforced from the start', async () => {
    const limited = await startSandbox({ port: 0, now: NOW, days: 1, eventsPerDay: 1, rateLimits: { export: { per_second: 1 }, second_ms: 60_000 } });
    try {
      const url = exportUrl(limited, { from_date: limited.dataRange.toDate, to_date: limited.dataRange.toDate });
      expect((await get(url, secretAuth(limited))).status).toBe(200);
      expect((await get(url, secretAuth(limited))).status).toBe(429);
    } finally {
      await limited.close();
    }
  });
});

describe('fault injection', () => {
  let sb: Sandbox;
  let expected: string;
  beforeAll(async () => {
    sb = await startSandbox({ port: 0, seed: 6, now: NOW, days: 2, eventsPerDay: 40, profiles: 30 });
    const truth = await groundTruth(sb, { from_date: sb.dataRange.fromDate, to_date: sb.dataRange.toDate });
    expected = truth.map((e) => JSON.stringify(e)).join('\n') + '\n';
  });
  afterAll(() => sb.close());
  beforeEach(async () => {
    await call(`${sb.url}/__admin/reset`, { method: 'POST' });
  });

  const url = () => exportUrl(sb, { from_date: sb.dataRange.fromDate, to_date: sb.dataRange.toDate });
  const gzipAuth = () => ({ ...secretAuth(sb), 'accept-encoding': 'gzip' });
  const firstLines = (n: number) => expected.split('\n').slice(0, n).join('\n') + '\n';

  it('a 5xx burst: the first `times` requests fail, then the fault is used up', async () => {
    await settings(sb, { faults: [{ kind: 'status', status: 502, times: 2 }] });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(url(), secretAuth(sb))).status);
    expect(statuses).toEqual([502, 502, 200]);
    const state = await call<{ faults_applied: Record<string, number>; faults: Array<{ times: number }> }>(`${sb.url}/__admin/settings`);
    expect(state.body.faults_applied.status).toBe(2);
    expect(state.body.faults[0]?.times).toBe(0);
    const log = await call<{ requests: Array<{ fault?: string; status: number }> }>(`${sb.url}/__admin/requests?family=export`);
    expect(log.body.requests.map((r) => r.fault ?? null)).toEqual(['status', 'status', null]);
  });

  it('a 429 burst carries Retry-After', async () => {
    await settings(sb, { faults: [{ kind: 'status', status: 429, retry_after_s: 7, times: 1 }] });
    const res = await get(url(), secretAuth(sb));
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.bytes.toString()).toContain('rate limit exceeded');
  });

  it('cut_mid_line: some lines and half the next, then the connection closes', async () => {
    await settings(sb, { faults: [{ kind: 'cut_mid_line', after_lines: 5, times: 1 }] });
    const res = await get(url(), secretAuth(sb));
    expect(res.broken).toBe(true);
    const text = res.bytes.toString();
    expect(text.startsWith(firstLines(5))).toBe(true);
    expect(text.length).toBeGreaterThan(firstLines(5).length);
    expect(text.endsWith('\n')).toBe(false);
    const next = await get(url(), secretAuth(sb));
    expect(next.broken).toBe(false);
    expect(next.bytes.toString()).toBe(expected);
  });

  it('partial_line: the response ends normally in the middle of a line', async () => {
    await settings(sb, { faults: [{ kind: 'partial_line', after_lines: 3 }] });
    const res = await get(url(), gzipAuth());
    expect(res.broken).toBe(false);
    const text = gunzipSync(res.bytes).toString();
    expect(text.startsWith(firstLines(3))).toBe(true);
    expect(text.endsWith('\n')).toBe(false);
  });

  it('terminated_early: a "terminated early" line ends the body', async () => {
    await settings(sb, { faults: [{ kind: 'terminated_early', after_lines: 4 }] });
    const res = await get(url(), secretAuth(sb));
    expect(res.bytes.toString()).toBe(`${firstLines(4)}terminated early\n`);
  });

  it('cut_after_bytes: exactly N bytes of the (gzip) body, then the connection closes', async () => {
    await settings(sb, { faults: [{ kind: 'cut_after_bytes', after_bytes: 100 }] });
    const res = await get(url(), gzipAuth());
    expect(res.broken).toBe(true);
    expect(res.bytes.length).toBe(100);
  });

  it('truncate_gzip: a complete response whose gzip stream is cut', async () => {
    await settings(sb, { faults: [{ kind: 'truncate_gzip', after_bytes: 200 }] });
    const res = await get(url(), gzipAuth());
    expect(res.broken).toBe(false);
    expect(res.bytes.length).toBe(200);
    expect(() => gunzipSync(res.bytes)).toThrow(/unexpected end of file/);
  });

  it('stall: the body stops after N bytes for `ms`, then goes on', async () => {
    await settings(sb, { faults: [{ kind: 'stall', after_bytes: 50, ms: 300 }] });
    const started = Date.now();
    const res = await get(url(), secretAuth(sb));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(res.bytes.toString()).toBe(expected);
  });

  it('latency and `when`: only matching requests are affected', async () => {
    await settings(sb, {
      faults: [{ kind: 'status', status: 500, when: { min_days: 2 } }, { kind: 'status', status: 503, when: { where_lacks: 'properties["time"]' } }],
    });
    expect((await get(url(), secretAuth(sb))).status).toBe(500);
    const oneDay = exportUrl(sb, { from_date: sb.dataRange.toDate, to_date: sb.dataRange.toDate });
    expect((await get(oneDay, secretAuth(sb))).status).toBe(503);
    const hour = exportUrl(sb, { from_date: sb.dataRange.toDate, to_date: sb.dataRange.toDate, where: 'properties["time"] >= 0' });
    expect((await get(hour, secretAuth(sb))).status).toBe(200);
  });

  it('faults can be set at start, and bad rules are refused', async () => {
    const faulty = await startSandbox({ port: 0, now: NOW, days: 1, eventsPerDay: 1, faults: [{ kind: 'status', status: 504, times: 1 }] });
    try {
      const u = exportUrl(faulty, { from_date: faulty.dataRange.toDate, to_date: faulty.dataRange.toDate });
      expect((await get(u, secretAuth(faulty))).status).toBe(504);
      expect((await get(u, secretAuth(faulty))).status).toBe(200);
    } finally {
      await faulty.close();
    }
    await expect(startSandbox({ faults: [{ kind: 'explode' }] })).rejects.toThrow(/faults\[0\]\.kind/);
    const res = await call<{ error: string }>(`${sb.url}/__admin/settings`, { json: { faults: [{ kind: 'stall', after_bytes: -1 }] } });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('faults[0].after_bytes');
  });
});
