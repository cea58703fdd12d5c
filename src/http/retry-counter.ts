/**
 * Counts the retries a service forced on a run by answering 5xx or 429, for the warning sent
 * when a run needed more of them than alert_retry_threshold. A small observer: clients take
 * its `observe` as their onRetry hook; network retries (resets, timeouts) are not counted here.
 */
import { HttpError } from './errors.js';
import type { RetryInfo } from './retry.js';

export class RetryCounter {
  /** Retries after a 5xx or 429 answer. */
  total = 0;
  private readonly byStatus = new Map<number, number>();

  readonly observe = (info: Pick<RetryInfo, 'error'>): void => {
    const status = info.error instanceof HttpError ? info.error.status : undefined;
    if (status === undefined || !(status === 429 || status >= 500)) return;
    this.total++;
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  };

  /** e.g. "503 x10, 429 x2", most frequent first. */
  describe(): string {
    return [...this.byStatus.entries()]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .map(([status, n]) => `${status} x${n}`)
      .join(', ');
  }
}
