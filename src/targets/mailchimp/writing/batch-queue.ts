/**
 * Member operations in bulk, through Mailchimp's batch operations: queued operations are sent
 * as one POST /batches of up to `maxOperations`, the batch is polled until Mailchimp has
 * finished it, and its results archive is read; each operation's promise then settles with its
 * own answer, exactly as a direct call would have answered.
 *
 *   flush      when `maxOperations` are queued, when the earliest queued operation is due (the
 *              caller's deadline, or `flushMs` after it was queued), or when the loader asks (its
 *              input ended, it waits for room, it is stopping);
 *   direct     a flush of fewer than `directBelow` operations sends them as their own calls:
 *              a batch costs a submit, some polls and a download, and waits in Mailchimp's queue;
 *   polling    Mailchimp runs one batch at a time per account, so only the oldest unfinished
 *              batch is polled; the first wait follows the pace of the last finished batch, later
 *              ones the batch's own progress (0.25 s to 30 s);
 *   retries    an operation answered 5xx or 429 inside the results, or missing from them (a
 *              silent answer is no confirmation), is queued again, `attempts` times in all; its
 *              last answer is returned then. A batch that cannot be submitted, polled or read after
 *              the HTTP layer's own retries fails every operation in it (the run stops; no state
 *              after them is printed).
 */
import pLimit from 'p-limit';
import { RemoteError } from '../../../errors/index.js';
import type { Logger } from '../../../log/logger.js';
import type { BatchStatus, MailchimpApi } from '../api/api.js';
import { IdleSignal, SendSchedule } from './send-schedule.js';
import { asBatchOperation, isTransient, parseResponse, runDirect, type MemberOperation, type OperationAnswer } from './operations.js';

export interface QueueOptions {
  api: MailchimpApi;
  log: Logger;
  maxOperations: number;
  directBelow: number;
  flushMs: number;
  /** Direct calls in flight at once. */
  concurrency: number;
  attempts?: number;
  pollMinMs?: number;
  pollMaxMs?: number;
  /** Batches submitted and not yet read, at most. */
  maxOutstanding?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface Entry {
  op: MemberOperation;
  attempt: number;
  /** When it must be sent at the latest (ms since the epoch, the queue's clock). */
  dueAt: number;
  last?: OperationAnswer;
  resolve: (answer: OperationAnswer) => void;
  reject: (err: unknown) => void;
  settled: boolean;
}

interface Submitted {
  id: string;
  entries: Map<string, Entry>;
  submittedAt: number;
  lastPoll?: { at: number; finished: number };
  wait: number;
  /** Settles once the batch's results have been read (or it failed). */
  done: () => void;
}

export interface QueueStats {
  batches: number;
  batchedOperations: number;
  directOperations: number;
  retriedOperations: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class OperationQueue {
  readonly stats: QueueStats = { batches: 0, batchedOperations: 0, directOperations: 0, retriedOperations: 0 };
  private queued: Entry[] = [];
  private readonly submitted: Submitted[] = [];
  private polling: Promise<void> | null = null;
  private readonly work = new Set<Promise<unknown>>();
  private readonly direct: ReturnType<typeof pLimit>;
  private nextId = 1;
  /** Batches submitted whose results are not read yet, and submits waiting for one of them to be. */
  private outstanding = 0;
  private readonly roomWaiters: Array<() => void> = [];
  /** Set once no more input will come: operations then go out at once (coalesced per turn). */
  private finishing = false;
  private readonly schedule: SendSchedule;
  private readonly o: Required<Omit<QueueOptions, 'api' | 'log'>> & Pick<QueueOptions, 'api' | 'log'>;

  constructor(options: QueueOptions) {
    this.o = {
      attempts: 3,
      pollMinMs: 1000,
      pollMaxMs: 30_000,
      maxOutstanding: 20,
      now: Date.now,
      sleep: defaultSleep,
      ...options,
    };
    this.direct = pLimit(Math.max(1, options.concurrency));
    this.schedule = new SendSchedule(() => this.flush(), this.o.now);
  }

  /**
   * Queues an operation; settles with Mailchimp's answer to it. `dueAt` is when it must be sent
   * at the latest (the time its record was read plus flush_interval_seconds); by default
   * `flushMs` from now.
   */
  enqueue(op: MemberOperation, dueAt?: number): Promise<OperationAnswer> {
    const due = dueAt ?? this.o.now() + this.o.flushMs;
    return new Promise<OperationAnswer>((resolve, reject) => this.push({ op, attempt: 1, dueAt: due, resolve, reject, settled: false }));
  }

  private push(entry: Entry): void {
    this.queued.push(entry);
    if (this.queued.length >= this.o.maxOperations) this.flush();
    else if (this.finishing) this.schedule.nextTurn();
    else this.schedule.by(entry.dueAt);
  }

  /** No more input will come: send what is queued, and from now on whatever is queued, without waiting. */
  finish(): void {
    this.finishing = true;
    this.flush();
  }

  /** Sends everything queued now. */
  flush(): void {
    this.schedule.clear();
    while (this.queued.length > 0) {
      const chunk = this.queued.splice(0, this.o.maxOperations);
      this.track(chunk.length < this.o.directBelow ? this.runDirectly(chunk) : this.submit(chunk));
    }
  }

  /** Flushes, then waits until every operation queued so far has settled. */
  async drain(): Promise<void> {
    this.flush();
    while (this.work.size > 0 || this.queued.length > 0) {
      await Promise.allSettled([...this.work]);
      this.flush();
    }
  }

  get outstandingBatches(): number {
    return this.outstanding;
  }

  /**
   * Flushes only when nothing sent is still on its way: a stalled loader needs the queued
   * operations sent when no answer is coming that would free it, but flushing every time it
   * stalls would send a batch per freed slot, a few hundred operations each.
   */
  flushIfIdle(): void {
    if (this.idleNow) this.flush();
  }

  /** Nothing sent is on its way (operations may be queued). */
  get idleNow(): boolean {
    return this.outstanding === 0 && this.work.size === 0;
  }

  private readonly idle = new IdleSignal();

  /** Settles the next time nothing sent is on its way any more (never at once). */
  nextIdle(): Promise<void> {
    return this.idle.next();
  }

  private checkIdle(): void {
    if (this.idleNow) this.idle.wake();
  }

  private track(p: Promise<unknown>): void {
    const tracked = p
      .catch(() => undefined)
      .finally(() => {
        this.work.delete(tracked);
        this.checkIdle();
      });
    this.work.add(tracked);
  }

  private settle(entry: Entry, answer: OperationAnswer): void {
    entry.last = answer;
    if (isTransient(answer) && entry.attempt < this.o.attempts) {
      entry.attempt++;
      this.stats.retriedOperations++;
      // A retry waits like a new operation: resent at once, it would flush a part-filled batch.
      entry.dueAt = this.o.now() + this.o.flushMs;
      this.push(entry);
      return;
    }
    entry.settled = true;
    entry.resolve(answer);
  }

  private fail(entries: Iterable<Entry>, err: unknown): void {
    for (const entry of entries) {
      if (entry.settled) continue;
      entry.settled = true;
      entry.reject(err);
    }
  }

  private async runDirectly(chunk: Entry[]): Promise<void> {
    this.stats.directOperations += chunk.length;
    await Promise.all(
      chunk.map((entry) =>
        this.direct(async () => {
          try {
            this.settle(entry, await runDirect(this.o.api, entry.op));
          } catch (err) {
            this.fail([entry], err);
          }
        }),
      ),
    );
  }

  /**
   * Submits one batch and settles when its results have been read. It waits only for its own
   * batch (not for the poll loop, which runs as long as batches keep coming): an operation's
   * memory is held from its submit to its answer, never longer.
   */
  private async submit(chunk: Entry[]): Promise<void> {
    while (this.outstanding >= this.o.maxOutstanding) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    this.outstanding++;
    let settled = false;
    const release = (): void => {
      if (settled) return;
      settled = true;
      this.outstanding--;
      this.roomWaiters.shift()?.();
    };
    const entries = new Map<string, Entry>();
    for (const entry of chunk) entries.set(`op${this.nextId++}`, entry);
    const count = chunk.length;
    chunk.length = 0;
    let status: BatchStatus;
    try {
      status = await this.o.api.startBatch([...entries].map(([id, e]) => asBatchOperation(e.op, id)));
    } catch (err) {
      this.fail(entries.values(), err);
      release();
      return;
    }
    this.stats.batches++;
    this.stats.batchedOperations += count;
    this.o.log.debug('batch submitted', { batch: status.id, operations: count });
    const finished = new Promise<void>((resolve) => {
      this.submitted.push({ id: status.id, entries, submittedAt: this.o.now(), wait: this.firstWait(count), done: resolve });
    });
    // The loop catches what a poll or a download throws; should anything else escape it, the
    // batches it was polling fail rather than wait for ever (and nobody is left unanswered).
    this.polling ??= this.poll()
      .catch((err: unknown) => this.failSubmitted(err))
      .finally(() => {
        this.polling = null;
      });
    await finished;
    release();
  }

  /** Polls the oldest unfinished batch until none is left; reads each one's results as it finishes. */
  private async poll(): Promise<void> {
    while (this.submitted.length > 0) {
      const head = this.submitted[0] as Submitted;
      await this.o.sleep(head.wait);
      let status: BatchStatus;
      try {
        status = await this.o.api.getBatch(head.id);
      } catch (err) {
        this.submitted.shift();
        this.fail(head.entries.values(), err);
        head.entries.clear();
        head.done();
        continue;
      }
      if (status.status !== 'finished') {
        head.wait = this.nextWait(head, status);
        continue;
      }
      this.submitted.shift();
      // Mailchimp's own clock (submitted to completed): our polling delay must not slow the estimate down.
      const took = Date.parse(status.completed_at ?? '') - Date.parse(status.submitted_at ?? '');
      if (took > 0 && status.total_operations > 0) this.observedRate = status.total_operations / took;
      this.o.log.debug('batch finished', { batch: head.id, operations: status.total_operations, errored: status.errored_operations });
      this.track(this.readResults(head, status).finally(() => head.done()));
    }
  }

  /** Fails every batch still waiting to be polled, with its operations. */
  private failSubmitted(err: unknown): void {
    for (const batch of this.submitted.splice(0)) {
      this.fail(batch.entries.values(), err);
      batch.entries.clear();
      batch.done();
    }
  }

  /** Operations per millisecond Mailchimp processed in the last finished batch of this run. */
  private observedRate: number | undefined;

  /** The wait before a new batch's first poll: as long as Mailchimp's pace on the last batch says it takes. */
  private firstWait(operations: number): number {
    const expected = this.observedRate ? operations / this.observedRate : this.o.pollMinMs;
    return Math.round(Math.min(this.o.pollMaxMs, Math.max(this.o.pollMinMs / 4, expected)));
  }

  /** The next wait: from the batch's progress when it has some, else doubling. */
  private nextWait(batch: Submitted, status: BatchStatus): number {
    const now = this.o.now();
    const previous = batch.lastPoll;
    batch.lastPoll = { at: now, finished: status.finished_operations ?? 0 };
    let wait = batch.wait * 2;
    if (previous && status.finished_operations > previous.finished && now > previous.at) {
      const rate = (status.finished_operations - previous.finished) / (now - previous.at);
      wait = (status.total_operations - status.finished_operations) / rate;
    }
    return Math.round(Math.min(this.o.pollMaxMs, Math.max(this.o.pollMinMs, wait)));
  }

  private async readResults(batch: Submitted, status: BatchStatus): Promise<void> {
    const url = status.response_body_url;
    if (url) {
      for (let attempt = 1; ; attempt++) {
        try {
          for await (const result of this.o.api.batchResults(url)) {
            const entry = batch.entries.get(result.operation_id);
            if (!entry || entry.settled) continue;
            batch.entries.delete(result.operation_id);
            this.settle(entry, { status: result.status_code, body: parseResponse(result.response) });
          }
          break;
        } catch (err) {
          if (attempt >= 3) {
            this.fail(batch.entries.values(), err instanceof RemoteError ? err : new RemoteError(`could not read the results of Mailchimp batch ${batch.id}`, { cause: err }));
            batch.entries.clear();
            return;
          }
          this.o.log.warn(`reading the results of batch ${batch.id} failed; reading them again`, { attempt });
        }
      }
    }
    // Operations the results do not mention: not confirmed, so they are tried again.
    for (const entry of batch.entries.values()) {
      if (!entry.settled) this.settle(entry, { status: 503, body: { detail: 'the batch results do not mention this operation' } });
    }
    batch.entries.clear();
  }
}
