/**
 * Runs the account's batches in the background, one at a time, oldest first, at
 * `operationsPerSecond`, in slices of at most SLICE_MS so the same process keeps answering the
 * API between them. A batch goes pending -> preprocessing (one slice) -> started (operations run,
 * finished_operations and errored_operations grow) -> finalizing (the archive is completed) ->
 * finished (completed_at and response_body_url set).
 *
 * Paused, nothing runs (a batch stays where it is, e.g. started with half its operations done);
 * `advance(n)` runs n operations at once whatever the pause and the rate, so a test can put a
 * batch exactly where it wants it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../log/logger.js';
import { takeOperationFault } from '../fault-injection.js';
import type { SandboxState } from '../state.js';
import { ResultsArchive, resultJson } from './batch-results.js';
import type { BatchJob, BatchProcessing } from './batches.js';
import { executeOperation, operationTarget } from './operations.js';
import { mailchimpTime } from './store.js';

const log = createLogger('sandbox');

/** Longest a slice may hold the event loop. */
export const SLICE_MS = 10;
/** How long a results URL stays valid after the batch finished (sandbox clock). */
export const RESULTS_TTL_MS = 7 * 86_400_000;

export class BatchRunner implements BatchProcessing {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private tokens = 0;
  private lastRefill = performance.now();
  private dir: string | null = null;
  private closed = false;
  /** Set when a slice failed: the next one waits a second instead of failing in a tight loop. */
  private failed = false;

  constructor(private readonly state: SandboxState) {
    state.batches.onWork = () => this.kick();
  }

  /** Schedules processing if there is work and nothing is scheduled. */
  kick(): void {
    if (this.closed || this.timer || this.running || this.state.batches.settings.paused || !this.state.batches.head()) return;
    this.schedule(0);
  }

  /** Runs up to `operations` operations now, ignoring pause and rate; resolves with how many ran. */
  async advance(operations: number): Promise<number> {
    while (this.running) await this.running;
    let ran = 0;
    const work = (async () => {
      for (;;) {
        const job = this.state.batches.head();
        if (!job) break;
        if (job.next >= job.total) {
          await this.finalize(job);
          continue;
        }
        if (ran >= operations) break;
        await this.start(job);
        await this.runOne(job);
        ran++;
        if (job.archive?.needsDrain) await job.archive.drained();
      }
    })();
    // Others wait for this worker to end, whatever its outcome; the caller gets the outcome.
    this.running = work.catch(() => undefined);
    try {
      await work;
    } finally {
      this.running = null;
      this.kick();
    }
    return ran;
  }

  /** Stops processing for good (the sandbox closes) and removes every archive. */
  async close(): Promise<void> {
    this.closed = true;
    await this.reset();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  /** Forgets every batch and archive (reset); processing goes on with what comes next. */
  async reset(): Promise<void> {
    // Out of the queue first, so no slice picks them up while their archives go.
    const jobs = this.state.batches.all();
    this.state.batches.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.running) await this.running;
    for (const job of jobs) await this.remove(job);
    this.tokens = 0;
  }

  /** Stops a batch already out of the queue (DELETE /batches/{id}, reset) and removes its results. */
  async remove(job: BatchJob): Promise<void> {
    while (this.running) await this.running;
    job.operations.release();
    const archive = job.archive;
    job.archive = null;
    if (archive) await archive.discard();
    else if (job.archivePath) await rm(job.archivePath, { force: true });
    job.archivePath = null;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      // One worker at a time: while advance() runs, pick up after it.
      if (this.running) {
        void this.running.finally(() => this.kick());
        return;
      }
      const work = this.slice().catch((err: unknown) => {
        this.failed = true;
        log.error('batch processing failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      });
      this.running = work;
      void work.finally(() => {
        this.running = null;
        this.next();
      });
    }, ms);
  }

  /** After a slice: go on at once while tokens last, or when the next token is due. */
  private next(): void {
    const { settings } = this.state.batches;
    if (this.closed || settings.paused || !this.state.batches.head()) return;
    const wait = this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / settings.operationsPerSecond) * 1000);
    this.schedule(this.failed ? 1000 : Math.max(0, wait));
    this.failed = false;
  }

  private refill(): void {
    const now = performance.now();
    const rate = this.state.batches.settings.operationsPerSecond;
    // A short burst at most: a batch submitted after a quiet minute does not run all at once.
    const burst = Math.max(1, rate * 0.05);
    this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
  }

  private async slice(): Promise<void> {
    const queue = this.state.batches;
    const job = queue.head();
    if (!job || queue.settings.paused) return;
    if (job.status === 'pending') {
      job.status = 'preprocessing';
      this.refill();
      return;
    }
    await this.start(job);
    this.refill();
    const deadline = performance.now() + SLICE_MS;
    while (job.next < job.total && this.tokens >= 1 && !queue.settings.paused && queue.get(job.id) === job) {
      await this.runOne(job);
      this.tokens -= 1;
      if (job.archive?.needsDrain) {
        await job.archive.drained();
        break;
      }
      if (performance.now() >= deadline) break;
    }
    if (job.next >= job.total && queue.get(job.id) === job) await this.finalize(job);
  }

  private async start(job: BatchJob): Promise<void> {
    if (job.status === 'pending' || job.status === 'preprocessing') job.status = 'started';
    if (!job.archive && job.status === 'started') {
      this.dir ??= await mkdtemp(join(tmpdir(), 'mailchimp-sandbox-batches-'));
      job.archive = new ResultsArchive(join(this.dir, `${job.id}-response.tar.gz`), job.id, Math.floor(this.state.clock.now() / 1000));
    }
  }

  private async runOne(job: BatchJob): Promise<void> {
    const op = job.operations.get(job.next);
    job.next++;
    if (!op) return;
    const target = operationTarget(op);
    const fault = takeOperationFault(this.state, { method: op.method, pathname: target.pathname, query: target.query });
    let status: number;
    let body: unknown;
    let route: string | null = null;
    if (fault) {
      status = fault.status;
      body = typeof fault.body === 'string' && fault.body === '' ? undefined : fault.body;
    } else {
      const outcome = await executeOperation(this.state, op, job);
      status = outcome.answer.status;
      body = outcome.answer.body;
      route = outcome.route;
    }
    job.archive?.add(resultJson(status, op.operation_id ?? null, body));
    job.finished++;
    if (status >= 400) job.errored++;
    this.state.requestLog.countOperation(op.method, route ?? target.pathname, status, fault !== null);
  }

  private async finalize(job: BatchJob): Promise<void> {
    await this.start(job);
    job.status = 'finalizing';
    const archive = job.archive;
    if (archive) {
      await archive.finish();
      job.archivePath = archive.path;
      job.archive = null;
    }
    job.operations.release();
    const now = this.state.clock.now();
    job.completedAt = mailchimpTime(now);
    job.expiresMs = now + RESULTS_TTL_MS;
    job.status = 'finished';
  }
}
