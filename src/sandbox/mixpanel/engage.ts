/**
 * /api/2.0/engage and /api/query/engage: people profiles, paged through sessions.
 *
 * Page 0 filters the population (where, filter_by_cohort, distinct_id(s)) and snapshots the
 * result in a session; later pages need that session_id. page_size is the sandbox's
 * engagePageSize, never a request parameter. A page with fewer than page_size results is the last.
 */
import type { RequestContext } from '../context.js';
import { sendJson } from '../http.js';
import type { SandboxState } from '../state.js';
import { profileLessMembers, profileMembers } from './cohorts.js';
import type { EngageEntry } from './engage-sessions.js';
import { mixpanelRequestError } from './errors.js';
import type { Expression } from './expression.js';
import { parseWhere } from './export.js';

interface EngageFilter {
  where: Expression | null;
  cohortId: number | null;
  includeAllUsers: boolean;
  distinctIds: ReadonlySet<string> | null;
}

export async function handleEngage(ctx: RequestContext): Promise<void> {
  const { state } = ctx;
  const params = await ctx.params();
  const fail = (message: string) => mixpanelRequestError(ctx, message);

  const pageText = params.get('page') ?? '0';
  if (!/^\d+$/.test(pageText)) throw fail(`page must be a non-negative integer, got "${pageText}"`);
  const page = Number(pageText);
  const sessionId = params.get('session_id') || null;
  if (page > 0 && !sessionId) throw fail('session_id is required when page is greater than 0');
  const outputProperties = parseOutputProperties(params.get('output_properties'), fail);

  let session = sessionId ? state.sessions.get(sessionId) : undefined;
  if (!session && page > 0) throw fail(`session_id ${sessionId} is unknown or has expired; start again from page 0`);
  if (!session) session = state.sessions.create(selectProfiles(state, parseFilter(params, fail)));

  const size = state.config.engagePageSize;
  const results = session.entries.slice(page * size, (page + 1) * size).map((entry) => profileResult(state, entry, outputProperties));
  sendJson(ctx.res, 200, { page, page_size: size, session_id: session.id, status: 'ok', total: session.entries.length, results });
}

type Fail = (message: string) => Error;

function parseJsonParam(value: string, name: string, fail: Fail): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw fail(`${name} is not valid JSON: ${value}`);
  }
}

function parseOutputProperties(value: string | null, fail: Fail): string[] | null {
  if (value === null || value === '') return null;
  const parsed = parseJsonParam(value, 'output_properties', fail);
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) throw fail('output_properties must be a JSON array of property names');
  return parsed as string[];
}

function parseFilter(params: URLSearchParams, fail: Fail): EngageFilter {
  let cohortId: number | null = null;
  const cohort = params.get('filter_by_cohort');
  if (cohort) {
    const parsed = parseJsonParam(cohort, 'filter_by_cohort', fail) as { id?: unknown } | null;
    const id = parsed && typeof parsed === 'object' ? Number(parsed.id) : NaN;
    if (!Number.isInteger(id)) throw fail('filter_by_cohort must be a JSON object like {"id": 123}');
    cohortId = id;
  }
  let distinctIds: Set<string> | null = null;
  const single = params.get('distinct_id');
  const many = params.get('distinct_ids');
  if (single) distinctIds = new Set([single]);
  if (many) {
    const parsed = parseJsonParam(many, 'distinct_ids', fail);
    if (!Array.isArray(parsed)) throw fail('distinct_ids must be a JSON array of distinct_ids');
    distinctIds = new Set([...(distinctIds ?? []), ...parsed.map(String)]);
  }
  return {
    where: parseWhere(params.get('where'), fail),
    cohortId,
    includeAllUsers: params.get('include_all_users') !== 'false',
    distinctIds,
  };
}

/**
 * The session snapshot: profile positions in population order, then profile-less cohort members.
 * Cohorts are read from the store as they are now (admin changes included).
 */
function selectProfiles(state: SandboxState, filter: EngageFilter): EngageEntry[] {
  const cohort = filter.cohortId === null ? null : state.cohorts.get(filter.cohortId);
  // An unknown (or deleted) cohort has no members.
  if (filter.cohortId !== null && !cohort) return [];
  const entries: EngageEntry[] = [];
  const positions = cohort ? profileMembers(state, cohort) : null;
  const count = positions ? positions.length : state.config.profiles;
  for (let n = 0; n < count; n++) {
    const k = positions ? (positions[n] as number) : n;
    const profile = state.profile(k);
    if (filter.distinctIds && !filter.distinctIds.has(profile.record.$distinct_id)) continue;
    if (filter.where && !filter.where.test(profile.record.$properties)) continue;
    entries.push(k);
  }
  if (cohort && filter.includeAllUsers && !filter.where) {
    for (const id of profileLessMembers(state, cohort)) {
      if (!filter.distinctIds || filter.distinctIds.has(id)) entries.push(id);
    }
  }
  return entries;
}

function profileResult(state: SandboxState, entry: EngageEntry, outputProperties: readonly string[] | null): Record<string, unknown> {
  if (typeof entry === 'string') return { $distinct_id: entry, $properties: {} };
  const { record } = state.profile(entry);
  if (!outputProperties) return { $distinct_id: record.$distinct_id, $properties: record.$properties };
  const properties: Record<string, unknown> = {};
  for (const name of outputProperties) {
    if (Object.prototype.hasOwnProperty.call(record.$properties, name)) properties[name] = record.$properties[name];
  }
  return { $distinct_id: record.$distinct_id, $properties: properties };
}
