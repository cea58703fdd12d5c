/**
 * Mixpanel's rate limits, enforced by the sandbox with the hour shrunk to a few seconds. A
 * normal multi-stream run whose budgets match the limits gets no 429 at all (counted in the
 * sandbox's request log) although the limits bind; a run whose budgets are too generous gets
 * 429s, honours Retry-After, and still delivers every event once.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { countKeys, exportKeysOf, truthUpTo, type ExportBookmarkState } from './export-truth.js';
import { getJson, lastState, parseSingerOutput, postJson, recordsOf, runBinary, tempDir, writeJson } from './harness.js';

const HOUR_MS = 4000;
let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    seed: 31,
    days: 8,
    eventsPerDay: 60,
    profiles: 60,
    engagePageSize: 10,
    // Mixpanel's limits, but an "hour" of 4 s and fewer requests in it, so the limits bind.
    rateLimits: { hour_ms: HOUR_MS, export: { per_second: 3, per_hour: 5 }, query: { per_hour: 12, concurrent: 5 } },
  });
  dir = tempDir('tap-limits-');
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  // Fresh windows for each run.
  await postJson(`${sandbox.url}/__admin/settings`, { rate_limits: { enabled: true } });
  await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
});

interface LogEntry {
  family: string;
  status: number;
  time: string;
}

function tapConfig(overrides: Record<string, unknown>): string {
  return writeJson(dir, 'tap.json', {
    ...sandboxClientConfigs(sandbox).tap,
    ingestion_settle_minutes: 0,
    date_window_size: 1,
    rate_limit_hour_seconds: HOUR_MS / 1000,
    ...overrides,
  });
}

async function checkAgainstTruth(stdout: string): Promise<void> {
  const messages = parseSingerOutput(stdout);
  const state = lastState(messages) as unknown as ExportBookmarkState;
  const truth = await truthUpTo(sandbox.url, sandbox.dataRange.fromDate, sandbox.dataRange.toDate, state.bookmarks.export.processing_watermark_ms);
  expect(countKeys(exportKeysOf(messages))).toEqual(truth);
  expect(recordsOf(messages, 'engage')).toHaveLength(60);
}

describe('tap-mixpanel under enforced rate limits', () => {
  it('a normal run with budgets matching the limits gets zero 429s, although the hourly limit binds', async () => {
    const result = await runBinary('tap-mixpanel', ['--config', tapConfig({ export_max_requests_per_hour: 5, query_max_requests_per_hour: 12 })]);
    expect(result.code).toBe(0);
    const { requests } = await getJson<{ requests: LogEntry[] }>(`${sandbox.url}/__admin/requests`);
    expect(requests.filter((r) => r.status === 429)).toEqual([]);
    const exports = requests.filter((r) => r.family === 'export');
    expect(exports.length).toBe(8); // 8 day windows > 5 per "hour": the budget had to wait
    expect(requests.filter((r) => r.family === 'query').length).toBeGreaterThanOrEqual(6); // engage pages (only the first counts)
    expect(result.stderr).toMatch(/waiting \d+(\.\d+)?s? for the Mixpanel export API limit of .*5 requests per/);
    await checkAgainstTruth(result.stdout);
  });

  it('a run whose budget is too generous gets 429s, honours Retry-After, and still delivers every event once', async () => {
    const result = await runBinary('tap-mixpanel', ['--config', tapConfig({ export_max_requests_per_hour: 1000, retry_base_delay_seconds: 0.05 })]);
    expect(result.code).toBe(0);
    const { requests } = await getJson<{ requests: LogEntry[] }>(`${sandbox.url}/__admin/requests?family=export`);
    const refused = requests.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/rate limited on GET \/api\/2\.0\/export \(429 \(Export rate limit exceeded: 6\/5 queries for project \d+ in the last hour/);
    expect(result.stderr).toMatch(/waiting \d+s \(Retry-After asked for \d+s, plus jitter\)/);
    await checkAgainstTruth(result.stdout);
  });
});
