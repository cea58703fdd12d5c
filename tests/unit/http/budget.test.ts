import { describe, expect, it } from '@jest/globals';
import { formatDuration, RequestBudget, type Release } from '../../../src/http/budget.js';
import { capturingLogger } from '../helpers/capture-log.js';
import { AutoAdvanceClock, ManualClock, settle } from '../helpers/fake-clock.js';

function watch<T>(promise: Promise<T>): { done: () => boolean; promise: Promise<T> } {
  let done = false;
  void promise.then(() => (done = true));
  return { done: () => done, promise };
}

describe('RequestBudget: concurrency', () => {
  it('lets maxConcurrent requests in, and a third waits until one is released', async () => {
    const budget = new RequestBudget({ name: 'test', maxConcurrent: 2, clock: new AutoAdvanceClock(), logger: capturingLogger() });
    const first = await budget.acquire();
    await budget.acquire();
    const third = watch(budget.acquire());
    await settle();
    expect(third.done()).toBe(false);

    first();
    await third.promise;
    expect(third.done()).toBe(true);
    expect(budget.stats.granted).toBe(3);
  });

  it('ignores a second call of the same release', async () => {
    const budget = new RequestBudget({ name: 'test', maxConcurrent: 1, clock: new AutoAdvanceClock(), logger: capturingLogger() });
    const first = await budget.acquire();
    const second = watch(budget.acquire());
    first();
    await second.promise;
    first(); // must not free the slot the second request holds
    const third = watch(budget.acquire());
    await settle();
    expect(third.done()).toBe(false);
  });

  it('serves waiters first come, first served', async () => {
    const budget = new RequestBudget({ name: 'test', maxConcurrent: 1, clock: new AutoAdvanceClock(), logger: capturingLogger() });
    const order: string[] = [];
    let release = await budget.acquire();
    const waiters = ['a', 'b', 'c', 'd'].map((name, i) =>
      budget.acquire({ countsTowardRate: i % 2 === 0 }).then((r) => {
        order.push(name);
        return r;
      }),
    );
    for (const waiter of waiters) {
      await settle();
      release();
      release = await waiter;
    }
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('RequestBudget: sliding rate windows', () => {
  it('spaces request starts to fit 3 per second and 5 per minute, with the exact waits', async () => {
    const clock = new AutoAdvanceClock();
    const budget = new RequestBudget({
      name: 'export',
      windows: [
        { limit: 3, intervalMs: 1000 },
        { limit: 5, intervalMs: 60_000 },
      ],
      clock,
      logger: capturingLogger(),
    });
    const grantedAt: number[] = [];
    for (let i = 0; i < 9; i++) {
      const release = await budget.acquire();
      grantedAt.push(clock.now());
      release();
    }
    expect(grantedAt).toEqual([0, 0, 0, 1000, 1000, 60_000, 60_000, 60_000, 61_000]);
    expect(clock.sleeps).toEqual([1000, 59_000, 1000]);
    expect(budget.stats.waitedMs).toBe(61_000);
  });

  it('counts a window from each start, not in fixed buckets', async () => {
    const clock = new AutoAdvanceClock();
    const budget = new RequestBudget({ name: 'q', windows: [{ limit: 2, intervalMs: 1000 }], clock, logger: capturingLogger() });
    (await budget.acquire())();
    await clock.sleep(600);
    (await budget.acquire())();
    const third = await budget.acquire(); // the first start leaves the window at 1000
    third();
    expect(clock.now()).toBe(1000);
    expect(clock.sleeps).toEqual([600, 400]);
  });

  it('keeps a window open for its slack too, but names only the documented length', async () => {
    const clock = new AutoAdvanceClock();
    const log = capturingLogger();
    const budget = new RequestBudget({ name: 'q', windows: [{ limit: 1, intervalMs: 1000, slackMs: 100 }], clock, logger: log });
    (await budget.acquire())();
    (await budget.acquire())();
    expect(clock.sleeps).toEqual([1100]);
    expect(log.lines.map((l) => l.message)).toEqual(['waiting 1s for the q limit of 1 requests per second']);
  });

  it('says which limit it waits for, at info level when the wait is a second or more', async () => {
    const clock = new AutoAdvanceClock();
    const log = capturingLogger();
    const budget = new RequestBudget({
      name: 'Mixpanel export API',
      windows: [
        { limit: 1, intervalMs: 1000 },
        { limit: 2, intervalMs: 3_600_000 },
      ],
      clock,
      logger: log,
    });
    for (let i = 0; i < 3; i++) (await budget.acquire())();
    expect(log.lines.map((l) => [l.level, l.message])).toEqual([
      ['info', 'waiting 1s for the Mixpanel export API limit of 1 requests per second'],
      ['info', 'waiting 59m59s for the Mixpanel export API limit of 1 requests per second and 2 requests per hour'],
    ]);
  });

  it('reports rateWaitMs without taking a slot', async () => {
    const clock = new AutoAdvanceClock();
    const budget = new RequestBudget({ name: 'q', windows: [{ limit: 1, intervalMs: 1000 }], clock, logger: capturingLogger() });
    expect(budget.rateWaitMs(0)).toBe(0);
    (await budget.acquire())();
    expect(budget.rateWaitMs(250)).toBe(750);
    expect(budget.rateWaitMs(1000)).toBe(0);
  });

  it('ignores windows with a zero limit or interval', async () => {
    const clock = new AutoAdvanceClock();
    const budget = new RequestBudget({
      name: 'q',
      windows: [
        { limit: 0, intervalMs: 1000 },
        { limit: 1, intervalMs: 0 },
      ],
      clock,
      logger: capturingLogger(),
    });
    for (let i = 0; i < 5; i++) (await budget.acquire())();
    expect(clock.sleeps).toEqual([]);
  });
});

describe('RequestBudget: requests the service does not count', () => {
  it('bypass the rate windows', async () => {
    const clock = new AutoAdvanceClock();
    const budget = new RequestBudget({ name: 'q', windows: [{ limit: 1, intervalMs: 3_600_000 }], clock, logger: capturingLogger() });
    (await budget.acquire())();
    for (let i = 0; i < 5; i++) (await budget.acquire({ countsTowardRate: false }))();
    expect(clock.sleeps).toEqual([]);
    expect(clock.now()).toBe(0);
  });

  it('do not use up the window for counted requests', async () => {
    const clock = new AutoAdvanceClock();
    const budget = new RequestBudget({ name: 'q', windows: [{ limit: 2, intervalMs: 1000 }], clock, logger: capturingLogger() });
    (await budget.acquire({ countsTowardRate: false }))();
    (await budget.acquire())();
    (await budget.acquire())();
    expect(clock.sleeps).toEqual([]);
  });

  it('still respect maxConcurrent', async () => {
    const clock = new AutoAdvanceClock();
    const budget = new RequestBudget({ name: 'q', maxConcurrent: 1, windows: [{ limit: 1, intervalMs: 1000 }], clock, logger: capturingLogger() });
    const held: Release = await budget.acquire();
    const uncounted = watch(budget.acquire({ countsTowardRate: false }));
    await settle();
    expect(uncounted.done()).toBe(false);
    held();
    await uncounted.promise;
    expect(clock.sleeps).toEqual([]);
  });
});

describe('RequestBudget.pauseUntil', () => {
  it('delays every request, counted or not, until the pause ends', async () => {
    const clock = new ManualClock(10_000);
    const log = capturingLogger();
    const budget = new RequestBudget({ name: 'q', clock, logger: log });
    budget.pauseUntil(17_000, 'Retry-After on GET /engage');
    const counted = watch(budget.acquire());
    const uncounted = watch(budget.acquire({ countsTowardRate: false }));
    await clock.sleepsRequested(1);
    expect(clock.sleeps).toEqual([7000]);

    clock.advance(6999);
    await settle();
    expect(counted.done()).toBe(false);
    expect(uncounted.done()).toBe(false);

    clock.advance(1);
    await counted.promise;
    await uncounted.promise;
    expect(log.lines.map((l) => l.message)).toEqual(['waiting 7s for the service asked us to wait (Retry-After on GET /engage)']);
  });

  it('keeps the later of two pauses', async () => {
    const clock = new AutoAdvanceClock();
    const budget = new RequestBudget({ name: 'q', clock, logger: capturingLogger() });
    budget.pauseUntil(5000, 'first');
    budget.pauseUntil(2000, 'second');
    (await budget.acquire())();
    expect(clock.sleeps).toEqual([5000]);
  });

  it('does not delay requests once the pause has passed', async () => {
    const clock = new AutoAdvanceClock(9000);
    const budget = new RequestBudget({ name: 'q', clock, logger: capturingLogger() });
    budget.pauseUntil(5000, 'old');
    (await budget.acquire())();
    expect(clock.sleeps).toEqual([]);
  });
});

describe('formatDuration', () => {
  it.each<[number, string]>([
    [0, '0 ms'],
    [250.4, '250 ms'],
    [999, '999 ms'],
    [1000, '1s'],
    [1499, '1s'],
    [7000, '7s'],
    [119_000, '119s'],
    [119_500, '2m00s'],
    [120_000, '2m00s'],
    [61 * 60_000 + 5000, '61m05s'],
    [3_599_000, '59m59s'],
  ])('%d ms -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
