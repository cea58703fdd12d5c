/**
 * One slice of a members window being read: which pages to ask for, which members to emit, and
 * whether the slice was read whole. Pure bookkeeping (no I/O): the pager asks it for offsets,
 * hands it the pages Mailchimp answered, and acts on its verdict.
 *
 * The check. During a run members can only leave a window (window.ts), never enter it, so the
 * set a slice's listing shows only shrinks while it is paged. A page's total_items is the size
 * of that set when the page was computed. If an attempt received, over all its pages, as many
 * distinct members as the largest total any of its pages reported, then it received every
 * member of the set as it was when that total was computed, and every member that is still in
 * the slice now was in that set: none was skipped by offsets that moved. Otherwise a member
 * left while the slice was paged and may have shifted a later one past the page boundary: the
 * slice is read again (a new attempt), and only members not emitted by an earlier attempt are
 * emitted, so nobody is sent twice. A member who left is in the next run's window.
 */
import type { RawMember } from '../raw.js';
import { inRange, parseInstant, type TimeRange } from './window.js';

/** The "all" pass lists every status but archived; the "archived" pass asks for status=archived. */
export type Pass = 'all' | 'archived';

export type SliceVerdict = 'complete' | 'again';

/**
 * The ids a slice emitted, shared with its halves when it is cut; let go (cleared) once the last
 * slice holding them is complete, so memory follows the slices being read, not the audience.
 */
export class EmittedIds {
  readonly ids = new Set<string>();
  private holders = 0;

  hold(): this {
    this.holders++;
    return this;
  }

  release(): void {
    this.holders--;
    if (this.holders <= 0) this.ids.clear();
  }
}

export class SliceRead {
  /** Members emitted by any attempt of this slice (shared with the halves when it is split). */
  readonly emitted: EmittedIds;
  attempt = 1;
  /** How many times the slice's ancestors were split. */
  readonly depth: number;
  private received = new Set<string>();
  private maxTotal = -1;
  private nextOffset = 0;
  private outstanding = 0;
  /** The earliest last_changed received (a lower bound when a slice without one is split). */
  lowestSeen: number | undefined;
  complete = false;

  constructor(
    readonly pass: Pass,
    readonly range: TimeRange,
    /** Members the planning expects in the slice; undefined: unknown until its first page comes. */
    private readonly estimate: number | undefined,
    options: { emitted?: EmittedIds; depth?: number } = {},
  ) {
    this.emitted = (options.emitted ?? new EmittedIds()).hold();
    this.depth = options.depth ?? 0;
  }

  /** The next offset to ask for now, or undefined (all asked, or waiting for the first total). */
  takeOffset(pageSize: number): number | undefined {
    if (this.complete) return undefined;
    // Page 0 first; then up to the largest total reported, or the planned estimate until one is.
    const limit = this.maxTotal >= 0 ? this.maxTotal : this.nextOffset === 0 ? 1 : (this.estimate ?? 0);
    if (this.nextOffset >= limit) return undefined;
    const offset = this.nextOffset;
    this.nextOffset += pageSize;
    this.outstanding++;
    return offset;
  }

  /** A page of this attempt: what to emit now (members of the pass and the range, not yet emitted). */
  accept(members: readonly RawMember[], total: number): RawMember[] {
    this.outstanding--;
    if (Number.isFinite(total)) this.maxTotal = Math.max(this.maxTotal, total);
    const emit: RawMember[] = [];
    for (const member of members) {
      const id = String(member.id);
      this.received.add(id);
      const changed = parseInstant(member.last_changed);
      if (changed !== undefined && (this.lowestSeen === undefined || changed < this.lowestSeen)) this.lowestSeen = changed;
      if (this.emitted.ids.has(id) || !belongsToPass(this.pass, member) || !inRange(this.range, member.last_changed)) continue;
      this.emitted.ids.add(id);
      emit.push(member);
    }
    return emit;
  }

  /** Every page of the attempt answered, and nothing more to ask: time for the verdict. */
  get settled(): boolean {
    return !this.complete && this.outstanding === 0 && this.maxTotal >= 0 && this.nextOffset >= this.maxTotal;
  }

  get receivedCount(): number {
    return this.received.size;
  }

  get reportedTotal(): number {
    return Math.max(0, this.maxTotal);
  }

  /** The verdict of a settled attempt; 'again' starts the next attempt. */
  verdict(): SliceVerdict {
    if (this.received.size >= this.maxTotal) {
      this.complete = true;
      this.received = new Set();
      this.emitted.release();
      return 'complete';
    }
    this.attempt++;
    this.received = new Set();
    this.maxTotal = -1;
    this.nextOffset = 0;
    return 'again';
  }
}

/** Archived members come from the archived pass only, whether or not Mailchimp lists them unfiltered. */
export function belongsToPass(pass: Pass, member: RawMember): boolean {
  return pass === 'archived' ? member.status === 'archived' : member.status !== 'archived';
}
