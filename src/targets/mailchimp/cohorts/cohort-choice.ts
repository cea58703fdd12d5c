/**
 * Whether every cohort named in `cohort_tags` exists, checked against a complete cohort list
 * (the `cohorts` stream's records before its ACTIVATE_VERSION). A name or id that matches no
 * cohort would make the cohort silently stop syncing: its members' records go by unloaded and
 * its tag keeps people who left. The most common cause is a rename in Mixpanel of a cohort chosen
 * by name; ids survive renames, so each problem says which id a name belonged to when the
 * registry (cohort_registry_file) or the audience's tags can tell.
 *
 * A cohort known to be gone (an id the list lacks, ids are never reused; or a name the registry
 * remembers for an id the list lacks) loses nothing by going on: that is a warning. A name that
 * no cohort has and that the registry cannot place may be a rename or a typo: that is an error.
 */
import { didYouMean } from '../../../util/near-miss.js';
import type { CohortEntry } from './cohort-registry.js';

export interface CohortChoiceContext {
  /** The complete list: id -> name. */
  list: ReadonlyMap<number, string | null>;
  /** What cohort_registry_file remembers: id -> the tag and the name it had. */
  remembered: ReadonlyMap<number, CohortEntry>;
  /** The tag a cohort of this name would have (cohort_tag_prefix + name). */
  tagFor(name: string): string;
  /** Whether the audience has a tag of this name (case-insensitive). */
  hasTag(name: string): boolean;
}

function sameName(a: string | null, b: string): boolean {
  return a !== null && a.trim().toLowerCase() === b.trim().toLowerCase();
}

export interface UnmatchedCohort {
  /** One line: what is wrong and what to do. */
  problem: string;
  /** True when going on would lose members (a rename, a typo); false for a cohort known to be gone. */
  fatal: boolean;
}

/** The entries of `cohort_tags` (without "*") that name no cohort of the list. */
export function unmatchedCohorts(wanted: readonly string[], ctx: CohortChoiceContext): UnmatchedCohort[] {
  const problems: UnmatchedCohort[] = [];
  const names = [...ctx.list.values()].filter((n): n is string => n !== null);
  for (const entry of wanted) {
    const id = /^\d+$/.test(entry) ? Number(entry) : undefined;
    if (id !== undefined && ctx.list.has(id)) continue;
    if ([...ctx.list.values()].some((name) => sameName(name, entry))) continue;
    problems.push(id !== undefined ? unknownId(id, ctx) : unknownName(entry, ctx, names));
  }
  return problems;
}

function unknownId(id: number, ctx: CohortChoiceContext): UnmatchedCohort {
  const was = ctx.remembered.get(id);
  const known = was ? ` (it was "${was.name ?? '?'}", tag "${was.tag}", when last seen)` : '';
  return { fatal: false, problem: `"cohort_tags" names cohort ${id}, which the project does not have${known}: it was deleted in Mixpanel or is not visible to these credentials; remove it from cohort_tags` };
}

function unknownName(name: string, ctx: CohortChoiceContext, names: readonly string[]): UnmatchedCohort {
  for (const [id, entry] of ctx.remembered) {
    if (!sameName(entry.name, name)) continue;
    const now = ctx.list.get(id);
    if (now === undefined) return { fatal: false, problem: `"cohort_tags" names "${name}", cohort ${id} when it was last seen, which the project no longer has: remove it from cohort_tags` };
    return { fatal: true, problem: `"cohort_tags" names "${name}", which cohort ${id} was called until it was renamed "${now ?? ''}" in Mixpanel: choose cohorts by id, which survive renames ("cohort_tags": [${id}])` };
  }
  const tag = ctx.tagFor(name);
  const hint = ctx.hasTag(tag)
    ? `; the audience has the tag "${tag}", made for a cohort of that name: if that cohort was renamed in Mixpanel, choose it by its id (ids survive renames; the cohorts stream lists them)`
    : '';
  return { fatal: true, problem: `"cohort_tags" names "${name}", which no cohort of the project is called${didYouMean(name, names)}${hint}` };
}
