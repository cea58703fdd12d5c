/**
 * Who is in a cohort now (the CohortStore's cohorts, cohort-store.ts, applied to the sandbox's
 * profiles), and the cohorts/list endpoint. cohorts/list (with count) and engage with
 * filter_by_cohort read the store, so they reflect an admin change at once (an engage session
 * already open keeps its snapshot, as Mixpanel's do).
 */
import type { RequestContext } from '../context.js';
import type { GeneratedProfile } from '../data/profiles.js';
import { sendJson } from '../http.js';
import type { SandboxState } from '../state.js';
import type { LiveCohort } from './cohort-store.js';
import type { EngageEntry } from './engage-sessions.js';

/** Whether a profile is in the cohort now. */
function hasProfile(cohort: LiveCohort, profile: GeneratedProfile): boolean {
  const id = profile.record.$distinct_id;
  if (cohort.removed.has(id)) return false;
  return cohort.added.has(id) || (cohort.rule?.(profile) ?? false);
}

/** distinct_ids of every generated profile, built once per population. */
const profileIdSets = new WeakMap<readonly string[], ReadonlySet<string>>();

function profileIdSet(state: SandboxState): ReadonlySet<string> {
  const ids = state.eventContext.profileIds;
  let set = profileIdSets.get(ids);
  if (!set) {
    set = new Set(ids);
    profileIdSets.set(ids, set);
  }
  return set;
}

/** Members without a profile: the seeded anonymous ids, then ids added through the admin API that match no profile. */
export function profileLessMembers(state: SandboxState, cohort: LiveCohort): string[] {
  const profiles = profileIdSet(state);
  const ids = cohort.anonymous.filter((id) => !cohort.removed.has(id));
  for (const id of cohort.added) if (!profiles.has(id) && !cohort.anonymous.includes(id)) ids.push(id);
  return ids;
}

/** The profile positions of the cohort's members, in population order. */
export function profileMembers(state: SandboxState, cohort: LiveCohort): number[] {
  const positions: number[] = [];
  for (let k = 0; k < state.config.profiles; k++) if (hasProfile(cohort, state.profile(k))) positions.push(k);
  return positions;
}

/** Every member as engage lists them with include_all_users: profiles in population order, then profile-less ids. */
export function cohortEntries(state: SandboxState, cohort: LiveCohort): EngageEntry[] {
  return [...profileMembers(state, cohort), ...profileLessMembers(state, cohort)];
}

/** distinct_ids of every member, in engage order. */
export function cohortMemberIds(state: SandboxState, cohort: LiveCohort): string[] {
  return cohortEntries(state, cohort).map((entry) => (typeof entry === 'string' ? entry : state.profile(entry).record.$distinct_id));
}

/** cohorts/list: every cohort with its current size; is_visible is 0 or 1, as Mixpanel sends it. */
export function handleCohortsList(ctx: RequestContext): void {
  const { state } = ctx;
  sendJson(
    ctx.res,
    200,
    state.cohorts.list().map((c) => ({
      count: cohortEntries(state, c).length,
      is_visible: c.isVisible ? 1 : 0,
      description: c.description,
      created: c.created,
      project_id: state.config.mixpanel.projectId,
      id: c.id,
      name: c.name,
    })),
  );
}
