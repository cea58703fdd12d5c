/**
 * Cohorts and who belongs to them. Membership is a pure function of the profile (position and
 * properties), so it is deterministic; a cohort may also hold anonymous distinct_ids that have
 * no profile, which engage returns only with include_all_users (its default).
 */
import type { RequestContext } from '../context.js';
import type { GeneratedProfile } from '../data/profiles.js';
import { sendJson } from '../http.js';
import { Rng, hashSeed } from '../random.js';
import type { SandboxState } from '../state.js';

export interface CohortDefinition {
  id: number;
  name: string;
  description: string;
  /** "YYYY-MM-DD HH:MM:SS", the shape cohorts/list uses. */
  created: string;
  isVisible: boolean;
  includes(profile: GeneratedProfile): boolean;
  /** Members without a profile. */
  anonymousMembers: number;
}

export const COHORTS: readonly CohortDefinition[] = [
  {
    id: 1,
    name: 'Power users',
    description: 'Every third profile, plus two anonymous devices',
    created: '2023-03-14 09:26:53',
    isVisible: true,
    includes: (p) => p.index % 3 === 0,
    anonymousMembers: 2,
  },
  {
    id: 2,
    name: 'Churn risk',
    description: 'Profiles at positions 1, 6, 11, ... (k % 5 == 1)',
    created: '2023-08-01 17:00:00',
    isVisible: true,
    includes: (p) => p.index % 5 === 1,
    anonymousMembers: 0,
  },
  {
    id: 3,
    name: 'Enterprise plan',
    description: 'Profiles whose plan is enterprise',
    created: '2024-01-09 12:30:00',
    isVisible: false,
    includes: (p) => p.plan === 'enterprise',
    anonymousMembers: 0,
  },
  {
    id: 4,
    name: 'Active — last 90 days 🌍',
    description: 'Seven profiles in ten (k % 10 < 7): larger than one engage page once tests shrink the page',
    created: '2024-02-29 23:59:59',
    isVisible: true,
    includes: (p) => p.index % 10 < 7,
    anonymousMembers: 3,
  },
];

export function findCohort(id: number): CohortDefinition | undefined {
  return COHORTS.find((c) => c.id === id);
}

const SALT_COHORT = 0x434f484f;

export function anonymousCohortMembers(seed: number, cohort: CohortDefinition): string[] {
  const ids: string[] = [];
  for (let n = 0; n < cohort.anonymousMembers; n++) {
    const rng = new Rng(hashSeed(seed, SALT_COHORT, cohort.id, n));
    ids.push(`$device:${rng.hex(14)}-${rng.hex(12)}`);
  }
  return ids;
}

/** Members of a cohort: profile positions plus profile-less ids (what engage with include_all_users returns). */
export function cohortMemberCount(state: SandboxState, cohort: CohortDefinition): number {
  let count = cohort.anonymousMembers;
  for (let k = 0; k < state.config.profiles; k++) if (cohort.includes(state.profile(k))) count++;
  return count;
}

/** cohorts/list: every cohort with its current size; is_visible is 0 or 1, as Mixpanel sends it. */
export function handleCohortsList(ctx: RequestContext): void {
  const { state } = ctx;
  sendJson(
    ctx.res,
    200,
    COHORTS.map((c) => ({
      count: cohortMemberCount(state, c),
      is_visible: c.isVisible ? 1 : 0,
      description: c.description,
      created: c.created,
      project_id: state.config.mixpanel.projectId,
      id: c.id,
      name: c.name,
    })),
  );
}
