/**
 * The members window pager against a simulated audience that changes while it is paged. The
 * audience answers each call from its state at that moment, in a stable order, as Mailchimp's
 * listing does; hooks change members between calls. The property checked every time: every
 * member whose last_changed is still in the window at the end was emitted, each member at most
 * once, and every progress point leaves nobody unread before it.
 */
import { describe, expect, it } from '@jest/globals';
import { RemoteError } from '../../../../src/errors/index.js';
import type { MembersPage } from '../../../../src/taps/mailchimp/client.js';
import { WindowPager, type PageSource, type PagerOutput } from '../../../../src/taps/mailchimp/members/pager.js';
import type { Pass } from '../../../../src/taps/mailchimp/members/slice-read.js';
import { rangeQuery, type TimeRange } from '../../../../src/taps/mailchimp/members/window.js';
import { capturingLogger } from '../../helpers/capture-log.js';

interface FakeMember {
  id: string;
  status: string;
  /** last_changed, epoch seconds. */
  changed: number;
}

interface FakeOptions {
  /** Whether an unfiltered listing holds archived members (the sandbox: yes; unknown for Mailchimp). */
  archivedInAll?: boolean;
  /** since/before read as >= and <= instead of > and <. */
  inclusiveBounds?: boolean;
  /** The sort answers in some other order (a sort that is not what it says). */
  scrambledSort?: boolean;
}

const WINDOW_END = 1_000_000;
const AFTER_WINDOW = WINDOW_END + 30;

/** A Mailchimp audience as the members endpoint shows it, changing between calls. */
class FakeAudience implements PageSource {
  calls = 0;
  readonly hooks = new Map<number, () => void>();

  constructor(
    readonly members: FakeMember[],
    private readonly options: FakeOptions = {},
  ) {}

  /** Runs `change` just before the n-th call is answered (1-based). */
  before(call: number, change: () => void): this {
    this.hooks.set(call, change);
    return this;
  }

  /** A member changes: its last_changed moves past the window (as a change during the run does). */
  change(id: string, status?: string): void {
    const member = this.members.find((m) => m.id === id);
    if (!member) throw new Error(`no member ${id}`);
    member.changed = AFTER_WINDOW;
    if (status) member.status = status;
  }

  private listing(pass: Pass, range: TimeRange): FakeMember[] {
    const { since, before } = rangeQuery(range);
    const sinceS = since === undefined ? -Infinity : Date.parse(since) / 1000;
    const beforeS = Date.parse(before) / 1000;
    const inclusive = this.options.inclusiveBounds === true;
    return this.members.filter((m) => {
      if (pass === 'archived' ? m.status !== 'archived' : m.status === 'archived' && !this.options.archivedInAll) return false;
      return (inclusive ? m.changed >= sinceS : m.changed > sinceS) && (inclusive ? m.changed <= beforeS : m.changed < beforeS);
    });
  }

  private async answer(): Promise<void> {
    // Answers are computed a moment after the call, so calls made together see changes between them.
    await new Promise((resolve) => setImmediate(resolve));
    this.calls++;
    this.hooks.get(this.calls)?.();
  }

  async page(pass: Pass, range: TimeRange, offset: number, count: number): Promise<MembersPage> {
    await this.answer();
    const list = this.listing(pass, range);
    return { members: list.slice(offset, offset + count).map((m) => ({ id: m.id, status: m.status, last_changed: new Date(m.changed * 1000).toISOString() })), total_items: list.length };
  }

  async probe(pass: Pass, range: TimeRange, offset: number): Promise<{ lastChanged: string | undefined; total: number }> {
    await this.answer();
    const list = this.listing(pass, range);
    const sorted = this.options.scrambledSort ? [...list].reverse() : [...list].sort((a, b) => a.changed - b.changed);
    const member = sorted[offset];
    return { lastChanged: member ? new Date(member.changed * 1000).toISOString() : undefined, total: list.length };
  }

  /** Members in the window now: what the run must have emitted. */
  inWindow(window: TimeRange): string[] {
    return this.members.filter((m) => m.changed * 1000 < window.to && (window.from === undefined || m.changed * 1000 >= window.from)).map((m) => m.id);
  }
}

/** n members, one a second from `start` (ties with `perSecond` > 1), every `archivedEvery`-th archived. */
function audience(n: number, options: { start?: number; perSecond?: number; archivedEvery?: number } = {}): FakeMember[] {
  const { start = 900_000, perSecond = 1, archivedEvery = 0 } = options;
  return Array.from({ length: n }, (_, i) => ({
    id: `m${String(i).padStart(4, '0')}`,
    status: archivedEvery > 0 && i % archivedEvery === archivedEvery - 1 ? 'archived' : 'subscribed',
    changed: start + Math.floor(i / perSecond),
  }));
}

async function read(source: PageSource, window: TimeRange, options: { pageSize?: number; sliceMembers?: number; concurrency?: number } = {}) {
  const log = capturingLogger();
  const pager = new WindowPager(source, window, { pageSize: options.pageSize ?? 7, sliceMembers: options.sliceMembers ?? 20, concurrency: options.concurrency ?? 5, log, label: 'test' });
  const emitted: string[] = [];
  const through: Array<{ to: number; emittedSoFar: Set<string> }> = [];
  for await (const out of pager.run() as AsyncGenerator<PagerOutput>) {
    if (out.kind === 'members') emitted.push(...out.members.map((m) => m.id));
    else through.push({ to: out.to, emittedSoFar: new Set(emitted) });
  }
  return { emitted, through, log };
}

const WINDOW: TimeRange = { to: WINDOW_END * 1000 };

function expectExact(fake: FakeAudience, result: { emitted: string[] }, window = WINDOW): void {
  expect(new Set(result.emitted).size).toBe(result.emitted.length);
  const missing = fake.inWindow(window).filter((id) => !result.emitted.includes(id));
  expect(missing).toEqual([]);
}

/** Plain offset paging over the fixed window, one page at a time: the approach the pager replaces. */
async function naiveRead(source: FakeAudience, pageSize: number): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; ; offset += pageSize) {
    const page = await source.page('all', WINDOW, offset, pageSize);
    ids.push(...page.members.map((m) => m.id));
    if (offset + pageSize >= page.total_items) return ids;
  }
}

describe('WindowPager: nobody skipped, nobody twice, while members change', () => {
  it('a quiet audience: everyone once, progress ends at the window end', async () => {
    const fake = new FakeAudience(audience(95, { archivedEvery: 10 }), { archivedInAll: true });
    const result = await read(fake, WINDOW);
    expectExact(fake, result);
    expect(result.emitted).toHaveLength(95);
    expect(result.through[result.through.length - 1]?.to).toBe(WINDOW.to);
  });

  it('the hazard is real: plain offset paging skips a member when one before it leaves', async () => {
    const fake = new FakeAudience(audience(30)).before(2, () => fake.change('m0001', 'unsubscribed'));
    const ids = await naiveRead(fake, 7);
    const missing = fake.inWindow(WINDOW).filter((id) => !ids.includes(id));
    expect(missing).toEqual(['m0007']);
  });

  it.each<[string, number, number, Array<[number, string[]]>]>([
    ['one member leaves early, after page 0 of a one-slice window', 30, 100, [[3, ['m0001']]]],
    ['several leave in several slices', 95, 20, [[4, ['m0002']], [9, ['m0030', 'm0031', 'm0055']], [14, ['m0070']]]],
    ['a bulk update takes a run of 15 members mid-read', 95, 20, [[10, Array.from({ length: 15 }, (_, i) => `m${String(20 + i).padStart(4, '0')}`)]]],
    ['members leave on nearly every call', 60, 20, Array.from({ length: 12 }, (_, i) => [i + 3, [`m${String(i * 5).padStart(4, '0')}`]] as [number, string[]])],
  ])('%s', async (_name, n, sliceMembers, changes) => {
    const fake = new FakeAudience(audience(n, { archivedEvery: 7 }), { archivedInAll: true });
    for (const [call, ids] of changes) fake.before(call, () => ids.forEach((id) => fake.change(id, 'unsubscribed')));
    const result = await read(fake, WINDOW, { sliceMembers });
    expectExact(fake, result);
  });

  it('reads a slice again when a member left while it was paged, and says so', async () => {
    const fake = new FakeAudience(audience(30)).before(3, () => fake.change('m0001'));
    const result = await read(fake, WINDOW, { sliceMembers: 100 });
    expectExact(fake, result);
    expect(result.log.lines.some((l) => /members read while members changed: reading it again \(attempt 2\)/.test(l.message))).toBe(true);
  });

  it.each<[string, FakeOptions]>([
    ['archived members listed unfiltered (the sandbox)', { archivedInAll: true }],
    ['archived members only with status=archived', { archivedInAll: false }],
    ['inclusive since/before', { inclusiveBounds: true, archivedInAll: true }],
    ['a sort that does not sort: cuts in the wrong places, still exact', { scrambledSort: true }],
  ])('%s', async (_name, options) => {
    const fake = new FakeAudience(audience(120, { archivedEvery: 6, perSecond: 3 }), options);
    fake.before(6, () => ['m0010', 'm0050', 'm0011'].forEach((id) => fake.change(id)));
    const result = await read(fake, WINDOW, { sliceMembers: 25 });
    expectExact(fake, result);
  });

  it('an incremental window [from, to): only members changed in it, ties of one second kept together', async () => {
    const members = audience(60, { perSecond: 10 });
    const fake = new FakeAudience(members);
    const window = { from: (900_000 + 2) * 1000, to: WINDOW_END * 1000 };
    const result = await read(fake, window, { sliceMembers: 12 });
    expect(result.emitted.sort()).toEqual(members.filter((m) => m.changed >= 900_002).map((m) => m.id).sort());
  });

});

describe('WindowPager: progress, concurrency and failures', () => {
  it('every progress point leaves nobody unread before it, and they only move forward', async () => {
    const fake = new FakeAudience(audience(95, { archivedEvery: 5 }), { archivedInAll: true });
    fake.before(8, () => fake.change('m0040'));
    const result = await read(fake, WINDOW, { sliceMembers: 15 });
    expect(result.through.length).toBeGreaterThan(2);
    let previous = -Infinity;
    for (const point of result.through) {
      expect(point.to).toBeGreaterThan(previous);
      previous = point.to;
      const before = fake.members.filter((m) => m.changed * 1000 < point.to && m.changed < WINDOW_END).map((m) => m.id);
      expect(before.filter((id) => !point.emittedSoFar.has(id))).toEqual([]);
    }
  });

  it('never has more than `concurrency` pages asked for and not handed on', async () => {
    let inFlight = 0;
    let peak = 0;
    const fake = new FakeAudience(audience(200));
    const counting: PageSource = {
      page: async (...args) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        try {
          return await fake.page(...args);
        } finally {
          inFlight--;
        }
      },
      probe: (...args) => fake.probe(...args),
    };
    const result = await read(counting, WINDOW, { sliceMembers: 30, concurrency: 4 });
    expect(result.emitted).toHaveLength(200);
    expect(peak).toBe(4);
  });

  it('a one-second slice that keeps losing members fails the run, and reports no progress past it', async () => {
    const members = audience(40, { perSecond: 40 });
    const fake = new FakeAudience(members);
    let next = 0;
    for (let call = 3; call < 200; call += 2) fake.before(call, () => fake.change(members[next++]?.id ?? 'm0000'));
    const log = capturingLogger();
    const oneSecond = { from: 900_000 * 1000, to: 900_001 * 1000 };
    const pager = new WindowPager(fake, oneSecond, { pageSize: 7, sliceMembers: 100, concurrency: 3, log, label: 'test', maxAttempts: 4 });
    const through: number[] = [];
    await expect(
      (async () => {
        for await (const out of pager.run()) if (out.kind === 'through') through.push(out.to);
      })(),
    ).rejects.toThrow(/members kept changing while it was read \(4 attempts\)/);
    expect(through).toEqual([]);
  });

  it('a page that fails after the retries fails the run', async () => {
    const fake = new FakeAudience(audience(50));
    const failing: PageSource = {
      page: (pass, range, offset, count) => (offset === 14 ? Promise.reject(new RemoteError('GET members failed: 503')) : fake.page(pass, range, offset, count)),
      probe: (...args) => fake.probe(...args),
    };
    await expect(read(failing, WINDOW, { sliceMembers: 100 })).rejects.toThrow('503');
  });
});
