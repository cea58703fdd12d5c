/**
 * The attribution look-back, end to end: consecutive runs over the same data emit each event
 * exactly once, and events that reached Mixpanel late (ingested after the previous run, dated
 * on days it already read) are emitted by the next run exactly once, also when that run's
 * look-back read breaks mid-body.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { addDays } from '../../src/taps/mixpanel/time.js';
import { countKeys, excess, exportKeysOf, truthUpTo, type ExportBookmarkState } from './export-truth.js';
import { getJson, lastState, parseSingerOutput, postJson, recordsOf, runBinary, tempDir, writeJson } from './harness.js';

let sandbox: Sandbox;
let dir: string;
let configPath: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 41, days: 6, eventsPerDay: 200, profiles: 10 });
  dir = tempDir('tap-lookback-');
  configPath = writeJson(dir, 'tap.json', {
    ...sandboxClientConfigs(sandbox).tap,
    ingestion_settle_minutes: 0,
    date_window_size: 2,
    attribution_window: 3,
    retry_base_delay_seconds: 0.05,
  });
});

afterAll(async () => {
  await sandbox.close();
});

async function run(state: unknown, name: string): Promise<{ keys: string[]; records: Record<string, unknown>[]; state: ExportBookmarkState }> {
  const args = ['--config', configPath, ...(state ? ['--state', writeJson(dir, `${name}.json`, state)] : [])];
  const result = await runBinary('tap-mixpanel', args);
  if (result.code !== 0) throw new Error(`${name} exited ${result.code}: ${result.stderr.slice(-2000)}`);
  const messages = parseSingerOutput(result.stdout);
  return { keys: exportKeysOf(messages), records: recordsOf(messages, 'export'), state: lastState(messages) as unknown as ExportBookmarkState };
}

/** Mixpanel's Date header has whole seconds and the watermark never runs ahead of it: let the clock pass `ms`. */
async function clockPast(ms: number): Promise<void> {
  while (Date.now() <= ms + 1000) await new Promise((resolve) => setTimeout(resolve, Math.max(10, ms + 1001 - Date.now())));
}

const at = (day: string, hms: string) => Date.parse(`${day}T${hms}Z`) / 1000;

describe('attribution look-back: every event exactly once across runs', () => {
  it('two runs over the same data, late events injected between them, a third run: each event once', async () => {
    const first = await run(undefined, 'run1');
    const w1 = first.state.bookmarks.export.processing_watermark_ms;
    expect(countKeys(first.keys)).toEqual(await truthUpTo(sandbox.url, sandbox.dataRange.fromDate, sandbox.dataRange.toDate, w1));

    // Late arrivals: dated on days run 1 already read (inside the 3-day look-back), ingested after its watermark.
    const today = sandbox.dataRange.toDate;
    const late = [
      { event: 'Late Purchase', properties: { time: at(addDays(today, -1), '10:00:00'), distinct_id: 'late-1', $insert_id: 'late-a', mp_processing_time_ms: w1 + 1 } },
      { event: 'Late Purchase', properties: { time: at(addDays(today, -2), '23:59:59'), distinct_id: 'late-2', $insert_id: 'late-b', mp_processing_time_ms: w1 + 5 } },
      // No $insert_id: the tap derives a stable one.
      { event: 'Late Open', properties: { time: at(addDays(today, -1), '00:00:00'), distinct_id: 'late-3', mp_processing_time_ms: w1 + 9 } },
    ];
    await postJson(`${sandbox.url}/__admin/mixpanel/events`, late);
    await clockPast(w1 + 9);

    // Run 2's look-back read (its first request) breaks mid-body once.
    await postJson(`${sandbox.url}/__admin/settings`, { faults: [{ kind: 'cut_mid_line', after_lines: 20, times: 1 }] });
    const second = await run(first.state, 'run2');
    const w2 = second.state.bookmarks.export.processing_watermark_ms;
    expect(w2).toBeGreaterThan(w1 + 9);
    const applied = await getJson<{ faults_applied: Record<string, number> }>(`${sandbox.url}/__admin/settings`);
    expect(applied.faults_applied.cut_mid_line).toBe(1);

    // Run 2 emitted exactly what the sandbox holds up to its watermark and run 1 did not emit.
    const truth2 = await truthUpTo(sandbox.url, sandbox.dataRange.fromDate, sandbox.dataRange.toDate, w2);
    expect(countKeys(second.keys)).toEqual(excess(truth2, countKeys(first.keys)));
    for (const id of ['late-1', 'late-2', 'late-3']) expect(second.records.filter((r) => r.distinct_id === id)).toHaveLength(1);
    expect(second.records.find((r) => r.distinct_id === 'late-3')?.mp_reserved_insert_id).toMatch(/^derived-/);

    // A third run re-reads the look-back again and emits nothing the first two did.
    await clockPast(w2);
    const third = await run(second.state, 'run3');
    const w3 = third.state.bookmarks.export.processing_watermark_ms;
    const truth3 = await truthUpTo(sandbox.url, sandbox.dataRange.fromDate, sandbox.dataRange.toDate, w3);
    expect(countKeys([...first.keys, ...second.keys, ...third.keys])).toEqual(truth3);
    expect(third.records.filter((r) => String(r.distinct_id).startsWith('late-'))).toEqual([]);
  });
});
