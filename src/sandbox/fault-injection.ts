/**
 * Fault injection: applies the fault rules (fault-rules.ts) in state.settings to requests, as
 * a hook per family (injectFaults), and to operations inside batches (takeOperationFault). A
 * rule's fault answers at once (status), waits (latency, stall) or adds stream stages that cut
 * the body (ctx.bodyStages for plain lines, ctx.wireStages for compressed bytes). Each use
 * counts down the rule's `times` and is counted in state.faultsApplied.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { Hook, RequestContext } from './context.js';
import type { Family } from './families.js';
import { faultRuleMatches, type FaultRule, type FaultTarget } from './fault-rules.js';
import { HttpError, delay } from './http.js';
import { problem } from './mailchimp/problems.js';
import { mixpanelStatusError } from './mixpanel/errors.js';
import type { SandboxState } from './state.js';

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
  const rule = state.settings.faults.find((r) => r.kind === 'batch_operation_status' && faultRuleMatches(r, target, 'mailchimp'));
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
    const rule = rules.find((r) => r.kind !== 'batch_operation_status' && faultRuleMatches(r, target, family));
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
