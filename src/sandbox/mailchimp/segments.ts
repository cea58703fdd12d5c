/**
 * Static segments, which in Mailchimp are the list's tags: one registry (store.ts), so a tag added
 * through the member tags endpoint is a static segment here and a member added to a static segment
 * carries its tag.
 *
 * Rules:
 *   - a segment's members are the members holding its tag; listings and `member_count` leave out
 *     unsubscribed, cleaned and transactional members unless include_* asks for them, and never
 *     show archived or permanently deleted ones;
 *   - POST /segments/{id} takes at most 500 addresses in each of members_to_add and
 *     members_to_remove; addresses that are not on the list are left alone and reported in
 *     `errors`; adding a member who already has the tag, or removing one who has not, changes
 *     nothing;
 *   - names are unique in the list, compared case-insensitively (tags are);
 *   - only static segments exist here: saved (conditions) segments are refused.
 */
import type { AutomationSink } from './members.js';
import { MemberRejection, notFound } from './members.js';
import { mailchimpTime, subscriberHash } from './store.js';
import type { Audience, MemberFilter, MemberRecord, MemberStatus, TagDefinition } from './store.js';

export const SEGMENT_BATCH_LIMIT = 500;

const VALIDATION_DETAIL = "The resource submitted could not be validated. For field-specific details, see the 'errors' array.";

function invalid(field: string, message: string): MemberRejection {
  return new MemberRejection('Invalid Resource', VALIDATION_DETAIL, { field, fieldMessage: message, errors: [{ field, message }] });
}

function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('', 'Schema describes object');
  return body as Record<string, unknown>;
}

/** Which statuses a segment's listing and member_count take in. */
export interface SegmentInclusion {
  cleaned: boolean;
  transactional: boolean;
  unsubscribed: boolean;
}

export function segmentFilter(tagId: number, include: SegmentInclusion): MemberFilter {
  const statuses = new Set<MemberStatus>(['subscribed', 'pending']);
  if (include.cleaned) statuses.add('cleaned');
  if (include.transactional) statuses.add('transactional');
  if (include.unsubscribed) statuses.add('unsubscribed');
  return { tagId, statuses };
}

export function findSegment(audience: Audience, segmentId: string): TagDefinition {
  const tag = /^\d+$/.test(segmentId) ? audience.tagById(Number(segmentId)) : undefined;
  if (!tag) throw notFound();
  return tag;
}

function segmentName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid('name', 'This value should not be blank.');
  if (value.trim().length > 100) throw invalid('name', 'This value is too long. It should have 100 characters or less.');
  return value.trim();
}

function emailList(value: unknown, field: string, limit: number | null): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(field, 'Schema describes array');
  if (limit !== null && value.length > limit) throw invalid(field, `Schema describes array, no more than ${limit} items allowed, found ${value.length}`);
  return value.map((item: unknown, i: number) => {
    if (typeof item !== 'string') throw invalid(`${field}.${i}`, 'Schema describes string');
    return item;
  });
}

function nameTaken(audience: Audience, name: string, except?: number): boolean {
  const existing = audience.findTag(name);
  return existing !== undefined && existing.id !== except;
}

function alreadyExists(name: string): MemberRejection {
  return new MemberRejection('Invalid Resource', `A tag or segment named "${name}" already exists in this list.`, { field: 'name' });
}

/** The visible member for an address, or undefined (not on the list, or permanently deleted). */
function memberFor(audience: Audience, email: string): MemberRecord | undefined {
  const member = audience.get(subscriberHash(email.trim()));
  return member && !member.forgotten ? member : undefined;
}

export interface SegmentMembership {
  added: MemberRecord[];
  removed: MemberRecord[];
  /** Addresses that are not on the list. */
  notFound: string[];
}

/** Adds and removes the tag; additions go to `onAutomationTag`. */
function changeMembership(audience: Audience, tag: TagDefinition, add: readonly string[], remove: readonly string[], now: string, onAutomationTag?: AutomationSink): SegmentMembership {
  const result: SegmentMembership = { added: [], removed: [], notFound: [] };
  const seen = new Set<string>();
  const apply = (email: string, active: boolean) => {
    const key = `${active ? '+' : '-'}${email.trim().toLowerCase()}`;
    if (seen.has(key)) return;
    seen.add(key);
    const member = memberFor(audience, email);
    if (!member) {
      result.notFound.push(email);
      return;
    }
    if (!audience.setTag(member, tag.name, active, now)) return;
    audience.save(member);
    if (active) {
      result.added.push(member);
      onAutomationTag?.(member, tag.name);
    } else {
      result.removed.push(member);
    }
  };
  for (const email of add) apply(email, true);
  for (const email of remove) apply(email, false);
  if (result.added.length > 0 || result.removed.length > 0) audience.touchTag(tag.id, now);
  return result;
}

/** POST /lists/{id}/segments: a new static segment (a tag), with the listed members. */
export function createSegment(audience: Audience, body: unknown, nowMs: number, onAutomationTag?: AutomationSink): TagDefinition {
  const input = asObject(body);
  const name = segmentName(input.name);
  if (input.options !== undefined) {
    throw new MemberRejection('Invalid Resource', 'The sandbox emulates static segments (tags) only; saved segments with "options" are not supported.', { field: 'options' });
  }
  if (input.static_segment === undefined) throw new MemberRejection('Invalid Resource', 'Must provide either an "options" field or a "static_segment" field');
  const emails = emailList(input.static_segment, 'static_segment', null);
  if (nameTaken(audience, name)) throw alreadyExists(name);
  const now = mailchimpTime(nowMs);
  const tag = audience.tag(name, now);
  changeMembership(audience, tag, emails, [], now, onAutomationTag);
  return tag;
}

/** PATCH /lists/{id}/segments/{segment_id}: rename; a static_segment replaces the members. */
export function updateSegment(audience: Audience, segmentId: string, body: unknown, nowMs: number, onAutomationTag?: AutomationSink): TagDefinition {
  const tag = findSegment(audience, segmentId);
  const input = asObject(body);
  const name = segmentName(input.name);
  if (input.options !== undefined) throw new MemberRejection('Invalid Resource', 'A static segment cannot take "options".', { field: 'options' });
  const now = mailchimpTime(nowMs);
  if (name !== tag.name) {
    if (nameTaken(audience, name, tag.id)) throw alreadyExists(name);
    audience.renameTag(tag.id, name, now);
  }
  if (input.static_segment !== undefined) {
    const wanted = emailList(input.static_segment, 'static_segment', null);
    const keep = new Set(wanted.map((e) => subscriberHash(e.trim())));
    const { positions } = audience.select({ tagId: tag.id }, 0, Number.MAX_SAFE_INTEGER);
    const leaving: string[] = [];
    for (const p of positions) {
      const member = audience.recordAt(p);
      if (member && !keep.has(member.id)) leaving.push(member.email_address);
    }
    changeMembership(audience, tag, wanted, leaving, now, onAutomationTag);
  }
  return audience.tagById(tag.id) as TagDefinition;
}

/** DELETE /lists/{id}/segments/{segment_id}: the tag leaves every member. */
export function deleteSegment(audience: Audience, segmentId: string): void {
  audience.deleteTag(findSegment(audience, segmentId).id);
}

/** POST /lists/{id}/segments/{segment_id}: members_to_add and members_to_remove, 500 each at most. */
export function batchSegmentMembers(audience: Audience, segmentId: string, body: unknown, nowMs: number, onAutomationTag?: AutomationSink): SegmentMembership {
  const tag = findSegment(audience, segmentId);
  const input = asObject(body);
  const add = emailList(input.members_to_add, 'members_to_add', SEGMENT_BATCH_LIMIT);
  const remove = emailList(input.members_to_remove, 'members_to_remove', SEGMENT_BATCH_LIMIT);
  return changeMembership(audience, tag, add, remove, mailchimpTime(nowMs), onAutomationTag);
}
