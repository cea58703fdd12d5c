/**
 * pipelinewise/README.md and pipelinewise/tap_mixpanel.yml as PipelineWise 0.76.7 runs them
 * (tests/integration/pipelinewise-rules.ts says what it does, from its source): the README's
 * setup block run as written in a home without PIPELINEWISE_HOME, then `import` and two `run_tap`
 * runs of the tap linked where PipelineWise looks, against the sandbox on 127.0.0.1.
 *
 * The YAML is used as shipped except for the connection: the sandbox's credentials, URLs and
 * first day replace the placeholders. The warehouse target is the doc tests' stand-in (it appends
 * records to a JSONL file and prints each state); transform-field is a stand-in that passes, as
 * PipelineWise's does for a tap without transformations.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { StreamSelection, type Catalog } from '../../src/singer/catalog.js';
import { renameProperty } from '../../src/taps/mixpanel/transform.js';
import { eventKey, exportedKey, type TruthEvent } from '../integration/export-truth.js';
import { getJson, groundTruthEvents } from '../integration/harness.js';
import { connectorBin, initialSyncRequired, PipelineWiseHome, pipelinewiseHome, readTapYaml, type CommandResult, type TapYaml } from '../integration/pipelinewise-rules.js';
import { blockById, errorLines, fencedBlocks, REPO_ROOT, TARGET_POSTGRES_STANDIN, Workspace } from './blocks.js';

const README = 'pipelinewise/README.md';
const SETUP = `${README} > Extract Mixpanel into the warehouse with PipelineWise [1]`;
const USER_AGENT = 'PipelineWise - Tap Mixpanel';
/** transform-field --validate passes a tap without transformations. */
const TRANSFORM_FIELD_STANDIN = '#!/bin/sh\nexit 0\n';
const NOT_DENESTED = ['distinct_id', 'event', 'mp_processing_time_ms', 'mp_reserved_insert_id', 'properties', 'time'];

let sandbox: Sandbox;
let ws: Workspace;
let ppw: PipelineWiseHome;

interface Bookmarks {
  bookmarks: Record<string, Record<string, unknown> | undefined>;
}

interface Run {
  result: CommandResult;
  records: Map<string, Array<Record<string, unknown>>>;
  exportRequests: Array<{ query: Record<string, string>; user_agent?: string }>;
  state: Bookmarks;
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 21, days: 12, eventsPerDay: 25, profiles: 30, engagePageSize: 10 });
  ws = new Workspace('doc-pipelinewise-', { PIPELINEWISE_HOME: undefined });
  const home = pipelinewiseHome({ HOME: ws.home });
  ppw = new PipelineWiseHome(home, join(ws.home, '.pipelinewise'), { ...process.env, PIPELINEWISE_HOME: home, HOME: ws.home, LOG_LEVEL: 'info' });
  installConnector(home, 'target-postgres', TARGET_POSTGRES_STANDIN);
});

afterAll(async () => {
  await sandbox?.close();
});

function installConnector(home: string, type: string, script: string): void {
  mkdirSync(join(home, '.virtualenvs', type, 'bin'), { recursive: true });
  writeFileSync(connectorBin(home, type), script, { mode: 0o755 });
}

/** The example YAML with the sandbox as the Mixpanel project; `change` edits it further. */
function tapYaml(id: string, change: (tap: TapYaml) => void = () => undefined): TapYaml {
  const tap = readTapYaml(join(REPO_ROOT, 'pipelinewise/tap_mixpanel.yml'));
  tap.id = id;
  tap.db_conn = { ...tap.db_conn, ...sandboxClientConfigs(sandbox).tap };
  change(tap);
  return tap;
}

async function runTap(tap: TapYaml): Promise<Run> {
  const warehouse = ws.path(`warehouse-${tap.id}.jsonl`);
  writeFileSync(warehouse, '');
  const target = ws.write(`target-${tap.id}.json`, JSON.stringify({ path: warehouse }));
  await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
  const result = await ppw.runTap(tap, { type: 'target-postgres', config: target });
  const records = new Map<string, Array<Record<string, unknown>>>();
  for (const line of readFileSync(warehouse, 'utf8').split('\n').filter((l) => l !== '')) {
    const { stream, record } = JSON.parse(line) as { stream: string; record: Record<string, unknown> };
    records.set(stream, [...(records.get(stream) ?? []), record]);
  }
  const { requests } = await getJson<{ requests: Run['exportRequests'] }>(`${sandbox.url}/__admin/requests?family=export`);
  return { result, records, exportRequests: requests, state: ppw.tapFiles(tap).read<Bookmarks>(ppw.tapFiles(tap).state) };
}

function expectSuccess(result: CommandResult): void {
  expect({ code: result.code, errors: errorLines(result.output) }).toEqual({ code: 0, errors: [] });
}

/** Each exported record with the sandbox event it came from. */
async function withTruth(records: Array<Record<string, unknown>>): Promise<Array<{ record: Record<string, unknown>; event: TruthEvent }>> {
  const truth = (await groundTruthEvents(sandbox.url, sandbox.dataRange.fromDate, sandbox.dataRange.toDate)) as TruthEvent[];
  const byKey = new Map(truth.map((e) => [eventKey(e), e]));
  return records.map((record) => {
    const event = byKey.get(exportedKey(record));
    if (!event) throw new Error(`no sandbox event for ${exportedKey(record)}`);
    return { record, event };
  });
}

/** The event's properties under the names the tap gives them ($x as mp_reserved_x). */
function renamed(properties: Record<string, unknown>, leaveOut: readonly string[] = []): Record<string, unknown> {
  return Object.fromEntries(Object.entries(properties).filter(([k]) => !leaveOut.includes(k)).map(([k, v]) => [renameProperty(k), v]));
}

/** Replication notes the tap logged for a stream (src/singer/replication.ts). */
function replicationNotes(output: string, stream: string): string[] {
  return output.split('\n').filter((line) => line.includes(`${stream}: replication-`));
}

function streamRoot(catalog: Catalog, stream: string): Record<string, unknown> {
  const entry = catalog.streams.find((s) => s.tap_stream_id === stream);
  return entry?.metadata?.find((m) => m.breadcrumb.length === 0)?.metadata ?? {};
}

function firstFromDate(run: Run): string {
  return run.exportRequests.map((r) => r.query.from_date ?? '').sort()[0] ?? '';
}

describe('pipelinewise/README.md: setup', () => {
  const setup = () => blockById(fencedBlocks(README), SETUP).text;
  const linked = () => connectorBin(pipelinewiseHome({ HOME: ws.home }), 'tap-mixpanel');

  it('links the tap where PipelineWise looks when PIPELINEWISE_HOME is not set (~/pipelinewise), and stops while transform-field is missing', async () => {
    rmSync(join(pipelinewiseHome({ HOME: ws.home }), '.virtualenvs', 'transform-field'), { recursive: true, force: true });
    const missing = await ws.bash(setup());
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim()).toBe("transform-field is missing: make connectors -e pw_connector=transform-field in PipelineWise's checkout");
    expect(realpathSync(linked())).toBe(realpathSync(join(REPO_ROOT, 'bin/tap-mixpanel.js')));

    installConnector(pipelinewiseHome({ HOME: ws.home }), 'transform-field', TRANSFORM_FIELD_STANDIN);
    const ready = await ws.bash(setup());
    expect({ code: ready.code, stderr: ready.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('links it under PIPELINEWISE_HOME when that is set', async () => {
    const elsewhere = join(ws.home, 'ppw-checkout');
    rmSync(elsewhere, { recursive: true, force: true });
    const result = await ws.bash(`export PIPELINEWISE_HOME=${JSON.stringify(elsewhere)}\n${setup()}`);
    expect(result.stderr).toMatch(/transform-field is missing/);
    expect(existsSync(connectorBin(elsewhere, 'tap-mixpanel'))).toBe(true);
  });
});

describe('pipelinewise/tap_mixpanel.yml as PipelineWise 0.76.7 runs it', () => {
  const tap = () => tapYaml('mixpanel');
  let first: Run;
  let second: Run;

  beforeAll(() => {
    installConnector(ppw.home, 'transform-field', TRANSFORM_FIELD_STANDIN);
  });

  it('import: config.json is db_conn with user_agent and denest_properties true; properties.json asks export INCREMENTAL on time, engage FULL_TABLE', async () => {
    expect(tap().db_conn.user_agent).toBeUndefined();
    expect(await ppw.importTap(tap())).toEqual({ code: 0, problems: [] });
    const files = ppw.tapFiles(tap());
    expect(files.read(files.config)).toEqual({ ...tap().db_conn, user_agent: USER_AGENT, denest_properties: true });
    const catalog = files.read<Catalog>(files.properties);
    expect(catalog.streams.filter((s) => new StreamSelection(s).streamSelected).map((s) => s.tap_stream_id).sort()).toEqual(['engage', 'export']);
    expect(streamRoot(catalog, 'export')).toMatchObject({ selected: true, 'replication-method': 'INCREMENTAL', 'replication-key': 'time' });
    expect(streamRoot(catalog, 'engage')).toMatchObject({ selected: true, 'replication-method': 'FULL_TABLE' });
    expect(streamRoot(catalog, 'engage')['replication-key']).toBeUndefined();
  });

  it('run_tap: export columns are the event properties at the top level; the tap runs what the YAML names, with no note; Mixpanel sees PipelineWise\'s User-Agent', async () => {
    first = await runTap(tap());
    expectSuccess(first.result);
    const exported = first.records.get('export') ?? [];
    expect(exported.length).toBeGreaterThan(100);
    for (const { record, event } of await withTruth(exported)) {
      expect(record).toMatchObject(renamed(event.properties, ['time', 'distinct_id', '$insert_id']));
      expect(record).not.toHaveProperty('properties');
    }
    expect(exported[0]).toHaveProperty('mp_reserved_browser');
    expect(first.records.get('engage')?.length).toBe(30);
    expect(replicationNotes(first.result.output, 'export')).toEqual([]);
    expect(replicationNotes(first.result.output, 'engage')).toEqual([]);
    expect(new Set(first.exportRequests.map((r) => r.user_agent))).toEqual(new Set([USER_AGENT]));
  });

  it('state.json: an export bookmark PipelineWise counts as synced (INCREMENTAL with replication_key_value)', () => {
    const bookmark = first.state.bookmarks.export;
    expect(typeof bookmark?.replication_key_value).toBe('string');
    expect(initialSyncRequired('INCREMENTAL', bookmark)).toBe(false);
  });

  it('the second run_tap passes --state and reads export from the bookmark: later first day, fewer records', async () => {
    second = await runTap(tap());
    expectSuccess(second.result);
    expect(firstFromDate(first)).toBe(sandbox.dataRange.fromDate);
    const bookmarkDay = String(first.state.bookmarks.export?.replication_key_value).slice(0, 10);
    expect(firstFromDate(second) > firstFromDate(first)).toBe(true);
    expect(firstFromDate(second) <= bookmarkDay).toBe(true);
    expect((second.records.get('export') ?? []).length).toBeLessThan((first.records.get('export') ?? []).length);
    expect(second.records.get('engage')?.length).toBe(30);
  });
});

describe('the same YAML without denest_properties and replication_method: what PipelineWise writes by default', () => {
  const tap = () =>
    tapYaml('mixpanel_defaults', (t) => {
      delete t.db_conn.denest_properties;
      for (const table of t.schemas.flatMap((s) => s.tables ?? [])) {
        delete table.replication_method;
        delete table.replication_key;
      }
    });

  beforeAll(() => {
    installConnector(ppw.home, 'transform-field', TRANSFORM_FIELD_STANDIN);
  });

  it('import writes denest_properties "false" (a string) and LOG_BASED for both streams', async () => {
    expect(await ppw.importTap(tap())).toEqual({ code: 0, problems: [] });
    const files = ppw.tapFiles(tap());
    expect(files.read<Record<string, unknown>>(files.config)).toMatchObject({ user_agent: USER_AGENT, denest_properties: 'false' });
    const catalog = files.read<Catalog>(files.properties);
    for (const stream of ['export', 'engage']) {
      expect(streamRoot(catalog, stream)).toMatchObject({ selected: true, 'replication-method': 'LOG_BASED' });
      expect(streamRoot(catalog, stream)['replication-key']).toBeUndefined();
    }
  });

  it('run_tap: export lands as one properties column; each stream says in one line what LOG_BASED became; the second run is still incremental', async () => {
    const run = await runTap(tap());
    expectSuccess(run.result);
    const exported = run.records.get('export') ?? [];
    expect(exported.length).toBeGreaterThan(100);
    for (const { record, event } of await withTruth(exported)) {
      expect(Object.keys(record).sort()).toEqual(NOT_DENESTED);
      expect(record.properties).toEqual(renamed(event.properties));
    }
    expect(exported[0]?.properties).toHaveProperty('mp_reserved_browser');
    const exportNotes = replicationNotes(run.result.output, 'export');
    expect(exportNotes).toHaveLength(1);
    expect(exportNotes[0]).toMatch(/replication-method LOG_BASED .* using the stream's default, INCREMENTAL on time$/);
    const engageNotes = replicationNotes(run.result.output, 'engage');
    expect(engageNotes).toHaveLength(1);
    expect(engageNotes[0]).toMatch(/using the stream's default, FULL_TABLE \(replication-method INCREMENTAL with replication-key mp_reserved_last_seen/);

    // PipelineWise's own view: a LOG_BASED bookmark without a log position is an initial sync every time.
    expect(initialSyncRequired('LOG_BASED', run.state.bookmarks.export)).toBe(true);

    const again = await runTap(tap());
    expectSuccess(again.result);
    expect(firstFromDate(again) > firstFromDate(run)).toBe(true);
    expect((again.records.get('export') ?? []).length).toBeLessThan(exported.length);
  });
});
