/**
 * Lists, members, member tags and merge fields under /3.0. Handlers parse the call, run the
 * member operations (members.ts, validation.ts) and shape the answer; the same handlers serve
 * batch operations.
 */
import type { RouteParams } from '../http.js';
import type { ApiAnswer, ApiCall, ApiRoute } from './api.js';
import { audienceOf, automationSink, invalidParameter, noContent, nowMs, ok, paging, projected, writeOptions } from './api.js';
import { addMember, archiveMember, batchSubscribe, findMember, forgetMember, patchMember, updateMemberTags, upsertMember } from './members.js';
import { toApiList, toApiMember, toApiMergeField } from './serialize.js';
import { MEMBER_STATUSES } from './store.js';
import type { Audience, MemberFilter, MemberSort, MemberSortField, MemberStatus } from './store.js';

const LIST = '/3.0/lists/{list_id}';
const MEMBER = `${LIST}/members/{hash}`;

export const MEMBER_API_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/3.0', handle: getRoot },
  { method: 'GET', path: '/3.0/ping', handle: () => ok({ health_status: "Everything's Chimpy!" }) },
  { method: 'GET', path: '/3.0/lists', handle: getLists },
  { method: 'GET', path: LIST, handle: getList },
  { method: 'POST', path: LIST, handle: postBatch },
  { method: 'GET', path: `${LIST}/members`, handle: getMembers },
  { method: 'POST', path: `${LIST}/members`, handle: postMember },
  { method: 'GET', path: MEMBER, handle: getMember },
  { method: 'PUT', path: MEMBER, handle: putMember },
  { method: 'PATCH', path: MEMBER, handle: patchMemberRoute },
  { method: 'DELETE', path: MEMBER, handle: deleteMember },
  { method: 'POST', path: `${MEMBER}/actions/delete-permanent`, handle: deletePermanent },
  { method: 'GET', path: `${MEMBER}/tags`, handle: getTags },
  { method: 'POST', path: `${MEMBER}/tags`, handle: postTags },
  { method: 'GET', path: `${LIST}/merge-fields`, handle: getMergeFields },
];

function getRoot(call: ApiCall): ApiAnswer {
  const { mailchimp } = call.state.config;
  return projected(call, {
    account_id: 'sandbox0account',
    login_id: 'sandbox0login',
    account_name: 'Sandbox Co.',
    email: 'owner@acme.io',
    username: 'sandbox',
    role: 'owner',
    pricing_plan_type: 'monthly',
    total_subscribers: [...call.state.audiences.values()].reduce((n, a) => n + a.visibleCount, 0),
    dc: mailchimp.dc,
    _links: [],
  });
}

function getLists(call: ApiCall): ApiAnswer {
  const { count, offset } = paging(call);
  const audiences = [...call.state.audiences.values()];
  return projected(call, { lists: audiences.slice(offset, offset + count).map(toApiList), total_items: audiences.length, _links: [] });
}

function getList(call: ApiCall, params: RouteParams): ApiAnswer {
  return projected(call, toApiList(audienceOf(call, params)));
}

async function postBatch(call: ApiCall, params: RouteParams): Promise<ApiAnswer> {
  const audience = audienceOf(call, params);
  const body = await call.json();
  const members = (body as { members?: unknown } | null)?.members;
  if (Array.isArray(members)) call.countMembers(members.length);
  const outcome = batchSubscribe(audience, body, writeOptions(call, audience, 'batch_subscribe'), nowMs(call));
  return ok({
    new_members: outcome.created.map((m) => toApiMember(m, audience)),
    updated_members: outcome.updated.map((m) => toApiMember(m, audience)),
    errors: outcome.errors,
    total_created: outcome.created.length,
    total_updated: outcome.updated.length,
    error_count: outcome.errors.length,
    _links: [],
  });
}

function parseInstantParam(call: ApiCall, name: string): number | undefined {
  const value = call.query.get(name);
  if (value === null || value === '') return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalidParameter(name, `${name} must be an ISO 8601 date-time, e.g. 2015-10-21T15:41:36+00:00`);
  return ms;
}

/** The members page of positions, as the API shows them. */
export function memberDocuments(audience: Audience, positions: readonly number[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const p of positions) {
    const member = audience.recordAt(p);
    if (member) out.push(toApiMember(member, audience));
  }
  return out;
}

const SORT_FIELDS: readonly MemberSortField[] = ['timestamp_opt', 'timestamp_signup', 'last_changed'];

/** sort_field and sort_dir (ASC unless DESC); without sort_field the audience's own order. */
function parseSort(call: ApiCall): MemberSort | undefined {
  const field = call.query.get('sort_field');
  const dir = call.query.get('sort_dir');
  if (dir && dir !== 'ASC' && dir !== 'DESC') throw invalidParameter('sort_dir', 'sort_dir must be one of: ASC, DESC');
  if (!field) return undefined;
  if (!(SORT_FIELDS as readonly string[]).includes(field)) throw invalidParameter('sort_field', `sort_field must be one of: ${SORT_FIELDS.join(', ')}`);
  return { field: field as MemberSortField, dir: dir === 'DESC' ? 'DESC' : 'ASC' };
}

function getMembers(call: ApiCall, params: RouteParams): ApiAnswer {
  const audience = audienceOf(call, params);
  const { count, offset } = paging(call);
  const status = call.query.get('status');
  if (status && !(MEMBER_STATUSES as readonly string[]).includes(status)) {
    throw invalidParameter('status', `status must be one of: ${MEMBER_STATUSES.join(', ')}`);
  }
  const filter: MemberFilter = {};
  if (status) filter.statuses = new Set([status as MemberStatus]);
  const since = parseInstantParam(call, 'since_last_changed');
  if (since !== undefined) filter.sinceMs = since;
  const before = parseInstantParam(call, 'before_last_changed');
  if (before !== undefined) filter.beforeMs = before;
  const sort = parseSort(call);
  const { total, positions } = sort ? audience.selectSorted(filter, sort, offset, count) : audience.select(filter, offset, count);
  return projected(call, { members: memberDocuments(audience, positions), list_id: audience.id, total_items: total, _links: [] });
}

async function postMember(call: ApiCall, params: RouteParams): Promise<ApiAnswer> {
  const audience = audienceOf(call, params);
  call.countMembers(1);
  const member = addMember(audience, await call.json(), writeOptions(call, audience, 'add_member'), nowMs(call));
  return ok(toApiMember(member, audience));
}

function getMember(call: ApiCall, params: RouteParams): ApiAnswer {
  const audience = audienceOf(call, params);
  return projected(call, toApiMember(findMember(audience, params.hash ?? ''), audience));
}

async function putMember(call: ApiCall, params: RouteParams): Promise<ApiAnswer> {
  const audience = audienceOf(call, params);
  call.countMembers(1);
  const member = upsertMember(audience, params.hash ?? '', await call.json(), writeOptions(call, audience, 'add_member'), nowMs(call));
  return ok(toApiMember(member, audience));
}

async function patchMemberRoute(call: ApiCall, params: RouteParams): Promise<ApiAnswer> {
  const audience = audienceOf(call, params);
  call.countMembers(1);
  const member = patchMember(audience, params.hash ?? '', await call.json(), nowMs(call));
  return ok(toApiMember(member, audience));
}

function deleteMember(call: ApiCall, params: RouteParams): ApiAnswer {
  call.countMembers(1);
  archiveMember(audienceOf(call, params), params.hash ?? '', nowMs(call));
  return noContent();
}

function deletePermanent(call: ApiCall, params: RouteParams): ApiAnswer {
  call.countMembers(1);
  forgetMember(audienceOf(call, params), params.hash ?? '', nowMs(call));
  return noContent();
}

function getTags(call: ApiCall, params: RouteParams): ApiAnswer {
  const member = findMember(audienceOf(call, params), params.hash ?? '');
  const { count, offset } = paging(call);
  return projected(call, { tags: member.tags.slice(offset, offset + count), total_items: member.tags.length, _links: [] });
}

async function postTags(call: ApiCall, params: RouteParams): Promise<ApiAnswer> {
  const audience = audienceOf(call, params);
  call.countMembers(1);
  updateMemberTags(audience, params.hash ?? '', await call.json(), nowMs(call), automationSink(call, audience, 'member_tags'));
  return noContent();
}

function getMergeFields(call: ApiCall, params: RouteParams): ApiAnswer {
  const audience = audienceOf(call, params);
  const { count, offset } = paging(call);
  const type = call.query.get('type');
  const required = call.query.get('required');
  const fields = audience.mergeFields.filter(
    (f) => (!type || f.type === type) && (required === null || required === '' || f.required === (required === 'true')),
  );
  return projected(call, {
    merge_fields: fields.slice(offset, offset + count).map((f) => toApiMergeField(f, audience)),
    list_id: audience.id,
    total_items: fields.length,
    _links: [],
  });
}
