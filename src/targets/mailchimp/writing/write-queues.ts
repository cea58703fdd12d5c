/**
 * The two write queues of a load, made from the settings, and how the loader drives them: new
 * people go to batch subscribe calls (SubscribeQueue), changes to existing people go out as
 * direct calls or batch operations (OperationQueue).
 */
import type { Logger } from '../../../log/logger.js';
import type { MailchimpApi } from '../api/api.js';
import type { TargetConfig } from '../config.js';
import { OperationQueue } from './batch-queue.js';
import { SubscribeQueue } from './subscribe-queue.js';

export interface WriteQueues {
  queue: OperationQueue;
  subscribe: SubscribeQueue;
  /** Only when nothing sent is on its way would nothing free a stalled loader: then send what is queued. */
  flushWrites(): void;
  /** Settles the next time either queue has nothing on its way. */
  writesIdle(): Promise<void>;
  /** No more input: both queues send what they hold, and later writes at once. */
  finishWrites(): void;
}

export function createWriteQueues(api: MailchimpApi, config: TargetConfig, log: Logger): WriteQueues {
  const flushMs = Math.max(0, config.flush_interval_seconds) * 1000;
  const queue = new OperationQueue({
    api,
    log,
    maxOperations: config.bulk_batch_size,
    directBelow: config.bulk_threshold === 0 ? Number.POSITIVE_INFINITY : config.bulk_threshold,
    flushMs,
    concurrency: config.max_concurrency,
  });
  const subscribe = new SubscribeQueue({ api, listId: config.list_id, log, flushMs });
  return {
    queue,
    subscribe,
    flushWrites: () => {
      if (!subscribe.idleNow || !queue.idleNow) return;
      subscribe.flush();
      queue.flush();
    },
    writesIdle: () => Promise.race([queue.nextIdle(), subscribe.nextIdle()]),
    finishWrites: () => {
      subscribe.finish();
      queue.finish();
    },
  };
}

/**
 * How much may be on its way at once. Enough writes for a batch operation at Mailchimp and the
 * next one filling (bulk_batch_size operations each; a person with a merge-field and a tag change
 * is two): more would only hold memory, as Mailchimp runs one batch at a time.
 */
export function writeLimits(config: TargetConfig): { maxBatchesInFlight: number; maxWritesInFlight: number } {
  return {
    maxBatchesInFlight: Math.max(config.max_concurrency, Math.ceil((8 * config.bulk_batch_size) / config.batch_size)),
    maxWritesInFlight: Math.max(config.batch_size, 2 * config.bulk_batch_size),
  };
}
