/**
 * /3.0/batches (submit, poll, list, delete), and the results download: like Mailchimp's
 * pre-signed S3 URL, response_body_url needs no API key, only its own Expires and Signature
 * parameters, and answers S3-style XML errors (403 once expired by the sandbox clock, 404 once
 * the batch is deleted or the sandbox reset).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createLogger } from '../../log/logger.js';
import type { RequestContext } from '../context.js';
import type { Route, RouteParams } from '../http.js';
import { HttpError } from '../http.js';
import type { SandboxState } from '../state.js';
import type { ApiAnswer, ApiCall, ApiRoute } from './api.js';
import { noContent, nowMs, ok, paging, projected } from './api.js';
import { parseBatchRequest, toApiBatch } from './batches.js';
import type { BatchJob } from './batches.js';
import { mailchimpNotFound } from './problems.js';

const log = createLogger('sandbox');

export const RESULTS_PATH = '/mailchimp-api-batch/{file}';

export const BATCH_API_ROUTES: readonly ApiRoute[] = [
  { method: 'POST', path: '/3.0/batches', handle: postBatches },
  { method: 'GET', path: '/3.0/batches', handle: getBatches },
  { method: 'GET', path: '/3.0/batches/{batch_id}', handle: getBatch },
  { method: 'DELETE', path: '/3.0/batches/{batch_id}', handle: deleteBatch },
];

function signature(state: SandboxState, id: string, expiresSec: number): string {
  return createHmac('sha256', state.resultsSecret).update(`${id}:${expiresSec}`).digest('base64url');
}

/** The pre-signed URL of a finished batch's results. */
export function resultsUrl(state: SandboxState, job: BatchJob): string {
  if (job.expiresMs === null) return '';
  const expires = Math.floor(job.expiresMs / 1000);
  return `${state.url}/mailchimp-api-batch/${job.id}-response.tar.gz?Expires=${expires}&Signature=${signature(state, job.id, expires)}`;
}

function batchDocument(call: ApiCall, job: BatchJob): Record<string, unknown> {
  return toApiBatch(job, resultsUrl(call.state, job));
}

async function postBatches(call: ApiCall): Promise<ApiAnswer> {
  const operations = parseBatchRequest(await call.json());
  call.countMembers(operations.length);
  const job = call.state.batches.submit(operations, nowMs(call));
  return ok(batchDocument(call, job));
}

function getBatches(call: ApiCall): ApiAnswer {
  const { count, offset } = paging(call);
  const jobs = call.state.batches.list();
  return projected(call, { batches: jobs.slice(offset, offset + count).map((job) => batchDocument(call, job)), total_items: jobs.length, _links: [] });
}

function jobOf(call: ApiCall, params: RouteParams): BatchJob {
  const job = call.state.batches.get(params.batch_id ?? '');
  if (!job) throw mailchimpNotFound();
  return job;
}

function getBatch(call: ApiCall, params: RouteParams): ApiAnswer {
  return projected(call, batchDocument(call, jobOf(call, params)));
}

async function deleteBatch(call: ApiCall, params: RouteParams): Promise<ApiAnswer> {
  const job = jobOf(call, params);
  call.state.batches.remove(job.id);
  await call.state.batchRunner.remove(job);
  return noContent();
}

// ---- the results download (not under /3.0, no API key) ---------------------------------

function s3Error(status: number, code: string, message: string): HttpError {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${randomUUID()}</RequestId></Error>`;
  return new HttpError(status, body, 'application/xml');
}

export const s3NotFound = (): HttpError => s3Error(404, 'NoSuchKey', 'The specified key does not exist.');

function sameSignature(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function getResults(ctx: RequestContext, params: RouteParams): Promise<void> {
  const match = /^([0-9a-f]+)-response\.tar\.gz$/.exec(params.file ?? '');
  const job = match ? ctx.state.batches.get(match[1] as string) : undefined;
  const expiresParam = ctx.query.get('Expires');
  const given = ctx.query.get('Signature');
  if (!expiresParam || !given) throw s3Error(403, 'AccessDenied', 'Query-string authentication requires the Signature and Expires parameters');
  if (!job || job.archivePath === null || job.expiresMs === null) throw s3NotFound();
  const expires = Number(expiresParam);
  if (!/^\d+$/.test(expiresParam) || !sameSignature(given, signature(ctx.state, job.id, expires))) {
    throw s3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
  if (ctx.state.clock.now() > expires * 1000) throw s3Error(403, 'AccessDenied', 'Request has expired');
  const path = job.archivePath;
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw s3NotFound();
  }
  const headers: Record<string, string | number> = { 'Content-Type': 'application/x-gzip', 'Content-Disposition': `attachment; filename="${job.id}-response.tar.gz"` };
  // With fault stages the length is unknown (a truncated body must still end normally).
  if (ctx.wireStages.length === 0) headers['Content-Length'] = size;
  ctx.res.writeHead(200, headers);
  try {
    // Fault stages (cut_after_bytes, stall, truncate_gzip) slot in before the socket.
    const streams: Array<NodeJS.ReadableStream | NodeJS.ReadWriteStream | NodeJS.WritableStream> = [createReadStream(path), ...ctx.wireStages.map((make) => make()), ctx.res];
    await pipeline(streams, { end: !ctx.cutConnection });
    if (ctx.cutConnection) ctx.res.socket?.destroy();
  } catch (err) {
    log.debug('results download ended early', { error: err instanceof Error ? err.message : String(err) });
    if (!ctx.res.destroyed) ctx.res.destroy();
  }
}

export const RESULTS_ROUTES: ReadonlyArray<Route<RequestContext>> = [{ method: 'GET', path: RESULTS_PATH, handle: getResults }];
