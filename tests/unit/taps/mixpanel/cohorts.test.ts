/**
 * cohorts and cohort_members: record shapes, discovery metadata, the shared cohort list, and
 * table versions (RECORD `version`, ACTIVATE_VERSION) in every case: a full sweep, an
 * interrupted run, a resumed run, a cohort with no members, cohorts deleted between runs.
 * Whole runs go through the engine against a strict mock of Mixpanel (no network).
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
import { memberOutputProperties, memberRecord } from '../../../../src/taps/mixpanel/streams/cohort-members.js';
import { transformProfile } from '../../../../src/taps/mixpanel/streams/engage.js';
import { STREAMS } from '../../../../src/taps/mixpanel/streams/index.js';
import { orderStreams, runSync } from '../../../../src/taps/mixpanel/sync.js';
import { capturingLogger, type CapturingLogger } from '../../helpers/capture-log.js';
import { TAP_REQUEST_DEFAULTS } from '../../helpers/tap-config.js';

const ORIGIN = 'https://mixpanel.example.test';
const NOW = DateTime.fromISO('2024-02-15T12:00:00Z');
const VERSION = NOW.toMillis();
const PROFILE_COLUMNS = ['mp_reserved_email', 'mp_reserved_first_name', 'mp_reserved_last_name', 'mp_reserved_name'];

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

describe('cohort_members record shape', () => {
  const cohort = { id: 7, name: 'Power users' };

  it('carries the cohort name and the profile email and names under the engage stream\'s names', () => {
    const profile = {
      $distinct_id: 'u1',
      $properties: { $email: 'ana@example.org', $first_name: 'Ana', $last_name: 'Silva', $name: 'Ana Silva', plan: 'pro' },
    };
    const record = memberRecord(cohort, profile);
    expect(record).toEqual({
      cohort_id: 7,
      distinct_id: 'u1',
      cohort_name: 'Power users',
      mp_reserved_email: 'ana@example.org',
      mp_reserved_first_name: 'Ana',
      mp_reserved_last_name: 'Silva',
      mp_reserved_name: 'Ana Silva',
    });
    // The same values, under the same names, as the engage stream sends for this profile.
    const engage = transformProfile(profile);
    for (const column of PROFILE_COLUMNS) expect([column, record[column]]).toEqual([column, engage[column]]);
  });

  it.each([
    ['a member with no profile (an anonymous id)', { $distinct_id: '$device:18f2a', $properties: {} }],
    ['a profile without $email or names', { $distinct_id: 'u2', $properties: { plan: 'free' } }],
    ['an answer without $properties', { $distinct_id: 'u3' }],
  ])('%s: email and names are null, the keys and cohort name are there', (_name, profile) => {
    const record = memberRecord(cohort, profile);
    expect(record).toMatchObject({ cohort_id: 7, distinct_id: profile.$distinct_id, cohort_name: 'Power users' });
    for (const column of PROFILE_COLUMNS) expect([column, record[column]]).toEqual([column, null]);
  });

  it('keeps a partial profile as it is, and a numeric distinct_id as text; a nameless cohort gives null', () => {
    expect(memberRecord({ id: 8 }, { $distinct_id: 12345, $properties: { $email: '  padded@example.org ', $first_name: 'Zoë' } })).toEqual({
      cohort_id: 8,
      distinct_id: '12345',
      cohort_name: null,
      mp_reserved_email: '  padded@example.org ',
      mp_reserved_first_name: 'Zoë',
      mp_reserved_last_name: null,
      mp_reserved_name: null,
    });
  });

  it('asks engage only for the profile properties the catalog selects', () => {
    expect(memberOutputProperties(new Set(['cohort_id', 'distinct_id', ...PROFILE_COLUMNS]))).toEqual(['$email', '$first_name', '$last_name', '$name']);
    expect(memberOutputProperties(new Set(['cohort_id', 'distinct_id', 'mp_reserved_email', 'cohort_name']))).toEqual(['$email']);
    expect(memberOutputProperties(new Set(['cohort_id', 'distinct_id']))).toEqual([]);
  });
});

describe('discovery', () => {
  const entry = (name: string) => {
    const found = defaultCatalog(tapConfig()).streams.find((s) => s.tap_stream_id === name);
    if (!found) throw new Error(`no ${name} in the catalog`);
    return found;
  };

  it('lists the cohort_members properties with standard metadata: keys automatic, the rest selectable', () => {
    const members = entry('cohort_members');
    expect(Object.keys(members.schema.properties ?? {})).toEqual(['cohort_id', 'cohort_name', 'distinct_id', ...PROFILE_COLUMNS]);
    expect(members.schema.additionalProperties).toBe(false);
    const metadata = Object.fromEntries((members.metadata ?? []).map((m) => [m.breadcrumb.join('.'), m.metadata]));
    expect(metadata['']).toEqual({
      inclusion: 'available',
      'selected-by-default': true,
      'table-key-properties': ['cohort_id', 'distinct_id'],
      'forced-replication-method': 'FULL_TABLE',
    });
    expect(metadata['properties.cohort_id']).toEqual({ inclusion: 'automatic', 'selected-by-default': true });
    expect(metadata['properties.distinct_id']).toEqual({ inclusion: 'automatic', 'selected-by-default': true });
    for (const name of ['cohort_name', ...PROFILE_COLUMNS]) {
      expect([name, metadata[`properties.${name}`]]).toEqual([name, { inclusion: 'available', 'selected-by-default': true }]);
    }
  });

  it('types the profile columns exactly as the engage schema does', () => {
    const engage = entry('engage').schema.properties ?? {};
    const members = entry('cohort_members').schema.properties ?? {};
    for (const column of PROFILE_COLUMNS) expect([column, members[column]?.type]).toEqual([column, engage[column]?.type]);
  });
});

describe('stream order', () => {
  const names = (currentlySyncing: string | null) => orderStreams(currentlySyncing).map((s) => s.name);

  it('cohorts always comes before cohort_members, also when a run resumes cohort_members first', () => {
    expect(names(null)).toEqual(STREAMS.map((s) => s.name));
    expect(names('cohort_members')).toEqual(['cohorts', 'cohort_members', 'export', 'engage', 'funnels', 'revenue', 'annotations']);
    expect(names('funnels')).toEqual(['funnels', 'export', 'engage', 'revenue', 'annotations', 'cohorts', 'cohort_members']);
    expect(names('no_such_stream')).toEqual(STREAMS.map((s) => s.name));
  });
});

// ---- whole runs through the engine, against a strict mock ----

interface Seen {
  path: string;
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

/** Answers one request to `path` (query string ignored); `then` runs once the answer is chosen. */
function answer(path: string, status: number, data: unknown, then?: () => void): void {
  pool
    .intercept({ method: 'POST', path: (p: string) => p.split('?')[0] === path })
    .reply((opts) => {
      const form = typeof opts.body === 'string' ? new URLSearchParams(opts.body) : new URLSearchParams();
      seen.push({ path: new URL(opts.path, ORIGIN).pathname, form });
      then?.();
      return { statusCode: status, data: JSON.stringify(data), responseOptions: { headers: { 'content-type': 'application/json' } } };
    });
}

const LIST = '/api/query/cohorts/list';
const ENGAGE = '/api/query/engage';

/** An engage page of page_size 2 with the given members (profiles with an email unless the id starts with "$device"). */
function page(n: number, ids: string[], total: number, session = 'S') {
  return {
    page: n,
    page_size: 2,
    session_id: session,
    status: 'ok',
    total,
    results: ids.map((id) => ({ $distinct_id: id, $properties: id.startsWith('$device') ? {} : { $email: `${id}@example.org`, $first_name: id.toUpperCase() } })),
  };
}

interface RunOptions {
  state?: SingerState;
  now?: DateTime;
  signal?: AbortSignal;
  /** Property selection per stream: name -> selected. */
  properties?: Record<string, Record<string, boolean>>;
}

function catalogOf(streams: string[], properties: RunOptions['properties'] = {}): Catalog {
  const catalog = defaultCatalog(tapConfig());
  for (const entry of catalog.streams) {
    for (const m of entry.metadata ?? []) {
      if (m.breadcrumb.length === 0) m.metadata.selected = streams.includes(entry.tap_stream_id);
      const choice = properties[entry.tap_stream_id]?.[m.breadcrumb[1] ?? ''];
      if (m.breadcrumb.length === 2 && choice !== undefined) m.metadata.selected = choice;
    }
  }
  return catalog;
}

async function run(streams: string[], options: RunOptions = {}): Promise<SingerMessage[]> {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const config = tapConfig();
  const client = new MixpanelClient(config, { dispatcher: agent, userAgent: 'tests' });
  await runSync({
    config,
    client,
    writer: new SingerWriter(out),
    log,
    signal: options.signal ?? new AbortController().signal,
    catalog: catalogOf(streams, options.properties),
    ...(options.state ? { state: options.state } : {}),
    now: options.now ?? NOW,
  });
  await client.close();
  return chunks
    .join('')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as SingerMessage);
}

type RecordMsg = Extract<SingerMessage, { type: 'RECORD' }>;
type StateMsg = Extract<SingerMessage, { type: 'STATE' }>;

const recordMessages = (messages: SingerMessage[], stream: string) => messages.filter((m): m is RecordMsg => m.type === 'RECORD' && m.stream === stream);
const records = (messages: SingerMessage[], stream: string) => recordMessages(messages, stream).map((m) => m.record);
const activations = (messages: SingerMessage[]) => messages.filter((m) => m.type === 'ACTIVATE_VERSION');
const finalState = (messages: SingerMessage[]) => (messages.filter((m): m is StateMsg => m.type === 'STATE').at(-1)?.value ?? {}) as unknown as SingerState;
/** The message types of one stream's part of the output (SCHEMA..), with STATEs in between. */
function shape(messages: SingerMessage[], stream: string): string[] {
  const start = messages.findIndex((m) => m.type === 'SCHEMA' && m.stream === stream);
  const end = messages.findIndex((m, i) => i > start && m.type === 'SCHEMA');
  return messages.slice(start, end < 0 ? undefined : end).map((m) => (m.type === 'RECORD' ? 'RECORD' : m.type));
}
/** Collapses runs of RECORD into one "RECORD*". */
const squeeze = (types: string[]) => types.filter((t, i) => t !== 'RECORD' || types[i - 1] !== 'RECORD').map((t) => (t === 'RECORD' ? 'RECORD*' : t));

const COHORTS = [
  { id: 20, name: 'Big', count: 3 },
  { id: 10, name: 'Small', count: 1 },
  { id: 30, name: 'Empty', count: 0 },
];

describe('a full sweep', () => {
  beforeEach(() => {
    answer(LIST, 200, COHORTS);
    answer(ENGAGE, 200, page(0, ['x'], 1, 'S-10'));
    answer(ENGAGE, 200, page(0, ['a', '$device:1'], 3, 'S-20'));
    answer(ENGAGE, 200, page(1, ['c'], 3, 'S-20'));
    answer(ENGAGE, 200, page(0, [], 0, 'S-30'));
  });

  it('reads cohorts/list once for both streams, and every cohort of it, in id order, with the profile properties', async () => {
    const messages = await run(['cohorts', 'cohort_members']);
    expect(seen.filter((s) => s.path === LIST)).toHaveLength(1);
    const engage = seen.filter((s) => s.path === ENGAGE).map((s) => [s.form.get('filter_by_cohort'), s.form.get('page'), s.form.get('output_properties')]);
    const all = '["$email","$first_name","$last_name","$name"]';
    expect(engage).toEqual([
      ['{"id":10}', null, all],
      ['{"id":20}', null, all],
      ['{"id":20}', '1', all],
      ['{"id":30}', null, all],
    ]);
    expect(records(messages, 'cohorts').map((c) => c.id)).toEqual([10, 20, 30]);
    expect(records(messages, 'cohort_members')).toEqual([
      { cohort_id: 10, distinct_id: 'x', cohort_name: 'Small', mp_reserved_email: 'x@example.org', mp_reserved_first_name: 'X', mp_reserved_last_name: null, mp_reserved_name: null },
      { cohort_id: 20, distinct_id: 'a', cohort_name: 'Big', mp_reserved_email: 'a@example.org', mp_reserved_first_name: 'A', mp_reserved_last_name: null, mp_reserved_name: null },
      { cohort_id: 20, distinct_id: '$device:1', cohort_name: 'Big', mp_reserved_email: null, mp_reserved_first_name: null, mp_reserved_last_name: null, mp_reserved_name: null },
      { cohort_id: 20, distinct_id: 'c', cohort_name: 'Big', mp_reserved_email: 'c@example.org', mp_reserved_first_name: 'C', mp_reserved_last_name: null, mp_reserved_name: null },
    ]);
  });

  it('every record carries the run\'s version; one ACTIVATE_VERSION per stream, after its records and before the STATE that ends it', async () => {
    const messages = await run(['cohorts', 'cohort_members']);
    for (const stream of ['cohorts', 'cohort_members']) {
      expect(new Set(recordMessages(messages, stream).map((m) => m.version))).toEqual(new Set([VERSION]));
    }
    expect(activations(messages)).toEqual([
      { type: 'ACTIVATE_VERSION', stream: 'cohorts', version: VERSION },
      { type: 'ACTIVATE_VERSION', stream: 'cohort_members', version: VERSION },
    ]);
    expect(squeeze(shape(messages, 'cohorts'))).toEqual(['SCHEMA', 'RECORD*', 'ACTIVATE_VERSION', 'STATE']);
    // A STATE after each cohort (the empty one too), then the activation, then the STATE without the sweep.
    expect(squeeze(shape(messages, 'cohort_members'))).toEqual(['SCHEMA', 'RECORD*', 'STATE', 'RECORD*', 'STATE', 'STATE', 'ACTIVATE_VERSION', 'STATE', 'STATE']);
    const states = messages.filter((m): m is StateMsg => m.type === 'STATE').map((m) => m.value as unknown as SingerState);
    const afterActivation = messages[messages.findIndex((m) => m.type === 'ACTIVATE_VERSION' && m.stream === 'cohort_members') + 1] as StateMsg;
    expect((afterActivation.value as unknown as SingerState).bookmarks).not.toHaveProperty('cohort_members');
    expect(states.map((s) => s.bookmarks.cohort_members?.partitions?.at(-1)).filter((p) => p !== undefined)).toEqual([
      { context: { cohort_id: 10 }, done: true, members: 1, version: VERSION },
      { context: { cohort_id: 20 }, done: true, members: 3, version: VERSION },
      { context: { cohort_id: 30 }, done: true, members: 0, version: VERSION },
    ]);
    expect(finalState(messages)).toEqual({ bookmarks: {}, currently_syncing: null });
  });

  it('leaves deselected properties out of SCHEMA and records, and does not ask engage for them', async () => {
    const deselect = { cohort_name: false, mp_reserved_first_name: false, mp_reserved_last_name: false, mp_reserved_name: false };
    const messages = await run(['cohort_members'], { properties: { cohort_members: deselect } });
    expect(new Set(seen.filter((s) => s.path === ENGAGE).map((s) => s.form.get('output_properties')))).toEqual(new Set(['["$email"]']));
    const schema = messages.find((m) => m.type === 'SCHEMA' && m.stream === 'cohort_members') as Extract<SingerMessage, { type: 'SCHEMA' }>;
    expect(Object.keys(schema.schema.properties ?? {})).toEqual(['cohort_id', 'distinct_id', 'mp_reserved_email']);
    expect(records(messages, 'cohort_members')[0]).toEqual({ cohort_id: 10, distinct_id: 'x', mp_reserved_email: 'x@example.org' });
    expect(activations(messages)).toEqual([{ type: 'ACTIVATE_VERSION', stream: 'cohort_members', version: VERSION }]);
  });

  it('with no profile property selected, asks for none', async () => {
    const none = Object.fromEntries(PROFILE_COLUMNS.map((c) => [c, false]));
    const messages = await run(['cohort_members'], { properties: { cohort_members: none } });
    expect(new Set(seen.filter((s) => s.path === ENGAGE).map((s) => s.form.get('output_properties')))).toEqual(new Set(['[]']));
    expect(Object.keys(records(messages, 'cohort_members')[0] ?? {})).toEqual(['cohort_id', 'distinct_id', 'cohort_name']);
  });
});

describe('streams without table versions', () => {
  it('annotations records carry no version and get no ACTIVATE_VERSION', async () => {
    pool.intercept({ method: 'GET', path: (p: string) => p.startsWith('/api/app/projects/4242/annotations') }).reply(200, { status: 'ok', results: [{ id: 1, date: '2024-02-01 10:00:00', description: 'x' }] }, {
      headers: { 'content-type': 'application/json' },
    });
    const messages = await run(['annotations']);
    expect(recordMessages(messages, 'annotations').map((m) => 'version' in m)).toEqual([false]);
    expect(activations(messages)).toEqual([]);
  });
});

describe('an interrupted run', () => {
  it('emits no ACTIVATE_VERSION for cohort_members, and its state records only the cohorts it finished', async () => {
    const stop = new AbortController();
    answer(LIST, 200, COHORTS);
    answer(ENGAGE, 200, page(0, ['x'], 1, 'S-10'));
    // The stop request arrives while cohort 20's first page is in flight.
    answer(ENGAGE, 200, page(0, ['a', 'b'], 3, 'S-20'), () => stop.abort());
    const messages = await run(['cohorts', 'cohort_members'], { signal: stop.signal });
    expect(records(messages, 'cohort_members').map((r) => r.distinct_id)).toEqual(['x', 'a', 'b']);
    expect(new Set(recordMessages(messages, 'cohort_members').map((m) => m.version))).toEqual(new Set([VERSION]));
    // The cohorts list was whole, so that stream is activated; the member sweep is not.
    expect(activations(messages)).toEqual([{ type: 'ACTIVATE_VERSION', stream: 'cohorts', version: VERSION }]);
    expect(finalState(messages)).toEqual({
      bookmarks: { cohort_members: { partitions: [{ context: { cohort_id: 10 }, done: true, members: 1, version: VERSION }] } },
      currently_syncing: 'cohort_members',
    });
  });

  it('a stop during the last cohort leaves the sweep unactivated as well', async () => {
    const stop = new AbortController();
    answer(LIST, 200, [{ id: 10, name: 'Only' }]);
    answer(ENGAGE, 200, page(0, ['a', 'b'], 4, 'S-10'), () => stop.abort());
    const messages = await run(['cohort_members'], { signal: stop.signal });
    expect(records(messages, 'cohort_members')).toHaveLength(2);
    expect(activations(messages)).toEqual([]);
    expect(finalState(messages).bookmarks).toEqual({});
    expect(finalState(messages).currently_syncing).toBe('cohort_members');
  });
});

describe('a run resumed from an interrupted run\'s state', () => {
  const LATER = NOW.plus({ hours: 1 });
  const interrupted: SingerState = {
    bookmarks: { cohort_members: { partitions: [{ context: { cohort_id: 10 }, done: true, members: 1, version: VERSION }] } },
    currently_syncing: 'cohort_members',
  };

  it('reads only the cohorts left, with its own version, and does not activate it; the sweep state is cleared', async () => {
    answer(LIST, 200, COHORTS);
    answer(ENGAGE, 200, page(0, ['a'], 1, 'S-20'));
    answer(ENGAGE, 200, page(0, [], 0, 'S-30'));
    const messages = await run(['cohorts', 'cohort_members'], { state: interrupted, now: LATER });
    expect(seen.filter((s) => s.path === LIST)).toHaveLength(1);
    expect(seen.filter((s) => s.path === ENGAGE).map((s) => s.form.get('filter_by_cohort'))).toEqual(['{"id":20}', '{"id":30}']);
    expect(recordMessages(messages, 'cohort_members').map((m) => [m.record.cohort_id, m.version])).toEqual([[20, LATER.toMillis()]]);
    // The resumed stream runs first, right after the cohorts stream (one whole list: still activated).
    expect(messages.filter((m) => m.type === 'SCHEMA').map((m) => m.stream)).toEqual(['cohorts', 'cohort_members']);
    expect(activations(messages)).toEqual([{ type: 'ACTIVATE_VERSION', stream: 'cohorts', version: LATER.toMillis() }]);
    expect(finalState(messages)).toEqual({ bookmarks: {}, currently_syncing: null });
    expect(log.lines.some((l) => /1 of 3 cohorts already done.*does not activate/.test(l.message))).toBe(true);
  });

  it('the next run after it is a full sweep again, and activates', async () => {
    answer(LIST, 200, [{ id: 10, name: 'Small' }]);
    answer(ENGAGE, 200, page(0, ['x'], 1));
    const LATEST = LATER.plus({ hours: 1 });
    const messages = await run(['cohort_members'], { state: { bookmarks: {}, currently_syncing: null }, now: LATEST });
    expect(activations(messages)).toEqual([{ type: 'ACTIVATE_VERSION', stream: 'cohort_members', version: LATEST.toMillis() }]);
  });

  it('whose finished cohorts were all deleted since reads its whole list, so it activates', async () => {
    answer(LIST, 200, [{ id: 20, name: 'Big' }, { id: 40, name: 'New' }]);
    answer(ENGAGE, 200, page(0, ['a'], 1, 'S-20'));
    answer(ENGAGE, 200, page(0, ['n'], 1, 'S-40'));
    const messages = await run(['cohort_members'], { state: interrupted, now: LATER });
    expect(records(messages, 'cohort_members').map((r) => [r.cohort_id, r.distinct_id])).toEqual([[20, 'a'], [40, 'n']]);
    expect(activations(messages)).toEqual([{ type: 'ACTIVATE_VERSION', stream: 'cohort_members', version: LATER.toMillis() }]);
    expect(finalState(messages).bookmarks).toEqual({});
  });
});

describe('cohorts deleted between full runs', () => {
  it('the second run sends and activates only the cohorts that are left: the deleted one has no rows of its version', async () => {
    answer(LIST, 200, [{ id: 10, name: 'Small' }, { id: 20, name: 'Big' }]);
    answer(ENGAGE, 200, page(0, ['x'], 1, 'S-10'));
    answer(ENGAGE, 200, page(0, ['a'], 1, 'S-20'));
    const first = await run(['cohorts', 'cohort_members']);
    answer(LIST, 200, [{ id: 10, name: 'Small' }]);
    answer(ENGAGE, 200, page(0, ['x'], 1, 'S-10'));
    const LATER = NOW.plus({ days: 1 });
    const second = await run(['cohorts', 'cohort_members'], { state: finalState(first), now: LATER });
    expect(records(second, 'cohorts').map((c) => c.id)).toEqual([10]);
    expect(recordMessages(second, 'cohort_members').map((m) => [m.record.cohort_id, m.version])).toEqual([[10, LATER.toMillis()]]);
    expect(activations(second).map((m) => [m.stream, (m as { version: number }).version])).toEqual([
      ['cohorts', LATER.toMillis()],
      ['cohort_members', LATER.toMillis()],
    ]);
  });

  it('a project with no cohorts left: no records, and both empty tables are activated', async () => {
    answer(LIST, 200, []);
    const messages = await run(['cohorts', 'cohort_members']);
    expect(messages.filter((m) => m.type === 'RECORD')).toEqual([]);
    expect(activations(messages).map((m) => m.stream)).toEqual(['cohorts', 'cohort_members']);
  });
});

describe('a plan without the Query API', () => {
  it('both cohort streams are skipped after one refused list call, and nothing is activated', async () => {
    answer(LIST, 402, { error: 'Your plan does not include this feature', status: 'error' });
    const messages = await run(['cohorts', 'cohort_members']);
    expect(seen).toHaveLength(1);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.message.split(':')[0])).toEqual(['cohorts', 'cohort_members']);
    expect(activations(messages)).toEqual([]);
    expect(messages.filter((m) => m.type === 'RECORD')).toEqual([]);
  });
});
