/**
 * The compiled tap reading what users and other programs hand it: state files as targets leave
 * them, states it cannot use (another tap's, another program's file, a typo in a stream name:
 * exit 3 before any request to Mixpanel), Meltano's state envelope, files with a BOM, a config
 * with a syntax error next to a secret, a catalog for another tap, catalog replication methods
 * the tap does not have (a typo, PipelineWise's LOG_BASED), and Mixpanel retiring the
 * undocumented legacy endpoints (404), against the sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { SingerMessage } from '../../src/singer/messages.js';
import { getJson, lastState, parseSingerOutput, postJson, recordsOf, runBinary, tempDir, writeJson } from './harness.js';

let sandbox: Sandbox;
let dir: string;
let tapConfig: Record<string, unknown>;
let configPath: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 5, profiles: 40, eventsPerDay: 30, days: 4 });
  dir = tempDir('tap-files-');
  tapConfig = { ...sandboxClientConfigs(sandbox).tap, ingestion_settle_minutes: 0, attribution_window: 0 };
  configPath = writeJson(dir, 'tap.json', tapConfig);
});

afterAll(async () => {
  await sandbox.close();
});

function catalogOf(selected: Record<string, boolean>): string {
  const streams = Object.entries(selected).map(([id, on]) => ({
    tap_stream_id: id,
    stream: id,
    schema: { type: 'object', properties: {} },
    metadata: [{ breadcrumb: [], metadata: { selected: on } }],
  }));
  return writeJson(dir, `catalog-${Object.keys(selected).join('-')}.json`, { streams });
}

const EXPORT_ONLY = () => catalogOf({ export: true });

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Requests of one family the sandbox received since the last clear, as "METHOD path". */
async function requestsOf(family: 'export' | 'query'): Promise<string[]> {
  return (await getJson<{ requests: Array<{ method: string; path: string }> }>(`${sandbox.url}/__admin/requests?family=${family}`)).requests.map((r) => `${r.method} ${r.path}`);
}

async function mixpanelRequests(): Promise<string[]> {
  return [...(await requestsOf('export')), ...(await requestsOf('query'))];
}

async function clearRequests(): Promise<void> {
  await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
}

async function tap(args: string[]): Promise<{ code: number | null; stderr: string; messages: SingerMessage[] }> {
  const result = await runBinary('tap-mixpanel', ['--config', configPath, ...args]);
  return { code: result.code, stderr: result.stderr, messages: result.code === 0 ? parseSingerOutput(result.stdout) : [] };
}

describe('tap-mixpanel --state: what targets leave behind', () => {
  it('resumes from the last of several state lines (target > state.json), with CRLF and a BOM', async () => {
    const first = await tap(['--catalog', EXPORT_ONLY()]);
    expect(first.code).toBe(0);
    const states = first.messages.filter((m) => m.type === 'STATE').map((m) => JSON.stringify((m as { value: unknown }).value));
    expect(states.length).toBeGreaterThan(1);
    const path = file('state-lines.json', `\uFEFF${states.join('\r\n')}\r\n\r\n`);

    const second = await tap(['--catalog', EXPORT_ONLY(), '--state', path]);
    expect(second.code).toBe(0);
    // Resumed: every day was read already and attribution_window is 0, so nothing is new.
    expect(recordsOf(first.messages, 'export').length).toBeGreaterThan(0);
    expect(recordsOf(second.messages, 'export')).toEqual([]);
    expect(lastState(second.messages)).toEqual(lastState(first.messages));
  });

  it('starts from start_date with a warning naming an empty state file', async () => {
    const path = file('empty-state.json', '\n');
    const run = await tap(['--catalog', EXPORT_ONLY(), '--state', path]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`state file ${path} is empty: no bookmarks, starting every stream from start_date`);
    expect(recordsOf(run.messages, 'export').length).toBeGreaterThan(0);
  });

  it('exits 3 naming the key of a bookmark with the wrong shape, before reading anything', async () => {
    const path = file('bad-state.json', JSON.stringify({ bookmarks: { export: { replication_key_value: 1706600000 } } }));
    const result = await runBinary('tap-mixpanel', ['--config', configPath, '--catalog', EXPORT_ONLY(), '--state', path]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`state ${path}: bookmarks.export.replication_key_value must be a date-time such as 2024-01-31T00:00:00.000Z (got 1706600000)`);
  });

  it("resumes from Meltano's envelope, as `meltano state get` prints it", async () => {
    const first = await tap(['--catalog', EXPORT_ONLY()]);
    const path = file('meltano-state.json', JSON.stringify({ singer_state: lastState(first.messages) }, null, 2));
    const second = await tap(['--catalog', EXPORT_ONLY(), '--state', path]);
    expect(second.code).toBe(0);
    expect(recordsOf(second.messages, 'export')).toEqual([]);
    expect(lastState(second.messages)).toEqual(lastState(first.messages));
  });

  it('starts from start_date with a warning when the state file holds {}', async () => {
    const path = file('empty-object-state.json', '{}\n');
    const run = await tap(['--catalog', EXPORT_ONLY(), '--state', path]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`state file ${path} holds {}: no bookmarks, starting every stream from start_date`);
    expect(recordsOf(run.messages, 'export').length).toBeGreaterThan(0);
  });

  const postgresState = { currently_syncing: null, bookmarks: { 'public-customers': { replication_key: 'updated_at', replication_key_value: '2024-01-02T00:00:00+00:00' } } };
  it.each<[string, string, string]>([
    ['an object without bookmarks', '{"foo": 1}\n', 'has no "bookmarks" (its keys: "foo"), so it is not a state this tap wrote'],
    ["another tap's state (pipelinewise-tap-postgres)", JSON.stringify(postgresState), "bookmarks.public-customers: a stream this tap does not have (its streams: export, engage, funnels, revenue, annotations, cohorts, cohort_members); this looks like another tap's state"],
    ['a stream name with a typo', '{"bookmarks": {"engag": {"replication_key_value": "2024-01-01T00:00:00Z"}}}', 'bookmarks.engag (did you mean "engage"?): a stream this tap does not have'],
    ['a bookmark of the wrong shape', '{"bookmarks": {"export": {"replication_key_value": 1706600000}}}', 'bookmarks.export.replication_key_value must be a date-time such as 2024-01-31T00:00:00.000Z (got 1706600000)'],
    ['a Meltano state backend file', '{"completed": {"singer_state": {"bookmarks": {}}}, "partial": {}}', 'is a Meltano state backend file'],
  ])('exits 3 on %s, naming the key, before any request to Mixpanel', async (_case, text, message) => {
    const path = file('elsewhere-state.json', text);
    await clearRequests();
    // No catalog: every stream would be read, engage and export included.
    const result = await runBinary('tap-mixpanel', ['--config', configPath, '--state', path]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`tap-mixpanel: error: state ${path}: ${message}`);
    expect(await mixpanelRequests()).toEqual([]);
  });

  it('exits 3 naming line and column of a state line that is not JSON', async () => {
    const path = file('broken-lines.json', '{"bookmarks": {}}\n{"bookmarks": {"export": oops}}\n');
    const result = await runBinary('tap-mixpanel', ['--config', configPath, '--state', path]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`state file ${path} is not valid JSON: line 2, column 26: expected a value`);
    expect(result.stderr).not.toContain('oops');
  });
});

describe('tap-mixpanel config and catalog files', () => {
  it('exits 1 on a config syntax error next to a secret, naming line and column and never the secret', async () => {
    const secret = String(tapConfig.service_account_secret);
    const text = JSON.stringify(tapConfig, null, 2).replace(`"service_account_secret": "${secret}"`, `"service_account_secret": ${secret}"`);
    const path = file('broken-config.json', text);
    const result = await runBinary('tap-mixpanel', ['--config', path, '--discover']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`config file ${path} is not valid JSON: line \\d+, column \\d+: expected a value`));
    expect(result.stderr).not.toContain(secret.slice(0, 6));
    expect(result.stdout).toBe('');
  });

  it('reads config and catalog files that start with a BOM', async () => {
    const config = file('bom-config.json', `\uFEFF${JSON.stringify(tapConfig)}`);
    const catalog = file('bom-catalog.json', `\uFEFF${JSON.stringify({ streams: [{ tap_stream_id: 'cohorts', schema: {}, metadata: [{ breadcrumb: [], metadata: { selected: true } }] }] })}`);
    const result = await runBinary('tap-mixpanel', ['--config', config, '--catalog', catalog]);
    expect(result.code).toBe(0);
    expect(recordsOf(parseSingerOutput(result.stdout), 'cohorts').length).toBeGreaterThan(0);
  });

  it('warns, naming them, about selected streams the tap does not have, and when none of its own is selected', async () => {
    const run = await tap(['--catalog', catalogOf({ users: true, orders: true, engage: false })]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('selects streams this tap does not have, which are ignored: users, orders');
    expect(run.stderr).toContain("selects none of this tap's streams");
    expect(run.messages.filter((m) => m.type === 'RECORD')).toEqual([]);
  });

  it('exits 3 naming the stream, the value and the methods it has for a replication-method that does not exist, before writing anything', async () => {
    const path = writeJson(dir, 'catalog-typo.json', {
      streams: [
        { tap_stream_id: 'export', schema: {}, metadata: [{ breadcrumb: [], metadata: { selected: true, 'replication-method': 'INCREMENTAL' } }] },
        { tap_stream_id: 'engage', schema: {}, metadata: [{ breadcrumb: [], metadata: { selected: true, 'replication-method': 'INCREMENTL' } }] },
      ],
    });
    const result = await runBinary('tap-mixpanel', ['--config', configPath, '--catalog', path]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('stream engage asks for replication-method "INCREMENTL", which is not a replication method: use FULL_TABLE or INCREMENTAL');
    expect(result.stdout).toBe('');
  });

  it('runs LOG_BASED (what PipelineWise writes by default) as the stream\'s default, saying so in one info line', async () => {
    const path = writeJson(dir, 'catalog-log-based.json', {
      streams: [{ tap_stream_id: 'cohorts', schema: {}, metadata: [{ breadcrumb: [], metadata: { selected: true, 'replication-method': 'LOG_BASED' } }] }],
    });
    const run = await tap(['--catalog', path]);
    expect(run.code).toBe(0);
    expect(run.stderr.split('\n').filter((l) => l.includes('replication-method'))).toEqual([
      expect.stringMatching(/ INFO +tap-mixpanel cohorts: replication-method LOG_BASED \(PipelineWise's default\) asks for a change log, which this source does not have: using the stream's default, FULL_TABLE$/),
    ]);
    expect(recordsOf(run.messages, 'cohorts').length).toBeGreaterThan(0);
  });
});

describe('tap-mixpanel --select', () => {
  it('with --discover prints a catalog that selects only the named streams, learning properties only for those', async () => {
    await clearRequests();
    const result = await runBinary('tap-mixpanel', ['--config', configPath, '--discover', '--select', 'engage,cohorts']);
    expect(result.code).toBe(0);
    // No event sample for an export stream nobody selected; engage's properties are still learned.
    expect(await requestsOf('export')).toEqual([]);
    expect(await requestsOf('query')).toContain('GET /api/2.0/engage/properties');
    const catalog = JSON.parse(result.stdout) as { streams: Array<{ tap_stream_id: string; metadata: Array<{ breadcrumb: string[]; metadata: { selected?: boolean } }> }> };
    const selected = catalog.streams.filter((s) => s.metadata.find((m) => m.breadcrumb.length === 0)?.metadata.selected === true).map((s) => s.tap_stream_id);
    expect(selected).toEqual(['engage', 'cohorts']);
    expect(catalog.streams).toHaveLength(7);
    const synced = await tap(['--catalog', file('selected.json', result.stdout)]);
    expect(new Set(synced.messages.filter((m) => m.type === 'SCHEMA').map((m) => (m as { stream: string }).stream))).toEqual(new Set(['engage', 'cohorts']));
  });

  it('with --discover --select export samples events to type their properties', async () => {
    await clearRequests();
    const result = await runBinary('tap-mixpanel', ['--config', configPath, '--discover', '--select', 'export']);
    expect(result.code).toBe(0);
    expect((await requestsOf('export')).length).toBeGreaterThan(0);
    expect(await requestsOf('query')).not.toContain('GET /api/2.0/engage/properties');
  });

  it('without a catalog syncs only the named streams', async () => {
    const run = await tap(['--select', 'cohorts']);
    expect(run.code).toBe(0);
    expect(run.messages.filter((m) => m.type === 'SCHEMA').map((m) => (m as { stream: string }).stream)).toEqual(['cohorts']);
  });

  it.each<[string[], string]>([
    [['--select', 'people'], '--select: unknown stream people (streams: export, engage, funnels, revenue, annotations, cohorts, cohort_members)'],
    [['--select', 'engage', '--catalog', 'whatever.json'], '--select chooses streams when there is no catalog'],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const result = await runBinary('tap-mixpanel', ['--config', configPath, ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});

describe('undocumented legacy endpoints retired (404)', () => {
  afterAll(async () => {
    await postJson(`${sandbox.url}/__admin/settings`, { faults: [] });
  });

  it('skips revenue with a warning and says so in the summary; the other streams and the exit code are unaffected', async () => {
    await postJson(`${sandbox.url}/__admin/settings`, {
      faults: [{ kind: 'status', family: 'query', status: 404, message: 'Not found', when: { path: '/api/2.0/engage/revenue' } }],
    });
    const run = await tap(['--catalog', catalogOf({ revenue: true, cohorts: true })]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/revenue: skipped: Mixpanel answered 404 Not Found for GET \S*\/api\/2\.0\/engage\/revenue/);
    expect(run.stderr).toMatch(/revenue +0 +\S+ s +0 +skipped: 404, endpoint retired/);
    expect(run.stderr).toContain('streams not read: revenue (skipped: 404, endpoint retired)');
    expect(recordsOf(run.messages, 'cohorts').length).toBeGreaterThan(0);
    expect(recordsOf(run.messages, 'revenue')).toEqual([]);
  });

  it('discovers without profile properties when engage/properties answers 404, with a warning', async () => {
    await postJson(`${sandbox.url}/__admin/settings`, {
      faults: [{ kind: 'status', family: 'query', status: 404, message: 'Not found', when: { path: '/api/2.0/engage/properties' } }],
    });
    const result = await runBinary('tap-mixpanel', ['--config', configPath, '--discover']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("discovery: engage/properties failed; continuing without the project's profile properties");
    const catalog = JSON.parse(result.stdout) as { streams: Array<{ tap_stream_id: string; schema: { properties: Record<string, unknown> } }> };
    expect(catalog.streams.map((s) => s.tap_stream_id)).toContain('engage');
  });
});
