import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gunzipSync } from 'node:zlib';
import { startSandbox } from '../../src/sandbox/server.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/server.js';
import { call, exportEvents, exportUrl, groundTruth, parseLines, rawGet, secretAuth, serviceAccountAuth, setClock } from './helpers.js';
import type { MixpanelEventLine } from './helpers.js';

// Data on 2024-06-01..2024-06-05; the clock at 2024-06-06 12:00 UTC, so the last days still
// have late events to come.
const NOW = '2024-06-06T12:00:00Z';
const OPTIONS: SandboxOptions = { port: 0, seed: 42, now: NOW, fromDate: '2024-06-01', days: 5, eventsPerDay: 300, profiles: 200 };

const dayOf = (e: MixpanelEventLine) => new Date(e.properties.time * 1000).toISOString().slice(0, 10);

describe('Mixpanel export', () => {
  let sb: Sandbox;

  beforeAll(async () => {
    sb = await startSandbox(OPTIONS);
  });

  afterAll(async () => {
    await sb.close();
  });

  it('returns JSON Lines for the inclusive range, nothing before the data starts', async () => {
    const one = await exportEvents(sb, { from_date: '2024-06-02', to_date: '2024-06-02' });
    const two = await exportEvents(sb, { from_date: '2024-06-02', to_date: '2024-06-03' });
    const early = await exportEvents(sb, { from_date: '2024-05-01', to_date: '2024-05-31' });
    expect(one.length).toBeGreaterThan(280);
    expect(new Set(one.map(dayOf))).toEqual(new Set(['2024-06-02']));
    expect(new Set(two.map(dayOf))).toEqual(new Set(['2024-06-02', '2024-06-03']));
    expect(two.slice(0, one.length)).toEqual(one);
    expect(early).toEqual([]);
    const res = await fetch(exportUrl(sb, { from_date: '2024-06-02', to_date: '2024-06-02' }), { headers: secretAuth(sb) });
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    await res.text();
  });

  it('matches the admin ground truth', async () => {
    const exported = await exportEvents(sb, { from_date: '2024-06-01', to_date: '2024-06-05' });
    const truth = await groundTruth(sb, { from_date: '2024-06-01', to_date: '2024-06-05' });
    expect(exported).toEqual(truth);
    expect(exported.length).toBeGreaterThan(1400);
  });

  it('filters by event names (unicode included)', async () => {
    const names = ['Purchase', '注册', '🎉 Milestone Reached'];
    const filtered = await exportEvents(sb, { from_date: '2024-06-01', to_date: '2024-06-05', event: JSON.stringify(names) });
    const truth = (await groundTruth(sb, { from_date: '2024-06-01', to_date: '2024-06-05' })).filter((e) => names.includes(e.event));
    expect(filtered).toEqual(truth);
    expect(new Set(filtered.map((e) => e.event))).toEqual(new Set(names));
  });

  it('filters with a where expression', async () => {
    const from = Date.UTC(2024, 5, 3, 12) / 1000;
    const where = `properties["$browser"] == "Chrome" and properties["time"] >= ${from}`;
    const filtered = await exportEvents(sb, { from_date: '2024-06-01', to_date: '2024-06-05', where });
    const truth = (await groundTruth(sb, { from_date: '2024-06-01', to_date: '2024-06-05' })).filter(
      (e) => e.properties.$browser === 'Chrome' && e.properties.time >= from,
    );
    expect(filtered).toEqual(truth);
    expect(filtered.length).toBeGreaterThan(10);
  });

  it('selects by ingestion time with mp_processing_time_ms', async () => {
    const cutoff = Date.parse('2024-06-04T00:00:00Z');
    const filtered = await exportEvents(sb, { from_date: '2024-06-01', to_date: '2024-06-05', where: `properties["mp_processing_time_ms"] > ${cutoff}` });
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.every((e) => e.properties.mp_processing_time_ms > cutoff)).toBe(true);
    // Late events of earlier days are in there too.
    expect(filtered.some((e) => dayOf(e) < '2024-06-03')).toBe(true);
  });

  it('honours limit and time_in_ms', async () => {
    const limited = await exportEvents(sb, { from_date: '2024-06-01', to_date: '2024-06-05', limit: '7' });
    expect(limited).toHaveLength(7);
    const seconds = await exportEvents(sb, { from_date: '2024-06-02', to_date: '2024-06-02', limit: '50' });
    const millis = await exportEvents(sb, { from_date: '2024-06-02', to_date: '2024-06-02', limit: '50', time_in_ms: 'true' });
    expect(millis.map((e) => Math.floor(e.properties.time / 1000))).toEqual(seconds.map((e) => e.properties.time));
    expect(millis.some((e) => e.properties.time % 1000 !== 0)).toBe(true);
  });

  it('gzips when asked, and the bytes decode to the plain body', async () => {
    const url = exportUrl(sb, { from_date: '2024-06-01', to_date: '2024-06-02' });
    const plain = await rawGet(url, secretAuth(sb));
    const zipped = await rawGet(url, { ...secretAuth(sb), 'accept-encoding': 'gzip, deflate' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.bytes.length).toBeLessThan(plain.bytes.length / 3);
    expect(gunzipSync(zipped.bytes).equals(plain.bytes)).toBe(true);
  });

  it.each([
    [{ from_date: '2024-06-01', to_date: '2099-01-01' }, 'to_date cannot be later than today'],
    [{ from_date: '2024-06-05', to_date: '2024-06-01' }, 'from_date cannot be later than to_date'],
    [{ to_date: '2024-06-01' }, 'from_date is a required parameter'],
    [{ from_date: '2024-06-01' }, 'to_date is a required parameter'],
    [{ from_date: '2024/06/01', to_date: '2024-06-02' }, 'from_date must be a valid date'],
    [{ from_date: '2024-06-01', to_date: '2024-06-02', limit: '100001' }, 'limit cannot be over 100000'],
    [{ from_date: '2024-06-01', to_date: '2024-06-02', event: 'Purchase' }, 'event must be a JSON array'],
    [{ from_date: '2024-06-01', to_date: '2024-06-02', where: 'properties["x"] ==' }, 'Invalid where expression'],
  ])('rejects %p with 400', async (params, message) => {
    const res = await call<{ error: string; request: string }>(`${sb.url}/api/2.0/export?${new URLSearchParams(params).toString()}`, {
      headers: secretAuth(sb),
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain(message);
    expect(res.body.request).toMatch(/^\/api\/2\.0\/export\?/);
  });

  it('accepts a trailing slash, as clients send both', async () => {
    const res = await fetch(`${sb.url}/api/2.0/export/?from_date=2024-06-01&to_date=2024-06-01&limit=1`, { headers: secretAuth(sb) });
    expect(res.status).toBe(200);
    expect(parseLines(await res.text())).toHaveLength(1);
  });
});

describe('Mixpanel export over time', () => {
  let sb: Sandbox;

  beforeAll(async () => {
    sb = await startSandbox(OPTIONS);
  });

  afterAll(async () => {
    await sb.close();
  });

  it('shows late events only once they are processed', async () => {
    await setClock(sb, { now: NOW });
    const before = await exportEvents(sb, { from_date: '2024-06-03', to_date: '2024-06-05' });
    expect(before.every((e) => e.properties.mp_processing_time_ms <= Date.parse(NOW) + 60_000)).toBe(true);
    await setClock(sb, { advance_ms: 6 * 86_400_000 });
    const after = await exportEvents(sb, { from_date: '2024-06-03', to_date: '2024-06-05' });
    const late = after.filter((e) => e.properties.mp_processing_time_ms > Date.parse(NOW) + 60_000);
    expect(after.length).toBe(before.length + late.length);
    expect(late.length).toBeGreaterThan(2);
    expect(late.every((e) => dayOf(e) >= '2024-06-03' && dayOf(e) <= '2024-06-05')).toBe(true);
  });

  it('merges injected events into their day, hidden until processed', async () => {
    await setClock(sb, { now: NOW });
    const time = Date.UTC(2024, 5, 2, 9, 30) / 1000;
    const visible = { event: 'Injected Visible', properties: { time, distinct_id: 'inj-1', $insert_id: 'inj-1' } };
    const future = {
      event: 'Injected Later',
      properties: { time, distinct_id: 'inj-2', $insert_id: 'inj-2', mp_processing_time_ms: Date.parse(NOW) + 3_600_000 },
    };
    const res = await call<{ injected: number }>(`${sb.url}/__admin/mixpanel/events`, { json: [visible, future] });
    expect(res.body.injected).toBe(2);
    const names = JSON.stringify(['Injected Visible', 'Injected Later']);
    const now = await exportEvents(sb, { from_date: '2024-06-02', to_date: '2024-06-02', event: names });
    expect(now.map((e) => e.event)).toEqual(['Injected Visible']);
    expect(now[0]?.properties.mp_processing_time_ms).toBeGreaterThanOrEqual(Date.parse(NOW));
    expect(await exportEvents(sb, { from_date: '2024-06-03', to_date: '2024-06-03', event: names })).toEqual([]);
    await setClock(sb, { advance_ms: 2 * 3_600_000 });
    const later = await exportEvents(sb, { from_date: '2024-06-01', to_date: '2024-06-05', event: names });
    expect(later.map((e) => e.event)).toEqual(['Injected Visible', 'Injected Later']);
  });
});

describe('Mixpanel export determinism', () => {
  // Every event of this range was processed long before the clock: output cannot depend on timing.
  const stable: SandboxOptions = { port: 0, seed: 7, now: '2024-07-01T00:00:00Z', fromDate: '2024-06-01', days: 3, eventsPerDay: 400, profiles: 100 };
  let a: Sandbox;
  let b: Sandbox;
  let c: Sandbox;

  beforeAll(async () => {
    [a, b, c] = await Promise.all([startSandbox(stable), startSandbox(stable), startSandbox({ ...stable, seed: 8 })]);
  });

  afterAll(async () => {
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('serves identical bytes for the same seed and options, different ones for another seed', async () => {
    const params = { from_date: '2024-06-01', to_date: '2024-06-03' };
    const [first, second, other] = await Promise.all(
      [a, b, c].map((sb) => rawGet(exportUrl(sb, params), serviceAccountAuth(sb)).then((r) => r.bytes)),
    );
    // Service-account auth without project_id is refused; with it the body is the same.
    expect(first?.toString()).toContain('project_id is required');
    const withProject = { ...params, project_id: String(a.credentials.mixpanel.projectId) };
    const [x, y, z] = await Promise.all([a, b, c].map((sb) => rawGet(exportUrl(sb, withProject), serviceAccountAuth(sb)).then((r) => r.bytes)));
    expect(x?.length).toBeGreaterThan(100_000);
    expect(x?.equals(y as Buffer)).toBe(true);
    expect(x?.equals(z as Buffer)).toBe(false);
    expect(second).toBeDefined();
    expect(other).toBeDefined();
  });
});

describe('Mixpanel export for a pre-2023 project in another time zone', () => {
  let sb: Sandbox;

  beforeAll(async () => {
    // 03:00 UTC on June 10 is still June 9 in Los Angeles.
    sb = await startSandbox({ port: 0, seed: 42, now: '2024-06-10T03:00:00Z', days: 3, eventsPerDay: 200, profiles: 50, projectTimezone: 'America/Los_Angeles' });
  });

  afterAll(async () => {
    await sb.close();
  });

  it('ends the data on the local today and refuses a to_date that is only today in UTC', async () => {
    expect(sb.dataRange).toEqual({ fromDate: '2024-06-07', toDate: '2024-06-09' });
    const res = await call<{ error: string }>(exportUrl(sb, { from_date: '2024-06-09', to_date: '2024-06-10' }), { headers: secretAuth(sb) });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('to_date cannot be later than today');
  });

  it('returns local seconds inside the local day', async () => {
    const events = await exportEvents(sb, { from_date: '2024-06-08', to_date: '2024-06-08' });
    expect(events.length).toBeGreaterThan(150);
    for (const event of events) {
      expect(dayOf(event)).toBe('2024-06-08');
      // Local seconds are 7 hours behind the real instant in June; processing follows the real instant.
      expect(event.properties.mp_processing_time_ms - event.properties.time * 1000).toBeGreaterThanOrEqual(7 * 3_600_000);
    }
  });
});
