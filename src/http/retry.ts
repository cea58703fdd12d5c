/**
 * What to do about a failed request: the retry table, the back-off, and a retry loop that
 * any transport can use (undici for Mixpanel, the official client for Mailchimp).
 */
import type { ErrorKind } from '../errors/index.js';
import { HttpError } from './errors.js';

export type RetryAction = 'retry' | 'rate-limited' | 'fail';

export interface StatusRule {
  action: RetryAction;
  kind: ErrorKind;
}

/** The retry table: response status -> action and error kind. */
export function classifyStatus(status: number): StatusRule {
  if (status === 429) return { action: 'rate-limited', kind: 'remote' };
  if (status === 401 || status === 403) return { action: 'fail', kind: 'config' };
  if (status === 408) return { action: 'retry', kind: 'remote' };
  if (status === 501 || status === 505) return { action: 'fail', kind: 'remote' };
  if (status >= 500) return { action: 'retry', kind: 'remote' };
  return { action: 'fail', kind: 'remote' };
}

/** Network failures worth another try: resets, timeouts, refused connections, DNS hiccups. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RESPONSE_STATUS_CODE',
  'Z_BUF_ERROR',
  'Z_DATA_ERROR',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

export function isRetryableNetworkCode(code: string | undefined): boolean {
  return code !== undefined && RETRYABLE_NETWORK_CODES.has(code);
}

export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Exponential back-off with "equal jitter": half the window fixed, half random, so retries
 * from many clients spread out but never retry at once.
 */
export function backoffDelay(retryNumber: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const window = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retryNumber - 1));
  return Math.round(window / 2 + random() * (window / 2));
}

/**
 * The wait for a Retry-After: at least what the service asked, plus up to 10% (at most 2 s) of
 * jitter, so clients told the same second do not all come back at once.
 */
export function retryAfterDelay(retryAfterMs: number, random: () => number = Math.random): number {
  return Math.round(retryAfterMs + random() * Math.min(2000, Math.max(100, retryAfterMs * 0.1)));
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. Undefined when absent or unusable. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // Only an HTTP date (e.g. "Wed, 21 Oct 2015 07:28:00 GMT"): Date.parse accepts too much ("-1" is a year).
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export interface RetryDecision {
  retry: boolean;
  /** Wait this long instead of the back-off (the service's Retry-After). */
  delayMs?: number;
  rateLimited?: boolean;
  reason: string;
}

/** Decision for an error thrown by a request, based on the table above. */
export function decideRetry(err: unknown): RetryDecision {
  if (err instanceof HttpError) {
    if (err.status !== undefined) {
      const rule = classifyStatus(err.status);
      return {
        retry: rule.action !== 'fail',
        rateLimited: rule.action === 'rate-limited',
        ...(err.retryAfterMs !== undefined ? { delayMs: err.retryAfterMs } : {}),
        reason: `${err.status}${err.serviceMessage ? ` (${err.serviceMessage.slice(0, 120)})` : ''}`,
      };
    }
    return { retry: isRetryableNetworkCode(err.code), reason: err.code ?? 'network error' };
  }
  const code = (err as { code?: unknown } | null)?.code;
  return { retry: isRetryableNetworkCode(typeof code === 'string' ? code : undefined), reason: String(code ?? err) };
}

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  decision: RetryDecision;
  error: unknown;
}

export interface RetryOptions extends BackoffPolicy {
  /** Total attempts, the first one included. */
  maxAttempts: number;
  /** Longest Retry-After we honour as such; longer ones are capped (and logged by the caller). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 6,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 3_600_000,
};

export interface RetryLoopOptions {
  retry: RetryOptions;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  decide?: (err: unknown) => RetryDecision;
  onRetry?: (info: RetryInfo) => void;
}

/**
 * Runs `operation` until it succeeds, fails with something not worth retrying, or runs out of
 * attempts; then the last error is thrown as it is.
 */
export async function withRetries<T>(operation: (attempt: number) => Promise<T>, options: RetryLoopOptions): Promise<T> {
  const decide = options.decide ?? decideRetry;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (err) {
      const decision = decide(err);
      if (!decision.retry || attempt >= options.retry.maxAttempts) throw err;
      const delayMs =
        decision.delayMs !== undefined
          ? retryAfterDelay(Math.min(decision.delayMs, options.retry.maxRetryAfterMs), options.random)
          : backoffDelay(attempt, options.retry, options.random);
      options.onRetry?.({ attempt, delayMs, decision, error: err });
      await options.sleep(delayMs);
    }
  }
}
