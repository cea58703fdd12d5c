/**
 * The project's cohorts as data: the seed (COHORTS) and the admin API's changes to it.
 *
 * The seed defines membership as a pure function of the profile (position and plan), so it is
 * deterministic; a cohort may also hold anonymous distinct_ids that have no profile, which
 * engage returns only with include_all_users (its default). The admin API (cohort-admin.ts) adds
 * and removes members, renames, creates and deletes cohorts: those changes live in the
 * CohortStore on the sandbox state, which reset() puts back to the seed. Who is in a cohort
 * now, given the profiles, is cohorts.ts.
 */
import { DateTime } from 'luxon';
import type { GeneratedProfile } from '../data/profiles.js';
import { Rng, hashSeed } from '../random.js';

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

/** The seeded cohorts. */
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

const SALT_COHORT = 0x434f484f;

export function anonymousCohortMembers(seed: number, cohort: Pick<CohortDefinition, 'id' | 'anonymousMembers'>): string[] {
  const ids: string[] = [];
  for (let n = 0; n < cohort.anonymousMembers; n++) {
    const rng = new Rng(hashSeed(seed, SALT_COHORT, cohort.id, n));
    ids.push(`$device:${rng.hex(14)}-${rng.hex(12)}`);
  }
  return ids;
}

/** A cohort as the sandbox holds it now: its seed rule (if any) and the admin API's changes. */
export interface LiveCohort {
  readonly id: number;
  name: string;
  description: string;
  readonly created: string;
  isVisible: boolean;
  /** The seed's rule; null for a cohort created through the admin API. */
  readonly rule: ((profile: GeneratedProfile) => boolean) | null;
  /** Seeded members without a profile. */
  readonly anonymous: readonly string[];
  /** distinct_ids added through the admin API (profiles or not), in the order they were added. */
  readonly added: Set<string>;
  /** distinct_ids removed through the admin API; they win over the rule. */
  readonly removed: Set<string>;
}

export interface NewCohort {
  id?: number;
  name: string;
  description?: string;
  isVisible?: boolean;
  members?: readonly string[];
}

export interface CohortChange {
  name?: string;
  description?: string;
  isVisible?: boolean;
  add?: readonly string[];
  remove?: readonly string[];
}

function fromSeed(seed: number, definition: CohortDefinition): LiveCohort {
  return {
    id: definition.id,
    name: definition.name,
    description: definition.description,
    created: definition.created,
    isVisible: definition.isVisible,
    rule: definition.includes,
    anonymous: anonymousCohortMembers(seed, definition),
    added: new Set(),
    removed: new Set(),
  };
}

/** The cohorts of the project, by id; reset() restores the seed. */
export class CohortStore {
  private cohorts = new Map<number, LiveCohort>();
  /** Highest id ever given: like Mixpanel, a deleted cohort's id is not given again. */
  private highestId = 0;

  constructor(private readonly seed: number) {
    this.reset();
  }

  reset(): void {
    this.cohorts = new Map(COHORTS.map((c) => [c.id, fromSeed(this.seed, c)]));
    this.highestId = Math.max(0, ...this.cohorts.keys());
  }

  /** Every cohort, in id order. */
  list(): LiveCohort[] {
    return [...this.cohorts.values()].sort((a, b) => a.id - b.id);
  }

  get(id: number): LiveCohort | undefined {
    return this.cohorts.get(id);
  }

  /** A new cohort with explicit members; `created` is Mixpanel's wall-clock text. Throws when the id is taken. */
  create(input: NewCohort, created: string): LiveCohort {
    const id = input.id ?? this.highestId + 1;
    if (this.cohorts.has(id)) throw new Error(`cohort ${id} exists already`);
    this.highestId = Math.max(this.highestId, id);
    const cohort: LiveCohort = {
      id,
      name: input.name,
      description: input.description ?? '',
      created,
      isVisible: input.isVisible ?? true,
      rule: null,
      anonymous: [],
      added: new Set(input.members ?? []),
      removed: new Set(),
    };
    this.cohorts.set(id, cohort);
    return cohort;
  }

  /** Renames, describes, shows/hides, and adds then removes members; undefined for an unknown id. */
  update(id: number, change: CohortChange): LiveCohort | undefined {
    const cohort = this.cohorts.get(id);
    if (!cohort) return undefined;
    if (change.name !== undefined) cohort.name = change.name;
    if (change.description !== undefined) cohort.description = change.description;
    if (change.isVisible !== undefined) cohort.isVisible = change.isVisible;
    for (const distinctId of change.add ?? []) {
      cohort.removed.delete(distinctId);
      cohort.added.add(distinctId);
    }
    for (const distinctId of change.remove ?? []) {
      cohort.added.delete(distinctId);
      cohort.removed.add(distinctId);
    }
    return cohort;
  }

  delete(id: number): boolean {
    return this.cohorts.delete(id);
  }
}

/** Mixpanel's wall-clock shape for cohorts ("YYYY-MM-DD HH:MM:SS" in the project zone). */
export function cohortWallClock(instantMs: number, zone: string): string {
  return DateTime.fromMillis(instantMs, { zone }).toFormat('yyyy-LL-dd HH:mm:ss');
}
