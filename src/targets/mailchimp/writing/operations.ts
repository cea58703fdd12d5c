/**
 * The write operations on members, as data: a merge-field update (PATCH without any status; it
 * carries the profile fields too), a tag change (POST .../tags with is_syncing) and, for a new
 * person whose marketing permissions are set, a create (POST /lists/{id}/members: it creates
 * only, and refuses anyone who exists). Built only here, so no path of the target can send a
 * status to an existing member. Whether an operation goes out as its own call
 * or inside a batch (batch-queue.ts), its answer is read the same way.
 */
import { HttpError } from '../../../http/errors.js';
import type { BatchOperation, MailchimpApi, MemberInfo, MemberUpdateBody, NewMemberInput } from '../api/api.js';
import { classifyMemberError, REASONS } from '../reports/outcomes.js';
import type { TagChange } from '../members/tags.js';
import { profileBody, type ProfileValues } from '../members/profile.js';

export interface MemberOperation {
  kind: 'merge fields' | 'tags' | 'create' | 'archive' | 'delete permanently';
  listId: string;
  hash: string;
  method: 'PATCH' | 'POST' | 'DELETE';
  path: string;
  /** None for an archive or a permanent delete. */
  body?: MemberUpdateBody | { tags: TagChange[]; is_syncing: boolean } | NewMemberInput;
}

/** What Mailchimp answered to one operation. */
export interface OperationAnswer {
  status: number;
  /** The answer body, parsed (a member, a problem document, or nothing). */
  body: unknown;
}

export function mergeFieldsUpdate(listId: string, hash: string, mergeFields: Record<string, unknown>, profile?: ProfileValues): MemberOperation {
  // Merge fields and profile fields, never a status: an update cannot re-subscribe anyone, and
  // the profile change it is given switches marketing permissions only off (members/profile.ts).
  const body: MemberUpdateBody = { ...(Object.keys(mergeFields).length > 0 || !profile ? { merge_fields: mergeFields } : {}), ...profileBody(profile) };
  return { kind: 'merge fields', listId, hash, method: 'PATCH', path: `/lists/${listId}/members/${hash}`, body };
}

/** A create that carries marketing permissions (batch subscribe takes none); refused per member when they exist. */
export function memberCreate(listId: string, hash: string, input: NewMemberInput): MemberOperation {
  return { kind: 'create', listId, hash, method: 'POST', path: `/lists/${listId}/members`, body: input };
}

/**
 * A tag change. With is_syncing (the default) tag-triggered automations do not fire for the tags
 * the sync sets; only the cohort job's cohort_tag_automations setting turns that off.
 */
export function tagsUpdate(listId: string, hash: string, tags: TagChange[], options: { automations?: boolean } = {}): MemberOperation {
  return { kind: 'tags', listId, hash, method: 'POST', path: `/lists/${listId}/members/${hash}/tags`, body: { tags, is_syncing: options.automations !== true } };
}

/**
 * Removing a member who left the source (archive/archive-job.ts): archive (DELETE, reversible in
 * Mailchimp) or, only when delete_permanently says so, permanent deletion (erases the person's
 * data; the address can never be re-imported). Neither sets a status anyone could be subscribed by.
 */
export function memberRemoval(listId: string, hash: string, how: 'archive' | 'delete permanently'): MemberOperation {
  const path = `/lists/${listId}/members/${hash}`;
  return how === 'archive' ? { kind: 'archive', listId, hash, method: 'DELETE', path } : { kind: 'delete permanently', listId, hash, method: 'POST', path: `${path}/actions/delete-permanent` };
}

/** What a merge-field update's answer needs to hold: the status (the result archive stays small). */
const UPDATE_ANSWER_FIELDS = 'id,email_address,status';

export function asBatchOperation(op: MemberOperation, operationId: string): BatchOperation {
  return {
    method: op.method,
    path: op.path,
    ...(op.kind === 'merge fields' || op.kind === 'create' ? { params: { fields: UPDATE_ANSWER_FIELDS } } : {}),
    ...(op.body === undefined ? {} : { body: JSON.stringify(op.body) }),
    operation_id: operationId,
  };
}

/** 5xx and 429 inside a batch's results: Mailchimp could not do it just now. */
export function isTransient(answer: OperationAnswer): boolean {
  return answer.status >= 500 || answer.status === 429;
}

/** Runs one operation as its own call. 4xx answers are returned; anything that failed for good after retries is thrown. */
export async function runDirect(api: MailchimpApi, op: MemberOperation): Promise<OperationAnswer> {
  try {
    if (op.kind === 'merge fields') {
      const member = await api.updateMember(op.listId, op.hash, op.body as MemberUpdateBody);
      return { status: 200, body: member };
    }
    if (op.kind === 'create') return { status: 200, body: await api.addMember(op.listId, op.body as NewMemberInput) };
    if (op.kind === 'archive' || op.kind === 'delete permanently') {
      await api.removeMember(op.listId, op.hash, op.kind);
      return { status: 204, body: undefined };
    }
    const body = op.body as { tags: TagChange[]; is_syncing: boolean };
    await api.updateTags(op.listId, op.hash, body.tags, { automations: !body.is_syncing });
    return { status: 204, body: undefined };
  } catch (err) {
    if (err instanceof HttpError && err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 429) {
      return { status: err.status, body: { detail: err.serviceMessage ?? err.message } };
    }
    throw err;
  }
}

export type OperationVerdict =
  | { ok: true; member?: MemberInfo }
  | { ok: false; outcome: 'skipped' | 'rejected'; reason: string; detail?: string };

export function problemText(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as { title?: unknown; detail?: unknown };
    return [b.title, b.detail].filter((x): x is string => typeof x === 'string' && x !== '').join(': ');
  }
  return typeof body === 'string' ? body : '';
}

/** What an operation's (non-transient) answer means for the person. */
export function judgeAnswer(op: MemberOperation, answer: OperationAnswer): OperationVerdict {
  if (answer.status < 300) {
    const member = answer.body && typeof answer.body === 'object' && 'status' in answer.body ? (answer.body as MemberInfo) : undefined;
    return member ? { ok: true, member } : { ok: true };
  }
  const text = problemText(answer.body) || `status ${answer.status}`;
  if (answer.status === 404) return { ok: false, outcome: 'skipped', reason: REASONS.vanished, detail: text };
  const kind = classifyMemberError(text);
  if (kind.kind === 'skipped' || kind.kind === 'rejected') {
    if (op.kind === 'tags') return { ok: false, outcome: 'rejected', reason: 'tags not accepted', detail: text };
    return { ok: false, outcome: kind.kind, reason: kind.reason, detail: kind.detail };
  }
  return { ok: false, outcome: 'rejected', reason: op.kind === 'tags' ? 'tags not accepted' : `Mailchimp refused the update (${answer.status})`, detail: text };
}

/** Parses a batch result's response text. */
export function parseResponse(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
