/**
 * A member's interests and marketing permissions (Mailchimp's groups and GDPR permissions; the
 * audience's definitions are group-definitions.ts), as the API shows them in a member's
 * `interests` and `marketing_permissions`, and the changes a write makes to them.
 *
 * A member's value for an interest or a permission is what a write set (the member's
 * `interests` / `marketing_permissions`), else a default: for a seeded member a fixed function
 * of its subscriber hash (about 40% in each interest, 60% consenting), for a generated one false
 * (so a million of them cost nothing). A member created through the API starts with every
 * interest and permission false, as in Mailchimp, unless the write set them (members.ts).
 */
import { hash } from 'node:crypto';
import type { InterestCategoryDefinition } from './group-definitions.js';
import type { Audience, MemberRecord } from './store.js';

/** A stable pseudo-random share in [0, 256) for (member, thing). */
function share(member: MemberRecord, thing: string): number {
  return parseInt(hash('md5', `${member.id}:${thing}`, 'hex').slice(0, 2), 16);
}

function isGenerated(audience: Audience, member: MemberRecord): boolean {
  const { start, count } = audience.generated;
  return member.position >= start && member.position < start + count;
}

/** The member's interests as the API shows them: every interest of the audience, true or false. */
export function memberInterests(audience: Audience, member: MemberRecord): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const generated = isGenerated(audience, member);
  for (const category of audience.interestCategories) {
    for (const interest of category.interests) {
      out[interest.id] = member.interests?.[interest.id] ?? (!generated && share(member, interest.id) < 102);
    }
  }
  return out;
}

export function memberPermissions(audience: Audience, member: MemberRecord): Array<{ marketing_permission_id: string; text: string; enabled: boolean }> {
  const generated = isGenerated(audience, member);
  return audience.marketingPermissions.map((p) => ({
    ...p,
    enabled: member.marketing_permissions?.[p.marketing_permission_id] ?? (!generated && share(member, p.marketing_permission_id) < 154),
  }));
}

export function findCategory(audience: Audience, categoryId: string): InterestCategoryDefinition | undefined {
  return audience.interestCategories.find((c) => c.id === categoryId);
}

/** Subscribed members in each interest (generated members are in none unless a write put them there). */
export function interestSubscriberCounts(audience: Audience): Map<string, number> {
  const counts = new Map<string, number>();
  for (const member of audience.membersWithRecords()) {
    if (member.status !== 'subscribed' || member.forgotten) continue;
    for (const [id, inIt] of Object.entries(memberInterests(audience, member))) if (inIt) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/**
 * Applies `{interest_id: bool}` / `[{marketing_permission_id, enabled}]` from a write; ids the
 * audience does not have are refused as the API does. True when anything changed.
 */
export function applyGroupChanges(audience: Audience, member: MemberRecord, input: { interests?: unknown; marketing_permissions?: unknown }): boolean {
  let changed = false;
  const interestIds = new Set(audience.interestCategories.flatMap((c) => c.interests.map((i) => i.id)));
  if (input.interests !== undefined && input.interests !== null && typeof input.interests === 'object' && !Array.isArray(input.interests)) {
    const current = memberInterests(audience, member);
    for (const [id, value] of Object.entries(input.interests as Record<string, unknown>)) {
      if (!interestIds.has(id)) throw new GroupInputError('interests', `Invalid interest ID: '${id}'`);
      if (typeof value !== 'boolean') throw new GroupInputError('interests', `Interest ${id} must be true or false`);
      if (current[id] !== value) changed = true;
      (member.interests ??= {})[id] = value;
    }
  }
  if (Array.isArray(input.marketing_permissions)) {
    const current = new Map(memberPermissions(audience, member).map((p) => [p.marketing_permission_id, p.enabled]));
    for (const raw of input.marketing_permissions as unknown[]) {
      const item = (raw ?? {}) as { marketing_permission_id?: unknown; enabled?: unknown };
      const id = String(item.marketing_permission_id ?? '');
      if (!current.has(id)) throw new GroupInputError('marketing_permissions', `Invalid marketing permission ID: '${id}'`);
      if (typeof item.enabled !== 'boolean') throw new GroupInputError('marketing_permissions', `Marketing permission ${id} needs "enabled": true or false`);
      if (current.get(id) !== item.enabled) changed = true;
      (member.marketing_permissions ??= {})[id] = item.enabled;
    }
  }
  return changed;
}

/** A write that names an interest or a permission the audience does not have. */
export class GroupInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'GroupInputError';
  }
}
