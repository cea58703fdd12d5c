/**
 * Fault rules: what goes wrong with which request, set at start (options.faults) or at run time
 * (POST /__admin/settings {"faults": [...]}, which replaces the list). Each request of a family
 * takes the first rule that matches it and has uses left (`times`; absent = every matching
 * request), and the rule's fault is applied to it, unless the rule still lets some through first
 * (`skip`: N):
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
 *
 * This module is the rules as data (kinds, parsing, which request a rule takes), below the
 * sandbox state that holds them; fault-injection.ts applies them.
 */
import { parseDay } from './calendar.js';
import type { Family } from './families.js';

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

/** Whether the rule takes this request or operation of this family (uses left, `when` conditions). */
export function faultRuleMatches(rule: FaultRule, target: FaultTarget, family: Family): boolean {
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
