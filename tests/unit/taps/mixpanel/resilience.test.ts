/**
 * The pure parts of the tap's resilience: the emitted-key multiset used to re-read a broken
 * window, window splitting, budgets from config, Retry-After jitter, and Mixpanel's errors.
 */
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../../src/errors/index.js';
import { HttpError } from '../../../../src/http/errors.js';
import { retryAfterDelay } from '../../../../src/http/retry.js';
import { budgetLimits, windowMargin } from '../../../../src/taps/mixpanel/client.js';
import type { TapConfig } from '../../../../src/taps/mixpanel/config.js';
import { EmittedKeys } from '../../../../src/taps/mixpanel/emitted-keys.js';
import { PlanLimitError, translateMixpanelError } from '../../../../src/taps/mixpanel/errors.js';
import { describeSlice, sliceWhere, splitSlice } from '../../../../src/taps/mixpanel/streams/export.js';

describe('EmittedKeys: what a window already emitted, as a multiset of 64-bit hashes', () => {
  it('agrees with a plain multiset over many broken reads of a body with duplicates (through growth)', () => {
    // A deterministic pseudo-random generator: the same sequence on every run.
    let seed = 12345;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const body = Array.from({ length: 5000 }, () => `key-${next(3000)}`);
    const keys = new EmittedKeys();
    const emitted = new Map<string, number>();
    const out: string[] = [];
    for (let read = 0; read < 6; read++) {
      keys.beginRead();
      const seen = new Map<string, number>();
      // Each read sees the body in another order and breaks after a random point (the last one completes).
      const order = [...body].sort(() => next(3) - 1);
      const stop = read === 5 ? order.length : next(order.length);
      for (const key of order.slice(0, stop)) {
        const n = (seen.get(key) ?? 0) + 1;
        seen.set(key, n);
        const expected = n > (emitted.get(key) ?? 0);
        if (expected) emitted.set(key, n);
        expect(keys.admit(key)).toBe(expected);
        if (expected) out.push(key);
      }
    }
    // Across all reads, every occurrence in the body came out exactly once.
    const count = (list: string[]) => list.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());
    expect(count(out)).toEqual(count(body));
  });

  it('a re-read skips what the first read emitted and emits the rest, exact duplicates included', () => {
    const keys = new EmittedKeys();
    keys.beginRead();
    // The first read broke after a, b, b (b is an exact duplicate in the body).
    expect(['a', 'b', 'b'].map((k) => keys.admit(k))).toEqual([true, true, true]);
    keys.beginRead();
    // The re-read comes in another order and has a third b and a c.
    expect(['b', 'c', 'a', 'b', 'b'].map((k) => keys.admit(k))).toEqual([false, true, false, false, true]);
    keys.beginRead();
    expect(['a', 'b', 'b', 'b', 'c'].map((k) => keys.admit(k))).toEqual([false, false, false, false, false]);
  });

  it('stays exact through growth and stays small: 200,000 keys in under 5 MB', () => {
    const keys = new EmittedKeys();
    keys.beginRead();
    for (let i = 0; i < 200_000; i++) expect(keys.admit(`Sign Up\u0000user-${i}\u00002024-01-01T00:00:00.000Z\u0000ins-${i}`)).toBe(true);
    expect(keys.size).toBe(200_000);
    expect(keys.bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
    keys.beginRead();
    let admitted = 0;
    for (let i = 199_999; i >= 0; i--) if (keys.admit(`Sign Up\u0000user-${i}\u00002024-01-01T00:00:00.000Z\u0000ins-${i}`)) admitted++;
    expect(admitted).toBe(0);
    expect(keys.admit('one more')).toBe(true);
  });
});

describe('splitting a window that keeps failing', () => {
  it('a range of days becomes days, a day becomes 24 hours with a where on time, an hour goes no further', () => {
    expect(splitSlice({ fromDay: '2024-02-27', toDay: '2024-03-01' })?.map(describeSlice)).toEqual([
      '2024-02-27',
      '2024-02-28',
      '2024-02-29',
      '2024-03-01',
    ]);
    const hours = splitSlice({ fromDay: '2024-03-01', toDay: '2024-03-01' }) ?? [];
    expect(hours).toHaveLength(24);
    const start = Date.parse('2024-03-01T00:00:00Z') / 1000;
    expect(hours[0]?.hour).toEqual({ startSeconds: start, endSeconds: start + 3600 });
    expect(hours[23]?.hour).toEqual({ startSeconds: start + 23 * 3600, endSeconds: start + 24 * 3600 });
    expect(describeSlice(hours[5] as never)).toBe('2024-03-01 05:00-06:00');
    expect(splitSlice(hours[0] as never)).toBeNull();
  });

  it('the where joins the look-back filter and the hour', () => {
    const start = Date.parse('2024-03-01T00:00:00Z') / 1000;
    const hour = { fromDay: '2024-03-01', toDay: '2024-03-01', hour: { startSeconds: start, endSeconds: start + 3600 } };
    expect(sliceWhere({ fromDay: '2024-03-01', toDay: '2024-03-02' }, undefined)).toBeUndefined();
    expect(sliceWhere(hour, undefined)).toBe(`properties["time"] >= ${start} and properties["time"] < ${start + 3600}`);
    expect(sliceWhere(hour, 1700000000000)).toBe(
      `properties["mp_processing_time_ms"] > 1700000000000 and properties["time"] >= ${start} and properties["time"] < ${start + 3600}`,
    );
  });
});

describe('budgets from the config', () => {
  const config = {
    export_max_requests_per_second: 3,
    export_max_requests_per_hour: 60,
    query_max_requests_per_hour: 40,
    query_max_concurrent: 2,
    rate_limit_hour_seconds: 3600,
  } as TapConfig;

  it("Mixpanel's limits (or the overrides), each window a little longer than Mixpanel's", () => {
    expect(budgetLimits(config)).toEqual({
      export: {
        maxConcurrent: 100,
        windows: [
          { limit: 3, intervalMs: 1000, slackMs: 100 },
          { limit: 60, intervalMs: 3_600_000, slackMs: 1000 },
        ],
      },
      query: { maxConcurrent: 2, windows: [{ limit: 40, intervalMs: 3_600_000, slackMs: 1000 }] },
    });
    expect(budgetLimits({ ...config, rate_limit_hour_seconds: 6 }).export.windows[1]).toEqual({ limit: 60, intervalMs: 6000, slackMs: 600 });
    expect(windowMargin(1000)).toBe(100);
  });
});

describe('retryAfterDelay', () => {
  it.each([
    [7000, 0, 7000],
    [7000, 1, 7700],
    [60_000, 1, 62_000],
    [0, 1, 100],
  ])('Retry-After %i ms with random %f waits %i ms', (after, random, expected) => {
    expect(retryAfterDelay(after, () => random)).toBe(expected);
  });
});

describe("Mixpanel's errors", () => {
  const settings = { timeSemantics: 'utc', projectTimezone: 'UTC' };
  const error = (status: number, serviceMessage: string) =>
    new HttpError({ method: 'GET', url: 'https://mixpanel.com/api/query/engage?project_id=1', status, serviceMessage });

  it('402 is a plan limitation naming the API and the host', () => {
    const err = translateMixpanelError(error(402, 'Your plan does not include this feature'), settings);
    expect(err).toBeInstanceOf(PlanLimitError);
    expect(err?.message).toMatch(/402 Payment Required for GET https:\/\/mixpanel\.com\/api\/query\/engage.*plan does not include this API/);
    expect((err as PlanLimitError).host).toBe('mixpanel.com');
  });

  it('400 "to_date cannot be later than today" explains the time-zone setting', () => {
    const err = translateMixpanelError(error(400, 'to_date cannot be later than today'), settings);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).toContain('time_semantics');
    expect(err?.message).toContain('project_timezone');
  });

  it('anything else stays as it is', () => {
    expect(translateMixpanelError(error(400, 'from_date is a required parameter'), settings)).toBeUndefined();
    expect(translateMixpanelError(error(500, 'oops'), settings)).toBeUndefined();
  });
});
