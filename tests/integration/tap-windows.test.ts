/**
 * Export windows over long ranges: a start_date more than a year back, and an end_date, against
 * the sandbox (on the real clock: "today" is the tap's own computation).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { addDays, daysBetween } from '../../src/taps/mixpanel/time.js';
import { getJson, groundTruthEvents, lastState, parseSingerOutput, recordsOf, runBinary, tempDir, writeJson } from './harness.js';

let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 9, profiles: 20, eventsPerDay: 40, days: 3 });
  dir = tempDir();
});

afterAll(async () => {
  await sandbox.close();
});

async function exportWindows(): Promise<Array<[string, string]>> {
  const log = await getJson<{ requests: Array<{ path: string; query: Record<string, string> }> }>(`${sandbox.url}/__admin/requests?family=export`);
  return log.requests.filter((r) => r.path === '/api/2.0/export').map((r) => [r.query.from_date as string, r.query.to_date as string]);
}

async function runExport(config: Record<string, unknown>) {
  await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
  const result = await runBinary('tap-mixpanel', ['--config', writeJson(dir, 'tap.json', config)]);
  if (result.code !== 0) throw new Error(`tap exited ${result.code}: ${result.stderr.slice(-2000)}`);
  const messages = parseSingerOutput(result.stdout);
  return { records: recordsOf(messages, 'export'), state: lastState(messages) as { bookmarks: { export: { last_day_read: string } } }, windows: await exportWindows() };
}

describe('export windows', () => {
  const base = () => ({ ...sandboxClientConfigs(sandbox).tap, ingestion_settle_minutes: 0, date_window_size: 90 });

  it('reads from a start_date more than a year back in contiguous windows up to today', async () => {
    const today = sandbox.dataRange.toDate;
    const start = addDays(today, -400);
    const run = await runExport({ ...base(), start_date: `${start}T00:00:00Z` });
    const truth = await groundTruthEvents(sandbox.url, start, today);
    expect(truth.length).toBeGreaterThan(0);
    expect(run.records.length).toBe(truth.length);
    expect(run.windows[0]?.[0]).toBe(start);
    expect(run.windows[run.windows.length - 1]?.[1]).toBe(today);
    run.windows.forEach(([from, to], i) => {
      expect(daysBetween(from, to)).toBeLessThan(90);
      if (i > 0) expect(from).toBe(addDays(run.windows[i - 1]?.[1] as string, 1));
    });
    expect(run.windows.length).toBe(Math.ceil(401 / 90));
    expect(run.state.bookmarks.export.last_day_read).toBe(today);
  });

  it('stops at end_date', async () => {
    const { fromDate, toDate } = sandbox.dataRange;
    const end = addDays(toDate, -1);
    const run = await runExport({ ...base(), start_date: `${fromDate}T00:00:00Z`, end_date: `${end}T00:00:00Z` });
    const truth = await groundTruthEvents(sandbox.url, fromDate, end);
    expect(truth.length).toBeGreaterThan(0);
    expect(run.records.length).toBe(truth.length);
    expect(run.records.every((r) => String(r.time) < toDate)).toBe(true);
    expect(run.windows).toEqual([[fromDate, end]]);
    expect(run.state.bookmarks.export.last_day_read).toBe(end);
  });
});
