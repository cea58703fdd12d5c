/**
 * tap-mixpanel, the compiled binary, against the sandbox over 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import type { JsonSchema, SingerMessage } from '../../src/singer/messages.js';
import { derivedInsertId } from '../../src/taps/mixpanel/transform.js';
import { groundTruthEvents, lastState, parseSingerOutput, postJson, recordsOf, runBinary, tempDir, writeJson } from './harness.js';

let sandbox: Sandbox;
let dir: string;
let configPath: string;
let tapConfig: Record<string, unknown>;

/**
 * Events without $insert_id, ingested long before the run: the same event twice (Mixpanel's export
 * does not deduplicate) and another one. The sandbox also generates some (~0.5% of events), but
 * how many fall in a 5-day range on the real clock depends on the day and the hour: none at all
 * at 20:08 UTC on 2026-12-04.
 */
function eventsWithoutInsertId(day: string): Array<{ event: string; properties: Record<string, unknown> }> {
  const at = (hour: number) => Date.parse(`${day}T${String(hour).padStart(2, '0')}:00:00Z`);
  const signUp = { event: 'Sign Up', properties: { time: at(10) / 1000, distinct_id: 'no-insert-id-1', mp_processing_time_ms: at(10) + 5000, plan: 'pro' } };
  const logIn = { event: 'Log In', properties: { time: at(11) / 1000, distinct_id: 'no-insert-id-2', mp_processing_time_ms: at(11) + 5000 } };
  return [signUp, structuredClone(signUp), logIn];
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 7, profiles: 120, eventsPerDay: 80, days: 5, engagePageSize: 25 });
  dir = tempDir();
  tapConfig = { ...sandboxClientConfigs(sandbox).tap, ingestion_settle_minutes: 0, date_window_size: 2 };
  configPath = writeJson(dir, 'tap.json', tapConfig);
  await postJson(`${sandbox.url}/__admin/mixpanel/events`, eventsWithoutInsertId(sandbox.dataRange.fromDate));
});

afterAll(async () => {
  await sandbox.close();
});

function keyOf(record: Record<string, unknown>, keys: string[]): string {
  return JSON.stringify(keys.map((k) => record[k]));
}

function eventKey(e: { event: string; properties: Record<string, unknown> }): string {
  return JSON.stringify([e.event, String(e.properties.distinct_id ?? ''), e.properties.time, e.properties.$insert_id ?? null]);
}

/** The same key read back from an export record (derived insert ids stand for a missing one). */
function exportedKey(r: Record<string, unknown>): string {
  const insertId = String(r.mp_reserved_insert_id);
  return JSON.stringify([r.event, r.distinct_id, Date.parse(String(r.time)) / 1000, insertId.startsWith('derived-') ? null : insertId]);
}

describe('tap-mixpanel sync against the sandbox', () => {
  let messages: SingerMessage[];
  let stderr: string;

  beforeAll(async () => {
    const result = await runBinary('tap-mixpanel', ['--config', configPath]);
    stderr = result.stderr;
    expect(result.code).toBe(0);
    messages = parseSingerOutput(result.stdout);
  });

  it('writes only Singer messages to stdout, each stream SCHEMA before its RECORDs', () => {
    const seenSchema = new Set<string>();
    for (const m of messages) {
      expect(['SCHEMA', 'RECORD', 'STATE', 'ACTIVATE_VERSION']).toContain(m.type);
      if (m.type === 'SCHEMA') seenSchema.add(m.stream);
      if (m.type === 'RECORD') expect(seenSchema.has(m.stream)).toBe(true);
    }
    expect([...seenSchema].sort()).toEqual(['annotations', 'cohort_members', 'cohorts', 'engage', 'export', 'funnels', 'revenue']);
  });

  it('every record validates against the schema the tap announced, with RFC 3339 date-times', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
    const validators = new Map<string, ReturnType<typeof ajv.compile>>();
    let checked = 0;
    for (const m of messages) {
      if (m.type === 'SCHEMA') validators.set(m.stream, ajv.compile(m.schema as JsonSchema));
      if (m.type === 'RECORD') {
        const validate = validators.get(m.stream);
        if (!validate?.(m.record)) throw new Error(`${m.stream} record invalid: ${JSON.stringify(validate?.errors)} ${JSON.stringify(m.record).slice(0, 300)}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(400);
  });

  it('exports exactly the events the sandbox holds for the range (same multiset of keys)', async () => {
    const truth = await groundTruthEvents(sandbox.url, sandbox.dataRange.fromDate, sandbox.dataRange.toDate);
    const exported = recordsOf(messages, 'export');
    const count = (keys: string[]) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());
    expect(exported.length).toBe(truth.length);
    expect(count(exported.map(exportedKey))).toEqual(count(truth.map(eventKey)));
  });

  it('gives events without $insert_id a stable derived id instead of failing', async () => {
    // Every event the sandbox holds without an insert id (the injected ones and any it generated).
    const truth = await groundTruthEvents(sandbox.url, sandbox.dataRange.fromDate, sandbox.dataRange.toDate);
    const lacking = truth.filter((e) => e.properties.$insert_id === undefined);
    expect(lacking.length).toBeGreaterThanOrEqual(eventsWithoutInsertId(sandbox.dataRange.fromDate).length);
    const derived = recordsOf(messages, 'export').filter((r) => String(r.mp_reserved_insert_id).startsWith('derived-'));
    for (const r of derived) expect(r.mp_reserved_insert_id).toMatch(/^derived-[0-9a-f]{32}$/);
    // A function of the event alone: the same event gets the same id, another event another id.
    expect(derived.map((r) => r.mp_reserved_insert_id).sort()).toEqual(lacking.map((e) => derivedInsertId(e.event, e.properties)).sort());
    const injected = (id: string) => derived.filter((r) => r.distinct_id === id).map((r) => r.mp_reserved_insert_id);
    expect(injected('no-insert-id-1')).toHaveLength(2);
    expect(new Set(injected('no-insert-id-1')).size).toBe(1);
    expect(injected('no-insert-id-2')).toHaveLength(1);
    expect(injected('no-insert-id-2')).not.toContain(injected('no-insert-id-1')[0]);
  });

  it('pages through every profile once (page size 25), with keys unique and non-null', async () => {
    const profiles = recordsOf(messages, 'engage');
    const truth = await fetch(`${sandbox.url}/__admin/mixpanel/profiles`).then((r) => r.json() as Promise<unknown[] | { profiles: unknown[] }>);
    const truthCount = Array.isArray(truth) ? truth.length : truth.profiles.length;
    expect(profiles.length).toBe(truthCount);
    const keys = new Set(profiles.map((r) => keyOf(r, ['distinct_id'])));
    expect(keys.size).toBe(profiles.length);
    for (const r of profiles) expect(typeof r.distinct_id).toBe('string');
  });

  it('denests properties and renames $x to mp_reserved_x', () => {
    const profile = recordsOf(messages, 'engage').find((r) => typeof r.mp_reserved_email === 'string');
    expect(profile).toBeDefined();
    expect(Object.keys(profile ?? {}).some((k) => k.startsWith('$'))).toBe(false);
    expect(String(profile?.mp_reserved_last_seen)).toMatch(/Z$/);
    const event = recordsOf(messages, 'export')[0] ?? {};
    expect(event).not.toHaveProperty('properties');
    expect(Object.keys(event).some((k) => k.startsWith('$'))).toBe(false);
  });

  it('ends with a STATE whose export bookmark covers today and has no sweep in progress', () => {
    const state = lastState(messages) as { bookmarks: { export: Record<string, unknown> }; currently_syncing: unknown };
    expect(state.currently_syncing).toBeNull();
    expect(state.bookmarks.export.last_day_read).toBe(sandbox.dataRange.toDate);
    expect(state.bookmarks.export).not.toHaveProperty('sweep');
    expect(typeof state.bookmarks.export.processing_watermark_ms).toBe('number');
    const states = messages.filter((m) => m.type === 'STATE');
    expect(states.length).toBeGreaterThanOrEqual(3); // one per 2-day window, then the final one
  });

  it('never prints the service account secret', () => {
    expect(stderr).not.toContain(String(tapConfig.service_account_secret));
    expect(messages.length).toBeGreaterThan(0);
  });

  it('later runs from the final state emit no event twice, and a late event that arrived between runs exactly once', async () => {
    type ExportState = { bookmarks: { export: { processing_watermark_ms: number } } };
    let state = lastState(messages) as ExportState;
    // Ingested just after the first run's watermark, dated on a day that run already read.
    const ingestedAt = state.bookmarks.export.processing_watermark_ms + 1;
    const late = {
      event: 'Late Arrival',
      properties: { time: Date.parse(`${sandbox.dataRange.toDate}T00:00:03Z`) / 1000, distinct_id: 'late-user', $insert_id: 'late-insert-1', mp_processing_time_ms: ingestedAt },
    };
    await postJson(`${sandbox.url}/__admin/mixpanel/events`, [late]);

    const emitted = new Map<string, number>();
    const add = (records: Record<string, unknown>[]) => records.forEach((r) => emitted.set(exportedKey(r), (emitted.get(exportedKey(r)) ?? 0) + 1));
    add(recordsOf(messages, 'export'));

    // Run until a watermark passes the late event (Mixpanel's Date header has whole seconds and the
    // watermark never runs ahead of it, so that can take a second run).
    const later: Record<string, unknown>[] = [];
    for (let n = 2; n <= 6 && state.bookmarks.export.processing_watermark_ms < ingestedAt; n++) {
      const result = await runBinary('tap-mixpanel', ['--config', configPath, '--state', writeJson(dir, `state-${n}.json`, state)]);
      expect(result.code).toBe(0);
      const out = parseSingerOutput(result.stdout);
      const records = recordsOf(out, 'export');
      state = lastState(out) as ExportState;

      // Exactly the events visible up to this run's watermark that no earlier run emitted (a seeded
      // late event may also have become visible in between): the multiset difference, no more, no less.
      const watermark = state.bookmarks.export.processing_watermark_ms;
      const truth = await groundTruthEvents(sandbox.url, sandbox.dataRange.fromDate, sandbox.dataRange.toDate);
      const remaining = new Map(emitted);
      const expected: string[] = [];
      for (const e of truth) {
        if (Number(e.properties.mp_processing_time_ms) > watermark) continue;
        const k = eventKey(e);
        const left = remaining.get(k) ?? 0;
        if (left > 0) remaining.set(k, left - 1);
        else expected.push(k);
      }
      expect(records.map(exportedKey).sort()).toEqual(expected.sort());
      add(records);
      later.push(...records);
    }
    expect(later.filter((r) => r.mp_reserved_insert_id === 'late-insert-1')).toHaveLength(1);
  });
});

describe('tap-mixpanel discovery', () => {
  it('prints the same catalog every time, with standard metadata for every stream', async () => {
    const [a, b] = await Promise.all([runBinary('tap-mixpanel', ['--config', configPath, '--discover']), runBinary('tap-mixpanel', ['--config', configPath, '--discover'])]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const catalog = JSON.parse(a.stdout) as { streams: Array<{ tap_stream_id: string; key_properties: string[]; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }> };
    expect(catalog.streams.map((s) => s.tap_stream_id)).toEqual(['export', 'engage', 'funnels', 'revenue', 'annotations', 'cohorts', 'cohort_members']);
    for (const stream of catalog.streams) {
      const root = stream.metadata.find((m) => m.breadcrumb.length === 0)?.metadata;
      expect(root).toMatchObject({ inclusion: 'available', 'selected-by-default': true, 'table-key-properties': stream.key_properties });
      for (const key of stream.key_properties) {
        expect(stream.metadata.find((m) => m.breadcrumb[1] === key)?.metadata.inclusion).toBe('automatic');
      }
    }
  });

  it('syncs only what a catalog selects', async () => {
    const discovered = JSON.parse((await runBinary('tap-mixpanel', ['--config', configPath, '--discover'])).stdout) as {
      streams: Array<{ tap_stream_id: string; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }>;
    };
    for (const stream of discovered.streams) {
      const root = stream.metadata.find((m) => m.breadcrumb.length === 0);
      if (root) root.metadata.selected = stream.tap_stream_id === 'engage';
      const email = stream.metadata.find((m) => m.breadcrumb[1] === 'mp_reserved_city');
      if (email) email.metadata.selected = false;
    }
    const catalogPath = writeJson(dir, 'catalog.json', discovered);
    const result = await runBinary('tap-mixpanel', ['--config', configPath, '--catalog', catalogPath]);
    expect(result.code).toBe(0);
    const messages = parseSingerOutput(result.stdout);
    expect(recordsOf(messages, 'export')).toEqual([]);
    const profiles = recordsOf(messages, 'engage');
    expect(profiles.length).toBeGreaterThan(0);
    expect(profiles.some((p) => 'mp_reserved_city' in p)).toBe(false);
    expect(profiles.some((p) => 'mp_reserved_email' in p)).toBe(true);
  });
});

describe('tap-mixpanel failures', () => {
  it('wrong credentials: exit 1, names the credential and the host, never prints the secret', async () => {
    const secret = 'not-the-right-secret-4821';
    const path = writeJson(dir, 'bad.json', { ...tapConfig, service_account_secret: secret });
    const result = await runBinary('tap-mixpanel', ['--config', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/service_account_username \/ service_account_secret/);
    expect(result.stderr).toContain('127.0.0.1');
    expect(result.stderr + result.stdout).not.toContain(secret);
    expect(result.stdout).not.toContain('"type":"RECORD"');
  });

  it('invalid config: exit 1, one line per problem naming the key', async () => {
    const path = writeJson(dir, 'invalid.json', { ...tapConfig, start_date: 'last tuesday', date_window_size: 0, region: 'mars' });
    const result = await runBinary('tap-mixpanel', ['--config', path]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('"start_date" must be a date or date-time');
    expect(result.stderr).toContain('"date_window_size" must be >= 1');
    expect(result.stderr).toContain('"region" must be one of "us", "eu", "in"');
  });

  it('reads the whole config from TAP_MIXPANEL_* variables with --config ENV', async () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(tapConfig)) env[`TAP_MIXPANEL_${key.toUpperCase()}`] = String(value);
    const catalog = JSON.parse(readFileSync(join(dir, 'catalog.json'), 'utf8')) as unknown;
    const result = await runBinary('tap-mixpanel', ['--config', 'ENV', '--catalog', writeJson(dir, 'catalog-env.json', catalog)], { env });
    expect(result.code).toBe(0);
    expect(recordsOf(parseSingerOutput(result.stdout), 'engage').length).toBeGreaterThan(0);
  });

  it('a state file that is not JSON: exit 3, names the file', async () => {
    const path = join(dir, 'broken-state.json');
    writeJson(dir, 'broken-state.json', {});
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, '{"bookmarks": ');
    const result = await runBinary('tap-mixpanel', ['--config', configPath, '--state', path]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`state file ${path} is not valid JSON`);
  });
});
