/**
 * funnels, revenue, annotations, cohorts and cohort_members: window planning, record shapes,
 * and whole runs through the engine against a strict mock of Mixpanel (no network).
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { DateTime } from 'luxon';
import { Writable } from 'node:stream';
import { MockAgent, type Interceptable } from 'undici';
import type { Catalog } from '../../../../src/singer/catalog.js';
import type { SingerMessage } from '../../../../src/singer/messages.js';
import type { SingerState } from '../../../../src/singer/state.js';
import { SingerWriter } from '../../../../src/singer/writer.js';
import { MixpanelClient } from '../../../../src/taps/mixpanel/client.js';
import type { TapConfig } from '../../../../src/taps/mixpanel/config.js';
import { defaultCatalog } from '../../../../src/taps/mixpanel/discover.js';
import { discoverProfileProperties } from '../../../../src/taps/mixpanel/properties.js';
import { annotationRecord } from '../../../../src/taps/mixpanel/streams/annotations.js';
import { cohortRecord } from '../../../../src/taps/mixpanel/streams/cohorts.js';
import { planDailyWindows, wallClockToIso, windowBookmarkDay, type DayWindow } from '../../../../src/taps/mixpanel/streams/dates.js';
import { funnelRecords } from '../../../../src/taps/mixpanel/streams/funnels.js';
import { STREAMS } from '../../../../src/taps/mixpanel/streams/index.js';
import { revenueRecords } from '../../../../src/taps/mixpanel/streams/revenue.js';
import { runSync } from '../../../../src/taps/mixpanel/sync.js';
import { projectTime } from '../../../../src/taps/mixpanel/time.js';
import { capturingLogger, type CapturingLogger } from '../../helpers/capture-log.js';
import { TAP_REQUEST_DEFAULTS } from '../../helpers/tap-config.js';

const ORIGIN = 'https://mixpanel.example.test';
const NOW = DateTime.fromISO('2024-02-15T12:00:00Z');

function tapConfig(overrides: Partial<TapConfig> = {}): TapConfig {
  return {
    service_account_username: 'svc.reader',
    service_account_secret: 'svc-secret',
    project_id: 4242,
    region: 'us',
    start_date: '2024-02-01T00:00:00Z',
    date_window_size: 10,
    attribution_window: 3,
    ingestion_settle_minutes: 15,
    project_timezone: 'UTC',
    time_semantics: 'utc',
    select_properties_by_default: true,
    denest_properties: true,
    request_timeout: 30,
    ...TAP_REQUEST_DEFAULTS,
    export_base_url: ORIGIN,
    query_base_url: ORIGIN,
    ...overrides,
  };
}

const TIME = projectTime(tapConfig(), NOW);
const w = (fromDay: string, toDay: string): DayWindow => ({ fromDay, toDay });

describe('planDailyWindows', () => {
  it.each<[string, Partial<TapConfig>, string | undefined, DayWindow[]]>([
    ['no bookmark: start_date through today', {}, undefined, [w('2024-02-01', '2024-02-10'), w('2024-02-11', '2024-02-15')]],
    ['a bookmark: the look-back days before it, then the new days', {}, '2024-02-12', [w('2024-02-10', '2024-02-15')]],
    ['no look-back: the day after the bookmark', { attribution_window: 0 }, '2024-02-12', [w('2024-02-13', '2024-02-15')]],
    ['the look-back never reaches before start_date', { start_date: '2024-02-11' }, '2024-02-12', [w('2024-02-11', '2024-02-15')]],
    ['end_date stops the range', { end_date: '2024-02-05' }, undefined, [w('2024-02-01', '2024-02-05')]],
    ['an end_date in the future stops at today', { end_date: '2024-03-01' }, '2024-02-14', [w('2024-02-12', '2024-02-15')]],
    ['a bookmark past end_date: nothing', { end_date: '2024-02-05', attribution_window: 1 }, '2024-02-10', []],
    ['one-day windows', { date_window_size: 1, attribution_window: 1 }, '2024-02-13', [w('2024-02-13', '2024-02-13'), w('2024-02-14', '2024-02-14'), w('2024-02-15', '2024-02-15')]],
  ])('%s', (_name, overrides, bookmark, expected) => {
    expect(planDailyWindows(tapConfig(overrides), TIME, bookmark)).toEqual(expected);
  });

  it('bookmarks the last day of a window, but never today (its numbers still grow)', () => {
    expect(windowBookmarkDay(w('2024-02-01', '2024-02-10'), TIME)).toBe('2024-02-10');
    expect(windowBookmarkDay(w('2024-02-11', '2024-02-15'), TIME)).toBe('2024-02-14');
  });

  it('uses the project day for today when the project keeps local dates', () => {
    // 2024-02-15T03:00Z is still the 14th in Los Angeles.
    const local = projectTime(tapConfig({ time_semantics: 'project_timezone', project_timezone: 'America/Los_Angeles' }), DateTime.fromISO('2024-02-15T03:00:00Z'));
    const windows = planDailyWindows(tapConfig(), local, '2024-02-13');
    expect(windows[windows.length - 1]?.toDay).toBe('2024-02-14');
  });
});

describe('record shapes', () => {
  it('funnel rows: one per requested day, in order, with the funnel and a day label', () => {
    const step = { count: 3, event: 'Page View' };
    const records = funnelRecords(
      { funnel_id: 7, name: 'Signup' },
      { meta: { dates: [] }, data: { '2024-02-02': { steps: [step], analysis: { completion: 1 } }, '2024-02-01': { steps: [step] }, '2024-01-31': { steps: [] } } },
      '2024-02-01',
      '2024-02-02',
    );
    expect(records).toEqual([
      { funnel_id: 7, name: 'Signup', date: '2024-02-01', datetime: '2024-02-01T00:00:00.000Z', steps: [step], analysis: null },
      { funnel_id: 7, name: 'Signup', date: '2024-02-02', datetime: '2024-02-02T00:00:00.000Z', steps: [step], analysis: { completion: 1 } },
    ]);
  });

  it('revenue rows leave out the $overall summary', () => {
    const records = revenueRecords(
      { status: 'ok', results: { '2024-02-01': { amount: 10.5, count: 2, paid_count: 1 }, $overall: { amount: 10.5, count: 2, paid_count: 1 } } },
      '2024-02-01',
      '2024-02-01',
    );
    expect(records).toEqual([{ date: '2024-02-01', datetime: '2024-02-01T00:00:00.000Z', amount: 10.5, count: 2, paid_count: 1 }]);
  });

  it.each([
    ['2024-02-01 09:30:00', 'UTC', '2024-02-01T09:30:00.000Z'],
    ['2024-02-01 09:30:00', 'America/Los_Angeles', '2024-02-01T17:30:00.000Z'],
    ['2024-07-01T09:30:00', 'Europe/Paris', '2024-07-01T07:30:00.000Z'],
    ['2024-02-01T09:30:00+01:00', 'UTC', '2024-02-01T08:30:00.000Z'],
    ['not a date', 'UTC', null],
    ['', 'UTC', null],
  ])('wall-clock %s in %s -> %s', (value, zone, expected) => {
    expect(wallClockToIso(value, zone)).toBe(expected);
  });

  it('annotations and cohorts: dates in RFC 3339, project filled in, is_visible as 0/1', () => {
    expect(annotationRecord({ id: 3, date: '2024-02-01 00:00:00', description: 'Release' }, 'UTC', 4242)).toEqual({
      id: 3,
      date: '2024-02-01T00:00:00.000Z',
      description: 'Release',
      project_id: 4242,
      user: null,
      tags: [],
    });
    expect(cohortRecord({ id: 5, name: 'VIP', is_visible: true, created: '2023-01-02 03:04:05', count: 9 }, 'UTC')).toMatchObject({
      id: 5,
      is_visible: 1,
      created: '2023-01-02T03:04:05.000Z',
      count: 9,
    });
  });
});

describe('stream declarations', () => {
  it('registers the seven streams in run order, with their keys and replication', () => {
    expect(STREAMS.map((s) => [s.name, s.keyProperties, s.replicationMethod])).toEqual([
      ['export', ['event', 'distinct_id', 'time', 'mp_reserved_insert_id'], 'INCREMENTAL'],
      ['engage', ['distinct_id'], 'FULL_TABLE'],
      ['funnels', ['funnel_id', 'date'], 'INCREMENTAL'],
      ['revenue', ['date'], 'INCREMENTAL'],
      ['annotations', ['id'], 'FULL_TABLE'],
      ['cohorts', ['id'], 'FULL_TABLE'],
      ['cohort_members', ['cohort_id', 'distinct_id'], 'FULL_TABLE'],
    ]);
  });

  it('every key property is in its schema and not nullable', () => {
    for (const stream of STREAMS) {
      const schema = stream.baseSchema(tapConfig());
      for (const key of stream.keyProperties) {
        const type = (schema.properties?.[key] as { type: string | string[] } | undefined)?.type;
        expect([stream.name, key, type === undefined || (Array.isArray(type) && type.includes('null'))]).toEqual([stream.name, key, false]);
      }
    }
  });
});

// ---- whole runs through the engine, against a strict mock ----

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  form: URLSearchParams;
}

let agent: MockAgent;
let pool: Interceptable;
let seen: Seen[];
let log: CapturingLogger;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  pool = agent.get(ORIGIN);
  seen = [];
  log = capturingLogger();
});

afterEach(async () => {
  agent.assertNoPendingInterceptors();
  await agent.close();
});

/** Answers one request to `path` (query string ignored for matching), recording what was sent. */
function answer(method: string, path: string, status: number, data: unknown): void {
  pool
    .intercept({ method, path: (p: string) => p.split('?')[0] === path })
    .reply((opts) => {
      const url = new URL(opts.path, ORIGIN);
      const form = typeof opts.body === 'string' ? new URLSearchParams(opts.body) : new URLSearchParams();
      seen.push({ method: opts.method, path: url.pathname, query: url.searchParams, form });
      return { statusCode: status, data: JSON.stringify(data), responseOptions: { headers: { 'content-type': 'application/json' } } };
    });
}

function catalogOf(config: TapConfig, streams: string[]): Catalog {
  const catalog = defaultCatalog(config);
  for (const entry of catalog.streams) {
    const root = entry.metadata?.find((m) => m.breadcrumb.length === 0);
    if (root) root.metadata.selected = streams.includes(entry.tap_stream_id);
  }
  return catalog;
}

async function run(config: TapConfig, streams: string[], state?: SingerState): Promise<SingerMessage[]> {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const client = new MixpanelClient(config, { dispatcher: agent, userAgent: 'tests' });
  await runSync({
    config,
    client,
    writer: new SingerWriter(out),
    log,
    signal: new AbortController().signal,
    catalog: catalogOf(config, streams),
    ...(state ? { state } : {}),
    now: NOW,
  });
  await client.close();
  return chunks
    .join('')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as SingerMessage);
}

const records = (messages: SingerMessage[], stream: string) =>
  messages.filter((m): m is Extract<SingerMessage, { type: 'RECORD' }> => m.type === 'RECORD' && m.stream === stream).map((m) => m.record);
const finalState = (messages: SingerMessage[]) =>
  (messages.filter((m): m is Extract<SingerMessage, { type: 'STATE' }> => m.type === 'STATE').at(-1)?.value ?? {}) as unknown as SingerState;

function funnelDays(from: string, to: string): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (let d = DateTime.fromISO(from); d <= DateTime.fromISO(to); d = d.plus({ days: 1 })) {
    data[d.toISODate() as string] = { steps: [{ count: 1, event: 'A' }], analysis: { completion: 1, starting_amount: 1, steps: 1, worst: 1 } };
  }
  return { meta: { dates: Object.keys(data) }, data };
}

describe('funnels through the engine', () => {
  it('reads every funnel over the windows, with a bookmark per funnel at the last complete day', async () => {
    const config = tapConfig({ start_date: '2024-02-08T00:00:00Z', date_window_size: 5 });
    answer('GET', '/api/query/funnels/list', 200, [{ funnel_id: 1, name: 'One' }, { funnel_id: 2, name: 'Two' }]);
    for (let n = 0; n < 2; n++) {
      answer('GET', '/api/query/funnels', 200, funnelDays('2024-02-08', '2024-02-12'));
      answer('GET', '/api/query/funnels', 200, funnelDays('2024-02-13', '2024-02-15'));
    }
    const messages = await run(config, ['funnels']);
    const calls = seen.filter((s) => s.path === '/api/query/funnels').map((s) => Object.fromEntries(s.query));
    expect(calls).toEqual([
      { project_id: '4242', funnel_id: '1', from_date: '2024-02-08', to_date: '2024-02-12', unit: 'day', interval: '1' },
      { project_id: '4242', funnel_id: '1', from_date: '2024-02-13', to_date: '2024-02-15', unit: 'day', interval: '1' },
      { project_id: '4242', funnel_id: '2', from_date: '2024-02-08', to_date: '2024-02-12', unit: 'day', interval: '1' },
      { project_id: '4242', funnel_id: '2', from_date: '2024-02-13', to_date: '2024-02-15', unit: 'day', interval: '1' },
    ]);
    const rows = records(messages, 'funnels');
    expect(rows).toHaveLength(16);
    expect(new Set(rows.map((r) => `${String(r.funnel_id)}/${String(r.date)}`)).size).toBe(16);
    expect(finalState(messages).bookmarks.funnels?.partitions).toEqual([
      { context: { funnel_id: 1 }, replication_key: 'datetime', replication_key_value: '2024-02-14T00:00:00.000Z' },
      { context: { funnel_id: 2 }, replication_key: 'datetime', replication_key_value: '2024-02-14T00:00:00.000Z' },
    ]);
  });

  it('resumes each funnel from its own bookmark minus the look-back; a new funnel starts at start_date', async () => {
    const config = tapConfig({ start_date: '2024-02-08T00:00:00Z', date_window_size: 30 });
    const state: SingerState = {
      bookmarks: { funnels: { partitions: [{ context: { funnel_id: 1 }, replication_key: 'datetime', replication_key_value: '2024-02-13T00:00:00.000Z' }] } },
    };
    answer('GET', '/api/query/funnels/list', 200, [{ funnel_id: 1, name: 'One' }, { funnel_id: 3, name: 'New' }]);
    answer('GET', '/api/query/funnels', 200, funnelDays('2024-02-11', '2024-02-15'));
    answer('GET', '/api/query/funnels', 200, funnelDays('2024-02-08', '2024-02-15'));
    const messages = await run(config, ['funnels'], state);
    const calls = seen.filter((s) => s.path === '/api/query/funnels').map((s) => [s.query.get('funnel_id'), s.query.get('from_date'), s.query.get('to_date')]);
    expect(calls).toEqual([
      ['1', '2024-02-11', '2024-02-15'],
      ['3', '2024-02-08', '2024-02-15'],
    ]);
    expect(records(messages, 'funnels')).toHaveLength(13);
  });

  it('takes another tap\'s single date-time bookmark as every funnel\'s', async () => {
    const config = tapConfig({ attribution_window: 1 });
    answer('GET', '/api/query/funnels/list', 200, [{ funnel_id: 1, name: 'One' }]);
    answer('GET', '/api/query/funnels', 200, funnelDays('2024-02-14', '2024-02-15'));
    await run(config, ['funnels'], { bookmarks: { funnels: { replication_key_value: '2024-02-14T00:00:00Z' } } });
    expect(seen[1]?.query.get('from_date')).toBe('2024-02-14');
  });
});

describe('cohort_members through the engine', () => {
  const cohorts = [
    { id: 20, name: 'Big', count: 5 },
    { id: 10, name: 'Small', count: 1 },
  ];
  const page = (n: number, ids: string[], total: number, session = 'S-20') => ({
    page: n,
    page_size: 2,
    session_id: session,
    status: 'ok',
    total,
    results: ids.map((id) => ({ $distinct_id: id, $properties: {} })),
  });

  it('pages each cohort from page 0 with its own session, and clears the state when all are done', async () => {
    answer('POST', '/api/query/cohorts/list', 200, cohorts);
    answer('POST', '/api/query/engage', 200, page(0, ['x'], 1, 'S-10'));
    answer('POST', '/api/query/engage', 200, page(0, ['a', 'b'], 5));
    answer('POST', '/api/query/engage', 200, page(1, ['c', 'd'], 5));
    answer('POST', '/api/query/engage', 200, page(2, ['e'], 5));
    const messages = await run(tapConfig(), ['cohort_members']);
    const engage = seen.filter((s) => s.path === '/api/query/engage').map((s) => [s.form.get('filter_by_cohort'), s.form.get('page'), s.form.get('session_id')]);
    expect(engage).toEqual([
      ['{"id":10}', null, null],
      ['{"id":20}', null, null],
      ['{"id":20}', '1', 'S-20'],
      ['{"id":20}', '2', 'S-20'],
    ]);
    expect(records(messages, 'cohort_members').map((r) => [r.cohort_id, r.distinct_id])).toEqual([
      [10, 'x'],
      ...['a', 'b', 'c', 'd', 'e'].map((id) => [20, id]),
    ]);
    const states = messages.filter((m) => m.type === 'STATE').map((m) => (m as Extract<SingerMessage, { type: 'STATE' }>).value);
    expect(states[0]).toMatchObject({ bookmarks: { cohort_members: { partitions: [{ context: { cohort_id: 10 }, done: true, members: 1 }] } }, currently_syncing: 'cohort_members' });
    // Records and the sweep's details (versions, names, emails): cohorts.test.ts.
    expect(finalState(messages).bookmarks).not.toHaveProperty('cohort_members');
  });

  it('stops at the total without asking for an empty page', async () => {
    answer('POST', '/api/query/cohorts/list', 200, [{ id: 20 }]);
    answer('POST', '/api/query/engage', 200, page(0, ['a', 'b'], 4));
    answer('POST', '/api/query/engage', 200, page(1, ['c', 'd'], 4));
    const messages = await run(tapConfig(), ['cohort_members']);
    expect(records(messages, 'cohort_members')).toHaveLength(4);
  });

  it('a run resumed from an interrupted run skips the cohorts already done', async () => {
    const state: SingerState = {
      bookmarks: { cohort_members: { partitions: [{ context: { cohort_id: 10 }, done: true, members: 1 }] } },
      currently_syncing: 'cohort_members',
    };
    answer('POST', '/api/query/cohorts/list', 200, cohorts);
    answer('POST', '/api/query/engage', 200, page(0, ['a'], 1));
    const messages = await run(tapConfig(), ['cohort_members'], state);
    expect(seen.filter((s) => s.path === '/api/query/engage').map((s) => s.form.get('filter_by_cohort'))).toEqual(['{"id":20}']);
    expect(records(messages, 'cohort_members').map((r) => [r.cohort_id, r.distinct_id])).toEqual([[20, 'a']]);
    expect(log.lines.some((l) => l.message.includes('1 of 2 cohorts already done'))).toBe(true);
  });
});

describe('a plan without the Query API (402)', () => {
  it('skips the stream with a warning naming the plan, and the run goes on', async () => {
    answer('GET', '/api/query/funnels/list', 402, { error: 'Your plan does not include this feature', status: 'error' });
    answer('GET', '/api/2.0/engage/revenue', 200, { status: 'ok', results: { '2024-02-15': { amount: 1, count: 1, paid_count: 1 } } });
    const messages = await run(tapConfig({ start_date: '2024-02-15T00:00:00Z' }), ['funnels', 'revenue']);
    const warning = log.lines.find((l) => l.level === 'warn');
    expect(warning?.message).toMatch(/^funnels: skipped: Mixpanel answered 402 Payment Required for GET .*funnels\/list.*: the project's plan does not include this API/);
    expect(warning?.message).toContain('Your plan does not include this feature');
    expect(records(messages, 'revenue')).toHaveLength(1);
    expect(finalState(messages)).toMatchObject({ currently_syncing: null, bookmarks: { revenue: { replication_key_value: '2024-02-14T00:00:00.000Z' } } });
    expect(finalState(messages).bookmarks).not.toHaveProperty('funnels');
  });

  it('other failures still fail the run', async () => {
    answer('POST', '/api/query/cohorts/list', 400, { request: '/api/query/cohorts/list', error: 'bad request' });
    await expect(run(tapConfig(), ['cohorts'])).rejects.toThrow(/400/);
  });
});

describe('undocumented legacy endpoints answering 404', () => {
  it('skips revenue with a warning, like a 402, and the next stream still runs', async () => {
    answer('GET', '/api/2.0/engage/revenue', 404, { error: 'Not found', status: 'error' });
    answer('POST', '/api/query/cohorts/list', 200, [{ id: 1, name: 'A', description: '', count: 1, is_visible: 1, created: '2024-01-01 00:00:00', project_id: 4242 }]);
    const messages = await run(tapConfig({ start_date: '2024-02-15T00:00:00Z' }), ['revenue', 'cohorts']);
    const warnings = log.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^revenue: skipped: Mixpanel answered 404 Not Found for GET .*\/api\/2\.0\/engage\/revenue.*: this undocumented legacy endpoint is not in Mixpanel's current API/,
    );
    expect(warnings[0]).toMatch(/deselect the stream to silence this warning$/);
    expect(records(messages, 'revenue')).toEqual([]);
    expect(records(messages, 'cohorts')).toHaveLength(1);
    expect(finalState(messages)).toMatchObject({ currently_syncing: null });
    expect(finalState(messages).bookmarks).not.toHaveProperty('revenue');
    // The summary table at the end says why revenue has no records.
    const summary = log.lines.map((l) => l.message).filter((m) => m.startsWith('revenue '));
    expect(summary).toEqual([expect.stringMatching(/^revenue +0 +[\d.]+ s +0 +skipped: 404, endpoint retired$/)]);
  });

  it('fails the run on a 404 from a documented endpoint (a wrong host or project is not a retired endpoint)', async () => {
    answer('POST', '/api/query/cohorts/list', 404, { error: 'Not found' });
    await expect(run(tapConfig(), ['cohorts'])).rejects.toThrow(/404/);
  });

  it('discovery goes on without profile properties when engage/properties answers 404, with a warning', async () => {
    answer('GET', '/api/2.0/engage/properties', 404, { error: 'Not found', status: 'error' });
    const client = new MixpanelClient(tapConfig(), { dispatcher: agent, userAgent: 'tests' });
    try {
      expect(await discoverProfileProperties(client, log)).toEqual({});
    } finally {
      await client.close();
    }
    const warning = log.lines.find((l) => l.level === 'warn');
    expect(warning?.message).toBe("discovery: engage/properties failed; continuing without the project's profile properties (engage keeps its built-in schema)");
    expect(JSON.stringify(warning)).toContain('404');
  });
});

describe('annotations and cohorts through the engine', () => {
  it('reads annotations from the app API with a service account', async () => {
    answer('GET', '/api/app/projects/4242/annotations', 200, { status: 'ok', results: [{ id: 1, date: '2024-02-01 10:00:00', description: 'x', user: { id: 2 }, tags: [] }] });
    answer('POST', '/api/query/cohorts/list', 200, [{ id: 1, name: 'c', count: 3, is_visible: 0, created: '2024-01-01 00:00:00', project_id: 4242 }]);
    const messages = await run(tapConfig(), ['annotations', 'cohorts']);
    expect(records(messages, 'annotations')).toEqual([{ id: 1, date: '2024-02-01T10:00:00.000Z', description: 'x', project_id: 4242, user: { id: 2 }, tags: [] }]);
    expect(records(messages, 'cohorts')).toEqual([{ id: 1, name: 'c', description: null, count: 3, is_visible: 0, created: '2024-01-01T00:00:00.000Z', project_id: 4242 }]);
  });

  it('reads the 2.0 annotations over start_date..today with a legacy project secret, even with a project_id', async () => {
    const config = tapConfig({ service_account_username: undefined, service_account_secret: undefined, api_secret: 'legacy' });
    answer('GET', '/api/2.0/annotations', 200, { annotations: [{ id: 9, project_id: 77, date: '2024-02-03 00:00:00', description: 'y' }], error: false });
    const messages = await run(config, ['annotations']);
    expect(Object.fromEntries(seen[0]?.query ?? [])).toEqual({ project_id: '4242', from_date: '2024-02-01', to_date: '2024-02-15' });
    expect(records(messages, 'annotations')).toEqual([{ id: 9, date: '2024-02-03T00:00:00.000Z', description: 'y', project_id: 77, user: null, tags: [] }]);
  });
});
