/** From a record to a Mailchimp member: the email (normalised), its identity, the merge fields. */
import { domainToASCII } from 'node:url';
import type { JsonObject } from '../../../singer/messages.js';
import { REASONS } from '../reports/outcomes.js';

export const DEFAULT_EMAIL_PROPERTIES = ['mp_reserved_email', '$email', 'email'];

/**
 * A practical check, not RFC 5322: one @, a non-empty local part without spaces or consecutive
 * dots, a domain with a dot and a top-level label of letters (or an IDN label in punycode,
 * xn--...). Mailchimp rejects what fails it.
 */
const EMAIL = /^(?!\.)(?!.*\.\.)[^\s@"(),:;<>[\\\]]+(?<!\.)@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$/;

export function normaliseEmail(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const email = raw.trim();
  return email === '' ? undefined : email;
}

export function isValidEmail(email: string): boolean {
  return email.length <= 254 && EMAIL.test(email);
}

export type AddressCheck = { ok: true; email: string } | { ok: false; reason: string; detail: string };

/** Non-ASCII characters (the local part of an SMTPUTF8 address, or a domain not yet in punycode). */
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The address as Mailchimp can take it: an internationalised domain converted to ASCII (punycode,
 * as mail servers look it up), or why it cannot be taken. Mailchimp accepts only ASCII addresses,
 * so a local part with other characters (ü@, 用户@) is refused here, with that reason.
 */
export function mailchimpAddress(email: string): AddressCheck {
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return { ok: false, reason: REASONS.invalidEmail, detail: 'an address needs a local part, one @ and a domain' };
  const local = email.slice(0, at);
  let domain = email.slice(at + 1);
  if (NON_ASCII.test(local)) {
    return { ok: false, reason: REASONS.nonAsciiLocalPart, detail: `Mailchimp accepts only ASCII addresses; "${local}" has other characters (an SMTPUTF8 address)` };
  }
  if (NON_ASCII.test(domain)) {
    const ascii = domainToASCII(domain);
    if (ascii === '') return { ok: false, reason: REASONS.invalidEmail, detail: `"${domain}" is not a valid internationalised domain name` };
    domain = ascii;
  }
  const converted = `${local}@${domain}`;
  if (!isValidEmail(converted)) return { ok: false, reason: REASONS.invalidEmail, detail: converted === email ? 'not an address Mailchimp accepts' : `not an address Mailchimp accepts (as ASCII: ${converted})` };
  return { ok: true, email: converted };
}

// Mailchimp's member id (MD5 of the lower-cased address): shared with tap-mailchimp.
export { subscriberHash } from '../../../mailchimp/account.js';

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
