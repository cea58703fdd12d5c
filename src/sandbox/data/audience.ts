/**
 * The seeded Mailchimp audience. It overlaps the Mixpanel profile population on purpose, so a
 * loader meets every situation a real sync meets: members that match, members whose names
 * differ, unsubscribed members (some compliance-locked), cleaned, archived and permanently
 * deleted ones, pending and transactional ones, and members Mixpanel does not know.
 *
 * Member j's category: the first ten members take one of each category in HEAD order (so even a
 * ten-member audience has them all), the rest follow CYCLE. A category that needs a Mixpanel
 * profile takes the next "plain" profile (valid, unpadded address, not a case twin, named, not
 * $unsubscribed); when profiles run out it becomes notInMixpanel.
 */
import { Rng, hashSeed } from '../random.js';
import { generateProfile } from './profiles.js';
import type { GeneratedProfile, ProfileContext } from './profiles.js';
import { EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES } from './pools.js';

export type AudienceCategory =
  | 'subscribedSame'
  | 'subscribedDifferent'
  | 'unsubscribed'
  | 'unsubscribedCompliance'
  | 'cleaned'
  | 'archived'
  | 'forgotten'
  | 'pending'
  | 'transactional'
  | 'notInMixpanel';

export const AUDIENCE_CATEGORIES: readonly AudienceCategory[] = [
  'subscribedSame',
  'subscribedDifferent',
  'unsubscribed',
  'unsubscribedCompliance',
  'cleaned',
  'archived',
  'forgotten',
  'pending',
  'transactional',
  'notInMixpanel',
];

const HEAD: readonly AudienceCategory[] = AUDIENCE_CATEGORIES;
const CYCLE: readonly AudienceCategory[] = [
  'subscribedSame', 'subscribedSame', 'subscribedDifferent', 'notInMixpanel', 'unsubscribed', 'subscribedSame',
  'notInMixpanel', 'unsubscribedCompliance', 'pending', 'cleaned', 'subscribedSame', 'transactional',
];

export type MemberStatus = 'subscribed' | 'unsubscribed' | 'cleaned' | 'pending' | 'transactional' | 'archived';

const STATUS_OF: Record<AudienceCategory, MemberStatus> = {
  subscribedSame: 'subscribed',
  subscribedDifferent: 'subscribed',
  unsubscribed: 'unsubscribed',
  unsubscribedCompliance: 'unsubscribed',
  cleaned: 'cleaned',
  archived: 'archived',
  // A forgotten contact keeps no status; "unsubscribed" is what it was when deleted.
  forgotten: 'unsubscribed',
  pending: 'pending',
  transactional: 'transactional',
  notInMixpanel: 'subscribed',
};

export interface SeedMember {
  position: number;
  category: AudienceCategory;
  email: string;
  status: MemberStatus;
  complianceLocked: boolean;
  forgotten: boolean;
  mergeFields: Record<string, unknown>;
  tags: string[];
  profileIndex: number | undefined;
  timestampSignupMs: number;
  timestampOptMs: number | undefined;
  lastChangedMs: number;
  source: string;
}

export interface AudienceSeedContext extends ProfileContext {
  profiles: number;
  members: number;
}

const SALT_MEMBER = 0x4d454d42;
const DAY_MS = 86_400_000;
const SEED_TAGS = ['customer', 'newsletter', 'webinar-2024', 'vip'] as const;

function categoryAt(j: number): AudienceCategory {
  return j < HEAD.length ? (HEAD[j] as AudienceCategory) : (CYCLE[(j - HEAD.length) % CYCLE.length] as AudienceCategory);
}

/** Profiles whose address a loader would send as is. */
export function isPlainProfile(profile: GeneratedProfile): boolean {
  return profile.email !== undefined && profile.quirks.every((q) => q === 'east_asian_name');
}

export function seedAudience(ctx: AudienceSeedContext): SeedMember[] {
  const members: SeedMember[] = [];
  let nextProfile = 0;
  const takePlainProfile = (): GeneratedProfile | undefined => {
    while (nextProfile < ctx.profiles) {
      const profile = generateProfile(ctx, nextProfile++);
      if (isPlainProfile(profile)) return profile;
    }
    return undefined;
  };

  for (let j = 0; j < ctx.members; j++) {
    const rng = new Rng(hashSeed(ctx.seed, SALT_MEMBER, j));
    let category = categoryAt(j);
    const profile = category === 'notInMixpanel' ? undefined : takePlainProfile();
    if (!profile) category = 'notInMixpanel';

    let email: string;
    let first: string;
    let last: string;
    if (profile) {
      email = profile.email as string;
      first = profile.firstName ?? '';
      last = profile.lastName ?? '';
      if (category === 'subscribedDifferent') {
        // The audience knows this person under other names (an old import, a nickname).
        first = pickOther(rng, FIRST_NAMES, first);
        last = pickOther(rng, LAST_NAMES, last);
      }
    } else {
      const [firstName, firstAscii] = rng.pick(FIRST_NAMES);
      const [lastName, lastAscii] = rng.pick(LAST_NAMES);
      first = firstName;
      last = lastName;
      email = `${firstAscii}.${lastAscii}.mc${j}@${rng.pick(EMAIL_DOMAINS)}`;
    }

    const status = profile ? STATUS_OF[category] : rng.chance(0.2) ? 'unsubscribed' : 'subscribed';
    const lastChangedMs = ctx.referenceMs - rng.between(1, 300) * DAY_MS - rng.int(DAY_MS);
    const timestampSignupMs = lastChangedMs - rng.between(0, 400) * DAY_MS - rng.int(DAY_MS);
    const mergeFields: Record<string, unknown> = { FNAME: first, LNAME: last };
    if (profile) mergeFields.PLAN = profile.plan;
    mergeFields.SIGNUP = new Date(timestampSignupMs).toISOString().slice(0, 10);

    members.push({
      position: j,
      category,
      email,
      status,
      complianceLocked: category === 'unsubscribedCompliance',
      forgotten: category === 'forgotten',
      mergeFields,
      tags: SEED_TAGS.filter(() => rng.chance(0.25)),
      profileIndex: profile?.index,
      timestampSignupMs,
      timestampOptMs: status === 'subscribed' || status === 'unsubscribed' ? timestampSignupMs + rng.int(DAY_MS) : undefined,
      lastChangedMs,
      source: rng.pick(['Import', 'Hosted Signup Form', 'API - Generic', 'Admin Add']),
    });
  }
  return members;
}

function pickOther(rng: Rng, pool: ReadonlyArray<readonly [string, string]>, current: string): string {
  for (let attempt = 0; attempt < 8; attempt++) {
    const [candidate] = rng.pick(pool);
    if (candidate !== current) return candidate;
  }
  return `${current}-old`;
}
