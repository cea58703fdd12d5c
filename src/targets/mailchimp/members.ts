/** From a record to a Mailchimp member: the email (normalised), its identity, the merge fields. */
import { hash } from 'node:crypto';
import type { JsonObject } from '../../singer/messages.js';

export const DEFAULT_EMAIL_PROPERTIES = ['mp_reserved_email', '$email', 'email'];

/**
 * A practical check, not RFC 5322: one @, a non-empty local part without spaces or consecutive
 * dots, a domain with a dot and a letters-only top-level label. Mailchimp rejects what fails it.
 */
const EMAIL = /^(?!\.)(?!.*\.\.)[^\s@"(),:;<>[\\\]]+(?<!\.)@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

export function normaliseEmail(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const email = raw.trim();
  return email === '' ? undefined : email;
}

export function isValidEmail(email: string): boolean {
  return email.length <= 254 && EMAIL.test(email);
}

/** Mailchimp's member id: MD5 of the lower-cased address. */
export function subscriberHash(email: string): string {
  return hash('md5', email.trim().toLowerCase(), 'hex');
}

export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

export function findEmail(record: JsonObject, property: string | undefined): unknown {
  if (property) return record[property];
  for (const name of DEFAULT_EMAIL_PROPERTIES) {
    if (record[name] !== undefined && record[name] !== null && record[name] !== '') return record[name];
  }
  return undefined;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** The properties the default FNAME/LNAME mapping reads, first present wins. */
export const DEFAULT_NAME_PROPERTIES = {
  first: ['mp_reserved_first_name', 'first_name', 'firstName'],
  last: ['mp_reserved_last_name', 'last_name', 'lastName'],
  full: ['mp_reserved_name', 'name'],
} as const;

function firstPresent(record: JsonObject, names: readonly string[]): unknown {
  for (const name of names) if (record[name] !== undefined && record[name] !== null) return record[name];
  return undefined;
}

/** FNAME/LNAME from first and last name, or from a full name split at its first space. */
export function defaultMergeFields(record: JsonObject): Record<string, string> {
  const first = text(firstPresent(record, DEFAULT_NAME_PROPERTIES.first));
  const last = text(firstPresent(record, DEFAULT_NAME_PROPERTIES.last));
  const full = text(firstPresent(record, DEFAULT_NAME_PROPERTIES.full));
  const fields: Record<string, string> = {};
  if (first || last) {
    if (first) fields.FNAME = first;
    if (last) fields.LNAME = last;
  } else if (full) {
    const space = full.indexOf(' ');
    fields.FNAME = space < 0 ? full : full.slice(0, space);
    if (space >= 0) fields.LNAME = full.slice(space + 1).trim();
  }
  return fields;
}
