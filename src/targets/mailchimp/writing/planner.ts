/**
 * The plan for a batch of people: for each, create, update (fields and tags only, never the
 * status), leave unchanged, skip (with the reason) or reject (with the reason). Pure: it reads
 * the audience and writes nothing.
 */
import type { MergeField } from '../api/api.js';
import type { Audience, ExistingMember } from '../audience/audience.js';
import type { LoadMode } from '../config.js';
import { changedMergeFields, missingRequired, type FieldProblem } from '../members/merge-fields.js';
import { REASONS, type RowSource } from '../reports/outcomes.js';
import type { Suppressions } from '../reports/files.js';
import { subscriberHash } from '../members/members.js';
import { tagChanges, type TagChange, type TagRules } from '../members/tags.js';
import { profileChange, type ProfileValues } from '../members/profile.js';

/** One person as the records of this run describe them (the last record wins). */
export interface DesiredMember {
  key: string;
  email: string;
  hash: string;
  mergeFields: Record<string, unknown>;
  mergeProblems: FieldProblem[];
  tags: string[];
  /** The tag properties the record carried (tags of the others are left as they are). */
  tagProperties?: string[];
  /** Marketing permissions, interests, language and VIP as the record gives them (when the settings manage any). */
  profile?: ProfileValues;
  source: RowSource;
}

export type PlannedWrite =
  | { kind: 'create'; member: DesiredMember }
  | { kind: 'update'; member: DesiredMember; mergeFields: Record<string, unknown>; tags: TagChange[]; profile?: ProfileValues }
  | { kind: 'unchanged'; member: DesiredMember }
  | { kind: 'skip'; member: DesiredMember; reason: string }
  | { kind: 'reject'; member: DesiredMember; reason: string; field?: string; detail?: string };

export interface PlanOptions {
  mode: LoadMode;
  mergeFields: readonly MergeField[];
  tagRules: TagRules;
  suppressions: Suppressions;
}

const NEVER_RESUBSCRIBE: Record<string, string> = {
  unsubscribed: REASONS.unsubscribed,
  cleaned: REASONS.cleaned,
  archived: REASONS.archived,
};

/** Why a member with this status is never written to, or undefined when they may be updated. */
export function notWrittenBecause(status: string): string | undefined {
  return NEVER_RESUBSCRIBE[status];
}

/** The plan for one person against what Mailchimp holds for them (undefined: not a member). */
export function planMemberWrite(member: DesiredMember, existing: ExistingMember | undefined, options: PlanOptions): PlannedWrite {
  if (!existing) {
    const remembered = options.suppressions.get(member.hash);
    if (remembered) {
      const reason = `${remembered.reason} (remembered from an earlier run)`;
      return remembered.outcome === 'skipped' ? { kind: 'skip', member, reason } : { kind: 'reject', member, reason };
    }
    const problem = member.mergeProblems[0] ?? missingRequired(member.mergeFields, options.mergeFields)[0];
    if (problem) {
      const required = member.mergeProblems.length === 0;
      return { kind: 'reject', member, reason: required ? REASONS.requiredMissing : (problem.reason ?? REASONS.mergeFields), field: problem.field, detail: problem.message };
    }
    return { kind: 'create', member };
  }
  const never = notWrittenBecause(existing.status);
  if (never) return { kind: 'skip', member, reason: never };
  if (options.mode === 'add_only') return { kind: 'skip', member, reason: REASONS.addOnly };
  const problem = member.mergeProblems[0];
  if (problem) return { kind: 'reject', member, reason: problem.reason ?? REASONS.mergeFields, field: problem.field, detail: problem.message };
  const mergeFields = changedMergeFields(member.mergeFields, existing);
  const tags = tagChanges(member.tags, existing.tags, options.tagRules, member.tagProperties);
  const profile = profileChange(member.profile, existing.profile);
  if (Object.keys(mergeFields).length === 0 && tags.length === 0 && !profile) return { kind: 'unchanged', member };
  return { kind: 'update', member, mergeFields, tags, ...(profile ? { profile } : {}) };
}

export function planMemberWrites(members: readonly DesiredMember[], audience: Audience, options: PlanOptions): PlannedWrite[] {
  return members.map((m) => planMemberWrite(m, audience.get(m.hash), options));
}

export function desiredMemberKey(email: string): { key: string; hash: string } {
  return { key: email.trim().toLowerCase(), hash: subscriberHash(email) };
}
