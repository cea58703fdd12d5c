/**
 * Batch operations (POST /3.0/batches): the request's validation, the batches of the account
 * (one API key is one account here), and the Batch document. Processing is batch-runner.ts.
 *
 * As Mailchimp: a batch is accepted when its request has the right shape (operations are not
 * checked further until they run: an unknown path is a 404 in the results); batches run one at a
 * time per account, oldest first; at most 500 may be unfinished at once; DELETE stops one and
 * its results are gone.
 */
import { randomBytes } from 'node:crypto';
import { MemberRejection } from './members.js';
import { problem } from './problems.js';
import type { ResultsArchive } from './batch-results.js';
import { mailchimpTime } from './store.js';

export type BatchStatus = 'pending' | 'preprocessing' | 'started' | 'finalizing' | 'finished';

export const BATCH_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type BatchMethod = (typeof BATCH_METHODS)[number];

/** Unfinished batches an account may have. */
export const MAX_PENDING_BATCHES = 500;

export interface BatchOperation {
  method: BatchMethod;
  /** Relative to /3.0, with a leading slash. */
  path: string;
  params?: Record<string, unknown>;
  body?: string;
  operation_id?: string;
}

/**
 * A batch's operations until they run, packed as JSON lines in one off-heap Buffer: half a
 * million pending operations as objects would make every garbage collection of the sandbox slow.
 * Each is decoded when it runs; the buffer goes once the batch is finished or deleted.
 */
export class PackedOperations {
  private buffer: Buffer | null;
  private readonly ends: Uint32Array;

  constructor(operations: readonly BatchOperation[]) {
    const lines = operations.map((op) => JSON.stringify(op));
    this.ends = new Uint32Array(lines.length);
    let end = 0;
    lines.forEach((line, i) => {
      end += Buffer.byteLength(line);
      this.ends[i] = end;
    });
    this.buffer = Buffer.from(lines.join(''), 'utf8');
  }

  get length(): number {
    return this.ends.length;
  }

  get(i: number): BatchOperation | undefined {
    if (!this.buffer || i < 0 || i >= this.ends.length) return undefined;
    const start = i === 0 ? 0 : (this.ends[i - 1] as number);
    return JSON.parse(this.buffer.toString('utf8', start, this.ends[i])) as BatchOperation;
  }

  release(): void {
    this.buffer = null;
  }
}

export interface BatchJob {
  id: string;
  status: BatchStatus;
  total: number;
  finished: number;
  errored: number;
  submittedAt: string;
  completedAt: string;
  /** The operations; `next` is the first one not yet run. */
  operations: PackedOperations;
  next: number;
  archive: ResultsArchive | null;
  /** The finished archive on disk, and until when its URL works (sandbox clock, epoch ms). */
  archivePath: string | null;
  expiresMs: number | null;
}

const VALIDATION_DETAIL = "The resource submitted could not be validated. For field-specific details, see the 'errors' array.";

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'number' && Number.isInteger(value) ? 'integer' : typeof value;
}

function invalid(field: string, message: string): MemberRejection {
  return new MemberRejection('Invalid Resource', VALIDATION_DETAIL, { field, fieldMessage: message, errors: [{ field, message }] });
}

function schemaMismatch(field: string, expected: string, value: unknown): MemberRejection {
  return invalid(field, `Schema describes ${expected}, ${typeName(value)} found instead`);
}

/** Checks a POST /batches body as Mailchimp does; the operations, ready to run. */
export function parseBatchRequest(body: unknown): BatchOperation[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw schemaMismatch('', 'object', body);
  const request = body as Record<string, unknown>;
  if (request.operations === undefined) throw invalid('operations', 'Required fields were not provided: operations');
  if (!Array.isArray(request.operations)) throw schemaMismatch('operations', 'array', request.operations);
  return request.operations.map((raw: unknown, i: number): BatchOperation => {
    const field = `operations.${i}`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw schemaMismatch(field, 'object', raw);
    const o = raw as Record<string, unknown>;
    const missing = ['method', 'path'].filter((key) => o[key] === undefined);
    if (missing.length > 0) throw invalid(field, `Required fields were not provided: ${missing.join(', ')}`);
    if (typeof o.method !== 'string') throw schemaMismatch(`${field}.method`, 'string', o.method);
    const method = o.method.toUpperCase();
    if (!(BATCH_METHODS as readonly string[]).includes(method)) throw invalid(`${field}.method`, `Value must be one of: ${BATCH_METHODS.join(', ')}`);
    if (typeof o.path !== 'string') throw schemaMismatch(`${field}.path`, 'string', o.path);
    const path = o.path.trim();
    if (path === '' || /^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('//')) {
      throw invalid(`${field}.path`, 'The path must be relative to the API root, e.g. /lists/{list_id}/members');
    }
    const operation: BatchOperation = { method: method as BatchMethod, path: path.startsWith('/') ? path : `/${path}` };
    if (o.params !== undefined && o.params !== null) {
      if (typeof o.params !== 'object' || Array.isArray(o.params)) throw schemaMismatch(`${field}.params`, 'object', o.params);
      operation.params = o.params as Record<string, unknown>;
    }
    if (o.body !== undefined && o.body !== null) {
      if (typeof o.body !== 'string') throw schemaMismatch(`${field}.body`, 'string', o.body);
      operation.body = o.body;
    }
    if (o.operation_id !== undefined && o.operation_id !== null) {
      if (typeof o.operation_id !== 'string') throw schemaMismatch(`${field}.operation_id`, 'string', o.operation_id);
      operation.operation_id = o.operation_id;
    }
    return operation;
  });
}

export interface BatchSettings {
  /** Operations run per second (per account). */
  operationsPerSecond: number;
  paused: boolean;
}

/**
 * What processes the queue (batch-runner.ts's BatchRunner): the sandbox state holds one, given
 * to it by server.ts, since the runner runs operations through the routes, which read the state.
 */
export interface BatchProcessing {
  /** Schedules processing if there is work and nothing is scheduled. */
  kick(): void;
  /** Runs up to `operations` operations now, ignoring pause and rate; resolves with how many ran. */
  advance(operations: number): Promise<number>;
  /** Stops a batch already out of the queue and removes its results. */
  remove(job: BatchJob): Promise<void>;
  /** Forgets every batch and archive; processing goes on with what comes next. */
  reset(): Promise<void>;
  /** Stops processing for good and removes every archive. */
  close(): Promise<void>;
}

/** The account's batches, in submission order, and the processing knobs. */
export class BatchQueue {
  private readonly jobs = new Map<string, BatchJob>();
  /** Called when there is work (a batch submitted, processing resumed). */
  onWork: () => void = () => undefined;

  constructor(public settings: BatchSettings) {}

  submit(operations: BatchOperation[], nowMs: number): BatchJob {
    if (this.unfinished() >= MAX_PENDING_BATCHES) {
      throw problem(429, 'Too Many Requests', `You have ${MAX_PENDING_BATCHES} batch operations pending or running; wait for some to finish before submitting more.`);
    }
    let id = randomBytes(5).toString('hex');
    while (this.jobs.has(id)) id = randomBytes(5).toString('hex');
    const job: BatchJob = {
      id,
      status: 'pending',
      total: operations.length,
      finished: 0,
      errored: 0,
      submittedAt: mailchimpTime(nowMs),
      completedAt: '',
      operations: new PackedOperations(operations),
      next: 0,
      archive: null,
      archivePath: null,
      expiresMs: null,
    };
    this.jobs.set(id, job);
    this.onWork();
    return job;
  }

  get(id: string): BatchJob | undefined {
    return this.jobs.get(id);
  }

  /** Newest first. */
  list(): BatchJob[] {
    return [...this.jobs.values()].reverse();
  }

  /** The batch that runs now or next: the oldest unfinished one. */
  head(): BatchJob | undefined {
    for (const job of this.jobs.values()) if (job.status !== 'finished') return job;
    return undefined;
  }

  unfinished(): number {
    let n = 0;
    for (const job of this.jobs.values()) if (job.status !== 'finished') n++;
    return n;
  }

  /** Forgets a batch (DELETE); the caller stops its processing and removes its archive. */
  remove(id: string): BatchJob | undefined {
    const job = this.jobs.get(id);
    if (job) this.jobs.delete(id);
    return job;
  }

  all(): BatchJob[] {
    return [...this.jobs.values()];
  }

  clear(): void {
    this.jobs.clear();
  }
}

export function toApiBatch(job: BatchJob, resultsUrl: string): Record<string, unknown> {
  return {
    id: job.id,
    status: job.status,
    total_operations: job.total,
    finished_operations: job.finished,
    errored_operations: job.errored,
    submitted_at: job.submittedAt,
    completed_at: job.completedAt,
    response_body_url: job.status === 'finished' ? resultsUrl : '',
    _links: [],
  };
}
