/**
 * Singer conformance of tap-mailchimp, held to the rules tap.test.ts holds tap-mixpanel to
 * (singer-check-tap and the Meltano SDK's standard tap tests): run with a config only it emits
 * records; every stdout line is a Singer message; SCHEMA before a stream's RECORDs; every record
 * valid against its schema with strict RFC 3339 date-times; keys present and unique; discovery
 * metadata complete; a final state without in-progress markers, and a re-run from it. Then the
 * output goes through a JSON Lines target (a Singer target that appends records to a file and
 * prints the states), as a pipeline would.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BIN_DIR } from '../../src/demo/pipeline.js';
import { sandboxMailchimpTapConfig } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { Catalog, CatalogEntry } from '../../src/singer/catalog.js';
import type { JsonSchema, SingerMessage } from '../../src/singer/messages.js';
import { TARGET_POSTGRES_STANDIN } from '../docs/blocks.js';
import { lastState, parseSingerOutput, runBinary, tempDir, writeJson, type RunResult } from '../integration/harness.js';
import { compileRecordSchema, singerLineProblems } from './singer.js';

type RecordMsg = Extract<SingerMessage, { type: 'RECORD' }>;

let sandbox: Sandbox;
let dir: string;
let configPath: string;
let first: RunResult;
let messages: SingerMessage[];

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, now: '2024-06-10T12:00:00Z', days: 1, eventsPerDay: 5, profiles: 60, mailchimp: { audienceSize: 120 } });
  dir = tempDir('tmt-conf-tapmc-');
  configPath = writeJson(dir, 'tap.json', { ...sandboxMailchimpTapConfig(sandbox), page_size: 20, slice_members: 50 });
  first = await runBinary('tap-mailchimp', ['--config', configPath]);
  messages = first.code === 0 ? parseSingerOutput(first.stdout) : [];
});

afterAll(async () => {
  await sandbox.close();
});

function transientMarkers(value: unknown, path = 'state'): string[] {
  if (value === null || typeof value !== 'object') return [];
  const found: string[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (['progress_markers', 'partitions_in_progress', 'offset', 'page'].includes(key)) found.push(`${path}.${key}`);
    if (key === 'currently_syncing' && child !== null && child !== undefined) found.push(`${path}.${key}`);
    found.push(...transientMarkers(child, `${path}.${key}`));
  }
  return found;
}

describe('tap-mailchimp, run with a config and no catalog', () => {
  it('exits 0 and emits records of every stream', () => {
    expect(first.stderr).not.toMatch(/internal error/);
    expect(first.code).toBe(0);
    const streams = new Set(messages.filter((m): m is RecordMsg => m.type === 'RECORD').map((m) => m.stream));
    expect([...streams].sort()).toEqual(['interest_categories', 'interests', 'list_members', 'lists', 'merge_fields', 'tags']);
  });

  it('writes only valid Singer messages on stdout, one per line', () => {
    const lines = first.stdout.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.flatMap((line, i) => singerLineProblems(line).map((p) => `line ${i + 1}: ${p}`))).toEqual([]);
  });

  it("sends each stream's SCHEMA before its first RECORD, with key_properties", () => {
    const seen = new Set<string>();
    for (const m of messages) {
      if (m.type === 'SCHEMA') {
        expect(m.key_properties.length).toBeGreaterThan(0);
        seen.add(m.stream);
      }
      if (m.type === 'RECORD' && !seen.has(m.stream)) throw new Error(`RECORD of ${m.stream} before its SCHEMA`);
    }
  });

  it('every record validates against the latest SCHEMA of its stream (date-times RFC 3339 with a zone, dates YYYY-MM-DD)', () => {
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

  it('every record carries its key properties, and keys are unique in every stream', () => {
    const keys = new Map<string, string[]>();
    for (const m of messages) if (m.type === 'SCHEMA') keys.set(m.stream, m.key_properties);
    const seen = new Map<string, Set<string>>();
    const problems: string[] = [];
    for (const m of messages.filter((x): x is RecordMsg => x.type === 'RECORD')) {
      const props = keys.get(m.stream) ?? [];
      for (const k of props) if (m.record[k] === null || m.record[k] === undefined) problems.push(`${m.stream} record without ${k}`);
      const key = JSON.stringify(props.map((k) => m.record[k]));
      const streamKeys = seen.get(m.stream) ?? new Set<string>();
      if (streamKeys.has(key)) problems.push(`${m.stream}: key ${key} twice`);
      streamKeys.add(key);
      seen.set(m.stream, streamKeys);
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('ends with a STATE without transient markers, a date-time bookmark per audience', () => {
    const state = lastState(messages) as { bookmarks: { list_members: { partitions: Array<{ replication_key_value: string }> } } };
    expect(messages[messages.length - 1]?.type).toBe('STATE');
    expect(transientMarkers(state)).toEqual([]);
    for (const p of state.bookmarks.list_members.partitions) expect(Number.isNaN(Date.parse(p.replication_key_value))).toBe(false);
  });

  it('runs again from its final state: valid output, bookmarks never move back', async () => {
    const state = lastState(messages);
    const second = await runBinary('tap-mailchimp', ['--config', configPath, '--state', writeJson(dir, 'state.json', state)]);
    expect(second.code).toBe(0);
    expect(second.stdout.split('\n').filter((l) => l !== '').flatMap((l) => singerLineProblems(l))).toEqual([]);
    const value = (s: unknown) => (s as { bookmarks: { list_members: { partitions: Array<{ replication_key_value: string }> } } }).bookmarks.list_members.partitions[0]?.replication_key_value ?? '';
    expect(Date.parse(value(lastState(parseSingerOutput(second.stdout))))).toBeGreaterThanOrEqual(Date.parse(value(state)));
  });
});

describe('tap-mailchimp --discover', () => {
  let catalog: Catalog;

  beforeAll(async () => {
    const result = await runBinary('tap-mailchimp', ['--config', configPath, '--discover']);
    expect(result.code).toBe(0);
    catalog = JSON.parse(result.stdout) as Catalog;
  });

  it('has complete metadata: stream level, one entry per property, keys and the replication key automatic', () => {
    for (const entry of catalog.streams as CatalogEntry[]) {
      const metadata = entry.metadata ?? [];
      const root = metadata.find((m) => m.breadcrumb.length === 0)?.metadata ?? {};
      expect(root.inclusion).toBe('available');
      expect(root['table-key-properties']).toEqual(entry.key_properties);
      for (const key of entry.key_properties ?? []) expect(Object.keys(entry.schema.properties ?? {})).toContain(key);
      const replicationKey = entry.replication_key;
      if (entry.replication_method === 'INCREMENTAL') expect(root['valid-replication-keys']).toEqual([replicationKey]);
      const described = metadata.filter((m) => m.breadcrumb.length === 2).map((m) => String(m.breadcrumb[1])).sort();
      expect(described).toEqual(Object.keys(entry.schema.properties ?? {}).sort());
      for (const m of metadata.filter((x) => x.breadcrumb.length === 2)) {
        const name = String(m.breadcrumb[1]);
        expect(m.metadata.inclusion).toBe((entry.key_properties ?? []).includes(name) || name === replicationKey ? 'automatic' : 'available');
      }
    }
  });

  it('a sync with the discovered catalog as is emits the same streams as a sync without one', async () => {
    const result = await runBinary('tap-mailchimp', ['--config', configPath, '--catalog', writeJson(dir, 'catalog.json', catalog)]);
    expect(result.code).toBe(0);
    const streams = (out: SingerMessage[]) => [...new Set(out.filter((m) => m.type === 'SCHEMA').map((m) => (m as { stream: string }).stream))].sort();
    expect(streams(parseSingerOutput(result.stdout))).toEqual(streams(messages));
  });
});

describe('into a JSON Lines target', () => {
  it('tap-mailchimp | target: every record lands in the file, the target prints the states', async () => {
    const target = join(dir, 'target-jsonl.cjs');
    writeFileSync(target, TARGET_POSTGRES_STANDIN);
    const out = join(dir, 'members.jsonl');
    const targetConfig = writeJson(dir, 'target.json', { path: out });
    const script = `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(join(BIN_DIR, 'tap-mailchimp.js'))} --config ${JSON.stringify(configPath)} | ${JSON.stringify(process.execPath)} ${JSON.stringify(target)} --config ${JSON.stringify(targetConfig)}`;
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.on('close', (code) => resolve({ code, stdout }));
    });
    expect(result.code).toBe(0);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stream: string; record: Record<string, unknown> });
    expect(rows.length).toBe(messages.filter((m) => m.type === 'RECORD').length);
    // The pipe's run is a later first run: the same audience, its own window end.
    const states = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { bookmarks: { list_members?: { partitions: Array<{ context: unknown }> } }; currently_syncing: unknown });
    const final = states[states.length - 1];
    expect(final?.currently_syncing).toBeNull();
    expect(final?.bookmarks.list_members?.partitions.map((p) => p.context)).toEqual([{ list_id: sandbox.credentials.mailchimp.listId }]);
  });
});
