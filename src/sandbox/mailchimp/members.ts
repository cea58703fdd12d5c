/**
 * Member writes with the real API's semantics, including the dangerous ones a loader must
 * guard against: batch subscribe with update_existing overwrites status (it can re-subscribe an
 * unsubscribed member), while PUT's status_if_new only applies to new members.
 *
 * Rules, in the order they are checked for one member:
 *   1. address syntax, then addresses that look fake;
 *   2. permanently deleted (forgotten) addresses cannot be re-imported;
 *   3. existing members: batch without update_existing is an error (ERROR_CONTACT_EXISTS);
 *   4. subscribing or pending a cleaned or compliance-locked member is refused;
 *   5. merge field values are checked by type; required fields only when creating, unless
 *      skip_merge_validation;
 *   6. archived members stay archived (their other fields still update).
 */
import { applyGroupChanges, GroupInputError } from './groups.js';
import { mailchimpTime, memberKey, subscriberHash } from './store.js';
import type { Audience, MemberRecord, MemberStatus } from './store.js';
import { INVALID_MERGE_FIELDS_MESSAGE, emailProblem, validateMergeFields } from './validation.js';
import type { FieldProblem } from './validation.js';

export type BatchErrorCode = 'ERROR_CONTACT_EXISTS' | 'ERROR_GENERIC';

export interface BatchError {
  email_address: string;
  error: string;
  error_code: BatchErrorCode;
  field: string;
  field_message: string;
}

/** Why one member write was refused: a problem document for single calls, an error entry in a batch. */
export class MemberRejection extends Error {
  readonly status: number;
  readonly code: BatchErrorCode;
  readonly field: string;
  readonly fieldMessage: string;
  readonly errors: FieldProblem[] | undefined;

  constructor(
    readonly title: string,
    readonly detail: string,
    options: { status?: number; code?: BatchErrorCode; field?: string; fieldMessage?: string; errors?: FieldProblem[] } = {},
  ) {
    super(detail);
    this.name = 'MemberRejection';
    this.status = options.status ?? 400;
    this.code = options.code ?? 'ERROR_GENERIC';
    this.field = options.field ?? '';
    this.fieldMessage = options.fieldMessage ?? '';
    this.errors = options.errors;
  }

  toBatchError(email: string): BatchError {
    return { email_address: email, error: this.detail, error_code: this.code, field: this.field, field_message: this.fieldMessage };
  }
}

const VALIDATION_DETAIL = "The resource submitted could not be validated. For field-specific details, see the 'errors' array.";
const WRITABLE_STATUSES: readonly MemberStatus[] = ['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional'];

export const notFound = (): MemberRejection =>
  new MemberRejection('Resource Not Found', 'The requested resource could not be found.', { status: 404 });

function invalidResource(field: string, message: string): MemberRejection {
  return new MemberRejection('Invalid Resource', VALIDATION_DETAIL, { field, fieldMessage: message, errors: [{ field, message }] });
}

function forgotten(email: string): MemberRejection {
  return new MemberRejection(
    'Forgotten Email Not Subscribed',
    `${email} was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.`,
  );
}

function complianceState(email: string): MemberRejection {
  return new MemberRejection(
    'Member In Compliance State',
    `${email} is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.`,
  );
}

function memberExists(email: string): MemberRejection {
  return new MemberRejection('Member Exists', `${email} is already a list member. Use PUT to insert or update list members.`, {
    code: 'ERROR_CONTACT_EXISTS',
  });
}

function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new MemberRejection('Invalid Resource', VALIDATION_DETAIL, { errors: [{ field: '', message: 'Schema describes object' }] });
  }
  return body as Record<string, unknown>;
}

function parseStatus(value: unknown, field: string): MemberStatus | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && (WRITABLE_STATUSES as readonly string[]).includes(value)) return value as MemberStatus;
  throw invalidResource(field, `Value must be one of: ${WRITABLE_STATUSES.join(', ')}`);
}

function checkEmail(email: string): void {
  const problem = emailProblem(email);
  if (problem) throw new MemberRejection('Invalid Resource', problem, { field: 'email_address', fieldMessage: problem });
}

function checkMergeFields(audience: Audience, input: unknown, checkRequired: boolean): Record<string, unknown> {
  const { values, problems } = validateMergeFields(audience.mergeFields, input, checkRequired);
  const first = problems[0];
  if (first) {
    throw new MemberRejection('Invalid Resource', INVALID_MERGE_FIELDS_MESSAGE, {
      field: first.field,
      fieldMessage: first.message,
      errors: problems,
    });
  }
  return values;
}

/** Rule 4: the API may not put a cleaned or compliance-locked member back on the mailing list. */
function checkStatusChange(member: MemberRecord, target: MemberStatus | undefined): void {
  if (target !== 'subscribed' && target !== 'pending') return;
  if (member.status === target || member.status === 'archived') return;
  if (member.status === 'cleaned' || (member.status === 'unsubscribed' && member.complianceLocked)) {
    throw complianceState(member.email_address);
  }
}

interface MemberChanges {
  status: MemberStatus | undefined;
  mergeFields: Record<string, unknown>;
  extras: Record<string, unknown>;
  /** For interests and marketing permissions (the audience's definitions, group-definitions.ts). */
  audience?: Audience;
}

/** Interests and marketing permissions of a write; an id the audience does not have is refused. */
function applyGroups(audience: Audience, member: MemberRecord, extras: Record<string, unknown>): boolean {
  try {
    return applyGroupChanges(audience, member, extras);
  } catch (err) {
    if (err instanceof GroupInputError) throw invalidResource(err.field, err.message);
    throw err;
  }
}

function applyChanges(member: MemberRecord, changes: MemberChanges, now: string): void {
  let changed = false;
  if (changes.status !== undefined && member.status !== 'archived' && member.status !== changes.status) {
    member.status = changes.status;
    member.unsubscribe_reason = changes.status === 'unsubscribed' ? 'N/A (Unsubscribed by an admin)' : '';
    if (changes.status === 'subscribed') member.timestamp_opt = now;
    changed = true;
  }
  for (const [tag, value] of Object.entries(changes.mergeFields)) {
    if (JSON.stringify(member.merge_fields[tag]) !== JSON.stringify(value)) {
      member.merge_fields[tag] = value;
      changed = true;
    }
  }
  if (typeof changes.extras.email_type === 'string' && member.email_type !== changes.extras.email_type) {
    member.email_type = changes.extras.email_type;
    changed = true;
  }
  if (typeof changes.extras.language === 'string' && member.language !== changes.extras.language) {
    member.language = changes.extras.language;
    changed = true;
  }
  if (typeof changes.extras.vip === 'boolean' && member.vip !== changes.extras.vip) {
    member.vip = changes.extras.vip;
    changed = true;
  }
  if (changes.audience && applyGroups(changes.audience, member, changes.extras)) changed = true;
  if (changed) member.last_changed = now;
}

function createMember(
  audience: Audience,
  email: string,
  status: MemberStatus,
  fields: Record<string, unknown>,
  input: Record<string, unknown>,
  now: string,
  tags: readonly string[] = [],
): MemberRecord {
  const member = audience.create({
    email,
    status,
    mergeFields: fields,
    source: 'API - Generic',
    emailType: typeof input.email_type === 'string' ? input.email_type : undefined,
    language: typeof input.language === 'string' ? input.language : undefined,
    vip: typeof input.vip === 'boolean' ? input.vip : undefined,
    lastChanged: now,
    tags,
  });
  // Mailchimp creates a member in no interest and with every permission off unless the write says
  // otherwise (seeded members have varied ones; see groups.ts).
  const interestIds = audience.interestCategories.flatMap((c) => c.interests.map((i) => i.id));
  if (interestIds.length > 0) member.interests = Object.fromEntries(interestIds.map((id) => [id, false]));
  if (audience.marketingPermissions.length > 0) member.marketing_permissions = Object.fromEntries(audience.marketingPermissions.map((p) => [p.marketing_permission_id, false]));
  applyGroups(audience, member, input);
  if (member.interests || member.marketing_permissions) audience.save(member);
  return member;
}

function reportTags(options: WriteOptions, member: MemberRecord, tags: readonly string[]): void {
  for (const tag of tags) options.onAutomationTag?.(member, tag);
}

function tagNames(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value
    .map((tag: unknown) => (typeof tag === 'string' ? tag : tag && typeof tag === 'object' ? (tag as { name?: unknown }).name : undefined))
    .filter((name): name is string => typeof name === 'string' && name.trim() !== '');
}

/** Batch subscribe's member items have no marketing_permissions in the spec: Mailchimp ignores them there. */
function withoutPermissions(input: Record<string, unknown>): Record<string, unknown> {
  const { marketing_permissions: _ignored, ...rest } = input;
  return rest;
}

/** Called for every tag a write adds that would start a tag-triggered automation (automations.ts). */
export type AutomationSink = (member: MemberRecord, tag: string) => void;

export interface WriteOptions {
  skipMergeValidation: boolean;
  skipDuplicateCheck: boolean;
  /** Tag additions on new members (batch subscribe, POST members) count as automation triggers. */
  onAutomationTag?: AutomationSink;
}

export interface BatchOutcome {
  created: MemberRecord[];
  updated: MemberRecord[];
  errors: BatchError[];
  /** Members in the request body (for the request log). */
  submitted: number;
}

export const BATCH_LIMIT = 500;

/** POST /lists/{id}: batch subscribe. Answers for every member; the call itself succeeds. */
export function batchSubscribe(audience: Audience, body: unknown, options: WriteOptions, nowMs: number): BatchOutcome {
  const request = asObject(body);
  if (!Array.isArray(request.members)) throw invalidResource('members', 'Required field "members" is missing or not an array');
  const inputs: unknown[] = request.members;
  if (inputs.length > BATCH_LIMIT) {
    throw invalidResource('members', `Schema describes array, no more than ${BATCH_LIMIT} items allowed, found ${inputs.length}`);
  }
  const updateExisting = request.update_existing === true;
  const syncTags = request.sync_tags === true;
  const now = mailchimpTime(nowMs);
  const outcome: BatchOutcome = { created: [], updated: [], errors: [], submitted: inputs.length };
  const seen = new Set<string>();

  for (const raw of inputs) {
    const input = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const email = typeof input.email_address === 'string' ? input.email_address : '';
    const key = email.toLowerCase();
    if (seen.has(key) && email !== '') {
      // skip_duplicate_check: the first appearance wins and later ones are ignored silently.
      if (!options.skipDuplicateCheck) {
        outcome.errors.push(
          new MemberRejection('Invalid Resource', `${email} appears more than once in this request.`, {
            field: 'email_address',
            fieldMessage: 'Duplicate email address in request',
          }).toBatchError(email),
        );
      }
      continue;
    }
    seen.add(key);
    try {
      checkEmail(email);
      const existing = audience.get(subscriberHash(email));
      if (existing?.forgotten) throw forgotten(email);
      if (existing) {
        if (!updateExisting) throw memberExists(existing.email_address);
        const status = parseStatus(input.status, 'status');
        const mergeFields = checkMergeFields(audience, input.merge_fields, false);
        checkStatusChange(existing, status);
        applyChanges(existing, { status, mergeFields, extras: withoutPermissions(input), audience }, now);
        const tags = tagNames(input.tags);
        if (syncTags && Array.isArray(input.tags)) {
          for (const tag of [...existing.tags]) if (!tags.some((t) => t.toLowerCase() === tag.name.toLowerCase())) audience.setTag(existing, tag.name, false, now);
        }
        const added = tags.filter((tag) => audience.setTag(existing, tag, true, now));
        audience.save(existing);
        reportTags(options, existing, added);
        outcome.updated.push(existing);
      } else {
        const status = parseStatus(input.status, 'status');
        if (status === undefined) throw invalidResource('status', 'Status is required for new members');
        const mergeFields = checkMergeFields(audience, input.merge_fields, !options.skipMergeValidation);
        const tags = tagNames(input.tags);
        const member = createMember(audience, email, status, mergeFields, withoutPermissions(input), now, tags);
        reportTags(options, member, member.tags.map((t) => t.name));
        outcome.created.push(member);
      }
    } catch (err) {
      if (!(err instanceof MemberRejection)) throw err;
      outcome.errors.push(err.toBatchError(email));
    }
  }
  return outcome;
}

/** PUT /lists/{id}/members/{hash}: add or update; status_if_new only matters for new members. */
export function upsertMember(audience: Audience, reference: string, body: unknown, options: WriteOptions, nowMs: number): MemberRecord {
  const input = asObject(body);
  const email = input.email_address;
  if (typeof email !== 'string' || email.trim() === '') throw invalidResource('email_address', 'This value should not be blank.');
  const statusIfNew = parseStatus(input.status_if_new, 'status_if_new');
  if (statusIfNew === undefined) throw invalidResource('status_if_new', 'This value should not be blank.');
  const status = parseStatus(input.status, 'status');
  if (memberKey(reference) !== subscriberHash(email)) {
    throw new MemberRejection('Invalid Resource', 'The subscriber hash in the URL does not match the email address in the request body.', {
      field: 'email_address',
    });
  }
  checkEmail(email);
  const now = mailchimpTime(nowMs);
  const existing = audience.get(subscriberHash(email));
  if (existing?.forgotten) throw forgotten(email);
  if (existing) {
    const mergeFields = checkMergeFields(audience, input.merge_fields, false);
    checkStatusChange(existing, status);
    applyChanges(existing, { status, mergeFields, extras: input, audience }, now);
    audience.save(existing);
    return existing;
  }
  const mergeFields = checkMergeFields(audience, input.merge_fields, !options.skipMergeValidation);
  return createMember(audience, email, status ?? statusIfNew, mergeFields, input, now);
}

/** POST /lists/{id}/members: add only. */
export function addMember(audience: Audience, body: unknown, options: WriteOptions, nowMs: number): MemberRecord {
  const input = asObject(body);
  const email = input.email_address;
  if (typeof email !== 'string' || email.trim() === '') throw invalidResource('email_address', 'This value should not be blank.');
  const status = parseStatus(input.status, 'status');
  if (status === undefined) throw invalidResource('status', 'This value should not be blank.');
  checkEmail(email);
  const existing = audience.get(subscriberHash(email));
  if (existing?.forgotten) throw forgotten(email);
  if (existing) throw memberExists(existing.email_address);
  const mergeFields = checkMergeFields(audience, input.merge_fields, !options.skipMergeValidation);
  const member = createMember(audience, email, status, mergeFields, input, mailchimpTime(nowMs), tagNames(input.tags));
  reportTags(options, member, member.tags.map((t) => t.name));
  return member;
}

export function findMember(audience: Audience, reference: string): MemberRecord {
  const member = audience.get(memberKey(reference));
  if (!member || member.forgotten) throw notFound();
  return member;
}

/** PATCH /lists/{id}/members/{hash}: update an existing member only. */
export function patchMember(audience: Audience, reference: string, body: unknown, nowMs: number): MemberRecord {
  const input = asObject(body);
  const member = findMember(audience, reference);
  const status = parseStatus(input.status, 'status');
  const mergeFields = checkMergeFields(audience, input.merge_fields, false);
  checkStatusChange(member, status);
  applyChanges(member, { status, mergeFields, extras: input, audience }, mailchimpTime(nowMs));
  audience.save(member);
  return member;
}

/** DELETE /lists/{id}/members/{hash}: archive. */
export function archiveMember(audience: Audience, reference: string, nowMs: number): void {
  const member = findMember(audience, reference);
  if (member.status !== 'archived') {
    member.status = 'archived';
    member.last_changed = mailchimpTime(nowMs);
    audience.save(member);
  }
}

/** POST /lists/{id}/members/{hash}/actions/delete-permanent. */
export function forgetMember(audience: Audience, reference: string, nowMs: number): void {
  const member = findMember(audience, reference);
  member.forgotten = true;
  member.last_changed = mailchimpTime(nowMs);
  audience.save(member);
}

/**
 * POST /lists/{id}/members/{hash}/tags: only the named tags change. Tags added without
 * `is_syncing: true` go to `onAutomationTag` (Mailchimp would start their automations).
 */
export function updateMemberTags(audience: Audience, reference: string, body: unknown, nowMs: number, onAutomationTag?: AutomationSink): void {
  const input = asObject(body);
  if (!Array.isArray(input.tags)) throw invalidResource('tags', 'Required field "tags" is missing or not an array');
  const changes: Array<{ name: string; active: boolean }> = [];
  for (const raw of input.tags as unknown[]) {
    const tag = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
    if (typeof tag.name !== 'string' || tag.name.trim() === '') throw invalidResource('tags.name', 'This value should not be blank.');
    if (tag.status !== 'active' && tag.status !== 'inactive') throw invalidResource('tags.status', 'Value must be one of: active, inactive');
    changes.push({ name: tag.name, active: tag.status === 'active' });
  }
  if (input.is_syncing !== undefined && typeof input.is_syncing !== 'boolean') throw invalidResource('is_syncing', 'Value must be a boolean');
  const syncing = input.is_syncing === true;
  const member = findMember(audience, reference);
  const now = mailchimpTime(nowMs);
  const added: string[] = [];
  for (const change of changes) {
    if (audience.setTag(member, change.name, change.active, now) && change.active) added.push(change.name);
  }
  audience.save(member);
  if (!syncing) for (const tag of added) onAutomationTag?.(member, audience.tag(tag).name);
}
