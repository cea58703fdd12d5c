/**
 * tap-mixpanel's engage stream against the sandbox: FULL_TABLE by default, INCREMENTAL by
 * $last_seen when the catalog asks for it (the first run, without a bookmark, reads every profile
 * whatever start_date says), and the engage_where filter from config. FULL_TABLE runs carry a
 * table version and activate it only after a complete read; INCREMENTAL runs carry none.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import type { Catalog } from '../../src/singer/catalog.js';
import type { SingerMessage } from '../../src/singer/messages.js';
import { completeMessages, startTap } from './export-truth.js';
import { getJson, lastState, parseSingerOutput, postJson, recordsOf, runBinary, tempDir, writeJson } from './harness.js';

interface Profile {
  $distinct_id: string;
  $properties: Record<string, unknown>;
}

let sandbox: Sandbox;
let dir: string;
let tapConfig: Record<string, unknown>;
let profiles: Profile[];

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 5, profiles: 120, eventsPerDay: 10, days: 2, engagePageSize: 25, now: '2024-06-10T12:00:00Z' });
  dir = tempDir();
  // A start_date more than a year back: every generated profile was seen after it.
  tapConfig = { ...sandboxClientConfigs(sandbox).tap, start_date: '2020-01-01T00:00:00Z' };
  profiles = await getJson<Profile[]>(`${sandbox.url}/__admin/mixpanel/profiles`);
});

afterAll(async () => {
  await sandbox.close();
});

/** The discovered catalog with only engage selected, replicated as asked. */
async function engageCatalog(method: 'INCREMENTAL' | 'FULL_TABLE', via: 'metadata' | 'top-level'): Promise<string> {
  const configPath = writeJson(dir, 'discover.json', tapConfig);
  const discovered = await runBinary('tap-mixpanel', ['--config', configPath, '--discover']);
  expect(discovered.code).toBe(0);
  const catalog = JSON.parse(discovered.stdout) as Catalog;
  for (const entry of catalog.streams) {
    const root = entry.metadata?.find((m) => m.breadcrumb.length === 0);
    if (!root) throw new Error(`${entry.tap_stream_id} has no stream metadata`);
    root.metadata.selected = entry.tap_stream_id === 'engage';
    if (entry.tap_stream_id !== 'engage') continue;
    if (via === 'metadata') {
      root.metadata['replication-method'] = method;
      root.metadata['replication-key'] = 'mp_reserved_last_seen';
    } else {
      delete entry.replication_method;
      entry.replication_method = method;
      entry.replication_key = 'mp_reserved_last_seen';
    }
  }
  return writeJson(dir, `catalog-${method}-${via}.json`, catalog);
}

async function runTap(config: Record<string, unknown>, catalogPath: string | null, state?: Record<string, unknown>) {
  const args = ['--config', writeJson(dir, 'tap.json', config)];
  if (catalogPath) args.push('--catalog', catalogPath);
  if (state) args.push('--state', writeJson(dir, 'state.json', state));
  const result = await runBinary('tap-mixpanel', args);
  if (result.code !== 0) throw new Error(`tap exited ${result.code}: ${result.stderr.slice(-2000)}`);
  const messages = parseSingerOutput(result.stdout);
  return { messages, records: recordsOf(messages, 'engage'), state: lastState(messages) as { bookmarks: Record<string, { replication_key_value?: string }> }, stderr: result.stderr };
}

describe('engage INCREMENTAL by $last_seen', () => {
  it('reads everything first, then only profiles seen after the bookmark', async () => {
    const catalogPath = await engageCatalog('INCREMENTAL', 'metadata');
    const first = await runTap(tapConfig, catalogPath);
    expect(first.records).toHaveLength(profiles.length);
    const schema = first.messages.find((m) => m.type === 'SCHEMA' && m.stream === 'engage');
    expect(schema).toMatchObject({ bookmark_properties: ['mp_reserved_last_seen'] });

    const lastSeen = profiles.map((p) => Date.parse(`${String(p.$properties.$last_seen)}Z`));
    const maxLastSeen = new Date(Math.max(...lastSeen)).toISOString();
    const bookmark = first.state.bookmarks.engage?.replication_key_value;
    expect(bookmark).toBe(maxLastSeen);

    // Two people come back after the first run.
    const touched = [profiles[3] as Profile, profiles[77] as Profile].map((p) => p.$distinct_id);
    await postJson(`${sandbox.url}/__admin/mixpanel/profiles`, {
      profiles: touched.map((id, i) => ({ distinct_id: id, $set: { $last_seen: `2024-06-11T0${8 + i}:00:00` } })),
    });

    const second = await runTap(tapConfig, catalogPath, first.state);
    const ids = second.records.map((r) => r.distinct_id as string);
    // `>=` re-reads the profiles seen in the bookmark's own second, and nothing older.
    const atBookmark = profiles.filter((p, i) => lastSeen[i] === Date.parse(maxLastSeen)).map((p) => p.$distinct_id);
    expect(ids.sort()).toEqual([...new Set([...touched, ...atBookmark])].sort());
    for (const record of second.records) expect(Date.parse(String(record.mp_reserved_last_seen))).toBeGreaterThanOrEqual(Date.parse(maxLastSeen));
    expect(second.state.bookmarks.engage?.replication_key_value).toBe('2024-06-11T09:00:00.000Z');

    // Nothing new: only the profile at the bookmark again, and the bookmark stays.
    const third = await runTap(tapConfig, catalogPath, second.state);
    expect(third.records.map((r) => r.distinct_id)).toEqual([touched[1]]);
    expect(third.state.bookmarks.engage?.replication_key_value).toBe('2024-06-11T09:00:00.000Z');
  });

  it('reads every profile on the first run whatever start_date says, then only the profiles seen since the bookmark', async () => {
    const catalogPath = await engageCatalog('INCREMENTAL', 'metadata');
    const current = await getJson<Profile[]>(`${sandbox.url}/__admin/mixpanel/profiles`);
    const seenAt = (p: Profile) => Date.parse(`${String(p.$properties.$last_seen)}Z`);
    // A start_date after most people were last seen: the first run puts them in the audience all the same.
    const sorted = current.map(seenAt).sort((a, b) => a - b);
    const startDate = new Date(sorted[Math.floor(sorted.length * 0.8)] as number).toISOString();
    const before = current.filter((p) => seenAt(p) < Date.parse(startDate));
    expect(before.length).toBeGreaterThan(current.length / 2);
    const config = { ...tapConfig, start_date: startDate };

    const first = await runTap(config, catalogPath);
    expect(first.records.map((r) => r.distinct_id as string).sort()).toEqual(current.map((p) => p.$distinct_id).sort());
    expect(first.stderr).toContain('engage: INCREMENTAL without a bookmark: reading every profile, whatever start_date says (it bounds events, not profiles)');
    expect(first.stderr).toMatch(/engage: reading all profiles/);
    const bookmark = first.state.bookmarks.engage?.replication_key_value as string;
    expect(bookmark).toBe(new Date(Math.max(...current.map(seenAt))).toISOString());

    // One person comes back; the next run reads who was seen at or after the bookmark, nobody else.
    const back = (before[0] as Profile).$distinct_id;
    await postJson(`${sandbox.url}/__admin/mixpanel/profiles`, { profiles: [{ distinct_id: back, $set: { $last_seen: '2024-06-12T10:00:00' } }] });
    const second = await runTap(config, catalogPath, first.state);
    const atBookmark = current.filter((p) => seenAt(p) === Date.parse(bookmark)).map((p) => p.$distinct_id);
    expect(second.records.map((r) => r.distinct_id as string).sort()).toEqual([...new Set([back, ...atBookmark])].sort());
    expect(second.stderr).not.toContain('INCREMENTAL without a bookmark');
    expect(second.state.bookmarks.engage?.replication_key_value).toBe('2024-06-12T10:00:00.000Z');
  });

  it('combines engage_where with the $last_seen bound (top-level replication keys, Meltano style)', async () => {
    const catalogPath = await engageCatalog('INCREMENTAL', 'top-level');
    const cutoff = '2024-03-01T00:00:00Z';
    const state = { bookmarks: { engage: { replication_key: 'mp_reserved_last_seen', replication_key_value: cutoff } } };
    const run = await runTap({ ...tapConfig, engage_where: 'properties["plan"] == "pro"' }, catalogPath, state);
    const expected = profiles
      .filter((p) => p.$properties.plan === 'pro' && Date.parse(`${String(p.$properties.$last_seen)}Z`) >= Date.parse(cutoff))
      .map((p) => p.$distinct_id)
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(run.records.map((r) => r.distinct_id as string).sort()).toEqual(expected);
  });
});

describe('engage FULL_TABLE', () => {
  it('reads every profile matching engage_where and leaves no bookmark', async () => {
    const catalogPath = await engageCatalog('FULL_TABLE', 'metadata');
    const state = { bookmarks: { engage: { replication_key: 'mp_reserved_last_seen', replication_key_value: '2024-06-01T00:00:00Z' } } };
    const run = await runTap({ ...tapConfig, engage_where: 'properties["plan"] != "free"' }, catalogPath, state);
    const expected = profiles.filter((p) => p.$properties.plan !== 'free').map((p) => p.$distinct_id).sort();
    expect(run.records.map((r) => r.distinct_id as string).sort()).toEqual(expected);
    expect(run.state.bookmarks.engage).toBeUndefined();
  });

  it('is the default without a catalog, and the run ends with a summary table on stderr', async () => {
    // The sandbox's clock says 2024-06-10: end_date keeps export windows within its today.
    const run = await runTap({ ...tapConfig, start_date: '2024-06-09T00:00:00Z', end_date: '2024-06-10T00:00:00Z' }, null);
    expect(run.records).toHaveLength(profiles.length);
    expect(run.stderr).toMatch(/stream\s+records\s+duration\s+records\/s/);
    expect(run.stderr).toMatch(new RegExp(`engage\\s+${profiles.length}\\s+\\d+\\.\\d s\\s+\\d+`));
    expect(run.stderr).toMatch(/engage: reading all profiles/);
  });
});

type EngageMessage = SingerMessage;
const engageVersions = (messages: EngageMessage[]) =>
  new Set(messages.filter((m): m is Extract<SingerMessage, { type: 'RECORD' }> => m.type === 'RECORD' && m.stream === 'engage').map((m) => m.version));
const engageActivations = (messages: EngageMessage[]) => messages.filter((m) => m.type === 'ACTIVATE_VERSION' && m.stream === 'engage');

describe('engage table versions (what archive_missing downstream relies on)', () => {
  it('FULL_TABLE: every record carries the run\'s version, activated once after the last record and before the state', async () => {
    const catalogPath = await engageCatalog('FULL_TABLE', 'metadata');
    const run = await runTap(tapConfig, catalogPath);
    const found = [...engageVersions(run.messages)];
    expect(found).toHaveLength(1);
    const version = found[0] as number;
    expect(Number.isInteger(version)).toBe(true);
    expect(engageActivations(run.messages)).toEqual([{ type: 'ACTIVATE_VERSION', stream: 'engage', version }]);
    const at = run.messages.findIndex((m) => m.type === 'ACTIVATE_VERSION');
    const lastRecord = run.messages.map((m) => m.type === 'RECORD' && m.stream === 'engage').lastIndexOf(true);
    expect(at).toBeGreaterThan(lastRecord);
    expect(run.messages[at + 1]?.type).toBe('STATE');
    expect(run.records).toHaveLength(profiles.length);
  });

  it('INCREMENTAL: no version on any record and no ACTIVATE_VERSION, also on the first run that reads everyone', async () => {
    const catalogPath = await engageCatalog('INCREMENTAL', 'metadata');
    const run = await runTap(tapConfig, catalogPath);
    expect(run.records.length).toBeGreaterThan(0);
    expect([...engageVersions(run.messages)]).toEqual([undefined]);
    expect(engageActivations(run.messages)).toEqual([]);
  });

  it('FULL_TABLE stopped with SIGTERM while paging: records carry the version, none is activated', async () => {
    const catalogPath = await engageCatalog('FULL_TABLE', 'metadata');
    // The last page (of five) answers after 3 s: the first 64 KiB of records are out well before it.
    await postJson(`${sandbox.url}/__admin/settings`, { faults: [{ kind: 'latency', family: 'query', ms: 3000, skip: 4 }] });
    try {
      const live = startTap(['--config', writeJson(dir, 'tap-stop.json', tapConfig), '--catalog', catalogPath]);
      await live.until((out) => completeMessages(out).filter((m) => m.type === 'RECORD' && m.stream === 'engage').length >= 25);
      live.child.kill('SIGTERM');
      const { code } = await live.exited;
      expect(code).toBe(0);
      const stopped = parseSingerOutput(live.stdout());
      const records = recordsOf(stopped, 'engage');
      expect(records.length).toBeGreaterThan(0);
      expect(records.length).toBeLessThan(profiles.length);
      expect([...engageVersions(stopped)]).toHaveLength(1);
      expect(engageActivations(stopped)).toEqual([]);
    } finally {
      await postJson(`${sandbox.url}/__admin/settings`, { faults: [] });
    }
  });
});
