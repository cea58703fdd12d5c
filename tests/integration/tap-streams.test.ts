/**
 * All seven streams of the compiled tap against the sandbox: records for each, valid against
 * the SCHEMA the tap announced, unique non-null keys, per-partition bookmarks, and a run resumed
 * from an interrupted run's state that loses no cohort member (checked against the seed).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import type { GeneratedProfile } from '../../src/sandbox/data/profiles.js';
import { COHORTS, anonymousCohortMembers } from '../../src/sandbox/mixpanel/cohort-store.js';
import { seededAnnotations } from '../../src/sandbox/mixpanel/annotations.js';
import { FUNNELS } from '../../src/sandbox/mixpanel/reports.js';
import { parseDay } from '../../src/sandbox/calendar.js';
import { addDays } from '../../src/taps/mixpanel/time.js';
import type { JsonSchema, SingerMessage } from '../../src/singer/messages.js';
import { getJson, lastState, parseSingerOutput, recordsOf, runBinary, tempDir, writeJson } from './harness.js';

const SEED = 11;
const PAGE_SIZE = 20;
const STREAMS = ['export', 'engage', 'funnels', 'revenue', 'annotations', 'cohorts', 'cohort_members'];
const KEYS: Record<string, string[]> = {};

let sandbox: Sandbox;
let dir: string;
let configPath: string;
let messages: SingerMessage[];
/** cohort id -> every distinct_id Mixpanel counts in it. */
let truth: Map<number, Set<string>>;

type StateMessage = Extract<SingerMessage, { type: 'STATE' }>;
type Partition = { context: Record<string, unknown>; [key: string]: unknown };
type Bookmarks = Record<string, { replication_key_value?: string; partitions?: Partition[] }>;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: SEED, profiles: 150, eventsPerDay: 150, days: 8, engagePageSize: PAGE_SIZE });
  dir = tempDir();
  const config = { ...sandboxClientConfigs(sandbox).tap, start_date: sandbox.dataRange.fromDate, ingestion_settle_minutes: 0, date_window_size: 3, attribution_window: 2 };
  configPath = writeJson(dir, 'tap.json', config);

  const profiles = await getJson<Array<{ $distinct_id: string; $properties: Record<string, unknown> }>>(`${sandbox.url}/__admin/mixpanel/profiles`);
  truth = new Map();
  for (const cohort of COHORTS) {
    const members = new Set(anonymousCohortMembers(SEED, cohort));
    profiles.forEach((p, index) => {
      // Cohort rules read only the position and the plan.
      if (cohort.includes({ index, plan: String(p.$properties.plan) } as GeneratedProfile)) members.add(p.$distinct_id);
    });
    truth.set(cohort.id, members);
  }

  const result = await runBinary('tap-mixpanel', ['--config', configPath]);
  if (result.code !== 0) throw new Error(`tap failed (${String(result.code)}): ${result.stderr.slice(-2000)}`);
  messages = parseSingerOutput(result.stdout);
  for (const m of messages) if (m.type === 'SCHEMA') KEYS[m.stream] = m.key_properties;
});

afterAll(async () => {
  await sandbox.close();
});

function membersByCohort(records: Record<string, unknown>[]): Map<number, Set<string>> {
  const map = new Map<number, Set<string>>();
  for (const r of records) {
    const set = map.get(Number(r.cohort_id)) ?? new Set<string>();
    set.add(String(r.distinct_id));
    map.set(Number(r.cohort_id), set);
  }
  return map;
}

describe('tap-mixpanel: every stream against the sandbox', () => {
  it('announces and returns records for all seven streams', () => {
    expect(Object.keys(KEYS).sort()).toEqual([...STREAMS].sort());
    for (const stream of STREAMS) expect([stream, recordsOf(messages, stream).length > 0]).toEqual([stream, true]);
  });

  it('every record validates against the SCHEMA the tap announced for its stream', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
    const validators = new Map<string, ReturnType<typeof ajv.compile>>();
    const checked = new Map<string, number>();
    for (const m of messages) {
      if (m.type === 'SCHEMA') validators.set(m.stream, ajv.compile(m.schema as JsonSchema));
      if (m.type !== 'RECORD') continue;
      const validate = validators.get(m.stream);
      if (!validate?.(m.record)) throw new Error(`${m.stream} record invalid: ${JSON.stringify(validate?.errors)} ${JSON.stringify(m.record).slice(0, 300)}`);
      checked.set(m.stream, (checked.get(m.stream) ?? 0) + 1);
    }
    expect([...checked.keys()].sort()).toEqual([...STREAMS].sort());
  });

  it('keys are present, non-null and unique in every stream (export: a repeated key is an exact duplicate event)', () => {
    for (const stream of STREAMS) {
      const keys = KEYS[stream] ?? [];
      expect(keys.length).toBeGreaterThan(0);
      const seen = new Map<string, string>();
      for (const record of recordsOf(messages, stream)) {
        for (const key of keys) expect([stream, key, record[key] === null || record[key] === undefined]).toEqual([stream, key, false]);
        const id = JSON.stringify(keys.map((k) => record[k]));
        const earlier = seen.get(id);
        // Mixpanel's export does not deduplicate: the sandbox repeats some events exactly, as the real one does.
        if (stream === 'export' && earlier !== undefined) expect(JSON.stringify(record)).toBe(earlier);
        else expect([stream, id, earlier !== undefined]).toEqual([stream, id, false]);
        seen.set(id, JSON.stringify(record));
      }
    }
  });

  it('funnels: a row per funnel and day of the range; a bookmark per funnel at the last complete day', () => {
    const rows = recordsOf(messages, 'funnels');
    expect(rows).toHaveLength(FUNNELS.length * 8);
    const bookmarks = lastState(messages)?.bookmarks as Bookmarks;
    const partitions = bookmarks.funnels?.partitions ?? [];
    expect(partitions.map((p) => p.context).sort((a, b) => Number(a.funnel_id) - Number(b.funnel_id))).toEqual(
      FUNNELS.map((f) => ({ funnel_id: f.funnel_id })).sort((a, b) => a.funnel_id - b.funnel_id),
    );
    const yesterday = `${addDays(sandbox.dataRange.toDate, -1)}T00:00:00.000Z`;
    for (const p of partitions) expect(p).toMatchObject({ replication_key: 'datetime', replication_key_value: yesterday });
    expect(bookmarks.revenue).toMatchObject({ replication_key: 'datetime', replication_key_value: yesterday });
  });

  it('revenue: a row per day; annotations and cohorts: everything the sandbox holds', () => {
    expect(recordsOf(messages, 'revenue').map((r) => r.date)).toHaveLength(8);
    const seeded = seededAnnotations({ fromDay: parseDay(sandbox.dataRange.fromDate) as number, toDay: parseDay(sandbox.dataRange.toDate) as number });
    expect(recordsOf(messages, 'annotations').map((a) => [a.id, a.date])).toEqual(
      seeded.map((a) => [a.id, `${a.date.replace(' ', 'T')}.000Z`]),
    );
    expect(recordsOf(messages, 'cohorts').map((c) => [c.id, c.count])).toEqual(COHORTS.map((c) => [c.id, truth.get(c.id)?.size]));
  });

  it('cohort_members: exactly the members of every cohort, large cohorts over several pages', () => {
    const got = membersByCohort(recordsOf(messages, 'cohort_members'));
    expect([...truth.values()].some((members) => members.size > 2 * PAGE_SIZE)).toBe(true);
    for (const [id, members] of truth) expect([id, [...(got.get(id) ?? [])].sort()]).toEqual([id, [...members].sort()]);
  });

  it('cohort_members: a STATE after each cohort with its partition; cleared once every cohort is done', () => {
    const states = messages.filter((m): m is StateMessage => m.type === 'STATE').map((m) => m.value as { bookmarks: Bookmarks; currently_syncing: string | null });
    const during = states.filter((s) => s.currently_syncing === 'cohort_members');
    const done = during.map((s) => (s.bookmarks.cohort_members?.partitions ?? []).map((p) => p.context.cohort_id));
    expect(done.filter((d) => d.length > 0)).toEqual(COHORTS.map((_, n) => COHORTS.slice(0, n + 1).map((c) => c.id)));
    expect(lastState(messages)?.bookmarks).not.toHaveProperty('cohort_members');
  });

  it('a run resumed from the state of a run interrupted inside cohort_members loses nobody', async () => {
    // The run "stops" just after the STATE that marks the first cohort done, having written
    // part of the second cohort (records after that STATE that a target may or may not keep).
    const index = messages.findIndex(
      (m) => m.type === 'STATE' && ((m.value as { bookmarks: Bookmarks }).bookmarks.cohort_members?.partitions ?? []).length === 1,
    );
    expect(index).toBeGreaterThan(0);
    const interrupted = messages[index] as StateMessage;
    const before = recordsOf(messages.slice(0, index), 'cohort_members');
    const statePath = writeJson(dir, 'interrupted-state.json', interrupted.value);

    const result = await runBinary('tap-mixpanel', ['--config', configPath, '--state', statePath]);
    expect(result.code).toBe(0);
    const resumed = parseSingerOutput(result.stdout);
    const after = recordsOf(resumed, 'cohort_members');
    const firstCohort = COHORTS[0]?.id;
    // The cohort already done is not read again; every other cohort is read whole.
    expect(after.some((r) => r.cohort_id === firstCohort)).toBe(false);
    const got = membersByCohort([...before, ...after]);
    for (const [id, members] of truth) expect([id, [...(got.get(id) ?? [])].sort()]).toEqual([id, [...members].sort()]);
    // The interrupted stream goes first, right after the cohort list it sweeps.
    expect(resumed.filter((m) => m.type === 'SCHEMA').slice(0, 2).map((m) => m.stream)).toEqual(['cohorts', 'cohort_members']);
    expect(lastState(resumed)?.bookmarks).not.toHaveProperty('cohort_members');

    // funnels, already bookmarked at yesterday: only the look-back (2 days) and today are read again.
    const today = sandbox.dataRange.toDate;
    const days = [...new Set(recordsOf(resumed, 'funnels').map((r) => String(r.date)))].sort();
    expect(days).toEqual([addDays(today, -2), addDays(today, -1), today]);
  });

  it('with a legacy project secret, annotations come from the 2.0 API: the same ids, dates and descriptions', async () => {
    const legacyConfig = writeJson(dir, 'tap-secret.json', { ...sandboxClientConfigs(sandbox, { auth: 'api_secret' }).tap, start_date: sandbox.dataRange.fromDate });
    const discovered = await runBinary('tap-mixpanel', ['--config', legacyConfig, '--discover']);
    const catalog = JSON.parse(discovered.stdout) as { streams: Array<{ tap_stream_id: string; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }> };
    for (const stream of catalog.streams) {
      const root = stream.metadata.find((m) => m.breadcrumb.length === 0);
      if (root) root.metadata.selected = stream.tap_stream_id === 'annotations';
    }
    const result = await runBinary('tap-mixpanel', ['--config', legacyConfig, '--catalog', writeJson(dir, 'catalog-annotations.json', catalog)]);
    expect(result.code).toBe(0);
    const legacy = recordsOf(parseSingerOutput(result.stdout), 'annotations');
    const pick = (r: Record<string, unknown>) => [r.id, r.date, r.description, r.project_id];
    expect(legacy.map(pick)).toEqual(recordsOf(messages, 'annotations').map(pick));
    expect(legacy.every((r) => r.user === null)).toBe(true);
  });
});
