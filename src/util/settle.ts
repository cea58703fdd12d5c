/**
 * Waiting for work that was started together. Node ends the process (exit 1, without the run's
 * summary or its alert) when a promise rejects while nothing waits for it, so code that starts
 * several writes must never stop waiting at the first failure and walk away from the others:
 * `settleAll` waits for every one, then fails with the first failure.
 */

type Settled<T extends readonly unknown[]> = { -readonly [K in keyof T]: Awaited<T[K]> };

/**
 * Like Promise.all, but it settles only once every promise has: their values, or the first
 * rejection in the order given. Nothing it was given is left running unobserved when it fails.
 */
export async function settleAll<T extends readonly unknown[] | []>(promises: T): Promise<Settled<T>> {
  const results = await Promise.allSettled(promises);
  for (const result of results) if (result.status === 'rejected') throw result.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as Settled<T>;
}

/**
 * Marks a promise that is waited for only later (after other awaits) as observed now: a
 * rejection in between would otherwise end the process. Whoever awaits it still gets the rejection.
 */
export function awaitedLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
