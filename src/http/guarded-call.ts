/**
 * One guarded call, whatever the transport: take a budget slot, run, classify a failure with the
 * retry table, wait (Retry-After wins, and pauses the whole budget), try again; finally turn a
 * 401/403 into a config error with a sentence the user can act on.
 */
import { ConfigError } from '../errors/index.js';
import type { Logger } from '../log/logger.js';
import { formatDuration, type RequestBudget } from './budget.js';
import type { Clock } from './clock.js';
import { HttpError } from './errors.js';
import { withRetries, type RetryDecision, type RetryInfo, type RetryOptions } from './retry.js';

export interface GuardOptions {
  /** For log lines, e.g. "Mixpanel export". */
  name: string;
  budget?: RequestBudget;
  retry: RetryOptions;
  clock: Clock;
  random?: () => number;
  log: Logger;
  describeAuthFailure?: (status: number) => string;
  /** The service's own reading of a final failure (a plan limit, a known 400), or undefined to keep it. */
  translateError?: (err: HttpError) => Error | undefined;
  /** The service's own retry reading, where it differs from the table (Mailchimp's bare 403 throttle). */
  decide?: (err: unknown) => RetryDecision;
  /** Told of every retry (a RetryCounter for the run's warning threshold); it must not throw. */
  onRetry?: (info: RetryInfo) => void;
}

export interface CallTarget {
  method: string;
  /** Path for log lines (no query: it may hold parameters the user would rather not see). */
  path: string;
  countsTowardRate?: boolean;
  /** Keep the budget slot after success; the attempt must release it (streaming bodies). */
  holdSlot?: boolean;
}

export async function guardedCall<T>(
  target: CallTarget,
  options: GuardOptions,
  attempt: (release: () => void) => Promise<T>,
  toError: (err: unknown) => unknown,
): Promise<T> {
  try {
    return await withRetries(
      async () => {
        const release = options.budget ? await options.budget.acquire({ countsTowardRate: target.countsTowardRate ?? true }) : () => undefined;
        try {
          const result = await attempt(release);
          if (!target.holdSlot) release();
          return result;
        } catch (err) {
          release();
          throw toError(err);
        }
      },
      {
        retry: options.retry,
        sleep: (ms) => options.clock.sleep(ms),
        ...(options.decide ? { decide: options.decide } : {}),
        ...(options.random ? { random: options.random } : {}),
        onRetry: (info) => {
          const { attempt: n, delayMs, decision } = info;
          options.onRetry?.(info);
          if (decision.rateLimited && decision.delayMs !== undefined) {
            options.budget?.pauseUntil(options.clock.now() + delayMs, `Retry-After on ${target.method} ${target.path}`);
          }
          const retry = `retry ${n} of ${options.retry.maxAttempts - 1}`;
          if (decision.rateLimited) {
            const asked = decision.delayMs !== undefined ? `Retry-After asked for ${formatDuration(decision.delayMs)}` : 'no Retry-After: backing off';
            options.log.warn(
              `${options.name}: rate limited on ${target.method} ${target.path} (${decision.reason}); waiting ${formatDuration(delayMs)} (${asked}, plus jitter) before ${retry}`,
            );
          } else {
            options.log.warn(`${options.name}: ${target.method} ${target.path} failed (${decision.reason}); ${retry} in ${formatDuration(delayMs)}`);
          }
        },
      },
    );
  } catch (err) {
    if (err instanceof HttpError) {
      const translated = options.translateError?.(err);
      if (translated) throw translated;
    }
    if (err instanceof HttpError && (err.status === 401 || err.status === 403) && !options.decide?.(err).retry) {
      const sentence = options.describeAuthFailure?.(err.status) ?? `${options.name} rejected the credentials (${err.status})`;
      throw new ConfigError(`${sentence}${err.serviceMessage ? ` (the service said: ${err.serviceMessage})` : ''}`, { cause: err });
    }
    throw err;
  }
}
