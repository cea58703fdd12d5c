/**
 * The Mailchimp part of the admin API: the audience as it really is (paged, since an audience can
 * hold a million members), direct seeding, the automation-trigger log, and batch processing
 * (state, rate, pause, and running operations on demand).
 */
import { adminError, asRecord, readJsonBody } from './admin-http.js';
import type { RequestContext } from './context.js';
import { sendJson } from './http.js';
import type { Route, RouteParams } from './http.js';
import { generatedMember } from './data/generated-audience.js';
import { toAdminMember } from './mailchimp/serialize.js';
import { MEMBER_STATUSES, mailchimpTime } from './mailchimp/store.js';
import type { Audience, MemberFilter, MemberStatus } from './mailchimp/store.js';
import { positiveRate } from './options.js';
import type { SandboxState } from './state.js';

type AdminRoute = Route<RequestContext>;

export const MAILCHIMP_ADMIN_ROUTES: readonly AdminRoute[] = [
  { method: 'GET', path: '/__admin/mailchimp/lists/{list_id}/members', handle: getAudienceMembers },
  { method: 'POST', path: '/__admin/mailchimp/lists/{list_id}/members', handle: postAudienceMembers },
  { method: 'GET', path: '/__admin/mailchimp/generated', handle: getGenerated },
  { method: 'GET', path: '/__admin/mailchimp/automations', handle: getAutomations },
  { method: 'GET', path: '/__admin/mailchimp/batches', handle: (ctx) => sendJson(ctx.res, 200, batchesState(ctx.state)) },
  { method: 'POST', path: '/__admin/mailchimp/batches', handle: postBatches },
];

/** Without `count`, audiences up to this size are listed whole (as before audiences grew). */
const FULL_LISTING_LIMIT = 200_000;
const DEFAULT_PAGE = 1000;

function audienceOf(ctx: RequestContext, params: RouteParams): Audience {
  const audience = ctx.state.audience(params.list_id ?? '');
  if (!audience) throw adminError(404, `No list ${params.list_id}`);
  return audience;
}

function nonNegative(ctx: RequestContext, name: string): number | undefined {
  const value = ctx.query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw adminError(400, `${name} must be a non-negative integer`);
  return Number(value);
}

/**
 * Members with their sandbox flags, in the API's order, and counts by status (of visible
 * members). `status` (comma list; without it permanently deleted members are included), `written=true` (only members written since start), `offset`, `count`; without `count`
 * the whole audience when it has at most 200,000 members, else the first 1000 (`next_offset`
 * says where the next page starts).
 */
function getAudienceMembers(ctx: RequestContext, params: RouteParams): void {
  const audience = audienceOf(ctx, params);
  const filter: MemberFilter = {};
  const status = ctx.query.get('status');
  if (status) {
    const statuses = status.split(',').map((s) => s.trim());
    const unknown = statuses.find((s) => !(MEMBER_STATUSES as readonly string[]).includes(s));
    if (unknown !== undefined) throw adminError(400, `status must be among ${MEMBER_STATUSES.join(', ')}, got ${unknown}`);
    filter.statuses = new Set(statuses as MemberStatus[]);
  }
  // Without a status filter, permanently deleted members are listed too (flagged `forgotten`).
  else filter.includeForgotten = true;
  if (ctx.query.get('written') === 'true') filter.writtenOnly = true;
  const offset = nonNegative(ctx, 'offset') ?? 0;
  const requested = nonNegative(ctx, 'count');
  const count = requested ?? (audience.visibleCount <= FULL_LISTING_LIMIT ? Number.MAX_SAFE_INTEGER : DEFAULT_PAGE);
  const { total, positions } = audience.select(filter, offset, count);
  const members: Array<Record<string, unknown>> = [];
  for (const p of positions) {
    const member = audience.recordAt(p);
    if (member) members.push(toAdminMember(member, audience));
  }
  const next = offset + positions.length;
  sendJson(ctx.res, 200, {
    list_id: audience.id,
    total_items: total,
    counts: audience.countsByStatus(),
    generated: audience.generated,
    offset,
    members,
    ...(next < total ? { next_offset: next } : {}),
  });
}

/** Adds or replaces members as given, with no API rules applied (seeding for a test). */
async function postAudienceMembers(ctx: RequestContext, params: RouteParams): Promise<void> {
  const audience = audienceOf(ctx, params);
  const body = asRecord(await readJsonBody(ctx), 'body');
  if (!Array.isArray(body.members)) throw adminError(400, 'members must be an array');
  if (body.replace_all === true) checkAdminMembers(body.members);
  if (body.replace_all === true) audience.clear();
  const upserted = upsertAdminMembers(audience, body.members, mailchimpTime(ctx.state.clock.now()));
  sendJson(ctx.res, 200, { list_id: audience.id, upserted, total_items: audience.visibleCount });
}

function checkAdminMembers(raw: unknown[]): Array<{ input: Record<string, unknown>; email: string; status: MemberStatus }> {
  return raw.map((item: unknown, i: number) => {
    const input = asRecord(item, `members[${i}]`);
    if (typeof input.email_address !== 'string' || input.email_address === '') throw adminError(400, `members[${i}].email_address is required`);
    const status = input.status ?? 'subscribed';
    if (!(MEMBER_STATUSES as readonly unknown[]).includes(status)) throw adminError(400, `members[${i}].status must be one of ${MEMBER_STATUSES.join(', ')}`);
    return { input, email: input.email_address, status: status as MemberStatus };
  });
}

/**
 * Adds members to an audience, or replaces the one with the same address in its place, as given
 * (`{email_address, status?, merge_fields?, tags?, last_changed?, compliance_locked?, forgotten?}`).
 */
export function upsertAdminMembers(audience: Audience, raw: unknown[], now: string): number {
  const inputs = checkAdminMembers(raw);
  for (const { input, email, status } of inputs) {
    const lastChanged = typeof input.last_changed === 'string' ? input.last_changed : now;
    const tags = Array.isArray(input.tags) ? input.tags.filter((t: unknown): t is string => typeof t === 'string') : [];
    audience.create({
      email,
      status,
      mergeFields: input.merge_fields && typeof input.merge_fields === 'object' ? (input.merge_fields as Record<string, unknown>) : {},
      source: 'Admin Add',
      complianceLocked: input.compliance_locked === true,
      forgotten: input.forgotten === true,
      timestampSignup: typeof input.timestamp_signup === 'string' ? input.timestamp_signup : undefined,
      lastChanged,
      tags,
    });
  }
  return inputs.length;
}

/**
 * The generated members as generated (before any write): `offset` and `count` (at most 10,000)
 * over their indexes, for clients in another process that cannot call generatedMember.
 */
function getGenerated(ctx: RequestContext): void {
  const { audienceSize } = ctx.state.config.mailchimp;
  const offset = nonNegative(ctx, 'offset') ?? 0;
  const count = Math.min(nonNegative(ctx, 'count') ?? 1000, 10_000);
  const context = { seed: ctx.state.config.seed, referenceMs: ctx.state.config.startNowMs };
  const members: Array<Record<string, unknown>> = [];
  for (let i = offset; i < Math.min(audienceSize, offset + count); i++) {
    const m = generatedMember(i, context);
    members.push({ index: i, email_address: m.email, category: m.category, status: m.status, merge_fields: m.mergeFields, tags: m.tags });
  }
  sendJson(ctx.res, 200, { total_items: audienceSize, offset, members });
}

/** Tag additions that would have started automations: counts, then the latest entries (offset, count). */
function getAutomations(ctx: RequestContext): void {
  const log = ctx.state.automations;
  const offset = nonNegative(ctx, 'offset') ?? 0;
  const count = nonNegative(ctx, 'count') ?? 1000;
  sendJson(ctx.res, 200, { ...log.summary(), kept: log.kept, triggers: log.list(offset, count) });
}

export function batchSettingsState(state: SandboxState): Record<string, unknown> {
  const { settings } = state.batches;
  return { operations_per_second: settings.operationsPerSecond, paused: settings.paused };
}

/** `{"operations_per_second"?: N, "paused"?: bool}`; resuming or a faster rate takes effect at once. */
export function applyBatchSettings(state: SandboxState, raw: unknown): void {
  const body = asRecord(raw, 'mailchimp_batches');
  for (const key of Object.keys(body)) {
    if (!['operations_per_second', 'paused'].includes(key)) throw adminError(400, `mailchimp_batches.${key}: unknown key`);
  }
  const { settings } = state.batches;
  if (body.operations_per_second !== undefined) {
    try {
      settings.operationsPerSecond = positiveRate('mailchimp_batches.operations_per_second', body.operations_per_second, settings.operationsPerSecond);
    } catch (err) {
      throw adminError(400, err instanceof Error ? err.message : String(err));
    }
  }
  if (body.paused !== undefined) {
    if (typeof body.paused !== 'boolean') throw adminError(400, 'mailchimp_batches.paused must be true or false');
    settings.paused = body.paused;
  }
  state.batchRunner.kick();
}

function batchesState(state: SandboxState): Record<string, unknown> {
  return {
    ...batchSettingsState(state),
    unfinished: state.batches.unfinished(),
    batches: state.batches.list().map((job) => ({
      id: job.id,
      status: job.status,
      total_operations: job.total,
      finished_operations: job.finished,
      errored_operations: job.errored,
      submitted_at: job.submittedAt,
      completed_at: job.completedAt,
    })),
  };
}

/**
 * `{"operations_per_second"?, "paused"?, "advance_operations"?: N}`: the settings, then N
 * operations run at once (paused or not), so a test can stop a batch exactly halfway.
 */
async function postBatches(ctx: RequestContext): Promise<void> {
  const body = asRecord(await readJsonBody(ctx), 'body');
  const { advance_operations: advance, ...settings } = body;
  if (advance !== undefined && (typeof advance !== 'number' || !Number.isInteger(advance) || advance < 0)) {
    throw adminError(400, 'advance_operations must be an integer >= 0');
  }
  if (Object.keys(settings).length > 0) applyBatchSettings(ctx.state, settings);
  const ran = advance === undefined ? 0 : await ctx.state.batchRunner.advance(advance);
  sendJson(ctx.res, 200, { ...batchesState(ctx.state), operations_run: ran });
}
