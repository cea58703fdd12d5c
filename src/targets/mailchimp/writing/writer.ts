/**
 * Carries out a batch's plan against Mailchimp and says what became of every row.
 *
 * Write calls, correctness first:
 *   new people        POST /lists/{id} (batch subscribe, up to 500) with update_existing false: it
 *                     creates, and refuses (per member) anyone who exists, so no status changes;
 *                     people with marketing permissions to set, which batch subscribe does not
 *                     take, are created one by one (member-creates.ts), just as safely;
 *   changed people    a merge-field update (PATCH without any status) and a tag change (with
 *                     is_syncing), built in operations.ts and sent through the operation queue:
 *                     as their own calls for small runs, in Mailchimp batch operations for large
 *                     ones (batch-queue.ts). Neither can create anyone or touch consent.
 * Batch subscribe with update_existing true would update in bulk, but it overwrites the status of
 * existing members, which is how other syncs re-subscribe people.
 *
 * Outcomes are judged against the audience as it was before the run: a person the plan creates
 * whom Mailchimp then reports as existing (the answer to an earlier attempt of ours was lost, or
 * someone added them meanwhile) is looked up; unless they withdrew meanwhile they count as
 * created, and whatever of their fields and tags differs is written as an update (in add_only
 * mode nothing more is written to them).
 */
import type { Logger } from '../../../log/logger.js';
import { settleAll } from '../../../util/settle.js';
import type { MailchimpApi, MemberStatus } from '../api/api.js';
import type { Audience } from '../audience/audience.js';
import type { AudienceKnowledge } from '../audience/audience-knowledge.js';
import type { OperationQueue } from './batch-queue.js';
import type { SubscribeQueue } from './subscribe-queue.js';
import type { LoadMode, NewMemberStatus } from '../config.js';
import type { Suppressions } from '../reports/files.js';
import { changedMergeFields } from '../members/merge-fields.js';
import { isTransient, judgeAnswer, mergeFieldsUpdate, tagsUpdate, type MemberOperation } from './operations.js';
import { REASONS, type RowOutcome } from '../reports/outcomes.js';
import { notWrittenBecause, type DesiredMember, type PlannedWrite } from './planner.js';
import { tagChanges, type TagChange, type TagRules } from '../members/tags.js';
import { needsPermissionsOnCreate, profileBody, profileChange } from '../members/profile.js';
import { createWithPermissions } from './member-creates.js';

export interface WriteContext {
  api: MailchimpApi;
  listId: string;
  statusIfNew: NewMemberStatus;
  mode: LoadMode;
  audience: Audience;
  knowledge: AudienceKnowledge;
  queue: OperationQueue;
  /** New people, 500 to a batch subscribe call. */
  subscribe: SubscribeQueue;
  tagRules: TagRules;
  suppressions: Suppressions;
  log: Logger;
  /** Set for a batch released by time: its operations are sent by then, not held to fill a call. */
  dueAt?: number;
}

function outcomeOf(member: DesiredMember, outcome: RowOutcome['outcome'], extra: Partial<RowOutcome> = {}): RowOutcome {
  return { outcome, source: member.source, email: member.email, ...extra };
}

function activeTags(member: DesiredMember): TagChange[] {
  return member.tags.map((name) => ({ name, status: 'active' as const }));
}

type Update = Extract<PlannedWrite, { kind: 'update' }>;

/** The operations applyPlan sends for a write: a create's subscribe and its tags, an update's merge fields and its tags. */
export function operationsOf(write: PlannedWrite): number {
  if (write.kind === 'create') return write.member.tags.length > 0 ? 2 : 1;
  if (write.kind !== 'update') return 0;
  return Math.max(1, (Object.keys(write.mergeFields).length > 0 || write.profile ? 1 : 0) + (write.tags.length > 0 ? 1 : 0));
}

/** Executes the plan of one batch. Only errors that are not about a single member are thrown. */
export async function applyPlan(plan: readonly PlannedWrite[], ctx: WriteContext): Promise<RowOutcome[]> {
  const outcomes: RowOutcome[] = [];
  const creates: DesiredMember[] = [];
  const updates: Update[] = [];
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
  // Creates and updates go out together, and the batch waits for every one of them, whichever
  // gives up first: a write left running when the batch fails would reject with nobody waiting
  // for it, and Node would end the run on the spot (exit 1, no summary, no alert).
  const [created, updated] = await settleAll([writeCreates(creates, ctx), settleAll(updates.map((u) => writeUpdate(u, ctx, 'updated')))]);
  outcomes.push(...created.outcomes, ...updated);
  for (const outcome of created.followUps) if (outcome) outcomes.push(outcome);
  return outcomes;
}

/** Creates the new people, then writes the tags of those created and adopts those who existed. */
async function writeCreates(creates: DesiredMember[], ctx: WriteContext): Promise<{ outcomes: RowOutcome[]; followUps: Array<RowOutcome | undefined> }> {
  if (creates.length === 0) return { outcomes: [], followUps: [] };
  const created = await createMembers(creates, ctx);
  const followUps = await settleAll([...created.tagsToWrite.map((member) => writeNewMemberTags(member, ctx)), ...created.existing.map((member) => adoptExisting(member, ctx))]);
  return { outcomes: created.outcomes, followUps };
}

/** Sends an update's operations and judges the answers; `as` is the outcome when everything was taken. */
async function writeUpdate(write: Update, ctx: WriteContext, as: 'updated' | 'created'): Promise<RowOutcome> {
  const { member } = write;
  const ops: MemberOperation[] = [];
  if (Object.keys(write.mergeFields).length > 0 || write.profile) ops.push(mergeFieldsUpdate(ctx.listId, member.hash, write.mergeFields, write.profile));
  if (write.tags.length > 0) ops.push(tagsUpdate(ctx.listId, member.hash, write.tags));
  const answers = await settleAll(ops.map((op) => ctx.queue.enqueue(op, ctx.dueAt)));
  let status: MemberStatus | undefined;
  for (const [i, answer] of answers.entries()) {
    const op = ops[i] as MemberOperation;
    if (isTransient(answer)) return outcomeOf(member, 'rejected', { reason: 'Mailchimp kept failing this member', detail: `status ${answer.status}` });
    const verdict = judgeAnswer(op, answer);
    if (!verdict.ok) {
      // A merge-field refusal may leave the tags written; the row reports the refusal.
      return outcomeOf(member, verdict.outcome, { reason: verdict.reason, ...(verdict.detail ? { detail: verdict.detail } : {}) });
    }
    if (verdict.member?.status) status = verdict.member.status;
  }
  ctx.audience.apply(member.hash, { mergeFields: write.mergeFields, tags: member.tags, ...(status ? { status } : {}), ...(write.profile ? { profile: write.profile } : {}) });
  return outcomeOf(member, as, as === 'created' ? { mergeFields: member.mergeFields } : {});
}

async function writeNewMemberTags(member: DesiredMember, ctx: WriteContext): Promise<undefined> {
  const answer = await ctx.queue.enqueue(tagsUpdate(ctx.listId, member.hash, activeTags(member)), ctx.dueAt);
  const verdict = isTransient(answer) ? { ok: false as const, detail: `status ${answer.status}` } : judgeAnswer(tagsUpdate(ctx.listId, member.hash, []), answer);
  if (!verdict.ok) ctx.log.warn(`tags for line ${member.source.line} not accepted: ${verdict.detail ?? ''}`);
  return undefined;
}

/**
 * A person the plan created whom Mailchimp says exists: they were not in the audience when the
 * run read it, so the row counts as created, unless they withdrew meanwhile (then nothing is
 * written) or add_only forbids touching an existing member. What differs is updated.
 */
async function adoptExisting(member: DesiredMember, ctx: WriteContext): Promise<RowOutcome> {
  const found = await ctx.knowledge.lookUp(member.hash);
  if (!found) return outcomeOf(member, 'skipped', { reason: REASONS.vanished });
  const withdrawn = notWrittenBecause(found.status);
  if (withdrawn) return outcomeOf(member, 'skipped', { reason: withdrawn });
  // add_only never writes to an existing member: what the create sent is what they hold.
  if (ctx.mode === 'add_only') return outcomeOf(member, 'created', { mergeFields: member.mergeFields });
  const existing = ctx.audience.get(member.hash);
  const mergeFields = changedMergeFields(member.mergeFields, existing);
  const tags = tagChanges(member.tags, existing?.tags ?? [], ctx.tagRules, member.tagProperties);
  // The consent rule holds for them too: they existed, so a permission is only switched off.
  const profile = profileChange(member.profile, existing?.profile);
  if (Object.keys(mergeFields).length === 0 && tags.length === 0 && !profile) return outcomeOf(member, 'created', { mergeFields: member.mergeFields });
  return writeUpdate({ kind: 'update', member, mergeFields, tags, ...(profile ? { profile } : {}) }, ctx, 'created');
}

interface CreateResult {
  outcomes: RowOutcome[];
  existing: DesiredMember[];
  tagsToWrite: DesiredMember[];
}

/** Creates the batch's new people through the subscribe queue (500 a call, across batches). */
async function createMembers(members: DesiredMember[], ctx: WriteContext): Promise<CreateResult> {
  const result: CreateResult = { outcomes: [], existing: [], tagsToWrite: [] };
  const answers = await settleAll(
    members.map((m) => {
      const { marketing_permissions, ...rest } = profileBody(m.profile);
      const input = { email_address: m.email, status: ctx.statusIfNew, ...(Object.keys(m.mergeFields).length > 0 ? { merge_fields: m.mergeFields } : {}), ...rest };
      if (!needsPermissionsOnCreate(m.profile)) return ctx.subscribe.enqueue(input, ctx.dueAt);
      return createWithPermissions(ctx.queue, ctx.listId, m.hash, { ...input, marketing_permissions: marketing_permissions ?? [] }, ctx.dueAt);
    }),
  );
  for (const [i, answer] of answers.entries()) {
    const member = members[i] as DesiredMember;
    switch (answer.kind) {
      case 'created':
        ctx.audience.apply(member.hash, { status: (answer.member.status as MemberStatus) ?? ctx.statusIfNew, mergeFields: member.mergeFields, tags: member.tags, ...(member.profile ? { profile: member.profile } : {}) });
        result.outcomes.push(outcomeOf(member, 'created', { mergeFields: member.mergeFields }));
        if (member.tags.length > 0) result.tagsToWrite.push(member);
        break;
      case 'exists':
        result.existing.push(member);
        break;
      case 'refused':
        if (answer.permanent) ctx.suppressions.add(member.hash, { outcome: answer.outcome, reason: answer.reason, at: new Date().toISOString() });
        result.outcomes.push(outcomeOf(member, answer.outcome, { reason: answer.reason, detail: answer.detail, ...(answer.field ? { field: answer.field } : {}) }));
        break;
      case 'failed':
        result.outcomes.push(outcomeOf(member, 'rejected', { reason: answer.reason, ...(answer.detail ? { detail: answer.detail } : {}) }));
        break;
    }
  }
  return result;
}
