/**
 * Reads one audience's members window: every member whose last_changed is in [from, to), in
 * every status, each once, with pages of `pageSize` and up to `concurrency` pages in flight.
 *
 * Why not simply offset pages over the window. The window is fixed when the run starts, so no
 * member can enter it while it is paged, but members can leave it: a member who unsubscribes
 * during the run gets a new last_changed, after the window's end. Everyone listed after them
 * then moves one offset down, and the member who sat at the next page's first offset slides
 * onto the page already read: skipped, and never read later either, since the next run starts
 * at this window's end. Sorting does not help (the set shrinks whatever the order), and keyset
 * paging on last_changed breaks on ties (an import gives thousands of members one second) and
 * reads one page at a time.
 *
 * The design:
 * 1. Two passes, because the API does not say whether an unfiltered listing includes archived
 *    members: "all" (archived ones dropped if listed) and status=archived.
 * 2. The window is cut into slices of about `sliceMembers` members, at the last_changed values
 *    of every sliceMembers-th member of each pass (one count=1 call each, sort_field=
 *    last_changed: used only to place cuts, so a sort that is not what it says costs balance,
 *    never correctness); both passes are cut at the same points. A window of at most
 *    sliceMembers members in each pass is one slice, and its first page is the planning call:
 *    a typical incremental run costs one call per pass.
 * 3. A slice is paged by offset, pages of all slices in flight together. When a slice's pages
 *    are in, it is checked (slice-read.ts): distinct members received = the largest
 *    total_items reported proves that nobody was skipped. If members left meanwhile, the slice
 *    is read again, emitting only members it has not emitted yet; after a second miss it is cut
 *    in two halves, which page faster. A one-second slice that keeps missing fails the run.
 * 4. Progress: all members of the window before the first slice not yet checked have been
 *    emitted (in both passes). That point is reported, and the stream makes it the bookmark, so
 *    a failed or stopped run resumes at a slice boundary; the window's end only once every page
 *    of every slice was read and checked.
 *
 * Memory is bounded by `concurrency` pages and one set of member ids per slice being read.
 */
import { RemoteError } from '../../../errors/index.js';
import type { Logger } from '../../../log/logger.js';
import type { MembersPage } from '../client.js';
import type { RawMember } from '../raw.js';
import { SliceRead, type Pass } from './slice-read.js';
import { describeRange, quantileOffsets, slicesAt, splitRange, type TimeRange } from './window.js';

export interface PageSource {
  /** One page of a pass over a range. */
  page(pass: Pass, range: TimeRange, offset: number, count: number): Promise<MembersPage>;
  /** The last_changed (ISO) of the member at `offset` in last_changed order, and the range's total. */
  probe(pass: Pass, range: TimeRange, offset: number): Promise<{ lastChanged: string | undefined; total: number }>;
}

export interface PagerOptions {
  pageSize: number;
  sliceMembers: number;
  /** Pages asked for and not yet handed on (in flight or waiting to be written). */
  concurrency: number;
  log: Logger;
  /** Names the audience in log lines. */
  label: string;
  signal?: AbortSignal;
  /** Attempts of a slice before it is cut in two (default 2). */
  attemptsBeforeSplit?: number;
  /** Attempts of a slice that cannot be cut before the run fails (default 8). */
  maxAttempts?: number;
}

export type PagerOutput = { kind: 'members'; members: RawMember[] } | { kind: 'through'; to: number };

interface Answer {
  slice: SliceRead;
  attempt: number;
  page?: MembersPage;
  error?: unknown;
}

const PASSES: readonly Pass[] = ['all', 'archived'];

export class WindowPager {
  private slices: SliceRead[] = [];
  private readonly pending = new Map<number, Promise<{ id: number; answer: Answer }>>();
  private readonly ready: Answer[] = [];
  private nextId = 0;
  private through: number | undefined;
  private readonly attemptsBeforeSplit: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly source: PageSource,
    private readonly window: TimeRange,
    private readonly options: PagerOptions,
  ) {
    this.through = window.from;
    this.attemptsBeforeSplit = options.attemptsBeforeSplit ?? 2;
    this.maxAttempts = options.maxAttempts ?? 8;
  }

  /** Members (each once) and progress points, in the order they can be written. */
  async *run(): AsyncGenerator<PagerOutput> {
    await this.plan();
    for (;;) {
      this.fill();
      const answer = this.ready.shift() ?? (await this.nextAnswer());
      if (answer === undefined) break;
      if (answer.error !== undefined) throw answer.error;
      const members = answer.slice.accept(answer.page?.members ?? [], answer.page?.total_items ?? NaN);
      if (members.length > 0) yield { kind: 'members', members };
      if (answer.slice.settled) this.settle(answer.slice);
      const through = this.progress();
      if (through !== undefined && (this.through === undefined || through > this.through)) {
        this.through = through;
        yield { kind: 'through', to: through };
      }
      if (this.options.signal?.aborted) return;
    }
  }

  /**
   * Slices of both passes, cut at the same last_changed values (the cuts of both passes
   * together), so that the point up to which both are read moves at every cut. A window that
   * needs no cut is one slice per pass, whose first page is the planning call.
   */
  private async plan(): Promise<void> {
    const { pageSize, sliceMembers } = this.options;
    const firsts = await Promise.all(PASSES.map((pass) => this.source.page(pass, this.window, 0, pageSize)));
    const cuts = (await Promise.all(PASSES.map((pass, i) => this.cuts(pass, firsts[i]?.total_items ?? 0)))).flat();
    const ranges = slicesAt(this.window, cuts);
    if (ranges.length === 1) {
      this.slices = PASSES.map((pass, i) => {
        const first = firsts[i] as MembersPage;
        const slice = new SliceRead(pass, this.window, first.total_items);
        slice.takeOffset(pageSize);
        this.ready.push({ slice, attempt: slice.attempt, page: first });
        return slice;
      });
      return;
    }
    const totals = firsts.map((f) => f.total_items);
    this.options.log.info(`${this.options.label}: ${totals[0] ?? 0} members not archived and ${totals[1] ?? 0} archived in ${describeRange(this.window)}, read in ${ranges.length} slices`);
    // Pages asked for before a slice's first answer says its size: as many as an average slice holds.
    this.slices = PASSES.flatMap((pass) => ranges.map((range) => new SliceRead(pass, range, Math.min(sliceMembers, Math.ceil((totals[PASSES.indexOf(pass)] ?? 0) / ranges.length)))));
  }

  /** The last_changed values that cut a pass of `total` members into slices of about sliceMembers. */
  private async cuts(pass: Pass, total: number): Promise<number[]> {
    if (total <= this.options.sliceMembers) return [];
    const probes = await Promise.all(quantileOffsets(total, this.options.sliceMembers).map((offset) => this.source.probe(pass, this.window, offset)));
    return probes.map((p) => (p.lastChanged === undefined ? NaN : Date.parse(p.lastChanged)));
  }

  /** Asks for pages, earliest slices first, while fewer than `concurrency` are outstanding. */
  private fill(): void {
    const limit = Math.max(1, this.options.concurrency);
    // By time, both passes together: the point read through moves as early as it can.
    const byTime = [...this.slices].sort((a, b) => (a.range.from ?? -Infinity) - (b.range.from ?? -Infinity));
    for (const slice of byTime) {
      while (this.pending.size + this.ready.length < limit) {
        const offset = slice.takeOffset(this.options.pageSize);
        if (offset === undefined) break;
        this.start(slice, offset);
      }
      if (this.pending.size + this.ready.length >= limit) return;
    }
  }

  private start(slice: SliceRead, offset: number): void {
    const id = this.nextId++;
    const attempt = slice.attempt;
    const answer = this.source.page(slice.pass, slice.range, offset, this.options.pageSize).then(
      (page): Answer => ({ slice, attempt, page }),
      (error: unknown): Answer => ({ slice, attempt, error }),
    );
    this.pending.set(
      id,
      answer.then((a) => ({ id, answer: a })),
    );
  }

  private async nextAnswer(): Promise<Answer | undefined> {
    if (this.pending.size === 0) return undefined;
    const { id, answer } = await Promise.race(this.pending.values());
    this.pending.delete(id);
    return answer;
  }

  /** The verdict on a slice whose pages are all in: done, read again, or cut in two. */
  private settle(slice: SliceRead): void {
    const received = slice.receivedCount;
    const total = slice.reportedTotal;
    if (slice.verdict() === 'complete') return;
    const where = `${this.options.label}: slice ${describeRange(slice.range)}${slice.pass === 'archived' ? ' (archived)' : ''}`;
    this.options.log.info(`${where}: ${received} of ${total} members read while members changed: reading it again (attempt ${slice.attempt})`);
    if (slice.attempt <= this.attemptsBeforeSplit) return;
    const halves = splitRange(slice.range, slice.lowestSeen);
    if (halves) {
      const index = this.slices.indexOf(slice);
      const parts = halves.map((range) => new SliceRead(slice.pass, range, undefined, { emitted: slice.emitted, depth: slice.depth + 1 }));
      this.slices.splice(index, 1, ...parts);
      // The halves hold the ids now; the slice they replace lets go of its hold.
      slice.emitted.release();
      return;
    }
    if (slice.attempt > this.maxAttempts) {
      throw new RemoteError(
        `${where}: members kept changing while it was read (${slice.attempt - 1} attempts): its bookmark stays where it was; run again when the audience is calmer`,
      );
    }
  }

  /** The end of the longest run of checked slices from the window's start, over both passes. */
  private progress(): number | undefined {
    let through: number | undefined = this.window.to;
    for (const pass of PASSES) {
      const pending = this.slices.find((s) => s.pass === pass && !s.complete);
      if (pending === undefined) continue;
      const from = pending.range.from;
      if (from === undefined) return undefined;
      through = Math.min(through, from);
    }
    return through;
  }
}
