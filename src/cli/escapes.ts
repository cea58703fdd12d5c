/**
 * Errors that escape every await: a promise that rejected with nobody waiting for it, or an
 * exception thrown from a timer or an event handler. Node's default is to print the stack and
 * exit 1 on the spot, which the README reserves for configuration mistakes, and which skips the
 * run's summary and its failure alert. The exit point (run.ts) watches for them instead and ends
 * the run as an internal error, through the same path as every other failure.
 */
import { errorMessage } from '../errors/index.js';

export type EscapeOrigin = 'unhandledRejection' | 'uncaughtException';

/** An escaped error, as the exit point reports it: an internal error (a bug), with the original as cause. */
export class EscapedError extends Error {
  constructor(
    readonly origin: EscapeOrigin,
    readonly original: unknown,
  ) {
    super(`${origin === 'unhandledRejection' ? 'a promise failed with nobody waiting for it' : 'an uncaught exception'}: ${errorMessage(original)}`, { cause: original });
    this.name = 'EscapedError';
    // The stack that helps is where the original was thrown.
    if (original instanceof Error && original.stack) this.stack = `${this.name}: ${this.message}\n(original) ${original.stack}`;
  }
}

/** The process events watched; a parameter so that tests can use an emitter of their own. */
export type EscapeSource = Pick<NodeJS.Process, 'on' | 'off'>;

export class EscapeWatch {
  private readonly waiters = new Set<(err: EscapedError) => void>();
  private readonly onRejection = (reason: unknown): void => this.take(new EscapedError('unhandledRejection', reason));
  private readonly onException = (err: unknown): void => this.take(new EscapedError('uncaughtException', err));

  /**
   * `onLater` hears of an escaped error while no work is watched (see `during`): the run is
   * already ending another way, so the error is only reported.
   */
  constructor(
    private readonly source: EscapeSource,
    private readonly onLater: (err: EscapedError) => void,
  ) {
    source.on('unhandledRejection', this.onRejection);
    source.on('uncaughtException', this.onException);
  }

  /** Settles as `work` does, unless an error escapes first: then it fails with that (the work is abandoned). */
  async during<T>(work: Promise<T>): Promise<T> {
    let waiter = (_err: EscapedError): void => undefined;
    const escaped = new Promise<never>((_resolve, reject) => (waiter = reject));
    this.waiters.add(waiter);
    try {
      return await Promise.race([work, escaped]);
    } finally {
      this.waiters.delete(waiter);
    }
  }

  private take(err: EscapedError): void {
    if (this.waiters.size === 0) return this.onLater(err);
    for (const waiter of this.waiters) waiter(err);
  }

  /** Stops watching (Node's own handling applies again). */
  stop(): void {
    this.source.off('unhandledRejection', this.onRejection);
    this.source.off('uncaughtException', this.onException);
  }
}
