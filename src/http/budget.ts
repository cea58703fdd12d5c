/**
 * Request budgets: at most `maxConcurrent` requests in flight and at most `limit` request
 * starts in any sliding window of `intervalMs` (several windows at once, e.g. Mixpanel's
 * export API: 3 per second and 60 per hour). One budget is shared by every stream that calls
 * the same host family, so together they stay under the service's limits instead of each
 * discovering them with a 429.
 *
 * Waiters are served first come, first served. A 429 with Retry-After pauses the whole budget.
 */
import { createLogger, type Logger } from '../log/logger.js';
import { systemClock, type Clock } from './clock.js';

export interface RateWindow {
  limit: number;
  intervalMs: number;
  /**
   * Extra length we give the window on our side (not shown in logs): the service counts a
   * request when it arrives, and network delays differ between requests.
   */
  slackMs?: number;
}

const spanOf = (w: RateWindow): number => w.intervalMs + (w.slackMs ?? 0);

export interface BudgetOptions {
  name: string;
  maxConcurrent?: number;
  windows?: RateWindow[];
  clock?: Clock;
  logger?: Logger;
}

export type Release = () => void;

export interface AcquireOptions {
  /** False for requests the service does not count (engage pages after the first). */
  countsTowardRate?: boolean;
}

function describeWindow(window: RateWindow): string {
  const units: Array<[number, string]> = [
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [ms, unit] of units) {
    if (window.intervalMs % ms === 0) {
      const n = window.intervalMs / ms;
      return `${window.limit} requests per ${n === 1 ? unit : `${n} ${unit}s`}`;
    }
  }
  return `${window.limit} requests per ${window.intervalMs} ms`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export class RequestBudget {
  readonly name: string;
  private readonly maxConcurrent: number;
  private readonly windows: RateWindow[];
  /** Start times of counted requests, oldest first; kept for the longest window. */
  private readonly starts: number[] = [];
  private readonly clock: Clock;
  private readonly log: Logger;
  private inFlight = 0;
  private pausedUntil = 0;
  private pauseReason = '';
  private slotWaiters: Array<() => void> = [];
  private turn: Promise<void> = Promise.resolve();
  /** Counters for the run summary and for tests. */
  readonly stats = { granted: 0, waitedMs: 0 };

  constructor(options: BudgetOptions) {
    this.name = options.name;
    this.maxConcurrent = options.maxConcurrent ?? Infinity;
    this.windows = [...(options.windows ?? [])].filter((w) => w.limit > 0 && w.intervalMs > 0);
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? createLogger('http.budget');
  }

  /** Waits for a slot; the returned function gives it back (call it exactly once). */
  async acquire(options: AcquireOptions = {}): Promise<Release> {
    const mine = this.turn.then(() => this.waitForSlot(options.countsTowardRate ?? true));
    this.turn = mine.catch(() => undefined);
    await mine;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      const next = this.slotWaiters.shift();
      next?.();
    };
  }

  /** Stops granting slots until `untilMs` (epoch ms): the service told us to wait. */
  pauseUntil(untilMs: number, reason: string): void {
    if (untilMs > this.pausedUntil) {
      this.pausedUntil = untilMs;
      this.pauseReason = reason;
    }
  }

  /** How long a counted request starting now would have to wait for the rate windows. */
  rateWaitMs(now: number): number {
    const longest = Math.max(0, ...this.windows.map(spanOf));
    while (this.starts.length > 0 && (this.starts[0] as number) <= now - longest) this.starts.shift();
    return Math.max(0, ...this.windows.map((w) => this.rateWaitMsFor(w, now)));
  }

  private async waitForSlot(counts: boolean): Promise<void> {
    for (;;) {
      if (this.inFlight >= this.maxConcurrent) {
        await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
        continue;
      }
      const now = this.clock.now();
      if (now < this.pausedUntil) {
        const wait = this.pausedUntil - now;
        this.note(wait, `the service asked us to wait (${this.pauseReason})`);
        await this.clock.sleep(wait);
        continue;
      }
      if (counts) {
        const wait = this.rateWaitMs(now);
        if (wait > 0) {
          const full = this.windows.filter((w) => this.rateWaitMsFor(w, now) > 0).map(describeWindow);
          this.note(wait, `the ${this.name} limit of ${full.join(' and ')}`);
          await this.clock.sleep(wait);
          continue;
        }
        if (this.windows.length > 0) this.starts.push(now);
      }
      this.inFlight++;
      this.stats.granted++;
      return;
    }
  }

  /** For one window: when the limit-th most recent start leaves it, a new start fits. */
  private rateWaitMsFor(window: RateWindow, now: number): number {
    let count = 0;
    const span = spanOf(window);
    for (let i = this.starts.length - 1; i >= 0; i--) {
      const start = this.starts[i] as number;
      if (start <= now - span) break;
      if (++count >= window.limit) return start + span - now;
    }
    return 0;
  }

  private note(waitMs: number, what: string): void {
    this.stats.waitedMs += waitMs;
    const message = `waiting ${formatDuration(waitMs)} for ${what}`;
    if (waitMs >= 1000) this.log.info(message, { budget: this.name });
    else this.log.debug(message, { budget: this.name });
  }
}
