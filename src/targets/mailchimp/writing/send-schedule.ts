/**
 * What the two write queues (operations, batch subscribe) share about time: when to send what
 * they hold, and telling a waiting loader that nothing they sent is on its way any more.
 */

/** Sends at the earliest deadline asked for, or on the next turn (what one turn queues goes together). */
export class SendSchedule {
  private timer: NodeJS.Timeout | null = null;
  private at = Number.POSITIVE_INFINITY;
  private soon: NodeJS.Immediate | null = null;

  constructor(
    private readonly send: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Sends by `dueAt` at the latest (a later deadline than one already set changes nothing). */
  by(dueAt: number): void {
    if (dueAt >= this.at) return;
    if (this.timer) clearTimeout(this.timer);
    this.at = dueAt;
    this.timer = setTimeout(this.send, Math.max(0, dueAt - this.now()));
  }

  nextTurn(): void {
    this.soon ??= setImmediate(this.send);
  }

  /** Nothing is scheduled any more (the queue is sending now). */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.at = Number.POSITIVE_INFINITY;
    if (this.soon) clearImmediate(this.soon);
    this.soon = null;
  }
}

/** A promise that settles the next time a queue has nothing on its way (never at once). */
export class IdleSignal {
  private pending: { promise: Promise<void>; wake: () => void } | null = null;

  next(): Promise<void> {
    if (!this.pending) {
      let wake = (): void => undefined;
      const promise = new Promise<void>((resolve) => (wake = resolve));
      this.pending = { promise, wake };
    }
    return this.pending.promise;
  }

  wake(): void {
    const pending = this.pending;
    this.pending = null;
    pending?.wake();
  }
}
