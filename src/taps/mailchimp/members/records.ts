/**
 * A Mailchimp member as a list_members record: the audience's id added (part of the key), time
 * stamps as RFC 3339 UTC (Mailchimp's "" for "never" as null), merge field values typed by the
 * audience's merge fields (merge-field-types.ts), everything else as Mailchimp sends it.
 */
import type { JsonObject } from '../../../singer/messages.js';
import { mergeFieldValue, type ValueProblem } from '../merge-field-types.js';
import type { RawMember, RawMergeField } from '../raw.js';

const TIMESTAMPS = ['timestamp_signup', 'timestamp_opt', 'last_changed', 'sms_subscription_last_updated'] as const;

const MAILCHIMP_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/;

/** Mailchimp's 2024-05-01T12:34:56+00:00 as 2024-05-01T12:34:56.000Z; "" and unreadable values as null. */
export function utcTimestamp(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  // Mailchimp's usual shape, a few of them in every member: rewritten without parsing a date.
  if (MAILCHIMP_UTC.test(value)) return `${value.slice(0, 19)}.000Z`;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

export interface MemberRecordContext {
  listId: string;
  mergeFields: ReadonlyMap<string, RawMergeField>;
  onValueProblem: (problem: ValueProblem) => void;
}

function typedMergeFields(raw: unknown, context: MemberRecordContext): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw ?? null;
  const out: JsonObject = {};
  for (const [tag, value] of Object.entries(raw as JsonObject)) out[tag] = mergeFieldValue(context.mergeFields.get(tag), value, context.onValueProblem);
  return out;
}

/**
 * The record, made from the member in place: the member is a freshly parsed answer nobody else
 * holds, and a copy of every member of a million-member audience is time a run can save.
 */
export function memberRecord(member: RawMember, context: MemberRecordContext): JsonObject {
  const record: JsonObject = member;
  record.list_id = context.listId;
  delete record._links;
  for (const name of TIMESTAMPS) if (name in record) record[name] = utcTimestamp(record[name]);
  if ('merge_fields' in record) record.merge_fields = typedMergeFields(record.merge_fields, context);
  const note = record.last_note;
  if (note !== null && typeof note === 'object' && !Array.isArray(note) && 'created_at' in note) {
    record.last_note = { ...(note as JsonObject), created_at: utcTimestamp((note as JsonObject).created_at) };
  }
  return record;
}

/** Members whose document lists fewer tags than they have (Mailchimp puts 50 at most in it). */
export function needsAllTags(member: RawMember): boolean {
  return Array.isArray(member.tags) && typeof member.tags_count === 'number' && member.tags_count > member.tags.length;
}
