/**
 * Carries out a batch's plan against Mailchimp and says what became of every row.
 *
 * Write calls, correctness first:
 *   new people        POST /lists/{id} (batch subscribe, up to 500) with update_existing false: it
 *                     creates, and refuses (per member) anyone who exists, so no status changes;
 *   changed people    PATCH /lists/{id}/members/{hash} with only the changed merge fields and no
 *                     status: it never creates anyone and never touches consent;
 *   tags              POST .../members/{hash}/tags with is_syncing, naming only managed tags.
 * Batch subscribe with update_existing true would update in bulk, but it overwrites the status of
 * existing members, which is how other syncs re-subscribe people.
 */
import pLimit from 'p-limit';
import { HttpError } from '../../http/errors.js';
import type { Logger } from '../../log/logger.js';
import type { BatchMemberInput, MailchimpApi, MemberStatus } from './api.js';
import type { Audience } from './audience.js';
import type { LoadMode, NewMemberStatus } from './config.js';
import type { Suppressions } from './files.js';
import { classifyMemberError, httpErrorText, REASONS, type RowOutcome } from './outcomes.js';
import type { DesiredMember, PlannedWrite } from './planner.js';
import type { TagChange } from './tags.js';

export interface WriteContext {
  api: MailchimpApi;
  listId: string;
  statusIfNew: NewMemberStatus;
  mode: LoadMode;
  audience: Audience;
  suppressions: Suppressions;
  /** Calls per batch in flight at once (the API budget caps the total across batches). */
  concurrency: number;
  log: Logger;
  /** Attempts for members Mailchimp refused with a transient per-member error. */
  transientAttempts?: number;
}

function outcomeOf(member: DesiredMember, outcome: RowOutcome['outcome'], extra: Partial<RowOutcome> = {}): RowOutcome {
  return { outcome, source: member.source, email: member.email, ...extra };
}

function changesToTagsList(member: DesiredMember): TagChange[] {
  return member.tags.map((name) => ({ name, status: 'active' as const }));
}

/** Executes the plan of one batch. Only errors that are not about a single member are thrown. */
export async function applyPlan(plan: readonly PlannedWrite[], ctx: WriteContext): Promise<RowOutcome[]> {
  const outcomes: RowOutcome[] = [];
  const creates: DesiredMember[] = [];
  const updates: Array<Extract<PlannedWrite, { kind: 'update' }>> = [];
  for (const write of plan) {
    switch (write.kind) {
      case 'create':
        creates.push(write.member);
        break;
      case 'update':
        updates.push(write);
        break;
      case 'unchanged':
        outcomes.push(outcomeOf(write.member, 'unchanged'));
        break;
      case 'skip':
        outcomes.push(outcomeOf(write.member, 'skipped', { reason: write.reason }));
        break;
      case 'reject':
        outcomes.push(outcomeOf(write.member, 'rejected', { reason: write.reason, ...(write.field ? { field: write.field } : {}), ...(write.detail ? { detail: write.detail } : {}) }));
        break;
    }
  }
  const limit = pLimit(ctx.concurrency);
  const created: CreateResult = creates.length > 0 ? await createMembers(creates, ctx) : { outcomes: [], existing: [], tagsToWrite: [] };
  outcomes.push(...created.outcomes);
  // People who turned out to exist (added since the audience was read) get an update instead.
  // In add_only mode they are left alone. The update sends no status, so consent is untouched either way.
  for (const member of created.existing) {
    if (ctx.mode === 'add_only') outcomes.push(outcomeOf(member, 'skipped', { reason: REASONS.addOnly }));
    else updates.push({ kind: 'update', member, mergeFields: member.mergeFields, tags: changesToTagsList(member) });
  }
  const updated = await Promise.all(updates.map((u) => limit(() => updateMember(u, ctx))));
  outcomes.push(...updated);
  const tagged = created.tagsToWrite.length > 0 ? await Promise.all(created.tagsToWrite.map((m) => limit(() => writeTags(m, changesToTagsList(m), ctx)))) : [];
  for (const problem of tagged) if (problem) ctx.log.warn(problem);
  return outcomes;
}

interface CreateResult {
  outcomes: RowOutcome[];
  existing: DesiredMember[];
  tagsToWrite: DesiredMember[];
}

async function createMembers(members: DesiredMember[], ctx: WriteContext): Promise<CreateResult> {
  const result: CreateResult = { outcomes: [], existing: [], tagsToWrite: [] };
  let pending = members;
  const attempts = ctx.transientAttempts ?? 3;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const byKey = new Map(pending.map((m) => [m.key, m]));
    const body: BatchMemberInput[] = pending.map((m) => ({
      email_address: m.email,
      status: ctx.statusIfNew,
      ...(Object.keys(m.mergeFields).length > 0 ? { merge_fields: m.mergeFields } : {}),
    }));
    const answer = await ctx.api.batchSubscribe(ctx.listId, body, { updateExisting: false });
    const retry: DesiredMember[] = [];
    for (const added of answer.new_members ?? []) {
      const member = byKey.get(added.email_address.trim().toLowerCase());
      if (!member) continue;
      byKey.delete(member.key);
      ctx.audience.apply(member.key, { email: member.email, status: (added.status as MemberStatus) ?? ctx.statusIfNew, mergeFields: member.mergeFields, tags: member.tags });
      result.outcomes.push(outcomeOf(member, 'created', { mergeFields: member.mergeFields }));
      if (member.tags.length > 0) result.tagsToWrite.push(member);
    }
    for (const error of answer.errors ?? []) {
      const member = byKey.get(error.email_address.trim().toLowerCase());
      if (!member) continue;
      byKey.delete(member.key);
      const text = error.field ? `${error.error} (${error.field}: ${error.field_message ?? ''})` : error.error;
      const kind = classifyMemberError(error.error, error.error_code);
      if (kind.kind === 'exists') result.existing.push(member);
      else if (kind.kind === 'transient') {
        if (attempt < attempts) retry.push(member);
        else result.outcomes.push(outcomeOf(member, 'rejected', { reason: 'Mailchimp kept failing this member', detail: text }));
      } else {
        if (kind.permanent) ctx.suppressions.add(member.hash, { outcome: kind.kind, reason: kind.reason, at: new Date().toISOString() });
        result.outcomes.push(outcomeOf(member, kind.kind, { reason: kind.reason, detail: text, ...(error.field ? { field: error.field } : {}) }));
      }
    }
    // Anyone Mailchimp did not mention is tried again: a silent answer is not a confirmation.
    for (const member of byKey.values()) {
      if (attempt < attempts) retry.push(member);
      else result.outcomes.push(outcomeOf(member, 'rejected', { reason: 'Mailchimp did not confirm this member' }));
    }
    if (retry.length > 0) ctx.log.warn(`retrying ${retry.length} members Mailchimp could not take just now`, { attempt });
    pending = retry;
  }
  return result;
}

async function updateMember(write: Extract<PlannedWrite, { kind: 'update' }>, ctx: WriteContext): Promise<RowOutcome> {
  const { member } = write;
  try {
    if (Object.keys(write.mergeFields).length > 0) {
      const answer = await ctx.api.updateMember(ctx.listId, member.hash, { merge_fields: write.mergeFields });
      ctx.audience.apply(member.key, { email: member.email, mergeFields: write.mergeFields, ...(answer?.status ? { status: answer.status } : {}) });
    }
    if (write.tags.length > 0) {
      const problem = await writeTags(member, write.tags, ctx);
      if (problem) return outcomeOf(member, 'rejected', { reason: 'tags not accepted', detail: problem });
      ctx.audience.apply(member.key, { email: member.email, tags: member.tags });
    }
    return outcomeOf(member, 'updated');
  } catch (err) {
    if (!(err instanceof HttpError) || err.status === undefined || err.status >= 500 || err.status === 429) throw err;
    if (err.status === 404) return outcomeOf(member, 'skipped', { reason: REASONS.vanished, detail: httpErrorText(err) });
    const kind = classifyMemberError(httpErrorText(err));
    if (kind.kind === 'skipped' || kind.kind === 'rejected') return outcomeOf(member, kind.kind, { reason: kind.reason, detail: kind.detail });
    return outcomeOf(member, 'rejected', { reason: `Mailchimp refused the update (${err.status})`, detail: httpErrorText(err) });
  }
}

/** Writes tag changes; returns a problem sentence instead of throwing for a per-member refusal. */
async function writeTags(member: DesiredMember, tags: TagChange[], ctx: WriteContext): Promise<string | undefined> {
  try {
    await ctx.api.updateTags(ctx.listId, member.hash, tags);
    return undefined;
  } catch (err) {
    if (err instanceof HttpError && err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 429) {
      return `tags for line ${member.source.line} not accepted: ${httpErrorText(err)}`;
    }
    throw err;
  }
}
