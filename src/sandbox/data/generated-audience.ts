/**
 * Generated audience members (`mailchimp.audienceSize`): N members added after the seeded ones,
 * each a pure function of (seed, index), so a million of them cost the sandbox a few typed arrays
 * and tests or benchmarks can compute any member's address and category on their own.
 *
 * Mix: mostly subscribed, some unsubscribed (half of those compliance-locked, as unsubscribes via
 * a link are), cleaned, pending and archived. Merge fields FNAME and LNAME; tags from
 * GENERATED_TAGS (`plan:free` or `plan:pro`, `mixpanel`, `newsletter`). Addresses look like
 * `ana.silva.gen123@proton.me` and never collide with the seeded members or Mixpanel profiles.
 *
 * Only the timestamps depend on the reference time (the sandbox clock's start); addresses,
 * categories, names and tags depend on the seed alone.
 */
import { Rng, hashSeed } from '../random.js';
import type { MemberStatus } from './audience.js';
import { EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES } from './pools.js';

export type GeneratedCategory = 'subscribed' | 'unsubscribed' | 'unsubscribedCompliance' | 'cleaned' | 'pending' | 'archived';

/** Share of each category, in the order they are drawn. */
export const GENERATED_CATEGORY_RATES: ReadonlyArray<readonly [GeneratedCategory, number]> = [
  ['subscribed', 0.86],
  ['unsubscribed', 0.04],
  ['unsubscribedCompliance', 0.04],
  ['cleaned', 0.02],
  ['pending', 0.02],
  ['archived', 0.02],
];

export const GENERATED_CATEGORIES: readonly GeneratedCategory[] = GENERATED_CATEGORY_RATES.map(([c]) => c);

/** Tags generated members carry (bit i of `tagMask` is GENERATED_TAGS[i]). */
export const GENERATED_TAGS = ['plan:free', 'plan:pro', 'mixpanel', 'newsletter'] as const;

const STATUS_OF: Record<GeneratedCategory, MemberStatus> = {
  subscribed: 'subscribed',
  unsubscribed: 'unsubscribed',
  unsubscribedCompliance: 'unsubscribed',
  cleaned: 'cleaned',
  pending: 'pending',
  archived: 'archived',
};

export interface GeneratedAudienceContext {
  seed: number;
  /** Timestamps are drawn relative to this instant (epoch ms): the sandbox clock's start. */
  referenceMs: number;
}

export interface GeneratedMember {
  /** 0-based among the generated members (not the member's position in the audience). */
  index: number;
  email: string;
  category: GeneratedCategory;
  status: MemberStatus;
  complianceLocked: boolean;
  mergeFields: { FNAME: string; LNAME: string };
  tags: string[];
  /** Bit i set when the member carries GENERATED_TAGS[i]. */
  tagMask: number;
  lastChangedMs: number;
  timestampSignupMs: number;
  /** Opt-in time for subscribed and unsubscribed members. */
  timestampOptMs: number | undefined;
  source: string;
}

const SALT_GENERATED = 0x47454e4d;
const DAY_MS = 86_400_000;
const SOURCES = ['Import', 'Hosted Signup Form', 'API - Generic', 'Admin Add'] as const;

function categoryFrom(r: number): GeneratedCategory {
  let cumulative = 0;
  for (const [category, rate] of GENERATED_CATEGORY_RATES) {
    cumulative += rate;
    if (r < cumulative) return category;
  }
  return 'subscribed';
}

/** The category of generated member `index`: one draw, cheap enough to count a million. */
export function generatedCategory(index: number, seed: number): GeneratedCategory {
  return categoryFrom(new Rng(hashSeed(seed, SALT_GENERATED, index)).next());
}

/** The address of generated member `index` (as stored: lower case). */
export function generatedEmail(index: number, seed: number): string {
  const rng = new Rng(hashSeed(seed, SALT_GENERATED, index));
  rng.next(); // category
  const [, firstAscii] = rng.pick(FIRST_NAMES);
  const [, lastAscii] = rng.pick(LAST_NAMES);
  return `${firstAscii}.${lastAscii}.gen${index}@${rng.pick(EMAIL_DOMAINS)}`;
}

/** Generated member `index`, in full. The draws' order is fixed: changing it changes every audience. */
export function generatedMember(index: number, context: GeneratedAudienceContext): GeneratedMember {
  const rng = new Rng(hashSeed(context.seed, SALT_GENERATED, index));
  const category = categoryFrom(rng.next());
  const [first, firstAscii] = rng.pick(FIRST_NAMES);
  const [last, lastAscii] = rng.pick(LAST_NAMES);
  const email = `${firstAscii}.${lastAscii}.gen${index}@${rng.pick(EMAIL_DOMAINS)}`;
  const plan = rng.next();
  let tagMask = plan < 0.6 ? 1 : plan < 0.85 ? 2 : 0;
  if (rng.chance(0.5)) tagMask |= 4;
  if (rng.chance(0.3)) tagMask |= 8;
  const lastChangedMs = context.referenceMs - rng.between(1, 700) * DAY_MS - rng.int(DAY_MS);
  const timestampSignupMs = lastChangedMs - rng.between(0, 400) * DAY_MS - rng.int(DAY_MS);
  const optDelay = rng.int(DAY_MS);
  const status = STATUS_OF[category];
  return {
    index,
    email,
    category,
    status,
    complianceLocked: category === 'unsubscribedCompliance',
    mergeFields: { FNAME: first, LNAME: last },
    tags: GENERATED_TAGS.filter((_, bit) => (tagMask & (1 << bit)) !== 0),
    tagMask,
    // Whole seconds: Mailchimp's timestamps have no milliseconds.
    lastChangedMs: Math.floor(lastChangedMs / 1000) * 1000,
    timestampSignupMs: Math.floor(timestampSignupMs / 1000) * 1000,
    timestampOptMs: status === 'subscribed' || status === 'unsubscribed' ? Math.floor((timestampSignupMs + optDelay) / 1000) * 1000 : undefined,
    source: rng.pick(SOURCES),
  };
}

/** How many of the first `count` generated members fall in each category. */
export function generatedCategoryCounts(count: number, seed: number): Record<GeneratedCategory, number> {
  const counts = Object.fromEntries(GENERATED_CATEGORIES.map((c) => [c, 0])) as Record<GeneratedCategory, number>;
  for (let i = 0; i < count; i++) counts[generatedCategory(i, seed)]++;
  return counts;
}
