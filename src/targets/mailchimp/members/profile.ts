/**
 * The rest of a member, beyond merge fields and tags: GDPR marketing permissions, interests,
 * language and VIP. What a record asks for (checked per row: a value that does not fit rejects
 * the row, like a merge value), what an existing member's write must change, and the member
 * body parts that carry it.
 *
 * Consent only moves toward less contact on its own: a new member is created with the
 * permissions its record gives, and afterwards a permission is only ever switched off (a false
 * from the source). A true never switches a permission back on for an existing member: that is
 * the person's own decision, made in Mailchimp's forms. Interests, language and VIP follow the
 * source both ways, and only the interests the settings name are ever changed.
 */
import type { JsonObject } from '../../../singer/messages.js';
import { mailchimpLanguage } from './languages.js';
import type { FieldProblem } from './merge-fields.js';
import type { InterestRule, ProfileRules } from './profile-settings.js';

/** Values of the profile fields, by permission and interest id (only the ones known or wanted). */
export interface ProfileValues {
  permissions?: Record<string, boolean>;
  interests?: Record<string, boolean>;
  language?: string;
  vip?: boolean;
}

/** The profile parts of a member body (POST/PATCH member; batch subscribe takes all but marketing_permissions). */
export interface ProfileBody {
  marketing_permissions?: Array<{ marketing_permission_id: string; enabled: boolean }>;
  interests?: Record<string, boolean>;
  language?: string;
  vip?: boolean;
}

export const PROFILE_REASONS = {
  permission: 'marketing permission value not true or false',
  interest: 'interest value not accepted',
  language: 'language not one of Mailchimp\'s languages',
  vip: 'vip value not true or false',
} as const;

const TRUE_TEXT = new Set(['true', 'yes', 'y', '1', 'on']);
const FALSE_TEXT = new Set(['false', 'no', 'n', '0', 'off']);

function isEmpty(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
}

/** A boolean as sources write them (true, "true", "yes", 1...); undefined when it is none. */
export function readBoolean(raw: unknown): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  if (raw === 1 || raw === 0) return raw === 1;
  if (typeof raw === 'string') {
    const text = raw.trim().toLowerCase();
    if (TRUE_TEXT.has(text)) return true;
    if (FALSE_TEXT.has(text)) return false;
  }
  return undefined;
}

function shown(raw: unknown): string {
  return JSON.stringify(raw) ?? String(raw);
}

/** The interests a category's value names: all of the category's interests, true for the named ones. */
function categoryChoice(rule: Extract<InterestRule, { kind: 'category' }>, raw: unknown): { values: Record<string, boolean> } | { message: string } {
  const names = Array.isArray(raw) ? raw : [raw];
  const chosen = new Set<string>();
  for (const name of names) {
    const text = typeof name === 'string' || typeof name === 'number' ? String(name).trim() : '';
    const interest = rule.interests.find((i) => i.name === text || i.id === text) ?? rule.interests.find((i) => i.name.toLowerCase() === text.toLowerCase());
    if (!interest) return { message: `names no interest of "${rule.title}" (got ${shown(name)}; it has ${rule.interests.map((i) => i.name).join(', ')})` };
    chosen.add(interest.id);
  }
  const values: Record<string, boolean> = {};
  for (const interest of rule.interests) values[interest.id] = chosen.has(interest.id);
  return { values };
}

function desiredInterests(record: JsonObject, rules: readonly InterestRule[], problems: FieldProblem[]): Record<string, boolean> | undefined {
  let interests: Record<string, boolean> | undefined;
  for (const rule of rules) {
    const raw = record[rule.property];
    if (isEmpty(raw)) continue;
    if (rule.kind === 'interest') {
      const value = readBoolean(raw);
      if (value === undefined) problems.push({ field: `interests.${rule.label}`, reason: PROFILE_REASONS.interest, message: `interest "${rule.label}" (from ${rule.property}) needs true or false (got ${shown(raw)})` });
      else (interests ??= {})[rule.id] = value;
      continue;
    }
    const choice = categoryChoice(rule, raw);
    if ('message' in choice) problems.push({ field: `interests.${rule.title}`, reason: PROFILE_REASONS.interest, message: `interest group "${rule.title}" (from ${rule.property}) ${choice.message}` });
    else interests = { ...interests, ...choice.values };
  }
  return interests;
}

/** What a record asks for, and why a value cannot be used (the row is then rejected). */
export function desiredProfile(record: JsonObject, rules: ProfileRules): { values: ProfileValues; problems: FieldProblem[] } {
  const values: ProfileValues = {};
  const problems: FieldProblem[] = [];
  for (const rule of rules.permissions) {
    const raw = record[rule.property];
    if (isEmpty(raw)) continue;
    const value = readBoolean(raw);
    if (value === undefined) problems.push({ field: `marketing_permissions.${rule.text}`, reason: PROFILE_REASONS.permission, message: `marketing permission "${rule.text}" (from ${rule.property}) needs true or false (got ${shown(raw)})` });
    else (values.permissions ??= {})[rule.id] = value;
  }
  const interests = desiredInterests(record, rules.interests, problems);
  if (interests) values.interests = interests;
  if (rules.languageProperty !== undefined && !isEmpty(record[rules.languageProperty])) {
    const raw = record[rules.languageProperty];
    const code = typeof raw === 'string' ? mailchimpLanguage(raw) : undefined;
    if (code === undefined) problems.push({ field: 'language', reason: PROFILE_REASONS.language, message: `language (from ${rules.languageProperty}) must be one of Mailchimp's language codes such as en, fr, pt_PT (got ${shown(raw)})` });
    else values.language = code;
  }
  if (rules.vipProperty !== undefined && !isEmpty(record[rules.vipProperty])) {
    const raw = record[rules.vipProperty];
    const value = readBoolean(raw);
    if (value === undefined) problems.push({ field: 'vip', reason: PROFILE_REASONS.vip, message: `vip (from ${rules.vipProperty}) needs true or false (got ${shown(raw)})` });
    else values.vip = value;
  }
  return { values, problems };
}

/**
 * What an existing member's update must change: permissions the source switched off that are on
 * (never one switched on), interests, language and VIP that differ. Undefined when nothing does.
 */
export function profileChange(desired: ProfileValues | undefined, existing: ProfileValues | undefined): ProfileValues | undefined {
  if (!desired) return undefined;
  const change: ProfileValues = {};
  for (const [id, wanted] of Object.entries(desired.permissions ?? {})) {
    if (!wanted && existing?.permissions?.[id] !== false) (change.permissions ??= {})[id] = false;
  }
  for (const [id, wanted] of Object.entries(desired.interests ?? {})) {
    if (existing?.interests?.[id] !== wanted) (change.interests ??= {})[id] = wanted;
  }
  if (desired.language !== undefined && existing?.language !== desired.language) change.language = desired.language;
  if (desired.vip !== undefined && existing?.vip !== desired.vip) change.vip = desired.vip;
  return Object.keys(change).length > 0 ? change : undefined;
}

/** The body parts that write these values. */
export function profileBody(values: ProfileValues | undefined): ProfileBody {
  if (!values) return {};
  const permissions = Object.entries(values.permissions ?? {});
  return {
    ...(permissions.length > 0 ? { marketing_permissions: permissions.map(([id, enabled]) => ({ marketing_permission_id: id, enabled })) } : {}),
    ...(values.interests && Object.keys(values.interests).length > 0 ? { interests: values.interests } : {}),
    ...(values.language !== undefined ? { language: values.language } : {}),
    ...(values.vip !== undefined ? { vip: values.vip } : {}),
  };
}

/** Whether creating this member needs a call that takes marketing_permissions (batch subscribe does not). */
export function needsPermissionsOnCreate(values: ProfileValues | undefined): boolean {
  return values?.permissions !== undefined && Object.keys(values.permissions).length > 0;
}
