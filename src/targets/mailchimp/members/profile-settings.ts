/**
 * The settings for the rest of a member (GDPR marketing permissions, interest groups, language,
 * VIP), checked against the audience's own permissions and interests before anything is written:
 * a name the audience does not have stops the run, listing what it has, like an unknown merge tag.
 *
 *   marketing_permissions  {"Email": "consent_email"}: permission text as Mailchimp shows it (or
 *                          its marketing_permission_id) -> a boolean record property;
 *   interests              {"Topics / Events": "likes_events"}: "Category / Interest" (or the
 *                          interest's id) -> a boolean property; {"How often": "frequency"}: a
 *                          category's title (or id) -> a property whose value names the interest
 *                          (a list of names for checkboxes); every interest of it is then managed;
 *   language_property, vip_property: record properties.
 */
import { didYouMean } from '../../../util/near-miss.js';
import type { TargetConfig } from '../config.js';

export interface PermissionDefinition {
  id: string;
  text: string;
}

export interface InterestCategoryInfo {
  id: string;
  title: string;
  type: string;
  interests: Array<{ id: string; name: string }>;
}

/** What the audience has, as read from Mailchimp (profile-definitions.ts). */
export interface AudienceProfileDefinitions {
  /** The audience's permissions; undefined when it has no GDPR fields. */
  permissions: PermissionDefinition[] | undefined;
  /** False when the audience has GDPR fields but no member to show them (Mailchimp lists them only on members). */
  permissionsKnown: boolean;
  categories: InterestCategoryInfo[];
}

export interface PermissionRule {
  id: string;
  text: string;
  property: string;
}

export type InterestRule =
  | { kind: 'interest'; id: string; label: string; property: string }
  | { kind: 'category'; id: string; title: string; property: string; interests: Array<{ id: string; name: string }> };

export interface ProfileRules {
  permissions: PermissionRule[];
  interests: InterestRule[];
  languageProperty?: string;
  vipProperty?: string;
}

export type ProfileConfig = Partial<Pick<TargetConfig, 'marketing_permissions' | 'interests' | 'language_property' | 'vip_property'>>;

/** Whether the config asks for anything beyond merge fields and tags. */
export function profileConfigured(config: ProfileConfig): boolean {
  return Object.keys(config.marketing_permissions ?? {}).length > 0 || Object.keys(config.interests ?? {}).length > 0 || !!config.language_property || !!config.vip_property;
}

const squash = (s: string): string => s.trim().replace(/\s+/g, ' ').toLowerCase();

/** The one entry named `name` exactly, else the one named so but for case and spacing. */
function findByName<T>(entries: readonly T[], name: string, names: (entry: T) => readonly string[]): T | undefined {
  const exact = entries.find((e) => names(e).includes(name));
  if (exact) return exact;
  const loose = entries.filter((e) => names(e).some((n) => squash(n) === squash(name)));
  return loose.length === 1 ? loose[0] : undefined;
}

function resolvePermissions(config: ProfileConfig, defs: AudienceProfileDefinitions, audienceName: string, problems: string[]): PermissionRule[] {
  const configured = Object.entries(config.marketing_permissions ?? {});
  if (configured.length === 0) return [];
  if (defs.permissions === undefined) {
    problems.push(
      `"marketing_permissions": audience "${audienceName}" has no GDPR fields, so it has no marketing permissions to set: turn GDPR fields on (Audience > Settings > Audience name and defaults > Enable GDPR fields) or remove marketing_permissions`,
    );
    return [];
  }
  if (!defs.permissionsKnown) {
    // Mailchimp lists an audience's permissions only on its members: with none, only ids can be used.
    const rules = configured.filter(([key]) => /^[0-9a-f]{6,}$/i.test(key)).map(([key, property]) => ({ id: key, text: key, property }));
    for (const [key] of configured.filter(([k]) => !rules.some((r) => r.id === k))) {
      problems.push(
        `"marketing_permissions.${key}": audience "${audienceName}" has no member yet, and Mailchimp shows an audience's permission texts only on its members: name the permission by its marketing_permission_id`,
      );
    }
    return rules;
  }
  const known = defs.permissions;
  const rules: PermissionRule[] = [];
  for (const [key, property] of configured) {
    const found = findByName(known, key, (p) => [p.text, p.id]);
    if (!found) {
      const has = known.map((p) => `"${p.text}" (${p.id})`).join(', ') || 'none';
      problems.push(`"marketing_permissions.${key}": audience "${audienceName}" has no marketing permission "${key}" (it has ${has})${didYouMean(key, known.map((p) => p.text))}`);
    } else if (rules.some((r) => r.id === found.id)) {
      problems.push(`"marketing_permissions.${key}": the permission "${found.text}" is already mapped by another key`);
    } else {
      rules.push({ id: found.id, text: found.text, property });
    }
  }
  return rules;
}

function interestLabels(categories: readonly InterestCategoryInfo[]): string[] {
  return categories.flatMap((c) => c.interests.map((i) => `${c.title} / ${i.name}`));
}

/** The rule a key of `interests` names: a "Category / Interest" (or an interest id), else a whole category (title or id). */
function interestRule(key: string, property: string, categories: readonly InterestCategoryInfo[]): InterestRule | undefined {
  const all = categories.flatMap((c) => c.interests.map((i) => ({ ...i, label: `${c.title} / ${i.name}` })));
  const interest = findByName(all, key, (i) => [i.label, i.id]);
  if (interest) return { kind: 'interest', id: interest.id, label: interest.label, property };
  const category = findByName(categories, key, (c) => [c.title, c.id]);
  if (category) return { kind: 'category', id: category.id, title: category.title, property, interests: category.interests };
  return undefined;
}

function resolveInterests(config: ProfileConfig, defs: AudienceProfileDefinitions, audienceName: string, problems: string[]): InterestRule[] {
  const rules: InterestRule[] = [];
  const managed = new Set<string>();
  for (const [key, property] of Object.entries(config.interests ?? {})) {
    const rule = interestRule(key, property, defs.categories);
    if (!rule) {
      const labels = interestLabels(defs.categories);
      const has = labels.length > 0 ? `${labels.join(', ')}; or a whole category by its title: ${defs.categories.map((c) => c.title).join(', ')}` : 'no interest groups';
      problems.push(`"interests.${key}": audience "${audienceName}" has no interest "${key}" (it has ${has})${didYouMean(key, [...labels, ...defs.categories.map((c) => c.title)])}`);
      continue;
    }
    const ids = rule.kind === 'interest' ? [rule.id] : rule.interests.map((i) => i.id);
    if (ids.some((id) => managed.has(id))) {
      problems.push(`"interests.${key}": ${rule.kind === 'interest' ? `the interest "${rule.label}"` : `the category "${rule.title}"`} is already mapped (by another key, or through its category)`);
      continue;
    }
    for (const id of ids) managed.add(id);
    rules.push(rule);
  }
  return rules;
}

/** The rules of a run, or the problems that stop it before anything is written. */
export function resolveProfileRules(config: ProfileConfig, defs: AudienceProfileDefinitions, audienceName: string): { rules: ProfileRules; problems: string[] } {
  const problems: string[] = [];
  const rules: ProfileRules = {
    permissions: resolvePermissions(config, defs, audienceName, problems),
    interests: resolveInterests(config, defs, audienceName, problems),
    ...(config.language_property ? { languageProperty: config.language_property } : {}),
    ...(config.vip_property ? { vipProperty: config.vip_property } : {}),
  };
  return { rules, problems };
}

/** Every interest id the rules manage (only these are ever changed). */
export function managedInterestIds(rules: ProfileRules): string[] {
  return rules.interests.flatMap((r) => (r.kind === 'interest' ? [r.id] : r.interests.map((i) => i.id)));
}

/** The record properties the profile settings name, with the setting that names each (for the schema and input checks). */
export function profileProperties(config: ProfileConfig): Array<{ setting: string; property: string; unfilled: string }> {
  return [
    ...Object.entries(config.marketing_permissions ?? {}).map(([name, property]) => ({ setting: `marketing_permissions.${name}`, property, unfilled: `marketing permission "${name}" was never set` })),
    ...Object.entries(config.interests ?? {}).map(([name, property]) => ({ setting: `interests.${name}`, property, unfilled: `interest "${name}" was never set` })),
    ...(config.language_property ? [{ setting: 'language_property', property: config.language_property, unfilled: 'no language was written' }] : []),
    ...(config.vip_property ? [{ setting: 'vip_property', property: config.vip_property, unfilled: 'no VIP flag was written' }] : []),
  ];
}
