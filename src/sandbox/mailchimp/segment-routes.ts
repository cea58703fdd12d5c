/**
 * Static segments (tags) under /3.0/lists/{list_id}/segments; rules in segments.ts.
 */
import type { RouteParams } from '../http.js';
import type { ApiAnswer, ApiCall, ApiRoute } from './api.js';
import { audienceOf, automationSink, flag, invalidParameter, noContent, nowMs, ok, paging, projected } from './api.js';
import { memberDocuments } from './member-routes.js';
import { batchSegmentMembers, createSegment, deleteSegment, findSegment, segmentFilter, updateSegment } from './segments.js';
import type { SegmentInclusion } from './segments.js';
import { toApiMember } from './serialize.js';
import type { Audience, TagDefinition } from './store.js';

const SEGMENTS = '/3.0/lists/{list_id}/segments';
const SEGMENT = `${SEGMENTS}/{segment_id}`;

export const SEGMENT_API_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: SEGMENTS, handle: getSegments },
  { method: 'POST', path: SEGMENTS, handle: postSegment },
  { method: 'GET', path: SEGMENT, handle: getSegment },
  { method: 'PATCH', path: SEGMENT, handle: patchSegment },
  { method: 'DELETE', path: SEGMENT, handle: removeSegment },
  { method: 'POST', path: SEGMENT, handle: postSegmentMembers },
  { method: 'GET', path: `${SEGMENT}/members`, handle: getSegmentMembers },
];

const SEGMENT_TYPES = ['saved', 'static', 'fuzzy'];

function inclusion(call: ApiCall): SegmentInclusion {
  return { cleaned: flag(call, 'include_cleaned'), transactional: flag(call, 'include_transactional'), unsubscribed: flag(call, 'include_unsubscribed') };
}

export function toApiSegment(audience: Audience, tag: TagDefinition, include: SegmentInclusion): Record<string, unknown> {
  return {
    id: tag.id,
    name: tag.name,
    member_count: audience.select(segmentFilter(tag.id, include), 0, 0).total,
    type: 'static',
    created_at: tag.createdAt,
    updated_at: tag.updatedAt,
    list_id: audience.id,
    _links: [],
  };
}

function getSegments(call: ApiCall, params: RouteParams): ApiAnswer {
  const audience = audienceOf(call, params);
  const { count, offset } = paging(call);
  const type = call.query.get('type');
  if (type && !SEGMENT_TYPES.includes(type)) throw invalidParameter('type', `type must be one of: ${SEGMENT_TYPES.join(', ')}`);
  // Every segment here is static (a tag): asking for saved or fuzzy ones finds none.
  const tags = type && type !== 'static' ? [] : audience.tags();
  const include = inclusion(call);
  return projected(call, {
    segments: tags.slice(offset, offset + count).map((tag) => toApiSegment(audience, tag, include)),
    list_id: audience.id,
    total_items: tags.length,
    _links: [],
  });
}

async function postSegment(call: ApiCall, params: RouteParams): Promise<ApiAnswer> {
  const audience = audienceOf(call, params);
  const tag = createSegment(audience, await call.json(), nowMs(call), automationSink(call, audience, 'segment_create'));
  return ok(toApiSegment(audience, tag, inclusion(call)));
}

function getSegment(call: ApiCall, params: RouteParams): ApiAnswer {
  const audience = audienceOf(call, params);
  return projected(call, toApiSegment(audience, findSegment(audience, params.segment_id ?? ''), inclusion(call)));
}

async function patchSegment(call: ApiCall, params: RouteParams): Promise<ApiAnswer> {
  const audience = audienceOf(call, params);
  const tag = updateSegment(audience, params.segment_id ?? '', await call.json(), nowMs(call), automationSink(call, audience, 'segment_update'));
  return ok(toApiSegment(audience, tag, inclusion(call)));
}

function removeSegment(call: ApiCall, params: RouteParams): ApiAnswer {
  deleteSegment(audienceOf(call, params), params.segment_id ?? '');
  return noContent();
}

async function postSegmentMembers(call: ApiCall, params: RouteParams): Promise<ApiAnswer> {
  const audience = audienceOf(call, params);
  const body = await call.json();
  const input = (body ?? {}) as { members_to_add?: unknown; members_to_remove?: unknown };
  call.countMembers((Array.isArray(input.members_to_add) ? input.members_to_add.length : 0) + (Array.isArray(input.members_to_remove) ? input.members_to_remove.length : 0));
  const result = batchSegmentMembers(audience, params.segment_id ?? '', body, nowMs(call), automationSink(call, audience, 'segment_members'));
  const errors = result.notFound.length > 0 ? [{ email_addresses: result.notFound, error: 'Email addresses were not found in this list.' }] : [];
  return ok({
    members_added: result.added.map((m) => toApiMember(m, audience)),
    members_removed: result.removed.map((m) => toApiMember(m, audience)),
    errors,
    total_added: result.added.length,
    total_removed: result.removed.length,
    error_count: result.notFound.length,
    _links: [],
  });
}

function getSegmentMembers(call: ApiCall, params: RouteParams): ApiAnswer {
  const audience = audienceOf(call, params);
  const tag = findSegment(audience, params.segment_id ?? '');
  const { count, offset } = paging(call);
  const { total, positions } = audience.select(segmentFilter(tag.id, inclusion(call)), offset, count);
  return projected(call, { members: memberDocuments(audience, positions), total_items: total, _links: [] });
}
