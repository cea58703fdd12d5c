/**
 * Interrupted runs. SIGKILL at a random moment, then a run from the last STATE the killed run
 * emitted: nothing is lost, and the only duplicates are what the Singer at-least-once contract
 * allows (the records of the window in progress, written after the last STATE, are read again).
 * SIGTERM: the tap stops at a record boundary, writes a final STATE that claims nothing it has
 * not written, and exits 0, also while it waits for the hourly rate limit.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isDeepStrictEqual } from 'node:util';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { SingerMessage } from '../../src/singer/messages.js';
import {
  completeMessages,
  countKeys,
  countLines,
  excess,
  exportedKey,
  startTap,
  truthUpTo,
  type ExportBookmarkState,
} from './export-truth.js';
import { groundTruthEvents, lastState, parseSingerOutput, postJson, runBinary, tempDir, writeJson } from './harness.js';

let sandbox: Sandbox;
let dir: string;
let configPath: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 21, days: 6, eventsPerDay: 2500, profiles: 50, engagePageSize: 10 });
  dir = tempDir('tap-interrupt-');
  configPath = writeJson(dir, 'tap.json', {
    ...sandboxClientConfigs(sandbox).tap,
    ingestion_settle_minutes: 0,
    date_window_size: 1,
    export_max_requests_per_second: 100,
  });
});

afterAll(async () => {
  await sandbox.close();
});

/** Splits a run's export records at its last STATE whose value equals `state` (first such STATE). */
function splitAtState(messages: SingerMessage[], state: unknown): { before: string[]; after: string[] } {
  const at = state === undefined ? -1 : messages.findIndex((m) => m.type === 'STATE' && isDeepStrictEqual(m.value, state));
  const keys = (ms: SingerMessage[]) =>
    ms.filter((m) => m.type === 'RECORD' && m.stream === 'export').map((m) => exportedKey((m as { record: Record<string, unknown> }).record));
  return { before: keys(messages.slice(0, at + 1)), after: keys(messages.slice(at + 1)) };
}

/** Resumes from `state`, then checks: earlier records + resumed records == ground truth; `rewritten` only re-sends. */
async function resumeAndCheck(name: string, state: Record<string, unknown> | undefined, before: string[], rewritten: string[]): Promise<void> {
  const args = ['--config', configPath, ...(state ? ['--state', writeJson(dir, `${name}.state.json`, state)] : [])];
  const resumed = await runBinary('tap-mixpanel', args, { timeoutMs: 50_000 });
  expect(resumed.code).toBe(0);
  const messages = parseSingerOutput(resumed.stdout);
  const final = lastState(messages) as unknown as ExportBookmarkState;
  expect(final.bookmarks.export.last_day_read).toBe(sandbox.dataRange.toDate);
  const truth = await truthUpTo(sandbox.url, sandbox.dataRange.fromDate, sandbox.dataRange.toDate, final.bookmarks.export.processing_watermark_ms);
  const after = messages.filter((m) => m.type === 'RECORD' && m.stream === 'export').map((m) => exportedKey((m as { record: Record<string, unknown> }).record));
  // Nothing lost, nothing twice: what the first run had committed plus what the resumed run sent.
  expect(countKeys([...before, ...after])).toEqual(truth);
  // The records the first run wrote after its last STATE are the at-least-once duplicates: each
  // of them is an event of the ground truth that the resumed run sent again.
  expect(excess(countKeys(rewritten), truth).size).toBe(0);
  expect(excess(countKeys(rewritten), countKeys(after)).size).toBe(0);
}

describe('tap-mixpanel killed and resumed', () => {
  // Three kills at random points of the run (records written before the kill).
  it.each([1, 2, 3])('SIGKILL at a random moment (%i), resumed from the last emitted STATE: no event lost', async (n) => {
    // Somewhere in the run: between the first record and 90% of the events the sandbox holds.
    const total = (await groundTruthEvents(sandbox.url, sandbox.dataRange.fromDate, sandbox.dataRange.toDate)).length;
    const threshold = 1 + Math.floor(Math.random() * 0.9 * total);
    const tap = startTap(['--config', configPath]);
    await tap.until((out) => countLines(out, 'RECORD') >= threshold);
    tap.child.kill('SIGKILL');
    const { signal } = await tap.exited;
    expect(signal).toBe('SIGKILL');
    const messages = completeMessages(tap.stdout());
    const state = lastState(messages);
    const { before, after } = splitAtState(messages, state);
    expect(before.length + after.length).toBeGreaterThanOrEqual(Math.min(threshold, 1));
    await resumeAndCheck(`kill-${n}`, state, before, after);
  });
});

describe('tap-mixpanel stopped with SIGTERM', () => {
  it('stops at a record boundary, ends with a STATE that claims only what it wrote, exits 0', async () => {
    // Slow answers, so the run cannot finish between the moment we decide to stop it and the signal.
    await postJson(`${sandbox.url}/__admin/settings`, { latency_ms: { export: 300 } });
    const tap = startTap(['--config', configPath]);
    // Mid-run: after the first window's STATE and some records of the next window.
    await tap.until((out) => countLines(out, 'STATE') >= 1 && countLines(out, 'RECORD') >= 3000);
    tap.child.kill('SIGTERM');
    const { code } = await tap.exited;
    await postJson(`${sandbox.url}/__admin/settings`, { latency_ms: { export: 0 } });
    expect(code).toBe(0);
    expect(tap.stdout().endsWith('\n')).toBe(true);
    const messages = parseSingerOutput(tap.stdout());
    const final = messages[messages.length - 1];
    expect(final?.type).toBe('STATE');
    const state = (final as { value: Record<string, unknown> }).value;
    const exportState = (state as unknown as ExportBookmarkState).bookmarks.export;
    expect(state.currently_syncing).toBe('export');
    // The run was stopped before its end: a sweep is in progress, short of today.
    expect(exportState.sweep).toBeDefined();
    expect(tap.stderr()).toContain('SIGTERM received');
    const { before, after } = splitAtState(messages, state);
    await resumeAndCheck('term', state, before, after);
  });

  it('stops at once while waiting for the hourly rate limit', async () => {
    const limited = writeJson(dir, 'limited.json', {
      ...sandboxClientConfigs(sandbox).tap,
      ingestion_settle_minutes: 0,
      date_window_size: 1,
      export_max_requests_per_hour: 2,
    });
    const tap = startTap(['--config', limited]);
    await tap.until((_out, err) => /waiting \d+m\d+s for the Mixpanel export API limit/.test(err));
    const stoppedAt = Date.now();
    tap.child.kill('SIGTERM');
    const { code } = await tap.exited;
    expect(code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    const messages = parseSingerOutput(tap.stdout());
    expect(messages[messages.length - 1]?.type).toBe('STATE');
    const state = lastState(messages) as unknown as ExportBookmarkState;
    expect(state.currently_syncing).toBe('export');
    const { before, after } = splitAtState(messages, state);
    expect(after).toEqual([]);
    await resumeAndCheck('term-wait', state as unknown as Record<string, unknown>, before, after);
  });
});
