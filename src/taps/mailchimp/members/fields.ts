/**
 * The `fields` parameter of members pages: only what the catalog selects (Mailchimp's answer,
 * and its work, shrink with it: a page of ids and statuses is a tenth of a full one), plus what
 * the tap itself needs: `id` (the key), `last_changed` (the window's filter, and the bookmark),
 * `status` (archived members come from their own pass) and total_items (the slice check).
 * Merge fields narrowed in the catalog (breadcrumbs under merge_fields, as Meltano writes for
 * `list_members.merge_fields.FNAME`) are asked for one by one.
 */
import type { JsonSchema } from '../../../singer/messages.js';

/** Properties the tap fills in itself, never asked of Mailchimp. */
const FILLED_BY_TAP = new Set(['list_id']);
const ALWAYS = ['id', 'status', 'last_changed'];

function propertyNames(schema: JsonSchema | undefined): string[] {
  return Object.keys(schema?.properties ?? {});
}

/** The merge tags to ask for one by one, or undefined to ask for the whole object. */
function narrowedMergeTags(full: JsonSchema, selected: JsonSchema): string[] | undefined {
  const all = propertyNames(full.properties?.merge_fields);
  const chosen = propertyNames(selected.properties?.merge_fields);
  if (all.length === 0 || chosen.length >= all.length) return undefined;
  return chosen;
}

export function memberFields(full: JsonSchema, selected: JsonSchema): string[] {
  const names = new Set([...ALWAYS, ...propertyNames(selected).filter((p) => !FILLED_BY_TAP.has(p))]);
  // Tags beyond the 50 a member document carries are fetched when tags_count says so.
  if (names.has('tags')) names.add('tags_count');
  const fields: string[] = [];
  for (const name of [...names].sort()) {
    if (name === 'merge_fields') {
      const tags = narrowedMergeTags(full, selected);
      if (tags !== undefined) {
        fields.push(...tags.map((tag) => `members.merge_fields.${tag}`));
        continue;
      }
    }
    fields.push(`members.${name}`);
  }
  return [...fields, 'total_items'];
}

/** The one field a slice planning call needs. */
export const PROBE_FIELDS: readonly string[] = ['members.last_changed', 'total_items'];
