/**
 * Cohort sweeps end to end: the compiled tap against the sandbox, with a catalog from --discover
 * selecting cohorts and cohort_members. A full run sends every member with the cohort's name and
 * the profile's email and names (checked against the sandbox's ground truth) and one
 * ACTIVATE_VERSION per stream; a run stopped with SIGTERM while cohort_members is paging sends
 * none for cohort_members, nor does the run resumed from its state, and the run after that is a
 * full sweep again; membership changed through the admin API between two runs (entrants,
 * leavers, a renamed, a deleted and a new cohort, a changed email) shows up in the second run.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { Catalog } from '../../src/singer/catalog.js';
import type { SingerMessage } from '../../src/singer/messages.js';
import { completeMessages, startTap } from './export-truth.js';
import { getJson, lastState, parseSingerOutput, postJson, recordsOf, runBinary, tempDir, writeJson } from './harness.js';

const PAGE_SIZE = 5;

interface AdminCohort {
  id: number;
  name: string;
  members: string[];
}

type Profile = { $distinct_id: string; $properties: Record<string, unknown> };
type RecordMsg = Extract<SingerMessage, { type: 'RECORD' }>;
type Activation = Extract<SingerMessage, { type: 'ACTIVATE_VERSION' }>;
type State = { bookmarks: Record<string, { partitions?: Array<{ context: { cohort_id: number } }> }>; currently_syncing: string | null };

let sandbox: Sandbox;
let dir: string;
let configPath: string;
let catalogPath: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 17, profiles: 120, eventsPerDay: 20, days: 2, engagePageSize: PAGE_SIZE });
  dir = tempDir('tap-cohorts-');
  configPath = writeJson(dir, 'tap.json', { ...sandboxClientConfigs(sandbox).tap, start_date: sandbox.dataRange.fromDate });
  const discovered = await runBinary('tap-mixpanel', ['--config', configPath, '--discover']);
  expect(discovered.code).toBe(0);
  const catalog = JSON.parse(discovered.stdout) as Catalog;
  for (const entry of catalog.streams) {
    const root = entry.metadata?.find((m) => m.breadcrumb.length === 0);
    if (root) root.metadata.selected = entry.tap_stream_id === 'cohorts' || entry.tap_stream_id === 'cohort_members';
  }
  catalogPath = writeJson(dir, 'catalog.json', catalog);
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  await postJson(`${sandbox.url}/__admin/reset`, {});
});

async function tap(state?: unknown, name = 'run'): Promise<SingerMessage[]> {
  const args = ['--config', configPath, '--catalog', catalogPath, ...(state ? ['--state', writeJson(dir, `${name}.state.json`, state)] : [])];
  const result = await runBinary('tap-mixpanel', args);
  if (result.code !== 0) throw new Error(`tap failed (${String(result.code)}): ${result.stderr.slice(-2000)}`);
  return parseSingerOutput(result.stdout);
}

const cohortsNow = async () => (await getJson<{ cohorts: AdminCohort[] }>(`${sandbox.url}/__admin/mixpanel/cohorts`)).cohorts;
const profilesNow = async () => new Map((await getJson<Profile[]>(`${sandbox.url}/__admin/mixpanel/profiles`)).map((p) => [p.$distinct_id, p.$properties]));
const activations = (messages: SingerMessage[]) => messages.filter((m): m is Activation => m.type === 'ACTIVATE_VERSION');
const versions = (messages: SingerMessage[], stream: string) =>
  new Set(messages.filter((m): m is RecordMsg => m.type === 'RECORD' && m.stream === stream).map((m) => m.version));

/** What the tap must send for every member of every cohort, from the sandbox's ground truth. */
async function expectedMembers(): Promise<Record<string, unknown>[]> {
  const profiles = await profilesNow();
  const field = (properties: Record<string, unknown> | undefined, name: string) => properties?.[name] ?? null;
  return (await cohortsNow()).flatMap((cohort) =>
    cohort.members.map((id) => {
      const p = profiles.get(id);
      return {
        cohort_id: cohort.id,
        distinct_id: id,
        cohort_name: cohort.name,
        mp_reserved_email: field(p, '$email'),
        mp_reserved_first_name: field(p, '$first_name'),
        mp_reserved_last_name: field(p, '$last_name'),
        mp_reserved_name: field(p, '$name'),
      };
    }),
  );
}

const byKey = (records: Record<string, unknown>[]) => [...records].sort((a, b) => `${String(a.cohort_id)}/${String(a.distinct_id)}`.localeCompare(`${String(b.cohort_id)}/${String(b.distinct_id)}`));

describe('a full run', () => {
  let messages: SingerMessage[];

  beforeEach(async () => {
    messages = await tap();
  });

  it('sends every member of every cohort with the cohort name, email and names; profile-less members with nulls', async () => {
    const got = recordsOf(messages, 'cohort_members');
    expect(byKey(got)).toEqual(byKey(await expectedMembers()));
    // The seed has both kinds: members with an email, and ids without a profile.
    expect(got.some((r) => typeof r.mp_reserved_email === 'string')).toBe(true);
    const profileLess = got.filter((r) => String(r.distinct_id).startsWith('$device:'));
    expect(profileLess.length).toBeGreaterThan(0);
    for (const r of profileLess) expect([r.mp_reserved_email, r.mp_reserved_first_name, r.mp_reserved_last_name, r.mp_reserved_name]).toEqual([null, null, null, null]);
    // One cohorts/list call for both streams.
    const requests = await getJson<{ requests: Array<{ path: string }> }>(`${sandbox.url}/__admin/requests?family=query`);
    expect(requests.requests.filter((r) => r.path.endsWith('/cohorts/list'))).toHaveLength(1);
  });

  it('gives every record of both streams the run\'s version, and activates it once per stream after the stream\'s records', () => {
    const cohortVersions = versions(messages, 'cohorts');
    expect(cohortVersions.size).toBe(1);
    const [version] = [...cohortVersions];
    expect(versions(messages, 'cohort_members')).toEqual(cohortVersions);
    expect(activations(messages)).toEqual([
      { type: 'ACTIVATE_VERSION', stream: 'cohorts', version },
      { type: 'ACTIVATE_VERSION', stream: 'cohort_members', version },
    ]);
    const at = messages.findIndex((m) => m.type === 'ACTIVATE_VERSION' && m.stream === 'cohort_members');
    const lastRecord = messages.map((m) => m.type === 'RECORD' && m.stream === 'cohort_members').lastIndexOf(true);
    expect(at).toBeGreaterThan(lastRecord);
    const next = messages[at + 1] as Extract<SingerMessage, { type: 'STATE' }>;
    expect(next.type).toBe('STATE');
    expect((next.value as unknown as State).bookmarks).not.toHaveProperty('cohort_members');
  });
});

describe('a run stopped with SIGTERM while cohort_members is paging', () => {
  it('sends no ACTIVATE_VERSION for cohort_members; neither does the run resumed from its state; the run after that does', async () => {
    // Slow query answers, so the run cannot finish between the moment we decide to stop it and the signal.
    await postJson(`${sandbox.url}/__admin/settings`, { latency_ms: { query: 100 } });
    const live = startTap(['--config', configPath, '--catalog', catalogPath]);
    // The first cohort is done (its STATE is out); the others are still being paged.
    await live.until((out) => completeMessages(out).some((m) => m.type === 'STATE' && ((m.value as unknown as State).bookmarks.cohort_members?.partitions ?? []).length > 0));
    live.child.kill('SIGTERM');
    const { code } = await live.exited;
    await postJson(`${sandbox.url}/__admin/settings`, { latency_ms: { query: 0 } });
    expect(code).toBe(0);
    const stopped = parseSingerOutput(live.stdout());
    expect(live.stderr()).toContain('SIGTERM received');
    expect(activations(stopped).map((m) => m.stream)).toEqual(['cohorts']);
    const state = lastState(stopped) as unknown as State;
    expect(state.currently_syncing).toBe('cohort_members');
    const done = (state.bookmarks.cohort_members?.partitions ?? []).map((p) => p.context.cohort_id);
    const all = (await cohortsNow()).map((c) => c.id);
    expect(done.length).toBeGreaterThan(0);
    expect(done.length).toBeLessThan(all.length);

    const resumed = await tap(state, 'resumed');
    expect(activations(resumed).map((m) => m.stream)).toEqual(['cohorts']);
    const resumedCohorts = new Set(recordsOf(resumed, 'cohort_members').map((r) => r.cohort_id));
    for (const id of done) expect(resumedCohorts.has(id)).toBe(false);
    // Nobody lost: what the stopped run committed before its state, plus the resumed run.
    const committed = recordsOf(stopped, 'cohort_members').filter((r) => done.includes(r.cohort_id as number));
    const union = new Map([...committed, ...recordsOf(resumed, 'cohort_members')].map((r) => [`${String(r.cohort_id)}/${String(r.distinct_id)}`, r]));
    expect(byKey([...union.values()])).toEqual(byKey(await expectedMembers()));
    const resumedState = lastState(resumed) as unknown as State;
    expect(resumedState).toEqual({ bookmarks: {}, currently_syncing: null });

    const next = await tap(resumedState, 'next');
    const [version] = [...versions(next, 'cohort_members')];
    expect(activations(next)).toEqual([
      { type: 'ACTIVATE_VERSION', stream: 'cohorts', version },
      { type: 'ACTIVATE_VERSION', stream: 'cohort_members', version },
    ]);
    expect(byKey(recordsOf(next, 'cohort_members'))).toEqual(byKey(await expectedMembers()));
  });
});

describe('membership changed through the admin API between two runs', () => {
  it('the second run shows entrants, leavers, a rename, a deletion, a new cohort and a new email, under a newer version', async () => {
    const first = await tap(undefined, 'before');
    const [v1] = [...versions(first, 'cohort_members')];
    const before = await cohortsNow();
    const churn = before.find((c) => c.id === 2) as AdminCohort;
    const leaver = churn.members[0] as string;
    const profiles = await profilesNow();
    const entrant = [...profiles.keys()].find((id) => !churn.members.includes(id)) as string;
    const stayer = churn.members[1] as string;
    const admin = `${sandbox.url}/__admin/mixpanel`;
    await postJson(`${admin}/cohorts/2`, { add: [entrant, 'anonymous-entrant'], remove: [leaver] });
    await postJson(`${admin}/cohorts/3`, { name: 'Enterprise customers' });
    await fetch(`${admin}/cohorts/4`, { method: 'DELETE' });
    const created = await postJson<AdminCohort>(`${admin}/cohorts`, { name: 'Trial ends this week', members: [stayer, entrant] });
    await postJson(`${admin}/profiles`, { profiles: [{ distinct_id: stayer, $set: { $email: 'changed.address@example.org' } }] });

    const second = await tap(lastState(first), 'after');
    const [v2] = [...versions(second, 'cohort_members')];
    expect(v2).toBeGreaterThan(v1 as number);
    expect(activations(second).map((m) => [m.stream, m.version])).toEqual([
      ['cohorts', v2],
      ['cohort_members', v2],
    ]);
    const got = recordsOf(second, 'cohort_members');
    expect(byKey(got)).toEqual(byKey(await expectedMembers()));
    const inCohort = (id: number) => new Set(got.filter((r) => r.cohort_id === id).map((r) => r.distinct_id));
    expect(inCohort(2).has(entrant)).toBe(true);
    expect(inCohort(2).has('anonymous-entrant')).toBe(true);
    expect(inCohort(2).has(leaver)).toBe(false);
    expect(inCohort(4).size).toBe(0);
    expect(inCohort(created.id)).toEqual(new Set([stayer, entrant]));
    expect(new Set(got.filter((r) => r.cohort_id === 3).map((r) => r.cohort_name))).toEqual(new Set(['Enterprise customers']));
    const stayerRecords = got.filter((r) => r.distinct_id === stayer);
    expect(stayerRecords.length).toBeGreaterThanOrEqual(2);
    expect(new Set(stayerRecords.map((r) => r.mp_reserved_email))).toEqual(new Set(['changed.address@example.org']));
    expect(recordsOf(second, 'cohorts').map((c) => [c.id, c.name])).toEqual((await cohortsNow()).map((c) => [c.id, c.name]));
    expect(recordsOf(second, 'cohorts').some((c) => c.id === 4)).toBe(false);
  });
});
