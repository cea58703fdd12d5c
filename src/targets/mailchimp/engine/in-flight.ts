/**
 * Units of work on their way to Mailchimp: which are in flight, the first failure, and how much
 * room reading has. A unit that settles is reported to the sequencer (finished, or failed); the
 * promise `track` returns settles either way and never rejects, so nothing waits on a rejection
 * nobody handles. Reading pauses while too many units, or too many write operations, are in
 * flight: memory follows the writes on their way, not the input.
 */
import type { Logger } from '../../../log/logger.js';
import type { Tally } from '../reports/outcomes.js';
import type { StateSequencer } from './sequencer.js';

/** Where a unit came from in the input, for the report and the alert of a failure. */
export interface UnitOrigin {
  what: 'members' | 'cohort tags' | 'archive';
  firstLine: number;
  lastLine: number;
  people: number;
}

export interface InFlightOptions {
  sequencer: StateSequencer;
  tally: Tally;
  log: Logger;
  /** Called whenever a unit settled: states may have become due. */
  onSettled: () => void;
  /** Units in flight at once; reading pauses at this many. */
  maxUnits: number;
  /** Write operations on their way at most (reading pauses above it). */
  maxWrites?: number;
  /** Asks the writer to send what it holds if nothing it sent is still on its way. */
  flushWrites?: () => void;
  /** Settles the next time the writer has nothing on its way. */
  writesIdle?: () => Promise<void>;
}

export class WorkInFlight {
  /** The first failure: the run stops reading and no state after it is printed. */
  fatal: unknown = null;
  /** Write operations of the units in flight that are on their way. */
  writes = 0;
  private readonly units = new Map<number, Promise<void>>();

  constructor(private readonly o: InFlightOptions) {}

  get size(): number {
    return this.units.size;
  }

  /** Records a failure that is not a unit's (the state output closed, say). */
  failWith(err: unknown): void {
    this.fatal ??= err;
  }

  /**
   * Watches a unit's writes. `origin` is read when it fails (a unit lets go of its people as
   * they are accounted for). The result settles once the unit is accounted for, never rejecting.
   */
  track(unit: number, written: Promise<void>, origin: () => UnitOrigin): Promise<void> {
    const settled = written.then(
      () => {
        this.units.delete(unit);
        this.o.sequencer.finish(unit);
        this.o.onSettled();
      },
      (err: unknown) => {
        this.units.delete(unit);
        this.o.sequencer.fail(unit);
        this.fatal ??= err;
        const where = origin();
        this.o.tally.failedBatch ??= { id: unit, ...where };
        if (where.what === 'members') this.o.log.error(`batch ${unit} failed: no state after it will be printed`, { members: where.people });
        else this.o.log.error(`batch ${unit} (${where.what}) failed: no state after it will be printed`);
      },
    );
    this.units.set(unit, settled);
    return settled;
  }

  /** Waits while the units or the writes in flight are at their limits (not after a failure). */
  async waitForRoom(): Promise<void> {
    const maxWrites = this.o.maxWrites ?? Number.POSITIVE_INFINITY;
    const full = (): boolean => this.units.size >= this.o.maxUnits || (this.units.size > 0 && this.writes >= maxWrites);
    while (full() && !this.fatal) {
      // Units in flight may be waiting for operations still queued: send them when nothing else will free room.
      this.o.flushWrites?.();
      await Promise.race([...this.units.values(), ...(this.o.writesIdle ? [this.o.writesIdle()] : [])]);
    }
  }

  /** Settles when the units in flight now are accounted for (not those started later). */
  settledSoFar(): Promise<void> {
    return Promise.all([...this.units.values()]).then(() => undefined);
  }

  /** Settles when every unit in flight (and any started meanwhile) is accounted for. */
  async drain(): Promise<void> {
    while (this.units.size > 0) await Promise.all([...this.units.values()]);
  }
}
