/** Time as a dependency: code that waits takes a Clock, so tests can drive time instead of sleeping. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/** Thrown by an interruptible wait when the run is being stopped (SIGTERM/SIGINT). */
export class InterruptedError extends Error {
  readonly code = 'ERR_INTERRUPTED';
  constructor(message = 'interrupted') {
    super(message);
    this.name = 'InterruptedError';
  }
}

/** The same clock, whose sleeps end at once (rejecting with InterruptedError) when `signal` aborts. */
export function interruptibleClock(clock: Clock, signal: AbortSignal | undefined): Clock {
  if (!signal) return clock;
  return {
    now: () => clock.now(),
    sleep: (ms) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(new InterruptedError());
        const onAbort = () => reject(new InterruptedError());
        signal.addEventListener('abort', onAbort, { once: true });
        clock.sleep(ms).then(
          () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
          (err: unknown) => {
            signal.removeEventListener('abort', onAbort);
            reject(err as Error);
          },
        );
      }),
  };
}
