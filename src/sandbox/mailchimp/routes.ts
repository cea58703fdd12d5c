/**
 * The Mailchimp Marketing API v3 routes under /3.0. Handlers parse the request, call the member
 * operations and shape the answer; rules live in members.ts and validation.ts.
 */
import type { RequestContext } from '../context.js';
import type { Route, RouteParams } from '../http.js';
import { sendEmpty, sendJson } from '../http.js';
import type { MemberStatus } from './store.js';
import type { Audience } from './store.js';
import {
  addMember,
  archiveMember,
  batchSubscribe,
  findMember,
  forgetMember,
  patchMember,
  updateMemberTags,
  upsertMember,
} from './members.js';
import type { WriteOptions } from './members.js';
import { jsonParseProblem, mailchimpNotFound, problem } from './problems.js';
import { projectFields, toApiList, toApiMember, toApiMergeField } from './serialize.js';

type MailchimpRoute = Route<RequestContext>;

const LIST = '/3.0/lists/{list_id}';
const MEMBER = `${LIST}/members/{hash}`;
const MEMBER_STATUSES: readonly MemberStatus[] = ['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional', 'archived'];

export const MAILCHIMP_ROUTES: readonly MailchimpRoute[] = [
  { method: 'GET', path: '/3.0', handle: getRoot },
  { method: 'GET', path: '/3.0/ping', handle: (ctx) => sendJson(ctx.res, 200, { health_status: "Everything's Chimpy!" }) },
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

function audienceOf(ctx: RequestContext, params: RouteParams): Audience {
  const audience = ctx.state.audience(params.list_id ?? '');
  if (!audience) throw mailchimpNotFound();
  return audience;
}

async function readJson(ctx: RequestContext): Promise<unknown> {
  const body = await ctx.body();
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw jsonParseProblem();
  }
}

function flag(ctx: RequestContext, name: string): boolean {
  const value = ctx.query.get(name);
  return value === 'true' || value === '1';
}

function writeOptions(ctx: RequestContext): WriteOptions {
  return { skipMergeValidation: flag(ctx, 'skip_merge_validation'), skipDuplicateCheck: flag(ctx, 'skip_duplicate_check') };
}

function invalidParameter(field: string, message: string) {
  return problem(400, 'Invalid Resource', "The resource submitted could not be validated. For field-specific details, see the 'errors' array.", {
    errors: [{ field, message }],
  });
}

/** count (default 10, at most 1000) and offset, as every collection takes them. */
function paging(ctx: RequestContext): { count: number; offset: number } {
  const read = (name: string, fallback: number) => {
    const value = ctx.query.get(name);
    if (value === null || value === '') return fallback;
    if (!/^\d+$/.test(value)) throw invalidParameter(name, `${name} must be a non-negative integer`);
    return Number(value);
  };
  const count = read('count', 10);
  if (count > 1000) throw invalidParameter('count', 'count must be at most 1000');
  return { count, offset: read('offset', 0) };
}

function sendProjected(ctx: RequestContext, document: Record<string, unknown>): void {
  sendJson(ctx.res, 200, projectFields(document, ctx.query.get('fields'), ctx.query.get('exclude_fields')));
}

function now(ctx: RequestContext): number {
  return ctx.state.clock.now();
}

function countMembers(ctx: RequestContext, n: number): void {
  if (ctx.logEntry) ctx.logEntry.members = n;
}

function getRoot(ctx: RequestContext): void {
  const { mailchimp } = ctx.state.config;
  sendProjected(ctx, {
    account_id: 'sandbox0account',
    login_id: 'sandbox0login',
    account_name: 'Sandbox Co.',
    email: 'owner@acme.io',
    username: 'sandbox',
    role: 'owner',
    pricing_plan_type: 'monthly',
    total_subscribers: [...ctx.state.audiences.values()].reduce((n, a) => n + a.visibleMembers().length, 0),
    dc: mailchimp.dc,
    _links: [],
  });
}

function getLists(ctx: RequestContext): void {
  const lists = [...ctx.state.audiences.values()].map(toApiList);
  const { count, offset } = paging(ctx);
  sendProjected(ctx, { lists: lists.slice(offset, offset + count), total_items: lists.length, _links: [] });
}

function getList(ctx: RequestContext, params: RouteParams): void {
  sendProjected(ctx, toApiList(audienceOf(ctx, params)));
}

async function postBatch(ctx: RequestContext, params: RouteParams): Promise<void> {
  const audience = audienceOf(ctx, params);
  const body = await readJson(ctx);
  const members = (body as { members?: unknown } | null)?.members;
  if (Array.isArray(members)) countMembers(ctx, members.length);
  const outcome = batchSubscribe(audience, body, writeOptions(ctx), now(ctx));
  sendJson(ctx.res, 200, {
    new_members: outcome.created.map((m) => toApiMember(m, audience)),
    updated_members: outcome.updated.map((m) => toApiMember(m, audience)),
    errors: outcome.errors,
    total_created: outcome.created.length,
    total_updated: outcome.updated.length,
    error_count: outcome.errors.length,
    _links: [],
  });
}

function parseSince(ctx: RequestContext, name: string): number | null {
  const value = ctx.query.get(name);
  if (value === null || value === '') return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalidParameter(name, `${name} must be an ISO 8601 date-time`);
  return ms;
}

function getMembers(ctx: RequestContext, params: RouteParams): void {
  const audience = audienceOf(ctx, params);
  const { count, offset } = paging(ctx);
  const status = ctx.query.get('status');
  if (status && !(MEMBER_STATUSES as readonly string[]).includes(status)) {
    throw invalidParameter('status', `status must be one of: ${MEMBER_STATUSES.join(', ')}`);
  }
  const since = parseSince(ctx, 'since_last_changed');
  const before = parseSince(ctx, 'before_last_changed');
  const members = audience.visibleMembers().filter((m) => {
    if (status && m.status !== status) return false;
    if (since === null && before === null) return true;
    const changed = Date.parse(m.last_changed);
    return (since === null || changed > since) && (before === null || changed < before);
  });
  sendProjected(ctx, {
    members: members.slice(offset, offset + count).map((m) => toApiMember(m, audience)),
    list_id: audience.id,
    total_items: members.length,
    _links: [],
  });
}

async function postMember(ctx: RequestContext, params: RouteParams): Promise<void> {
  const audience = audienceOf(ctx, params);
  countMembers(ctx, 1);
  const member = addMember(audience, await readJson(ctx), writeOptions(ctx), now(ctx));
  sendJson(ctx.res, 200, toApiMember(member, audience));
}

function getMember(ctx: RequestContext, params: RouteParams): void {
  const audience = audienceOf(ctx, params);
  sendProjected(ctx, toApiMember(findMember(audience, params.hash ?? ''), audience));
}

async function putMember(ctx: RequestContext, params: RouteParams): Promise<void> {
  const audience = audienceOf(ctx, params);
  countMembers(ctx, 1);
  const member = upsertMember(audience, params.hash ?? '', await readJson(ctx), writeOptions(ctx), now(ctx));
  sendJson(ctx.res, 200, toApiMember(member, audience));
}

async function patchMemberRoute(ctx: RequestContext, params: RouteParams): Promise<void> {
  const audience = audienceOf(ctx, params);
  countMembers(ctx, 1);
  const member = patchMember(audience, params.hash ?? '', await readJson(ctx), now(ctx));
  sendJson(ctx.res, 200, toApiMember(member, audience));
}

function deleteMember(ctx: RequestContext, params: RouteParams): void {
  countMembers(ctx, 1);
  archiveMember(audienceOf(ctx, params), params.hash ?? '', now(ctx));
  sendEmpty(ctx.res, 204);
}

function deletePermanent(ctx: RequestContext, params: RouteParams): void {
  countMembers(ctx, 1);
  forgetMember(audienceOf(ctx, params), params.hash ?? '', now(ctx));
  sendEmpty(ctx.res, 204);
}

function getTags(ctx: RequestContext, params: RouteParams): void {
  const member = findMember(audienceOf(ctx, params), params.hash ?? '');
  const { count, offset } = paging(ctx);
  sendProjected(ctx, { tags: member.tags.slice(offset, offset + count), total_items: member.tags.length, _links: [] });
}

async function postTags(ctx: RequestContext, params: RouteParams): Promise<void> {
  const audience = audienceOf(ctx, params);
  countMembers(ctx, 1);
  updateMemberTags(audience, params.hash ?? '', await readJson(ctx), now(ctx));
  sendEmpty(ctx.res, 204);
}

function getMergeFields(ctx: RequestContext, params: RouteParams): void {
  const audience = audienceOf(ctx, params);
  const { count, offset } = paging(ctx);
  const type = ctx.query.get('type');
  const required = ctx.query.get('required');
  const fields = audience.mergeFields.filter(
    (f) => (!type || f.type === type) && (required === null || required === '' || f.required === (required === 'true')),
  );
  sendProjected(ctx, {
    merge_fields: fields.slice(offset, offset + count).map((f) => toApiMergeField(f, audience)),
    list_id: audience.id,
    total_items: fields.length,
    _links: [],
  });
}
