/**
 * Clocks for tests: time moves only when a test says so, and every wait is recorded, so
 * back-off and rate limits are checked by the delays asked for, never by sleeping.
 */
import type { Clock } from '../../../src/http/clock.js';

/** Every sleep advances time at once by the amount asked for and is recorded. */
export class AutoAdvanceClock implements Clock {
  readonly sleeps: number[] = [];

  constructor(private current = 0) {}

  now(): number {
    return this.current;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.current += Math.max(0, ms);
  }
}

interface Sleeper {
  until: number;
  resolve: () => void;
}

/** Sleeps stay pending until the test advances time past their end. */
export class ManualClock implements Clock {
  readonly sleeps: number[] = [];
  private readonly sleepers: Sleeper[] = [];
  private readonly sleepWatchers: Array<{ count: number; resolve: () => void }> = [];

  constructor(private current = 0) {}

  now(): number {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    const promise = new Promise<void>((resolve) => this.sleepers.push({ until: this.current + Math.max(0, ms), resolve }));
    for (const watcher of [...this.sleepWatchers]) {
      if (this.sleeps.length >= watcher.count) {
        this.sleepWatchers.splice(this.sleepWatchers.indexOf(watcher), 1);
        watcher.resolve();
      }
    }
    return promise;
  }

  /** Resolves once `count` sleeps in total have been asked for. */
  sleepsRequested(count: number): Promise<void> {
    if (this.sleeps.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.sleepWatchers.push({ count, resolve }));
  }

  /** Moves time forward and wakes every sleeper whose end has come. */
  advance(ms: number): void {
    this.current += ms;
    for (const sleeper of [...this.sleepers]) {
      if (sleeper.until <= this.current) {
        this.sleepers.splice(this.sleepers.indexOf(sleeper), 1);
        sleeper.resolve();
      }
    }
  }
}

/** Lets every promise callback that is ready run (one turn of the event loop). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
