import { describe, expect, it } from '@jest/globals';
import type { ErrorKind } from '../../../src/errors/index.js';
import { HttpError } from '../../../src/http/errors.js';
import {
  backoffDelay,
  classifyStatus,
  decideRetry,
  isRetryableNetworkCode,
  parseRetryAfter,
  withRetries,
  type RetryAction,
  type RetryInfo,
  type RetryOptions,
} from '../../../src/http/retry.js';

describe('classifyStatus: the retry table', () => {
  it.each<[number, RetryAction, ErrorKind]>([
    [400, 'fail', 'remote'],
    [401, 'fail', 'config'],
    [402, 'fail', 'remote'],
    [403, 'fail', 'config'],
    [404, 'fail', 'remote'],
    [408, 'retry', 'remote'],
    [409, 'fail', 'remote'],
    [413, 'fail', 'remote'],
    [429, 'rate-limited', 'remote'],
    [500, 'retry', 'remote'],
    [501, 'fail', 'remote'],
    [502, 'retry', 'remote'],
    [503, 'retry', 'remote'],
    [504, 'retry', 'remote'],
    [505, 'fail', 'remote'],
    [520, 'retry', 'remote'],
    [599, 'retry', 'remote'],
  ])('%i -> %s (%s)', (status, action, kind) => {
    expect(classifyStatus(status)).toEqual({ action, kind });
  });
});

describe('isRetryableNetworkCode', () => {
  it.each([
    ['ECONNRESET', true],
    ['ECONNREFUSED', true],
    ['ETIMEDOUT', true],
    ['EAI_AGAIN', true],
    ['EPIPE', true],
    ['UND_ERR_CONNECT_TIMEOUT', true],
    ['UND_ERR_HEADERS_TIMEOUT', true],
    ['UND_ERR_BODY_TIMEOUT', true],
    ['UND_ERR_SOCKET', true],
    ['ERR_STREAM_PREMATURE_CLOSE', true],
    ['Z_DATA_ERROR', true],
    ['ENOTFOUND', false],
    ['CERT_HAS_EXPIRED', false],
    ['ERR_INVALID_JSON', false],
    ['econnreset', false],
  ])('%s -> %s', (code, retryable) => {
    expect(isRetryableNetworkCode(code)).toBe(retryable);
  });

  it('does not retry an error without a code', () => {
    expect(isRetryableNetworkCode(undefined)).toBe(false);
  });
});

describe('backoffDelay: exponential with equal jitter', () => {
  const policy = { baseDelayMs: 1000, maxDelayMs: 60_000 };

  it.each<[number, number, number]>([
    // retry number, delay with random() = 0 (half the window), delay with random() = 1 (the whole window)
    [1, 500, 1000],
    [2, 1000, 2000],
    [3, 2000, 4000],
    [4, 4000, 8000],
    [6, 16_000, 32_000],
    [7, 30_000, 60_000],
    [20, 30_000, 60_000],
  ])('retry %i waits between %i and %i ms', (retry, low, high) => {
    expect(backoffDelay(retry, policy, () => 0)).toBe(low);
    expect(backoffDelay(retry, policy, () => 1)).toBe(high);
    expect(backoffDelay(retry, policy, () => 0.5)).toBe((low + high) / 2);
  });

  it('treats retry 0 like retry 1', () => {
    expect(backoffDelay(0, policy, () => 1)).toBe(1000);
  });

  it('never exceeds maxDelayMs, even when the base is larger', () => {
    expect(backoffDelay(1, { baseDelayMs: 10_000, maxDelayMs: 3000 }, () => 1)).toBe(3000);
  });
});

describe('parseRetryAfter', () => {
  const NOW = Date.parse('2024-01-01T00:00:00Z');

  it.each<[string, string | string[] | undefined, number | undefined]>([
    ['whole seconds', '7', 7000],
    ['zero', '0', 0],
    ['fractional seconds', '1.5', 1500],
    ['seconds with spaces around them', ' 30 ', 30_000],
    ['the first of repeated headers', ['2', '9'], 2000],
    ['an HTTP date 90 s ahead', 'Mon, 01 Jan 2024 00:01:30 GMT', 90_000],
    ['an HTTP date in the past (no wait)', 'Sun, 31 Dec 2023 23:59:00 GMT', 0],
    ['absent', undefined, undefined],
    ['empty', '', undefined],
    ['blank', '   ', undefined],
    ['garbage', 'soon', undefined],
    ['seconds with a unit', '7s', undefined],
    ['hexadecimal', '0x10', undefined],
    ['negative seconds (neither delta-seconds nor an HTTP date)', '-1', undefined],
  ])('%s: %j -> %s', (_case, header, expected) => {
    expect(parseRetryAfter(header, NOW)).toBe(expected);
  });
});

function httpError(status: number, extra: { retryAfterMs?: number; serviceMessage?: string } = {}): HttpError {
  return new HttpError({ method: 'GET', url: 'https://api.example.test/x', status, ...extra });
}

function networkError(code: string): HttpError {
  return new HttpError({ method: 'GET', url: 'https://api.example.test/x', code });
}

describe('decideRetry', () => {
  it.each<[string, unknown, { retry: boolean; rateLimited?: boolean; delayMs?: number; reason: string }]>([
    ['a 503', httpError(503), { retry: true, rateLimited: false, reason: '503' }],
    ['a 404 with the service message', httpError(404, { serviceMessage: 'no such project' }), { retry: false, rateLimited: false, reason: '404 (no such project)' }],
    ['a 429 with Retry-After', httpError(429, { retryAfterMs: 7000 }), { retry: true, rateLimited: true, delayMs: 7000, reason: '429' }],
    ['a 429 without Retry-After', httpError(429), { retry: true, rateLimited: true, reason: '429' }],
    ['a 401', httpError(401), { retry: false, rateLimited: false, reason: '401' }],
    ['a connection reset', networkError('ECONNRESET'), { retry: true, reason: 'ECONNRESET' }],
    ['a DNS failure', networkError('ENOTFOUND'), { retry: false, reason: 'ENOTFOUND' }],
    ['a raw error with a retryable code', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), { retry: true, reason: 'ECONNRESET' }],
    ['a raw error without a code', new Error('boom'), { retry: false, reason: 'Error: boom' }],
    ['null', null, { retry: false, reason: 'null' }],
  ])('%s', (_case, err, decision) => {
    expect(decideRetry(err)).toEqual(decision);
  });

  it('keeps the reason short when the service message is long', () => {
    expect(decideRetry(httpError(500, { serviceMessage: 'x'.repeat(500) })).reason).toBe(`500 (${'x'.repeat(120)})`);
  });
});

describe('withRetries', () => {
  const RETRY: RetryOptions = { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryAfterMs: 10_000 };

  /** An operation that fails with the given errors in turn, then succeeds. */
  function failingWith(...errors: unknown[]): { operation: (attempt: number) => Promise<string>; attempts: number[] } {
    const attempts: number[] = [];
    return {
      attempts,
      operation: async (attempt) => {
        attempts.push(attempt);
        const error = errors[attempt - 1];
        if (error !== undefined) throw error;
        return `ok after ${attempt}`;
      },
    };
  }

  function loop(random = () => 0) {
    const sleeps: number[] = [];
    const retries: RetryInfo[] = [];
    return {
      sleeps,
      retries,
      options: {
        retry: RETRY,
        sleep: async (ms: number) => void sleeps.push(ms),
        random,
        onRetry: (info: RetryInfo) => void retries.push(info),
      },
    };
  }

  it('returns at once when the first attempt succeeds', async () => {
    const { operation } = failingWith();
    const { options, sleeps } = loop();
    await expect(withRetries(operation, options)).resolves.toBe('ok after 1');
    expect(sleeps).toEqual([]);
  });

  it('succeeds after N failures, backing off longer each time', async () => {
    const { operation, attempts } = failingWith(httpError(503), httpError(502), networkError('ECONNRESET'));
    const { options, sleeps, retries } = loop();
    await expect(withRetries(operation, options)).resolves.toBe('ok after 4');
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(sleeps).toEqual([500, 1000, 2000]);
    expect(retries.map((r) => [r.attempt, r.delayMs, r.decision.reason])).toEqual([
      [1, 500, '503'],
      [2, 1000, '502'],
      [3, 2000, 'ECONNRESET'],
    ]);
  });

  it('uses the random source for the jitter', async () => {
    const { operation } = failingWith(httpError(500), httpError(500));
    const { options, sleeps } = loop(() => 1);
    await withRetries(operation, options);
    expect(sleeps).toEqual([1000, 2000]);
  });

  it('stops at the first error that is not worth retrying, and throws it as it is', async () => {
    const notFound = httpError(404);
    const { operation, attempts } = failingWith(httpError(503), notFound);
    const { options, sleeps } = loop();
    await expect(withRetries(operation, options)).rejects.toBe(notFound);
    expect(attempts).toEqual([1, 2]);
    expect(sleeps).toEqual([500]);
  });

  it('stops after maxAttempts and throws the last error', async () => {
    const last = httpError(503, { serviceMessage: 'fourth' });
    const { operation, attempts } = failingWith(httpError(503), httpError(503), httpError(503), last, httpError(503));
    const { options, sleeps } = loop();
    await expect(withRetries(operation, options)).rejects.toBe(last);
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(sleeps).toEqual([500, 1000, 2000]);
  });

  it('waits for Retry-After instead of the back-off', async () => {
    const { operation } = failingWith(httpError(429, { retryAfterMs: 7000 }), httpError(503));
    const { options, sleeps, retries } = loop();
    await withRetries(operation, options);
    expect(sleeps).toEqual([7000, 1000]);
    expect(retries[0]?.decision.rateLimited).toBe(true);
  });

  it('caps Retry-After at maxRetryAfterMs', async () => {
    const { operation } = failingWith(httpError(429, { retryAfterMs: 3_600_000 }));
    const { options, sleeps } = loop();
    await withRetries(operation, options);
    expect(sleeps).toEqual([10_000]);
  });

  it('backs off as usual on a 429 without Retry-After', async () => {
    const { operation } = failingWith(httpError(429));
    const { options, sleeps } = loop();
    await withRetries(operation, options);
    expect(sleeps).toEqual([500]);
  });

  it('never retries with maxAttempts 1', async () => {
    const { operation, attempts } = failingWith(httpError(503));
    const { options } = loop();
    await expect(withRetries(operation, { ...options, retry: { ...RETRY, maxAttempts: 1 } })).rejects.toBeInstanceOf(HttpError);
    expect(attempts).toEqual([1]);
  });

  it('asks a custom decide function when one is given', async () => {
    const { operation, attempts } = failingWith('flaky', 'flaky');
    const { options, sleeps } = loop();
    await withRetries(operation, { ...options, decide: () => ({ retry: true, delayMs: 42, reason: 'custom' }) });
    expect(attempts).toEqual([1, 2, 3]);
    expect(sleeps).toEqual([42, 42]);
  });
});
