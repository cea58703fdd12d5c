/**
 * The shape every Mailchimp route handler has, so one handler serves both a direct HTTP call and
 * an operation inside a batch (batch-runner.ts): it reads an ApiCall (method, query, JSON body)
 * and returns an ApiAnswer (status and body) or throws a problem. Shared request helpers too.
 */
import type { RouteParams } from '../http.js';
import type { SandboxState } from '../state.js';
import type { AutomationVia, CallOrigin } from './automations.js';
import type { AutomationSink, WriteOptions } from './members.js';
import { mailchimpNotFound, problem } from './problems.js';
import { projectFields } from './serialize.js';
import { mailchimpTime } from './store.js';
import type { Audience, MemberRecord } from './store.js';

export interface ApiCall {
  readonly state: SandboxState;
  readonly method: string;
  readonly query: URLSearchParams;
  /** The body as JSON ({} when empty); a JSON Parse Exception problem when it is not JSON. */
  json(): Promise<unknown>;
  /** Members a write carries (for the request log). */
  countMembers(n: number): void;
  readonly origin: CallOrigin;
}

export interface ApiAnswer {
  status: number;
  /** Absent: an empty body (204). */
  body?: unknown;
}

export interface ApiRoute {
  readonly method: string;
  /** Literal segments and {name} placeholders, e.g. /3.0/lists/{list_id}/members/{hash}. */
  readonly path: string;
  readonly handle: (call: ApiCall, params: RouteParams) => ApiAnswer | Promise<ApiAnswer>;
}

export const ok = (body: unknown): ApiAnswer => ({ status: 200, body });
export const noContent = (): ApiAnswer => ({ status: 204 });

export function audienceOf(call: ApiCall, params: RouteParams): Audience {
  const audience = call.state.audience(params.list_id ?? '');
  if (!audience) throw mailchimpNotFound();
  return audience;
}

export function invalidParameter(field: string, message: string) {
  return problem(400, 'Invalid Resource', "The resource submitted could not be validated. For field-specific details, see the 'errors' array.", {
    errors: [{ field, message }],
  });
}

export function flag(call: ApiCall, name: string): boolean {
  const value = call.query.get(name);
  return value === 'true' || value === '1';
}

/** count (default 10, at most 1000) and offset, as every collection takes them. */
export function paging(call: ApiCall): { count: number; offset: number } {
  const read = (name: string, fallback: number) => {
    const value = call.query.get(name);
    if (value === null || value === '') return fallback;
    if (!/^\d+$/.test(value)) throw invalidParameter(name, `${name} must be a non-negative integer`);
    return Number(value);
  };
  const count = read('count', 10);
  if (count > 1000) throw invalidParameter('count', 'count must be at most 1000');
  return { count, offset: read('offset', 0) };
}

/** A 200 with `fields` / `exclude_fields` applied. */
export function projected(call: ApiCall, document: Record<string, unknown>): ApiAnswer {
  return ok(projectFields(document, call.query.get('fields'), call.query.get('exclude_fields')));
}

export function nowMs(call: ApiCall): number {
  return call.state.clock.now();
}

/** Records tag additions that would start automations, with where the call ran. */
export function automationSink(call: ApiCall, audience: Audience, via: AutomationVia): AutomationSink {
  return (member: MemberRecord, tag: string) => {
    call.state.automations.record({
      time: mailchimpTime(nowMs(call)),
      list_id: audience.id,
      email_address: member.email_address,
      tag,
      via,
      ...(call.origin.batchId !== undefined ? { batch_id: call.origin.batchId, operation_id: call.origin.operationId ?? null } : {}),
    });
  };
}

export function writeOptions(call: ApiCall, audience: Audience, via: AutomationVia): WriteOptions {
  return {
    skipMergeValidation: flag(call, 'skip_merge_validation'),
    skipDuplicateCheck: flag(call, 'skip_duplicate_check'),
    onAutomationTag: automationSink(call, audience, via),
  };
}
