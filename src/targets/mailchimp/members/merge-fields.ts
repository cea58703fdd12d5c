/**
 * Merge fields: which record property feeds which merge tag, checked against the audience's own
 * merge fields before anything is written, and values converted to each field's type.
 */
import { DateTime } from 'luxon';
import type { JsonObject } from '../../../singer/messages.js';
import { didYouMean } from '../../../util/near-miss.js';
import type { MergeField } from '../api/api.js';
import type { TargetConfig } from '../config.js';
import { defaultMergeFields } from './members.js';

export interface MergeMapping {
  tag: string;
  /** For messages: the property, or how the default finds it. */
  source: string;
  read(record: JsonObject): unknown;
}

export interface FieldProblem {
  field: string;
  message: string;
  /** The row's reason when it is rejected for this problem (default: a merge value not accepted). */
  reason?: string;
}

function readProperty(property: string): (record: JsonObject) => unknown {
  return (record) => record[property];
}

/**
 * The mappings for a run: the configured ones, plus FNAME/LNAME from the names when the audience
 * has them and the config does not say otherwise. Problems (unknown tags, required fields nobody
 * fills) are returned as config problems: they stop the run before anything is written.
 */
export function buildMergeMappings(config: Pick<TargetConfig, 'merge_fields'>, fields: readonly MergeField[]): { mappings: MergeMapping[]; problems: string[] } {
  const byTag = new Map(fields.map((f) => [f.tag.toUpperCase(), f]));
  const configured = config.merge_fields ?? {};
  const mappings: MergeMapping[] = [];
  const problems: string[] = [];
  for (const [tag, property] of Object.entries(configured)) {
    if (!byTag.has(tag)) {
      problems.push(`"merge_fields.${tag}": the audience has no merge field ${tag} (it has ${[...byTag.keys()].join(', ') || 'none'})${didYouMean(tag, byTag.keys())}`);
    } else if (property !== null) {
      mappings.push({ tag, source: property, read: readProperty(property) });
    }
  }
  // Both defaults read the same names: work them out once per record.
  let lastRecord: JsonObject | undefined;
  let lastNames: Record<string, string> = {};
  const names = (r: JsonObject): Record<string, string> => {
    if (r !== lastRecord) {
      lastRecord = r;
      lastNames = defaultMergeFields(r);
    }
    return lastNames;
  };
  for (const tag of ['FNAME', 'LNAME'] as const) {
    if (tag in configured || !byTag.has(tag)) continue;
    mappings.push({ tag, source: tag === 'FNAME' ? 'first name (or the first word of the full name)' : 'last name (or the rest of the full name)', read: (r) => names(r)[tag] });
  }
  const mapped = new Set(mappings.map((m) => m.tag));
  for (const field of fields) {
    if (field.required && !mapped.has(field.tag.toUpperCase())) {
      problems.push(
        `the audience requires merge field ${field.tag} (${field.name}) but nothing fills it: add "${field.tag}": "<record property>" to merge_fields, or make the field optional in Mailchimp`,
      );
    }
  }
  return { mappings: mappings.sort((a, b) => a.tag.localeCompare(b.tag)), problems };
}

export type Converted = { ok: true; value: unknown } | { ok: false; message: string };

function asDate(raw: unknown): DateTime | null {
  if (typeof raw === 'number' && Number.isFinite(raw)) return DateTime.fromMillis(raw > 1e11 ? raw : raw * 1000, { zone: 'utc' });
  if (typeof raw !== 'string') return null;
  const parsed = DateTime.fromISO(raw.trim(), { zone: 'utc' });
  if (parsed.isValid) return parsed;
  // "2024-03-05 10:00:00" (a space, not a T) is how many tools write date-times.
  const sql = DateTime.fromSQL(raw.trim(), { zone: 'utc' });
  return sql.isValid ? sql : null;
}

/** A value as the merge field's type wants it, or why it cannot be. */
export function convertMergeValue(raw: unknown, field: Pick<MergeField, 'tag' | 'type' | 'options'>): Converted {
  const options = (field.options ?? {}) as { choices?: string[] };
  switch (field.type) {
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: `needs a number (got ${JSON.stringify(raw)})` };
    }
    case 'date': {
      const d = asDate(raw);
      return d ? { ok: true, value: d.toISODate() } : { ok: false, message: `needs a date (got ${JSON.stringify(raw)})` };
    }
    case 'birthday': {
      const monthDay = typeof raw === 'string' ? /^(\d{1,2})\/(\d{1,2})$/.exec(raw.trim()) : null;
      if (monthDay) {
        const [, m = '', d = ''] = monthDay;
        // Mailchimp refuses a month outside 01-12 or a day outside 01-31: refuse it here, in the plan.
        if (Number(m) >= 1 && Number(m) <= 12 && Number(d) >= 1 && Number(d) <= 31) return { ok: true, value: `${m.padStart(2, '0')}/${d.padStart(2, '0')}` };
        return { ok: false, message: `needs a birthday (MM/DD or a date; got ${JSON.stringify(raw)})` };
      }
      const d = asDate(raw);
      return d ? { ok: true, value: d.toFormat('MM/dd') } : { ok: false, message: `needs a birthday (MM/DD or a date; got ${JSON.stringify(raw)})` };
    }
    case 'dropdown':
    case 'radio': {
      const choices = options.choices ?? [];
      const text = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim() : '';
      const match = choices.find((c) => c === text) ?? choices.find((c) => c.toLowerCase() === text.toLowerCase());
      return match !== undefined ? { ok: true, value: match } : { ok: false, message: `must be one of ${choices.join(', ')} (got ${JSON.stringify(raw)})` };
    }
    case 'address': {
      const a = raw as Record<string, unknown> | null;
      const complete = a !== null && typeof a === 'object' && !Array.isArray(a) && ['addr1', 'city', 'state', 'zip'].every((k) => typeof a[k] === 'string' && a[k] !== '');
      return complete ? { ok: true, value: a } : { ok: false, message: 'needs an address object with addr1, city, state and zip' };
    }
    case 'url':
    case 'imageurl':
      return typeof raw === 'string' && /^https?:\/\/\S+$/i.test(raw.trim()) ? { ok: true, value: raw.trim() } : { ok: false, message: `needs an http(s) URL (got ${JSON.stringify(raw)})` };
    default:
      if (typeof raw === 'string') return { ok: true, value: raw.trim() };
      if (typeof raw === 'number' || typeof raw === 'boolean') return { ok: true, value: String(raw) };
      return { ok: false, message: `needs text (got ${Array.isArray(raw) ? 'a list' : typeof raw})` };
  }
}

export interface DesiredMergeFields {
  values: Record<string, unknown>;
  problems: FieldProblem[];
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** The merge values a record asks for. Empty sources are left out: they never blank a field. */
export function desiredMergeFields(record: JsonObject, mappings: readonly MergeMapping[], fields: ReadonlyMap<string, MergeField>): DesiredMergeFields {
  const values: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  for (const mapping of mappings) {
    const raw = mapping.read(record);
    if (isEmpty(raw)) continue;
    const field = fields.get(mapping.tag);
    if (!field) continue;
    const converted = convertMergeValue(raw, field);
    if (converted.ok) values[mapping.tag] = converted.value;
    else problems.push({ field: mapping.tag, message: `merge field ${mapping.tag} (from ${mapping.source}) ${converted.message}` });
  }
  return { values, problems };
}

/** Required fields a new member would lack. */
export function missingRequired(values: Record<string, unknown>, fields: Iterable<MergeField>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const field of fields) {
    if (field.required && isEmpty(values[field.tag])) problems.push({ field: field.tag, message: `required merge field ${field.tag} (${field.name}) is empty` });
  }
  return problems;
}

/** Whether Mailchimp's stored value already equals ours (numbers as numbers, text trimmed, objects by content). */
export function sameMergeValue(desired: unknown, existing: unknown): boolean {
  if (typeof desired === 'number') return existing !== '' && existing !== null && existing !== undefined && Number(existing) === desired;
  if (desired !== null && typeof desired === 'object') {
    if (existing === null || typeof existing !== 'object') return false;
    const e = existing as Record<string, unknown>;
    return Object.entries(desired as Record<string, unknown>).every(([k, v]) => String(e[k] ?? '').trim() === String(v ?? '').trim());
  }
  return String(existing ?? '').trim() === String(desired ?? '').trim();
}

/**
 * The text a scalar merge value is compared by, for a field of this type: two values are the
 * same for sameMergeValue exactly when their canonical texts are equal. Number fields compare as
 * numbers (an empty field is no number); every other scalar type as trimmed text. Object values
 * (address fields) have no canonical text: they are compared with sameMergeValue.
 */
export function canonicalMergeValue(value: unknown, type: string): string {
  if (type === 'number') {
    if (value === '' || value === null || value === undefined) return '\u0000empty';
    return `n:${Number(value)}`;
  }
  return `s:${String(value ?? '').trim()}`;
}

/** Whether the member holds a value for a merge tag (a view of what Mailchimp has). */
export interface MergeValueHolder {
  hasMergeValue(tag: string, value: unknown): boolean;
}

/** The desired values that differ from what Mailchimp holds: what an update must send. */
export function changedMergeFields(desired: Record<string, unknown>, existing: MergeValueHolder | undefined): Record<string, unknown> {
  const changed: Record<string, unknown> = {};
  for (const [tag, value] of Object.entries(desired)) {
    if (!existing?.hasMergeValue(tag, value)) changed[tag] = value;
  }
  return changed;
}
