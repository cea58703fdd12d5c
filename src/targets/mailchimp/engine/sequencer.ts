/**
 * The state sequencer: the one place that decides when a state may be printed.
 *
 * The rule: a state is printed only after every unit of work read before it has finished, and
 * never after a unit that failed. A unit is whatever writes a stretch of the input (a planning
 * batch of people, a group of cohort tag writes): it is opened when its first record is read,
 * so a state read while a unit is still filling waits for that unit too. Units finish in any
 * order; states go out in input order, and when several are due at once only the latest is
 * printed (each state replaces the ones before it). A failed unit blocks every state after it
 * for good; so does a unit that is dropped without finishing (the run stopped before starting
 * it). A hold (a configured stream the input has not shown yet, say) keeps every state back
 * until it lifts; the rule still decides which may go out then.
 *
 * Pure bookkeeping: no I/O, no timers. The caller prints what `due()` returns.
 */
export class StateSequencer {
  private nextUnit = 1;
  /** Every unit with an id at or below this has finished. */
  private doneUpTo = 0;
  private readonly finishedAhead = new Set<number>();
  private failedUnit: number | undefined;
  /** States read, oldest first, each with the last unit opened before it. */
  private readonly waiting: Array<{ text: string; after: number }> = [];
  private holds = 0;

  /** A unit of work starts with a record read now; returns its id. */
  open(): number {
    return this.nextUnit++;
  }

  /** The unit opened last (0 when none was): what a state read now waits for. */
  get lastOpened(): number {
    return this.nextUnit - 1;
  }

  /** The unit's writes are all confirmed (or accounted for). */
  finish(unit: number): void {
    if (unit <= this.doneUpTo || unit >= this.nextUnit || unit === this.failedUnit) return;
    this.finishedAhead.add(unit);
    while (this.finishedAhead.delete(this.doneUpTo + 1)) this.doneUpTo++;
  }

  /** The unit failed for good: no state read after it is ever due. */
  fail(unit: number): void {
    if (unit <= this.doneUpTo) return;
    if (this.failedUnit === undefined || unit < this.failedUnit) this.failedUnit = unit;
    this.finishedAhead.delete(unit);
  }

  get failed(): boolean {
    return this.failedUnit !== undefined;
  }

  /** A state read now: it waits for every unit opened so far. */
  state(text: string): void {
    this.waiting.push({ text, after: this.lastOpened });
  }

  /** Keeps every state back until `release` is called as many times. */
  hold(): void {
    this.holds++;
  }

  release(): void {
    this.holds = Math.max(0, this.holds - 1);
  }

  get held(): boolean {
    return this.holds > 0;
  }

  /** States read and not printed yet. */
  get pending(): number {
    return this.waiting.length;
  }

  /** The latest state that may be printed now (the ones before it are dropped), or undefined. */
  due(): string | undefined {
    if (this.holds > 0) return undefined;
    let latest: string | undefined;
    while (this.waiting.length > 0 && (this.waiting[0] as { after: number }).after <= this.doneUpTo) latest = this.waiting.shift()?.text;
    return latest;
  }
}
