/**
 * Singer conformance of tap-mixpanel, what singer-check-tap and the Meltano SDK's standard tap
 * tests ask: run with a config only (no catalog) it emits records; every stdout line is a Singer
 * message; a stream's SCHEMA comes before its RECORDs; every record validates against its
 * schema with strict RFC 3339 date-times; keys are present and unique; discovery metadata is
 * complete; the final state has no in-progress markers, and a re-run from it works.
 * Generic over streams: every stream the tap has is held to the same rules.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { Catalog, CatalogEntry } from '../../src/singer/catalog.js';
import type { JsonSchema, SingerMessage } from '../../src/singer/messages.js';
import { lastState, parseSingerOutput, runBinary, tempDir, writeJson, type RunResult } from '../integration/harness.js';
import { compileRecordSchema, singerLineProblems } from './singer.js';

type SchemaMsg = Extract<SingerMessage, { type: 'SCHEMA' }>;
type RecordMsg = Extract<SingerMessage, { type: 'RECORD' }>;

let sandbox: Sandbox;
let dir: string;
let configPath: string;
let first: RunResult;
let messages: SingerMessage[];

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 11, days: 4, eventsPerDay: 60, profiles: 60, engagePageSize: 20 });
  dir = tempDir('tmt-conf-tap-');
  configPath = writeJson(dir, 'tap.json', { ...sandboxClientConfigs(sandbox).tap, ingestion_settle_minutes: 0, date_window_size: 2 });
  first = await runBinary('tap-mixpanel', ['--config', configPath]);
  messages = first.code === 0 ? parseSingerOutput(first.stdout) : [];
});

afterAll(async () => {
  await sandbox.close();
});

/** Transient markers a final state must not carry (an interrupted sweep, a stream in progress). */
function transientMarkers(value: unknown, path = 'state'): string[] {
  if (value === null || typeof value !== 'object') return [];
  const found: string[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const here = `${path}.${key}`;
    // An export sweep in progress, SDK-style progress markers, an engage paging session.
    if (['sweep', 'progress_markers', 'partitions_in_progress', 'session_id', 'page'].includes(key)) found.push(here);
    if (key === 'currently_syncing' && child !== null && child !== undefined) found.push(here);
    found.push(...transientMarkers(child, here));
  }
  return found;
}

describe('tap-mixpanel, run with a config and no catalog', () => {
  it('exits 0 and emits records', () => {
    expect(first.stderr).not.toMatch(/internal error/);
    expect(first.code).toBe(0);
    expect(messages.filter((m) => m.type === 'RECORD').length).toBeGreaterThan(0);
  });

  it('writes only valid Singer messages on stdout, one per line', () => {
    const lines = first.stdout.split('\n');
    expect(lines.pop()).toBe(''); // ends with a newline
    const problems = lines.flatMap((line, i) => singerLineProblems(line).map((p) => `line ${i + 1}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('sends each stream\'s SCHEMA before its first RECORD, and key_properties always', () => {
    const schemaSeen = new Set<string>();
    for (const m of messages) {
      if (m.type === 'SCHEMA') {
        expect(Array.isArray(m.key_properties)).toBe(true);
        schemaSeen.add(m.stream);
      }
      if (m.type === 'RECORD' && !schemaSeen.has(m.stream)) throw new Error(`RECORD of ${m.stream} before its SCHEMA`);
    }
    expect(schemaSeen.size).toBeGreaterThan(0);
  });

  it('every record validates against the latest SCHEMA of its stream (date-times RFC 3339 with a zone)', () => {
    const validators = new Map<string, ReturnType<typeof compileRecordSchema>>();
    const failures: string[] = [];
    for (const m of messages) {
      if (m.type === 'SCHEMA') validators.set(m.stream, compileRecordSchema(m.schema as JsonSchema));
      if (m.type === 'RECORD') {
        const validate = validators.get(m.stream);
        if (validate && !validate(m.record)) failures.push(`${m.stream}: ${JSON.stringify(validate.errors?.slice(0, 2))}`);
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it('every record carries non-null key properties; records sharing a key are the same event', () => {
    const keys = new Map<string, string[]>();
    for (const m of messages) if (m.type === 'SCHEMA') keys.set(m.stream, m.key_properties);
    const byStream = new Map<string, Map<string, string>>();
    const problems: string[] = [];
    let differentRecordsSameKey = 0;
    for (const m of messages.filter((x): x is RecordMsg => x.type === 'RECORD')) {
      const props = keys.get(m.stream) ?? [];
      for (const k of props) if (m.record[k] === null || m.record[k] === undefined) problems.push(`${m.stream} record without ${k}`);
      if (props.length === 0) continue;
      const key = JSON.stringify(props.map((k) => m.record[k]));
      const seen = byStream.get(m.stream) ?? new Map<string, string>();
      byStream.set(m.stream, seen);
      const body = JSON.stringify(m.record);
      const before = seen.get(key);
      // Mixpanel's export holds exact duplicates (same event, id, time, $insert_id); it does not
      // deduplicate, and a target upserting by key collapses them. A key shared by two
      // *different* records would lose data: that is what must never happen.
      if (before !== undefined && before !== body) differentRecordsSameKey++;
      seen.set(key, body);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(differentRecordsSameKey).toBe(0);
  });

  it('people profiles (engage) have unique keys', () => {
    const engage = messages.filter((m): m is RecordMsg => m.type === 'RECORD' && m.stream === 'engage').map((m) => String(m.record.distinct_id));
    expect(engage.length).toBeGreaterThan(0);
    expect(new Set(engage).size).toBe(engage.length);
  });

  it('ends with a STATE without transient markers', () => {
    const state = lastState(messages);
    expect(state).toBeDefined();
    expect(transientMarkers(state)).toEqual([]);
    expect(messages[messages.length - 1]?.type).toBe('STATE');
  });

  it('runs again from its final state: valid output, bookmarks never move back', async () => {
    const state = lastState(messages);
    const statePath = writeJson(dir, 'state.json', state);
    const second = await runBinary('tap-mixpanel', ['--config', configPath, '--state', statePath]);
    expect(second.code).toBe(0);
    const lines = second.stdout.split('\n').filter((l) => l !== '');
    expect(lines.flatMap((l) => singerLineProblems(l))).toEqual([]);
    const again = lastState(parseSingerOutput(second.stdout)) as { bookmarks: Record<string, { replication_key_value?: string }> } | undefined;
    expect(again).toBeDefined();
    expect(transientMarkers(again)).toEqual([]);
    const before = (state as { bookmarks: Record<string, { replication_key_value?: string }> }).bookmarks;
    for (const [stream, bookmark] of Object.entries(before)) {
      const value = bookmark.replication_key_value;
      const after = again?.bookmarks[stream]?.replication_key_value;
      if (value !== undefined) {
        expect(after).toBeDefined();
        expect(Date.parse(String(after))).toBeGreaterThanOrEqual(Date.parse(value));
      }
    }
  });
});

describe('tap-mixpanel --discover', () => {
  let catalog: Catalog;

  beforeAll(async () => {
    const result = await runBinary('tap-mixpanel', ['--config', configPath, '--discover']);
    expect(result.code).toBe(0);
    catalog = JSON.parse(result.stdout) as Catalog;
  });

  it('lists every stream with tap_stream_id, stream, schema properties and key_properties', () => {
    expect(catalog.streams.length).toBeGreaterThan(0);
    for (const entry of catalog.streams) {
      expect(typeof entry.tap_stream_id).toBe('string');
      expect(typeof entry.stream).toBe('string');
      expect(typeof entry.schema.properties).toBe('object');
      expect(Array.isArray(entry.key_properties)).toBe(true);
      for (const key of entry.key_properties ?? []) expect(Object.keys(entry.schema.properties ?? {})).toContain(key);
    }
    expect(new Set(catalog.streams.map((s) => s.tap_stream_id)).size).toBe(catalog.streams.length);
  });

  it('has complete metadata: stream level, one entry per property, keys and replication key automatic', () => {
    for (const entry of catalog.streams as CatalogEntry[]) {
      const metadata = entry.metadata ?? [];
      const root = metadata.find((m) => m.breadcrumb.length === 0)?.metadata ?? {};
      expect(root.inclusion).toBe('available');
      expect(typeof root['selected-by-default']).toBe('boolean');
      expect(root['table-key-properties']).toEqual(entry.key_properties);
      const replicationKey = (entry as { replication_key?: string }).replication_key;
      const method = root['forced-replication-method'] ?? (entry as { replication_method?: string }).replication_method;
      expect(['INCREMENTAL', 'FULL_TABLE', 'LOG_BASED']).toContain(method);
      if (method === 'INCREMENTAL' && replicationKey) {
        expect(root['valid-replication-keys']).toEqual(expect.arrayContaining([replicationKey]));
        expect(Object.keys(entry.schema.properties ?? {})).toContain(replicationKey);
      }
      const properties = Object.keys(entry.schema.properties ?? {}).sort();
      const described = metadata.filter((m) => m.breadcrumb.length === 2 && m.breadcrumb[0] === 'properties').map((m) => String(m.breadcrumb[1]));
      expect(described.sort()).toEqual(properties);
      for (const m of metadata.filter((x) => x.breadcrumb.length === 2)) {
        const name = String(m.breadcrumb[1]);
        const automatic = (entry.key_properties ?? []).includes(name) || name === replicationKey;
        expect(m.metadata?.inclusion).toBe(automatic ? 'automatic' : 'available');
      }
    }
  });

  it('a sync with the discovered catalog as is emits the same streams as a sync without one', async () => {
    const catalogPath = writeJson(dir, 'catalog.json', catalog);
    const result = await runBinary('tap-mixpanel', ['--config', configPath, '--catalog', catalogPath]);
    expect(result.code).toBe(0);
    const streams = (out: SingerMessage[]) => [...new Set(out.filter((m): m is SchemaMsg => m.type === 'SCHEMA').map((m) => m.stream))].sort();
    expect(streams(parseSingerOutput(result.stdout))).toEqual(streams(messages));
  });
});
