/**
 * Tags this target manages: the static ones from config, and property:value tags from record
 * properties. Only these are ever added or removed; every other tag is the marketer's.
 */
import type { JsonObject } from '../../singer/messages.js';

export interface TagRules {
  staticTags: readonly string[];
  properties: readonly string[];
}

export interface TagChange {
  name: string;
  status: 'active' | 'inactive';
}

function tagValues(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const values = Array.isArray(value) ? value : [value];
  return values.filter((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean').map((v) => String(v).trim()).filter((v) => v !== '');
}

/** The managed tags a record asks for, sorted. */
export function desiredTags(record: JsonObject, rules: TagRules): string[] {
  const tags = new Set(rules.staticTags);
  for (const property of rules.properties) {
    for (const value of tagValues(record[property])) tags.add(`${property}:${value}`.slice(0, 100));
  }
  return [...tags].sort();
}

/** Whether an existing tag is one of ours (a static tag, or property:value for a managed property). */
export function isManagedTag(name: string, rules: TagRules): boolean {
  return rules.staticTags.includes(name) || rules.properties.some((p) => name.startsWith(`${p}:`));
}

/** What to send so the member's managed tags become `desired`; tags we do not manage are never touched. */
export function tagChanges(desired: readonly string[], existing: readonly string[], rules: TagRules): TagChange[] {
  const want = new Set(desired);
  const have = new Set(existing.filter((t) => isManagedTag(t, rules)));
  const changes: TagChange[] = [];
  for (const name of want) if (!have.has(name)) changes.push({ name, status: 'active' });
  // Static tags are only ever added: one removed from the config may have been applied by hand too.
  for (const name of have) if (!want.has(name) && !rules.staticTags.includes(name)) changes.push({ name, status: 'inactive' });
  return changes;
}
