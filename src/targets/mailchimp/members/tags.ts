/**
 * Tags this target manages: the static ones from config, and property:value tags from record
 * properties. Only these are ever added or removed; every other tag is the marketer's.
 */
import type { JsonObject } from '../../../singer/messages.js';

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

// Mailchimp tag names are case-insensitive ("VIP" and "vip" are one tag): compare them that way,
// or a tag differing only in case is re-added every run, or added and then removed as "another" tag.
const tagKey = (name: string): string => name.trim().toLowerCase();

/** Whether an existing tag is one of ours (a static tag, or property:value for a managed property). */
export function isManagedTag(name: string, rules: TagRules): boolean {
  const key = tagKey(name);
  return rules.staticTags.some((t) => tagKey(t) === key) || rules.properties.some((p) => key.startsWith(`${p.toLowerCase()}:`));
}

/**
 * The tag properties a record speaks for: those it carries, null included (null clears the tags).
 * A property the record does not have at all (not selected, or not sent) says nothing about them.
 */
export function presentTagProperties(record: JsonObject, rules: TagRules): string[] {
  return rules.properties.filter((p) => record[p] !== undefined);
}

/**
 * What to send so the member's managed tags become `desired`; tags we do not manage are never
 * touched, nor property:value tags of a property the record did not carry (`present`).
 */
export function tagChanges(desired: readonly string[], existing: readonly string[], rules: TagRules, present: readonly string[] = rules.properties): TagChange[] {
  const want = new Map(desired.map((t) => [tagKey(t), t]));
  const have = new Map(existing.filter((t) => isManagedTag(t, rules)).map((t) => [tagKey(t), t]));
  const staticKeys = new Set(rules.staticTags.map(tagKey));
  const changes: TagChange[] = [];
  for (const [key, name] of want) if (!have.has(key)) changes.push({ name, status: 'active' });
  // Static tags are only ever added: one removed from the config may have been applied by hand too.
  const silent = rules.properties.filter((p) => !present.includes(p)).map((p) => `${p.toLowerCase()}:`);
  for (const [key, name] of have) {
    if (want.has(key) || staticKeys.has(key) || silent.some((prefix) => key.startsWith(prefix))) continue;
    changes.push({ name, status: 'inactive' });
  }
  return changes;
}
