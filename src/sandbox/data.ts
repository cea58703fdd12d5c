/**
 * The sandbox's seeded data, in one place for tests: which emails fall in which audience
 * category and which profiles carry which quirk. Everything here is a pure function of the
 * options (the same options the sandbox was started with).
 */
import { AUDIENCE_CATEGORIES, seedAudience } from './data/audience.js';
import type { AudienceCategory } from './data/audience.js';
import { generatedCategoryCounts, generatedMember as generateMember } from './data/generated-audience.js';
import type { GeneratedAudienceContext, GeneratedCategory, GeneratedMember } from './data/generated-audience.js';
import { generateProfile } from './data/profiles.js';
import { resolveOptions } from './options.js';
import type { SandboxConfig, SandboxOptions } from './options.js';

export { AUDIENCE_CATEGORIES, seedAudience } from './data/audience.js';
export type { AudienceCategory, MemberStatus, SeedMember } from './data/audience.js';
export { generateProfile, profileDistinctId, profileQuirks } from './data/profiles.js';
export type { GeneratedProfile, ProfileQuirk, ProfileRecord } from './data/profiles.js';
export { DayEvents, EVENT_NAMES, EVENT_QUIRK_RATES } from './data/events.js';
export {
  GENERATED_CATEGORIES,
  GENERATED_CATEGORY_RATES,
  GENERATED_TAGS,
  generatedCategory,
  generatedCategoryCounts,
  generatedEmail,
} from './data/generated-audience.js';
export type { GeneratedAudienceContext, GeneratedCategory, GeneratedMember } from './data/generated-audience.js';
export type { MixpanelEvent } from './data/events.js';

export interface ProfileQuirkSummary {
  /** distinct_ids of profiles without $email. */
  withoutEmail: string[];
  /** distinct_ids of profiles without $first_name/$last_name/$name. */
  withoutName: string[];
  /** The invalid addresses as stored ("not-an-email", "bob@@example.org", "trailing.dot.@x.io", ...). */
  invalidEmails: string[];
  /** Addresses with surrounding whitespace, as stored. */
  whitespaceEmails: string[];
  /** [mixed-case address, the same address lower-cased] on two different profiles. */
  casePairs: Array<[string, string]>;
  /** distinct_ids of profiles with $unsubscribed: true. */
  unsubscribed: string[];
}

/** Emails per audience category (as stored in the audience), plus the profile quirks. */
export type SeedDescription = Record<AudienceCategory, string[]> & {
  listId: string;
  /** Seeded audience members, forgotten one included. */
  memberCount: number;
  profileCount: number;
  profiles: ProfileQuirkSummary;
  /**
   * Generated members (`mailchimp.audienceSize`): how many, the position of the first one in the
   * audience's order (they follow the seeded members), and how many fall in each category.
   * `generatedMember(i, options)` gives member i itself.
   */
  generated: { count: number; firstPosition: number; byCategory: Record<GeneratedCategory, number> };
};

export function describeSeed(options: SandboxOptions | SandboxConfig = {}): SeedDescription {
  const config = isConfig(options) ? options : resolveOptions(options);
  const context = { seed: config.seed, referenceMs: config.startNowMs };
  const members = seedAudience({ ...context, profiles: config.profiles, members: config.mailchimp.members });
  const categories = Object.fromEntries(AUDIENCE_CATEGORIES.map((c) => [c, [] as string[]])) as Record<AudienceCategory, string[]>;
  for (const member of members) categories[member.category].push(member.email);

  const profiles: ProfileQuirkSummary = { withoutEmail: [], withoutName: [], invalidEmails: [], whitespaceEmails: [], casePairs: [], unsubscribed: [] };
  let pendingOriginal: string | undefined;
  for (let k = 0; k < config.profiles; k++) {
    const p = generateProfile(context, k);
    const id = p.record.$distinct_id;
    for (const quirk of p.quirks) {
      if (quirk === 'no_email') profiles.withoutEmail.push(id);
      else if (quirk === 'no_name') profiles.withoutName.push(id);
      else if (quirk === 'invalid_email' && p.email) profiles.invalidEmails.push(p.email);
      else if (quirk === 'whitespace_email' && p.email) profiles.whitespaceEmails.push(p.email);
      else if (quirk === 'unsubscribed') profiles.unsubscribed.push(id);
      else if (quirk === 'case_pair_original') pendingOriginal = p.email;
      else if (quirk === 'case_pair_lowercase' && pendingOriginal && p.email) profiles.casePairs.push([pendingOriginal, p.email]);
    }
  }
  return {
    ...categories,
    listId: config.mailchimp.listId,
    memberCount: members.length,
    profileCount: config.profiles,
    profiles,
    generated: {
      count: config.mailchimp.audienceSize,
      firstPosition: members.length,
      byCategory: generatedCategoryCounts(config.mailchimp.audienceSize, config.seed),
    },
  };
}

const contexts = new WeakMap<object, GeneratedAudienceContext>();

function generatedContext(source: SandboxOptions | SandboxConfig | GeneratedAudienceContext): GeneratedAudienceContext {
  if ('referenceMs' in source && typeof source.referenceMs === 'number' && typeof source.seed === 'number') return source as GeneratedAudienceContext;
  let context = contexts.get(source);
  if (!context) {
    const config = isConfig(source as SandboxOptions | SandboxConfig) ? (source as SandboxConfig) : resolveOptions(source as SandboxOptions);
    context = { seed: config.seed, referenceMs: config.startNowMs };
    contexts.set(source, context);
  }
  return context;
}

/**
 * Generated member `index` (0-based among the generated members) of a sandbox started with these
 * options: address, category, status, merge fields, tags, timestamps. Addresses, categories,
 * names and tags depend on the seed alone; timestamps also on `now`.
 */
export function generatedMember(index: number, source: SandboxOptions | SandboxConfig | GeneratedAudienceContext = {}): GeneratedMember {
  return generateMember(index, generatedContext(source));
}

function isConfig(value: SandboxOptions | SandboxConfig): value is SandboxConfig {
  return 'startNowMs' in value && 'fromDay' in value;
}
