/**
 * tap-mixpanel against a misbehaving sandbox, one fault per test. Each run is compared with the
 * sandbox's ground truth: every event ingested up to the run's watermark is emitted exactly as
 * often as the sandbox holds it (none missing, none duplicated by key), the run exits 0, and its
 * final state covers today with no sweep left in progress.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { DateTime } from 'luxon';
import { countKeys, exportedKey, exportKeysOf, truthUpTo, type ExportBookmarkState } from './export-truth.js';
import { getJson, lastState, parseSingerOutput, postJson, recordsOf, runBinary, tempDir, writeJson } from './harness.js';

let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  // 4 days x 300 events: windows of 2 days are ~600 lines, so a cut after 100 lines is mid-body.
  sandbox = await startSandbox({ port: 0, seed: 11, days: 4, eventsPerDay: 300, profiles: 20 });
  dir = tempDir('tap-faults-');
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  await postJson(`${sandbox.url}/__admin/reset`, {});
});

interface LogEntry {
  family: string;
  status: number;
  fault?: string;
  query: Record<string, string>;
}

async function exportRequests(): Promise<LogEntry[]> {
  return (await getJson<{ requests: LogEntry[] }>(`${sandbox.url}/__admin/requests?family=export`)).requests;
}

/** Runs the tap with `faults` set in the sandbox, and checks the run against the ground truth. */
async function syncWith(faults: unknown[], overrides: Record<string, unknown> = {}): Promise<{ stderr: string; requests: LogEntry[] }> {
  await postJson(`${sandbox.url}/__admin/settings`, { faults });
  const config = {
    ...sandboxClientConfigs(sandbox).tap,
    ingestion_settle_minutes: 0,
    date_window_size: 2,
    retry_base_delay_seconds: 0.05,
    // The sandbox enforces no limits here; splitting a window into hours makes ~100 requests.
    export_max_requests_per_second: 100,
    export_max_requests_per_hour: 10_000,
    ...overrides,
  };
  const result = await runBinary('tap-mixpanel', ['--config', writeJson(dir, 'tap.json', config)], { timeoutMs: 50_000 });
  if (result.code !== 0) throw new Error(`tap exited ${result.code}: ${result.stderr.slice(-3000)}`);
  const messages = parseSingerOutput(result.stdout);
  const state = lastState(messages) as unknown as ExportBookmarkState;
  expect(state.bookmarks.export.last_day_read).toBe(sandbox.dataRange.toDate);
  expect(state.bookmarks.export).not.toHaveProperty('sweep');
  expect(state.currently_syncing).toBeNull();

  const truth = await truthUpTo(sandbox.url, sandbox.dataRange.fromDate, sandbox.dataRange.toDate, state.bookmarks.export.processing_watermark_ms);
  const emitted = exportKeysOf(messages);
  expect(emitted.length).toBeGreaterThan(800);
  expect(countKeys(emitted)).toEqual(truth);
  return { stderr: result.stderr, requests: await exportRequests() };
}

const applied = (requests: LogEntry[], kind: string) => requests.filter((r) => r.fault === kind).length;

describe('tap-mixpanel under injected faults: nothing lost, nothing duplicated', () => {
  it('a burst of 503s is retried with back-off', async () => {
    const { stderr, requests } = await syncWith([{ kind: 'status', status: 503, times: 2 }]);
    expect(applied(requests, 'status')).toBe(2);
    expect(stderr).toMatch(/GET \/api\/2\.0\/export failed \(503 \(Internal server error \(injected fault\)\)\); retry 1 of 5/);
  });

  it('a burst of 429s: Retry-After is honoured, and the log says what it waits for and how long', async () => {
    const { stderr, requests } = await syncWith([{ kind: 'status', status: 429, retry_after_s: 1, times: 2 }]);
    expect(applied(requests, 'status')).toBe(2);
    expect(stderr).toMatch(/rate limited on GET \/api\/2\.0\/export \(429 \(Query rate limit exceeded[^)]*\)\); waiting 1s \(Retry-After asked for 1s, plus jitter\)/);
  });

  it('connections cut after N bytes of the gzip body', async () => {
    const { stderr, requests } = await syncWith([{ kind: 'cut_after_bytes', after_bytes: 6000, times: 2 }]);
    expect(applied(requests, 'cut_after_bytes')).toBe(2);
    expect(stderr).toMatch(/the transfer broke after line \d+.*reading it again/);
  });

  it('connections cut in the middle of a line', async () => {
    const { stderr, requests } = await syncWith([{ kind: 'cut_mid_line', after_lines: 100, times: 2 }]);
    expect(applied(requests, 'cut_mid_line')).toBe(2);
    expect(stderr).toContain('events already emitted are skipped by key');
  });

  it('a body that ends normally with a partial last line', async () => {
    const { stderr, requests } = await syncWith([{ kind: 'partial_line', after_lines: 150, times: 1 }]);
    expect(applied(requests, 'partial_line')).toBe(1);
    expect(stderr).toMatch(/ended in the middle of line 151/);
  });

  it('a body that ends with "terminated early"', async () => {
    const { stderr, requests } = await syncWith([{ kind: 'terminated_early', after_lines: 120, times: 1 }]);
    expect(applied(requests, 'terminated_early')).toBe(1);
    expect(stderr).toMatch(/ended abnormally at line 121 \(terminated early\)/);
  });

  it('a truncated gzip stream', async () => {
    const { requests } = await syncWith([{ kind: 'truncate_gzip', after_bytes: 5000, times: 1 }]);
    expect(applied(requests, 'truncate_gzip')).toBe(1);
  });

  it('a body that stalls is detected by idle_timeout and read again', async () => {
    const { stderr, requests } = await syncWith([{ kind: 'stall', after_bytes: 5000, times: 1 }], { idle_timeout: 1 });
    expect(applied(requests, 'stall')).toBe(1);
    expect(stderr).toMatch(/UND_ERR_BODY_TIMEOUT/);
  });

  it('a first byte slower than request_timeout is retried', async () => {
    const { stderr, requests } = await syncWith([{ kind: 'latency', ms: 3000, times: 1 }], { request_timeout: 1 });
    expect(applied(requests, 'latency')).toBe(1);
    expect(stderr).toMatch(/UND_ERR_HEADERS_TIMEOUT/);
  });

  it('a window that keeps failing is split into days', async () => {
    const { stderr, requests } = await syncWith([{ kind: 'cut_mid_line', after_lines: 50, when: { min_days: 2 } }]);
    expect(applied(requests, 'cut_mid_line')).toBe(6); // 3 reads of each 2-day window
    expect(stderr).toMatch(/export \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}: the transfer broke after line \d+.*; splitting it into 2 smaller requests/);
    const single = requests.filter((r) => r.query.from_date === r.query.to_date && r.status === 200);
    expect(single.length).toBeGreaterThanOrEqual(4);
  });

  it('a window whose request keeps failing through every retry is split at once', async () => {
    const { stderr, requests } = await syncWith([{ kind: 'status', status: 504, when: { min_days: 2 } }], { max_retries: 1 });
    expect(applied(requests, 'status')).toBe(4); // 2 tries (max_retries 1) of each 2-day window
    expect(stderr).toMatch(/failed: 504 Gateway Timeout.*; splitting it into 2 smaller requests/);
  });

  it('a day that keeps failing is split into hours with a where on time', async () => {
    const { stderr, requests } = await syncWith([{ kind: 'terminated_early', after_lines: 30, when: { where_lacks: 'properties["time"]' } }], {
      date_window_size: 1,
    });
    // Every day with more than 30 events is split; today has fewer in the first hours of a UTC day.
    const splits = (stderr.match(/splitting it into 24 smaller requests/g) ?? []).length;
    expect(splits).toBeGreaterThanOrEqual(3);
    const hourly = requests.filter((r) => /properties\["time"\] >= \d+ and properties\["time"\] < \d+/.test(r.query.where ?? ''));
    expect(hourly.length).toBe(24 * splits);
    expect(hourly.every((r) => r.status === 200 && !r.fault)).toBe(true);
  });
});

describe('tap-mixpanel errors that are not worth retrying', () => {
  it('401: a config error naming the credential and the host', async () => {
    const config = { ...sandboxClientConfigs(sandbox).tap, service_account_secret: 'wrong-secret' };
    const result = await runBinary('tap-mixpanel', ['--config', writeJson(dir, 'bad.json', config)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Mixpanel refused the credentials (401) at ${new URL(sandbox.url).host}: check service_account_username / service_account_secret`);
    expect(result.stderr).not.toContain('wrong-secret');
  });

  it('402 on a stream: skipped with a warning naming the plan limitation; the rest of the run goes on', async () => {
    await postJson(`${sandbox.url}/__admin/settings`, {
      faults: [{ kind: 'status', family: 'query', status: 402, message: 'Your plan does not include the Query API' }],
    });
    const config = { ...sandboxClientConfigs(sandbox).tap, ingestion_settle_minutes: 0 };
    const result = await runBinary('tap-mixpanel', ['--config', writeJson(dir, 'tap402.json', config)]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/engage: skipped: Mixpanel answered 402 Payment Required for POST http:\/\/127\.0\.0\.1:\d+\/api\/query\/engage.*plan does not include this API.*Your plan does not include the Query API/);
    const messages = parseSingerOutput(result.stdout);
    expect(messages.filter((m) => m.type === 'RECORD' && m.stream === 'export').length).toBeGreaterThan(800);
    expect(messages.some((m) => m.type === 'RECORD' && m.stream === 'engage')).toBe(false);
  });

  it('400 "to_date cannot be later than today": an error that explains the time-zone setting', async () => {
    // Mixpanel's "today" (the sandbox clock) is two days behind the tap's.
    const behind = await startSandbox({ port: 0, now: new Date(Date.now() - 2 * 86_400_000), days: 2, eventsPerDay: 5, profiles: 5 });
    try {
      const result = await runBinary('tap-mixpanel', ['--config', writeJson(dir, 'tz.json', sandboxClientConfigs(behind).tap)]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('to_date cannot be later than today');
      expect(result.stderr).toMatch(/computes "today" in UTC \(time_semantics=utc\).*set time_semantics to "project_timezone"/);
    } finally {
      await behind.close();
    }
  });

  it('other errors carry method, URL without secrets, and Mixpanel\'s message', async () => {
    await postJson(`${sandbox.url}/__admin/settings`, { faults: [{ kind: 'status', status: 404, message: 'No such project here' }] });
    const config = { ...sandboxClientConfigs(sandbox).tap, ingestion_settle_minutes: 0 };
    const result = await runBinary('tap-mixpanel', ['--config', writeJson(dir, 'e404.json', config)]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/api\/2\.0\/export\?project_id=\d+&from_date=.* failed: 404 Not Found: No such project here/);
    expect(result.stderr).not.toContain(sandbox.credentials.mixpanel.serviceAccountSecret);
  });
});

describe('a pre-2023 project (dates and times in the project time zone)', () => {
  it('a day that keeps failing is split into local hours; nothing lost or duplicated', async () => {
    const zoned = await startSandbox({ port: 0, seed: 12, days: 2, eventsPerDay: 300, profiles: 5, projectTimezone: 'America/Los_Angeles' });
    try {
      await postJson(`${zoned.url}/__admin/settings`, {
        faults: [{ kind: 'cut_mid_line', after_lines: 40, when: { where_lacks: 'properties["time"]' } }],
      });
      const config = {
        ...sandboxClientConfigs(zoned).tap,
        time_semantics: 'project_timezone',
        project_timezone: 'America/Los_Angeles',
        ingestion_settle_minutes: 0,
        date_window_size: 1,
        retry_base_delay_seconds: 0.05,
        export_max_requests_per_second: 100,
      };
      const result = await runBinary('tap-mixpanel', ['--config', writeJson(dir, 'zoned.json', config)], { timeoutMs: 50_000 });
      if (result.code !== 0) throw new Error(`tap exited ${result.code}: ${result.stderr.slice(-3000)}`);
      expect(result.stderr).toMatch(/splitting it into 24 smaller requests/);
      const messages = parseSingerOutput(result.stdout);
      const state = lastState(messages) as unknown as ExportBookmarkState;
      const truth = await truthUpTo(zoned.url, zoned.dataRange.fromDate, zoned.dataRange.toDate, state.bookmarks.export.processing_watermark_ms);
      // The tap emits `time` in UTC; the ground truth holds Los Angeles wall-clock seconds.
      const localKeys = recordsOf(messages, 'export').map((r) => {
        const local = DateTime.fromISO(String(r.time), { zone: 'utc' }).setZone('America/Los_Angeles').toISO({ includeOffset: false }) as string;
        return exportedKey({ ...r, time: `${local}Z` });
      });
      // Yesterday's 300 events less the few processed days later; today's depend on the hour (none
      // just after midnight in Los Angeles), so more than 300 in all was not always true.
      expect(localKeys.length).toBeGreaterThan(250);
      expect(countKeys(localKeys)).toEqual(truth);
    } finally {
      await zoned.close();
    }
  });
});
