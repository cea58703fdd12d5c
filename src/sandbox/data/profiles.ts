/**
 * Mixpanel people profiles: profile k is a pure function of (seed, k).
 *
 * Quirks sit at fixed positions (independent of the seed) so tests and loaders can rely on them.
 * For position k (0-based):
 *   k % 100 == 2, 3, 4   invalid email: "not-an-email", "bob@@example.org", "trailing.dot.@x.io"  (3%)
 *   k % 100 == 5         email with surrounding whitespace                                        (1%)
 *   k % 50  == 8 and 9   case pair: k%50==8 has "Ana.Silva8@mailbox.org", k%50==9 the lower-cased
 *                        address "ana.silva8@mailbox.org" (same person, two distinct_ids)          (4%)
 *   k % 25  == 11        no $email                                                                (4%)
 *   k % 20  == 13        no $first_name, $last_name or $name                                       (5%)
 *   k % 500 == 1         $unsubscribed: true                                                      (0.2%)
 *   k % 12  == 7         East Asian name written family name first (李雷, 佐藤美咲, ...)           (8%)
 * Other names come from pools with accents and non-Latin letters (José, Zoë, Łucja, Ñandú).
 * Positions beyond 99 get their position appended to the invalid addresses to keep them unique.
 */
import { Rng, hashSeed, weightedTable } from '../random.js';
import {
  EAST_ASIAN_NAMES,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  LAST_NAMES,
  PLACES,
  PLANS,
  PROFILE_TAGS,
  SIGNUP_SOURCES,
} from './pools.js';

export interface ProfileRecord {
  $distinct_id: string;
  $properties: Record<string, unknown>;
}

export type ProfileQuirk =
  | 'invalid_email'
  | 'whitespace_email'
  | 'case_pair_original'
  | 'case_pair_lowercase'
  | 'no_email'
  | 'no_name'
  | 'unsubscribed'
  | 'east_asian_name';

export interface GeneratedProfile {
  index: number;
  quirks: ProfileQuirk[];
  firstName: string | undefined;
  lastName: string | undefined;
  /** The address as stored in Mixpanel (may be invalid or padded); undefined when absent. */
  email: string | undefined;
  plan: string;
  record: ProfileRecord;
}

const SALT_PROFILE = 0x50524f46;
const SALT_DISTINCT_ID = 0x44495354;
const DAY_MS = 86_400_000;

const PLAN_WEIGHTS = weightedTable<string>([
  [PLANS[0], 6],
  [PLANS[1], 3],
  [PLANS[2], 1],
]);

/** The three invalid shapes; `n` keeps them unique beyond the first hundred profiles. */
const INVALID_EMAILS: ReadonlyArray<(n: string) => string> = [
  (n) => `not-an-email${n}`,
  (n) => `bob${n}@@example.org`,
  (n) => `trailing.dot${n}.@x.io`,
];

export function profileQuirks(k: number): ProfileQuirk[] {
  const quirks: ProfileQuirk[] = [];
  const m100 = k % 100;
  if (m100 >= 2 && m100 <= 4) quirks.push('invalid_email');
  if (m100 === 5) quirks.push('whitespace_email');
  if (k % 50 === 8) quirks.push('case_pair_original');
  if (k % 50 === 9) quirks.push('case_pair_lowercase');
  if (k % 25 === 11) quirks.push('no_email');
  if (k % 20 === 13) quirks.push('no_name');
  if (k % 500 === 1) quirks.push('unsubscribed');
  if (k % 12 === 7) quirks.push('east_asian_name');
  return quirks;
}

/** distinct_id of profile k; events draw from these so events and profiles relate. */
export function profileDistinctId(seed: number, k: number): string {
  const rng = new Rng(hashSeed(seed, SALT_DISTINCT_ID, k));
  const h = rng.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface PersonName {
  first: string;
  last: string;
  full: string;
  asciiLocal: string;
  asciiCapitalised: string;
}

function personName(seed: number, k: number): PersonName {
  const rng = new Rng(hashSeed(seed, SALT_PROFILE, k, 1));
  if (k % 12 === 7) {
    const name = rng.pick(EAST_ASIAN_NAMES);
    return { first: name.first, last: name.last, full: `${name.last}${name.first}`, asciiLocal: name.ascii, asciiCapitalised: capitaliseParts(name.ascii) };
  }
  const [first, firstAscii] = rng.pick(FIRST_NAMES);
  const [last, lastAscii] = rng.pick(LAST_NAMES);
  const asciiLocal = `${firstAscii}.${lastAscii}`;
  return { first, last, full: `${first} ${last}`, asciiLocal, asciiCapitalised: capitaliseParts(asciiLocal) };
}

function capitaliseParts(local: string): string {
  return local
    .split('.')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('.');
}

function emailDomain(seed: number, k: number): string {
  return new Rng(hashSeed(seed, SALT_PROFILE, k, 2)).pick(EMAIL_DOMAINS);
}

function emailFor(seed: number, k: number, quirks: readonly ProfileQuirk[], name: PersonName): string | undefined {
  if (quirks.includes('no_email')) return undefined;
  if (quirks.includes('invalid_email')) {
    const shape = INVALID_EMAILS[(k % 100) - 2];
    return shape?.(k < 100 ? '' : String(k));
  }
  if (quirks.includes('case_pair_lowercase')) {
    // Same person as k - 1, same address in lower case.
    return emailFor(seed, k - 1, profileQuirks(k - 1), name)?.toLowerCase();
  }
  const local = quirks.includes('no_name') ? `user${k}` : `${quirks.includes('case_pair_original') ? name.asciiCapitalised : name.asciiLocal}${k}`;
  const address = `${local}@${emailDomain(seed, k)}`;
  return quirks.includes('whitespace_email') ? `  ${address} ` : address;
}

/** "YYYY-MM-DDTHH:MM:SS" with no zone, as Mixpanel returns profile dates. */
export function mixpanelDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

export interface ProfileContext {
  seed: number;
  /** Profiles were created before this instant (the sandbox clock start). */
  referenceMs: number;
}

export function generateProfile(ctx: ProfileContext, k: number): GeneratedProfile {
  const { seed } = ctx;
  const quirks = profileQuirks(k);
  // A case pair is one person: the lower-cased twin reuses the original's name.
  const name = personName(seed, quirks.includes('case_pair_lowercase') ? k - 1 : k);
  const rng = new Rng(hashSeed(seed, SALT_PROFILE, k, 3));
  const place = rng.pick(PLACES);
  const createdMs = ctx.referenceMs - rng.between(1, 720) * DAY_MS - rng.int(DAY_MS);
  const lastSeenMs = createdMs + Math.floor(rng.next() * (ctx.referenceMs - createdMs));
  const plan = rng.weighted(PLAN_WEIGHTS);
  const email = emailFor(seed, k, quirks, name);
  const named = !quirks.includes('no_name');

  const properties: Record<string, unknown> = {};
  if (email !== undefined) properties.$email = email;
  if (named) {
    properties.$first_name = name.first;
    properties.$last_name = name.last;
    properties.$name = name.full;
  }
  properties.$created = mixpanelDateTime(createdMs);
  properties.$last_seen = mixpanelDateTime(lastSeenMs);
  properties.$city = place.city;
  properties.$region = place.region;
  properties.$country_code = place.countryCode;
  properties.$timezone = place.timezone;
  if (rng.chance(0.6)) properties.$phone = `${place.phonePrefix} ${rng.between(100, 999)} ${rng.between(1000, 9999)}`;
  properties.plan = plan;
  properties['Lifetime Value'] = plan === 'free' ? 0 : rng.float(10, 5000);
  properties.signup_source = rng.pick(SIGNUP_SOURCES);
  properties.tags = PROFILE_TAGS.filter(() => rng.chance(0.2));
  properties.newsletter_opt_in = rng.chance(0.7);
  properties.company = rng.chance(0.3) ? null : rng.pick(['Acme Corp', 'Globex', 'Initech', 'Umbrella Labs', 'Hooli']);
  properties.logins = rng.between(1, 400);
  if (quirks.includes('unsubscribed')) properties.$unsubscribed = true;

  return {
    index: k,
    quirks,
    firstName: named ? name.first : undefined,
    lastName: named ? name.last : undefined,
    email,
    plan,
    record: { $distinct_id: profileDistinctId(seed, k), $properties: properties },
  };
}
