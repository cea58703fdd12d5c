/**
 * Fault injection: rules set at start (options.faults) or at run time (POST /__admin/settings
 * {"faults": [...]}, which replaces the list). Each request of a family takes the first rule that
 * matches it and has uses left (`times`; absent = every matching request), and the rule's fault
 * is applied to it, unless the rule still lets some through first (`skip`: N):
 *
 *   status            answer at once with `status` (default 503; 429 adds Retry-After `retry_after_s`,
 *                     and for the mailchimp family any status does when `retry_after_s` is given)
 *   latency           wait `ms` before answering (a slow first byte)
 *   stall             send `after_bytes` of the body, then nothing for `ms` (default: until the client leaves)
 *   cut_after_bytes   send `after_bytes` of the body (as sent: compressed), then close the connection
 *   cut_mid_line      send `after_lines` lines and half the next, then close the connection
 *   partial_line      send `after_lines` lines and half the next, and end the response normally
 *   terminated_early  send `after_lines` lines, then the line `terminated early`, and end normally
 *   truncate_gzip     send `after_bytes` of the compressed body and end the response normally
 *
 * Mailchimp only (family defaults to mailchimp for these):
 *   lose_answer              process the request fully (the write happens), then destroy the
 *                            connection without sending the response: the client sees a reset
 *   batch_operation_status   not a request fault: the next matching operations inside a batch
 *                            do not run and answer `status` (default 500) in the results
 *
 * For the mailchimp family, `status` answers a problem document (`bare: true`: no body at all,
 * as Mailchimp's throttle sometimes answers a bare 403).
 *
 * `when` narrows a rule: `query` (parameters with these exact values, e.g. {"offset": "2000"}),
 * `min_days` (export windows spanning at least that many days),
 * `where_lacks` (the `where` parameter does not contain this text, e.g. `properties["time"]`),
 * `path` (exact path), `path_prefix` (path starts with it, e.g. `/3.0/lists/`), `method`
 * (e.g. `POST`). Batch operations match by their method and their full path (`/3.0/lists/...`).
 * Batch results downloads (`/mailchimp-api-batch/...`) are not API calls: only rules whose
 * `path` or `path_prefix` names them apply to them.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { parseDay } from './calendar.js';
import type { Hook, RequestContext } from './context.js';
import { HttpError, delay } from './http.js';
import { problem } from './mailchimp/problems.js';
import type { Family } from './options.js';
import { mixpanelStatusError } from './mixpanel/errors.js';
import type { SandboxState } from './state.js';

export const FAULT_KINDS = [
  'status',
  'latency',
  'stall',
  'cut_after_bytes',
  'cut_mid_line',
  'partial_line',
  'terminated_early',
  'truncate_gzip',
  'lose_answer',
  'batch_operation_status',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRule {
  kind: FaultKind;
  family: Family;
  /** Matching requests this rule still applies to; undefined = all. */
  times?: number;
  /** Matching requests let through untouched before the rule applies (a fault mid-way through a run). */
  skip?: number;
  status?: number;
  retry_after_s?: number;
  message?: string;
  ms?: number;
  after_bytes?: number;
  after_lines?: number;
  /** Mailchimp `status` faults: answer with no body. */
  bare?: boolean;
  when?: { min_days?: number; where_lacks?: string; path?: string; path_prefix?: string; method?: string; query?: Record<string, string> };
}

/** Kinds that exist only for the Mailchimp family. */
const MAILCHIMP_KINDS: readonly FaultKind[] = ['lose_answer', 'batch_operation_status'];

const FAMILIES: readonly Family[] = ['export', 'query', 'mailchimp'];
const RULE_KEYS = new Set(['kind', 'family', 'times', 'skip', 'status', 'retry_after_s', 'message', 'ms', 'after_bytes', 'after_lines', 'bare', 'when']);
const WHEN_KEYS = ['min_days', 'where_lacks', 'path', 'path_prefix', 'method', 'query'];

function count(value: unknown, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}`);
  return value;
}

/** Checks one rule from JSON; throws an Error whose message names the bad key. */
export function parseFaultRule(raw: unknown, name: string): FaultRule {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${name} must be an object`);
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!RULE_KEYS.has(key)) throw new Error(`${name}.${key}: unknown key`);
  if (!(FAULT_KINDS as readonly unknown[]).includes(o.kind)) throw new Error(`${name}.kind must be one of ${FAULT_KINDS.join(', ')}`);
  const mailchimpOnly = MAILCHIMP_KINDS.includes(o.kind as FaultKind);
  const family = o.family ?? (mailchimpOnly ? 'mailchimp' : 'export');
  if (!(FAMILIES as readonly unknown[]).includes(family)) throw new Error(`${name}.family must be one of ${FAMILIES.join(', ')}`);
  if (mailchimpOnly && family !== 'mailchimp') throw new Error(`${name}.family must be mailchimp for kind ${String(o.kind)}`);
  const rule: FaultRule = { kind: o.kind as FaultKind, family: family as Family };
  const times = count(o.times, `${name}.times`);
  if (times !== undefined) rule.times = times;
  const skip = count(o.skip, `${name}.skip`);
  if (skip !== undefined) rule.skip = skip;
  const status = count(o.status, `${name}.status`, 400);
  if (status !== undefined) {
    if (status > 599) throw new Error(`${name}.status must be 400..599`);
    rule.status = status;
  }
  const retryAfter = count(o.retry_after_s, `${name}.retry_after_s`);
  if (retryAfter !== undefined) rule.retry_after_s = retryAfter;
  if (o.message !== undefined) {
    if (typeof o.message !== 'string') throw new Error(`${name}.message must be a string`);
    rule.message = o.message;
  }
  const ms = count(o.ms, `${name}.ms`);
  if (ms !== undefined) rule.ms = ms;
  const bytes = count(o.after_bytes, `${name}.after_bytes`);
  if (bytes !== undefined) rule.after_bytes = bytes;
  const lines = count(o.after_lines, `${name}.after_lines`);
  if (lines !== undefined) rule.after_lines = lines;
  if (o.bare !== undefined) {
    if (typeof o.bare !== 'boolean') throw new Error(`${name}.bare must be true or false`);
    rule.bare = o.bare;
  }
  if (o.when !== undefined) {
    if (o.when === null || typeof o.when !== 'object' || Array.isArray(o.when)) throw new Error(`${name}.when must be an object`);
    const w = o.when as Record<string, unknown>;
    rule.when = {};
    for (const key of Object.keys(w)) if (!WHEN_KEYS.includes(key)) throw new Error(`${name}.when.${key}: unknown key`);
    const minDays = count(w.min_days, `${name}.when.min_days`, 1);
    if (minDays !== undefined) rule.when.min_days = minDays;
    if (w.where_lacks !== undefined) {
      if (typeof w.where_lacks !== 'string') throw new Error(`${name}.when.where_lacks must be a string`);
      rule.when.where_lacks = w.where_lacks;
    }
    if (w.path !== undefined) {
      if (typeof w.path !== 'string') throw new Error(`${name}.when.path must be a string`);
      rule.when.path = w.path;
    }
    if (w.path_prefix !== undefined) {
      if (typeof w.path_prefix !== 'string' || w.path_prefix === '') throw new Error(`${name}.when.path_prefix must be a non-empty string`);
      rule.when.path_prefix = w.path_prefix;
    }
    if (w.method !== undefined) {
      if (typeof w.method !== 'string' || !/^[A-Za-z]+$/.test(w.method)) throw new Error(`${name}.when.method must be an HTTP method such as POST`);
      rule.when.method = w.method.toUpperCase();
    }
    if (w.query !== undefined) rule.when.query = parseQueryCondition(w.query, `${name}.when.query`);
  }
  return rule;
}

/** `when.query`: parameters the request must carry with exactly these values, e.g. {"offset": "2000"}. */
function parseQueryCondition(value: unknown, name: string): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${name} must be an object of parameter -> value`);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`${name}.${key} must be a string or a number`);
    out[key] = String(v);
  }
  return out;
}

export function parseFaultRules(raw: unknown, name = 'faults'): FaultRule[] {
  if (!Array.isArray(raw)) throw new Error(`${name} must be an array of fault rules`);
  return raw.map((r, i) => parseFaultRule(r, `${name}[${i}]`));
}

/** What a rule is matched against: an HTTP request, or an operation inside a batch. */
export interface FaultTarget {
  method: string;
  /** Without trailing slashes. */
  pathname: string;
  query: URLSearchParams;
}

const RESULTS_PATH_PREFIX = '/mailchimp-api-batch/';

function matches(rule: FaultRule, target: FaultTarget, family: Family): boolean {
  if (rule.family !== family) return false;
  if (rule.times !== undefined && rule.times <= 0) return false;
  const when = rule.when;
  // A results download is S3's, not the API's: only rules that name its path apply.
  if (target.pathname.startsWith(RESULTS_PATH_PREFIX) && when?.path === undefined && when?.path_prefix === undefined) return false;
  if (!when) return true;
  if (when.path !== undefined && target.pathname !== when.path) return false;
  if (when.path_prefix !== undefined && !target.pathname.startsWith(when.path_prefix)) return false;
  if (when.method !== undefined && target.method !== when.method) return false;
  if (when.min_days !== undefined) {
    const from = parseDay(target.query.get('from_date') ?? '');
    const to = parseDay(target.query.get('to_date') ?? '');
    if (from === null || to === null || to - from + 1 < when.min_days) return false;
  }
  if (when.where_lacks !== undefined && (target.query.get('where') ?? '').includes(when.where_lacks)) return false;
  if (when.query !== undefined && Object.entries(when.query).some(([key, value]) => target.query.get(key) !== value)) return false;
  return true;
}

function requestTarget(ctx: RequestContext): FaultTarget {
  return { method: ctx.method, pathname: ctx.url.pathname.replace(/\/+$/, ''), query: ctx.query };
}

/** A matching request the rule lets through because it still has some to skip (and counts it). */
function skipped(rule: FaultRule): boolean {
  if (rule.skip === undefined || rule.skip <= 0) return false;
  rule.skip--;
  return true;
}

function useRule(state: SandboxState, rule: FaultRule): void {
  if (rule.times !== undefined) rule.times--;
  state.faultsApplied[rule.kind] = (state.faultsApplied[rule.kind] ?? 0) + 1;
}

/**
 * The answer an injected fault gives an operation inside a batch (batch_operation_status), or
 * null when no rule takes it. The operation does not run.
 */
export function takeOperationFault(state: SandboxState, target: FaultTarget): HttpError | null {
  const rule = state.settings.faults.find((r) => r.kind === 'batch_operation_status' && matches(r, target, 'mailchimp'));
  if (!rule || skipped(rule)) return null;
  useRule(state, rule);
  return mailchimpFaultAnswer(rule);
}

function mailchimpFaultAnswer(rule: FaultRule): HttpError {
  const status = rule.status ?? (rule.kind === 'status' ? 503 : 500);
  // Any status: a test of a service that fails for good can make the client's retries quick
  // (Retry-After: 0) instead of waiting out its back-off (about 30 s a call).
  const headers: Record<string, string> = rule.retry_after_s !== undefined ? { 'Retry-After': String(rule.retry_after_s) } : {};
  if (rule.bare) return new HttpError(status, '', 'text/html', headers);
  const [title, detail] =
    status === 429
      ? ['Too Many Requests', 'You have exceeded the limit of 10 simultaneous connections.']
      : status === 403
        ? ['Forbidden', 'You are not permitted to access this resource.']
        : status === 503
          ? ['Service Unavailable', 'The service is temporarily unavailable. Please try again later.']
          : ['Internal Server Error', 'An unexpected internal error has occurred. Please contact Support for more information.'];
  return problem(status, title, rule.message ?? detail, {}, headers);
}

/** Lets through `afterLines` lines (plus half the next one when `half`), then `tail`; drops the rest. */
function lineCutter(afterLines: number, half: boolean, tail: string): Transform {
  let lines = 0;
  let done = false;
  return new Transform({
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      if (done) return callback();
      let at = 0;
      while (lines < afterLines) {
        const nl = chunk.indexOf(10, at);
        if (nl < 0) break;
        lines++;
        at = nl + 1;
      }
      if (lines < afterLines) return callback(null, chunk);
      done = true;
      let out = chunk.subarray(0, at);
      if (half) {
        const nl = chunk.indexOf(10, at);
        const next = chunk.subarray(at, nl < 0 ? chunk.length : nl);
        out = Buffer.concat([out, next.subarray(0, Math.max(1, Math.floor(next.length / 2)))]);
      }
      callback(null, Buffer.concat([out, Buffer.from(tail)]));
    },
  });
}

/** Lets through `afterBytes` bytes, then drops the rest (or, with `stall`, waits before going on). */
function byteCutter(afterBytes: number, stall?: () => Promise<void>): Transform {
  let sent = 0;
  let stalled = false;
  return new Transform({
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      if (sent >= afterBytes && !stall) return callback();
      const room = afterBytes - sent;
      if (chunk.length <= room || (stall && stalled)) {
        sent += chunk.length;
        return callback(null, chunk);
      }
      sent = afterBytes;
      if (room > 0) this.push(chunk.subarray(0, room));
      if (!stall) return callback();
      stalled = true;
      stall().then(
        () => callback(null, chunk.subarray(room)),
        (err: unknown) => callback(err as Error),
      );
    },
  });
}

function applyStreamFault(ctx: RequestContext, rule: FaultRule): void {
  const lines = rule.after_lines ?? 10;
  const bytes = rule.after_bytes ?? 4096;
  switch (rule.kind) {
    case 'cut_mid_line':
      ctx.bodyStages.push(() => lineCutter(lines, true, ''));
      ctx.cutConnection = true;
      break;
    case 'partial_line':
      ctx.bodyStages.push(() => lineCutter(lines, true, ''));
      break;
    case 'terminated_early':
      ctx.bodyStages.push(() => lineCutter(lines, false, 'terminated early\n'));
      break;
    case 'cut_after_bytes':
      ctx.wireStages.push(() => byteCutter(bytes));
      ctx.cutConnection = true;
      break;
    case 'truncate_gzip':
      ctx.wireStages.push(() => byteCutter(bytes));
      break;
    case 'stall': {
      const gone = new AbortController();
      ctx.res.once('close', () => gone.abort());
      const signal = AbortSignal.any([gone.signal, ctx.state.closing.signal]);
      const ms = rule.ms ?? 24 * 3_600_000;
      ctx.wireStages.push(() =>
        byteCutter(bytes, async () => {
          await delay(ms, signal);
          if (signal.aborted) throw new Error('client left during the stall');
        }),
      );
      break;
    }
    default:
      break;
  }
}

/** The hook for one family: picks the request's fault, if any, and applies it. */
export function injectFaults(family: Family): Hook {
  return async (ctx, next) => {
    const rules = ctx.state.settings.faults;
    if (rules.length === 0 || !ctx.route) return next();
    const target = requestTarget(ctx);
    const rule = rules.find((r) => r.kind !== 'batch_operation_status' && matches(r, target, family));
    if (!rule || skipped(rule)) return next();
    useRule(ctx.state, rule);
    if (ctx.logEntry) ctx.logEntry.fault = rule.kind;
    if (rule.kind === 'status') {
      if (family === 'mailchimp') throw mailchimpFaultAnswer(rule);
      const status = rule.status ?? 503;
      const headers: Record<string, string> = status === 429 ? { 'Retry-After': String(rule.retry_after_s ?? 1) } : {};
      const message =
        rule.message ??
        (status === 429
          ? `Query rate limit exceeded: 61/60 queries for project ${ctx.state.config.mixpanel.projectId} in the last hour`
          : 'Internal server error (injected fault)');
      throw mixpanelStatusError(status, message, headers);
    }
    if (rule.kind === 'latency') {
      await delay(rule.ms ?? 1000, ctx.state.closing.signal);
      return next();
    }
    if (rule.kind === 'lose_answer') {
      // The handler runs in full; whatever it answers is then thrown away with the connection.
      ctx.loseAnswer = true;
      return next();
    }
    applyStreamFault(ctx, rule);
    return next();
  };
}
