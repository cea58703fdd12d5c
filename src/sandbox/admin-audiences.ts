/**
 * Admin endpoints that shape audiences for a test or the demo, with no API rules applied:
 *
 * - `POST /__admin/mailchimp/lists` creates another audience:
 *   `{"id", "name"?, "members"?: [...as POST .../members], "merge_fields"?: "default" | [{tag, name, type, required?, options?}],
 *     "interest_categories"?: [{title, type?, interests: [names]}], "marketing_permissions"?: [texts]}`
 *   (409 when the id is taken; the seeded audience's merge fields, groups and permissions by default).
 * - `PATCH /__admin/mailchimp/lists/{list_id}/members/{hash or address}` changes one member as
 *   someone in Mailchimp would: `{"status"?, "merge_fields"?, "tags"?: {"add"?: [], "remove"?: []},
 *   "vip"?, "language"?, "interests"?: {id: bool}, "marketing_permissions"?: {id: bool},
 *   "last_changed"?: ISO | "keep"}`. Any status may be set (archived, and back). last_changed
 *   becomes the sandbox's now, or the given instant, or stays with "keep" (a change Mailchimp
 *   would not stamp: the API's tag endpoints do not move it here). Answers the member (admin view).
 */
import { adminError, asRecord, readJsonBody } from './admin-http.js';
import { upsertAdminMembers } from './admin-mailchimp.js';
import type { RequestContext } from './context.js';
import { sendJson } from './http.js';
import type { Route, RouteParams } from './http.js';
import { DEFAULT_GROUPS, DEFAULT_PERMISSIONS, interestCategories, marketingPermissions, type GroupSpec } from './mailchimp/group-definitions.js';
import { applyGroupChanges, GroupInputError } from './mailchimp/groups.js';
import { toAdminMember } from './mailchimp/serialize.js';
import { Audience, MEMBER_STATUSES, mailchimpTime, memberKey, type MemberRecord, type MemberStatus } from './mailchimp/store.js';
import { seedMergeFields, validateMergeFields, type MergeFieldDefinition } from './mailchimp/validation.js';

type AdminRoute = Route<RequestContext>;

export const AUDIENCE_ADMIN_ROUTES: readonly AdminRoute[] = [
  { method: 'POST', path: '/__admin/mailchimp/lists', handle: postList },
  { method: 'PATCH', path: '/__admin/mailchimp/lists/{list_id}/members/{member}', handle: patchMember },
];

const MERGE_TYPES: ReadonlyArray<MergeFieldDefinition['type']> = ['text', 'number', 'address', 'phone', 'date', 'url', 'imageurl', 'radio', 'dropdown', 'birthday', 'zip'];

function mergeFieldDefinitions(raw: unknown): MergeFieldDefinition[] {
  if (raw === undefined || raw === 'default') return seedMergeFields(null);
  if (!Array.isArray(raw)) throw adminError(400, 'merge_fields must be "default" or an array of {tag, name, type}');
  return raw.map((item: unknown, i: number) => {
    const f = asRecord(item, `merge_fields[${i}]`);
    if (typeof f.tag !== 'string' || !/^[A-Z0-9_]{1,10}$/.test(f.tag)) throw adminError(400, `merge_fields[${i}].tag must be up to 10 of A-Z, 0-9, _`);
    if (!(MERGE_TYPES as readonly unknown[]).includes(f.type)) throw adminError(400, `merge_fields[${i}].type must be one of ${MERGE_TYPES.join(', ')}`);
    return {
      merge_id: i + 1,
      tag: f.tag,
      name: typeof f.name === 'string' ? f.name : f.tag,
      type: f.type as MergeFieldDefinition['type'],
      required: f.required === true,
      default_value: '',
      public: true,
      display_order: i + 1,
      options: f.options && typeof f.options === 'object' ? (f.options as MergeFieldDefinition['options']) : {},
      help_text: '',
    };
  });
}

function groupSpecs(raw: unknown): GroupSpec[] {
  if (raw === undefined) return [...DEFAULT_GROUPS];
  if (!Array.isArray(raw)) throw adminError(400, 'interest_categories must be an array of {title, type?, interests: [names]}');
  return raw.map((item: unknown, i: number) => {
    const g = asRecord(item, `interest_categories[${i}]`);
    if (typeof g.title !== 'string' || !Array.isArray(g.interests) || !g.interests.every((n) => typeof n === 'string')) {
      throw adminError(400, `interest_categories[${i}] needs a title and interests (names)`);
    }
    return { title: g.title, interests: g.interests as string[], ...(typeof g.type === 'string' ? { type: g.type as GroupSpec['type'] } : {}) };
  });
}

async function postList(ctx: RequestContext): Promise<void> {
  const body = asRecord(await readJsonBody(ctx), 'body');
  if (typeof body.id !== 'string' || !/^[0-9a-z]{1,32}$/.test(body.id)) throw adminError(400, 'id must be 1 to 32 of 0-9, a-z');
  if (ctx.state.audience(body.id)) throw adminError(409, `list ${body.id} exists`);
  const now = ctx.state.clock.now();
  const audience = new Audience(body.id, typeof body.name === 'string' ? body.name : `Audience ${body.id}`, 300_000 + (now % 600_000), mailchimpTime(now), mergeFieldDefinitions(body.merge_fields));
  audience.interestCategories = interestCategories(audience.id, groupSpecs(body.interest_categories));
  const permissions = body.marketing_permissions === undefined ? DEFAULT_PERMISSIONS : body.marketing_permissions;
  if (!Array.isArray(permissions) || !permissions.every((t) => typeof t === 'string')) throw adminError(400, 'marketing_permissions must be an array of texts');
  audience.marketingPermissions = marketingPermissions(audience.id, permissions as string[]);
  if (body.members !== undefined && !Array.isArray(body.members)) throw adminError(400, 'members must be an array');
  upsertAdminMembers(audience, (body.members as unknown[] | undefined) ?? [], mailchimpTime(now));
  audience.startTracking();
  ctx.state.audiences.set(audience.id, audience);
  sendJson(ctx.res, 200, { list_id: audience.id, name: audience.name, total_items: audience.visibleCount });
}

function lastChangedOf(value: unknown, nowMs: number): string | null {
  if (value === 'keep') return null;
  if (value === undefined) return mailchimpTime(nowMs);
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw adminError(400, 'last_changed must be an ISO date-time or "keep"');
  return mailchimpTime(ms);
}

function applyTags(audience: Audience, member: MemberRecord, raw: unknown, now: string): void {
  if (raw === undefined) return;
  const tags = asRecord(raw, 'tags');
  for (const [key, active] of [['add', true], ['remove', false]] as const) {
    const names = tags[key] ?? [];
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) throw adminError(400, `tags.${key} must be an array of tag names`);
    for (const name of names as string[]) audience.setTag(member, name, active, now);
  }
}

function applyFields(audience: Audience, member: MemberRecord, body: Record<string, unknown>): void {
  if (body.status !== undefined) {
    if (!(MEMBER_STATUSES as readonly unknown[]).includes(body.status)) throw adminError(400, `status must be one of ${MEMBER_STATUSES.join(', ')}`);
    member.status = body.status as MemberStatus;
    member.unsubscribe_reason = member.status === 'unsubscribed' ? 'N/A (Unsubscribed by an admin)' : '';
  }
  if (body.merge_fields !== undefined) {
    const { values, problems } = validateMergeFields(audience.mergeFields, body.merge_fields, false);
    if (problems.length > 0) throw adminError(400, `merge_fields: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
    Object.assign(member.merge_fields, values);
  }
  if (typeof body.vip === 'boolean') member.vip = body.vip;
  if (typeof body.language === 'string') member.language = body.language;
  const permissions = body.marketing_permissions === undefined ? undefined : Object.entries(asRecord(body.marketing_permissions, 'marketing_permissions'));
  try {
    applyGroupChanges(audience, member, {
      interests: body.interests,
      ...(permissions ? { marketing_permissions: permissions.map(([id, enabled]) => ({ marketing_permission_id: id, enabled })) } : {}),
    });
  } catch (err) {
    if (err instanceof GroupInputError) throw adminError(400, err.message);
    throw err;
  }
}

async function patchMember(ctx: RequestContext, params: RouteParams): Promise<void> {
  const audience = ctx.state.audience(params.list_id ?? '');
  if (!audience) throw adminError(404, `No list ${params.list_id}`);
  const member = audience.get(memberKey(decodeURIComponent(params.member ?? '')));
  if (!member || member.forgotten) throw adminError(404, `No member ${params.member} in list ${audience.id}`);
  const body = asRecord(await readJsonBody(ctx), 'body');
  const now = ctx.state.clock.now();
  const lastChanged = lastChangedOf(body.last_changed, now);
  applyFields(audience, member, body);
  applyTags(audience, member, body.tags, mailchimpTime(now));
  if (lastChanged !== null) member.last_changed = lastChanged;
  audience.save(member);
  sendJson(ctx.res, 200, toAdminMember(member, audience));
}
