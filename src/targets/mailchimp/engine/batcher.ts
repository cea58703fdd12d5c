/**
 * How records become batches: the batch filling takes people until it holds `batch_size` of
 * them, or until it has waited `flush_interval_seconds`; a person whose record comes twice in one
 * batch keeps the later record (the earlier is superseded). A closed batch goes to `start`.
 *
 * Read-ahead: until the audience knowledge has chosen between looking people up and reading the
 * whole audience, closed batches are held here, in order, so a large input is counted before
 * anyone is looked up. Once the held people (and those filling) would cost more lookups than a
 * whole read, the audience is read and the held batches start; when the input ends first, or a
 * held batch has waited `flush_interval_seconds`, they start with lookups.
 */
import type { Logger } from '../../../log/logger.js';
import type { PlanningKnowledge } from '../audience/audience-knowledge.js';
import type { DesiredMember } from '../writing/planner.js';

export interface Batch {
  /** Its unit of work in the state sequence. */
  id: number;
  members: Map<string, DesiredMember>;
  /** Set when the batch was released by time: its records have waited flush_interval_seconds. */
  dueAt?: number;
}

export type SetTimer = (fn: () => void, ms: number) => { cancel(): void };

export const defaultTimer: SetTimer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

export interface BatcherOptions {
  batchSize: number;
  /** flush_interval_seconds in ms; 0: batches close on size (and at the end) only. */
  flushMs: number;
  setTimer: SetTimer;
  knowledge: Pick<PlanningKnowledge, 'whole' | 'pages' | 'lookupLimit' | 'wholeReadIsCheaper' | 'readWholeAudience'>;
  log: Logger;
  /** The unit id of a new batch (the state sequencer's). */
  openUnit: () => number;
  /** A closed batch goes to be planned and written. */
  start: (batch: Batch) => void;
  /** An earlier record for the same person in the same batch, replaced by a later one. */
  superseded: (earlier: DesiredMember) => void;
  /** True once the run failed: closed batches are dropped instead of started. */
  stopped: () => boolean;
}

export class MemberBatcher {
  private current: Batch | null = null;
  private timer: { cancel(): void } | null = null;
  private readingAhead: boolean;
  private readonly held: Batch[] = [];
  private heldTimer: { cancel(): void } | null = null;

  constructor(private readonly o: BatcherOptions) {
    this.readingAhead = !o.knowledge.whole;
  }

  add(member: DesiredMember): void {
    if (!this.current) {
      this.current = { id: this.o.openUnit(), members: new Map() };
      this.armTimer();
    }
    const previous = this.current.members.get(member.key);
    if (previous) {
      // The last record for a person wins; the earlier one is accounted for as superseded.
      this.current.members.delete(member.key);
      this.o.superseded(previous);
    }
    this.current.members.set(member.key, member);
    if (this.current.members.size >= this.o.batchSize) this.close();
  }

  /** Closes the batch filling (by time: its writes go out without waiting again). */
  close(byTime = false): void {
    this.timer?.cancel();
    this.timer = null;
    const batch = this.current;
    if (!batch || this.o.stopped()) return;
    this.current = null;
    if (byTime) batch.dueAt = Date.now();
    if (!this.readingAhead) return this.o.start(batch);
    this.held.push(batch);
    // A held batch waits at most flush_interval_seconds, like a partial one.
    if (!this.heldTimer && this.o.flushMs > 0) this.heldTimer = this.o.setTimer(() => this.releaseHeld(true), this.o.flushMs);
  }

  /** Called between records: reads the whole audience once the held people make it cheaper. */
  async decideIfDue(): Promise<void> {
    if (!this.readingAhead) return;
    // The batch still filling counts too: a small audience is cheaper to read than its first batch.
    const people = this.held.reduce((n, b) => n + b.members.size, 0) + (this.current?.members.size ?? 0);
    if (!this.o.knowledge.wholeReadIsCheaper(people)) return;
    this.heldTimer?.cancel();
    this.heldTimer = null;
    // The read is work done for these records, not time they idle: the batch still filling must
    // not be released by its timer in the middle of it (it would be looked up, person by person).
    this.timer?.cancel();
    this.timer = null;
    this.o.log.info(`more people than ${this.o.knowledge.lookupLimit} to look up: reading the whole audience instead (${this.o.knowledge.pages} pages)`);
    await this.o.knowledge.readWholeAudience();
    this.readingAhead = false;
    this.releaseHeld();
    if (this.current) this.armTimer();
  }

  /** The input ended (or the run stops): the batch filling closes, and what is held starts with lookups. */
  finish(): void {
    this.close();
    this.readingAhead = false;
    this.releaseHeld();
  }

  /** The run failed: held batches are never started (the states after them stay unprinted). */
  abandon(): void {
    this.timer?.cancel();
    this.heldTimer?.cancel();
    this.held.length = 0;
  }

  /**
   * The id of the batch of this run not started yet that holds the person with this key. The
   * batch filling is closed now rather than on size or time: someone is waiting for it.
   */
  unstartedHolding(key: string): number | undefined {
    if (this.current?.members.has(key)) {
      const id = this.current.id;
      this.close();
      return id;
    }
    for (let i = this.held.length - 1; i >= 0; i--) {
      const batch = this.held[i] as Batch;
      if (batch.members.has(key)) return batch.id;
    }
    return undefined;
  }

  private releaseHeld(byTime = false): void {
    this.heldTimer?.cancel();
    this.heldTimer = null;
    for (const batch of this.held.splice(0)) {
      if (byTime) batch.dueAt = Date.now();
      this.o.start(batch);
    }
  }

  /** A batch that waited flush_interval_seconds is written, and whatever was held before it. */
  private armTimer(): void {
    if (this.o.flushMs > 0) this.timer = this.o.setTimer(() => (this.close(true), this.releaseHeld(true)), this.o.flushMs);
  }
}
