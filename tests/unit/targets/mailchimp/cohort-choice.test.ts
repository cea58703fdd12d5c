import { describe, expect, it } from '@jest/globals';
import { unmatchedCohorts, type CohortChoiceContext } from '../../../../src/targets/mailchimp/cohorts/cohort-choice.js';
import type { CohortEntry } from '../../../../src/targets/mailchimp/cohorts/cohort-registry.js';

const LIST = new Map<number, string | null>([
  [1, 'Power users'],
  [2, 'Trial ends this week (v2)'],
  [3, null],
]);

function context(remembered: Record<number, Partial<CohortEntry>> = {}, tags: string[] = []): CohortChoiceContext {
  return {
    list: LIST,
    remembered: new Map(Object.entries(remembered).map(([id, e]) => [Number(id), { tag: `Mixpanel: ${e.name ?? '?'}`, name: null, seen_at: '2026-01-01T00:00:00Z', ...e }])),
    tagFor: (name) => `Mixpanel: ${name}`,
    hasTag: (name) => tags.includes(name),
  };
}

describe('unmatchedCohorts: cohort_tags entries that name no cohort of a complete list', () => {
  it.each<[string, string[]]>([
    ['an id', ['1']],
    ['a name', ['Power users']],
    ['a name in another case and with spaces', ['  power USERS ']],
    ['a cohort without a name, by id', ['3']],
  ])('accepts %s', (_case, wanted) => {
    expect(unmatchedCohorts(wanted, context())).toEqual([]);
  });

  it('names a misspelt name and the cohort meant', () => {
    expect(unmatchedCohorts(['Power user'], context())).toEqual([{ fatal: true, problem: '"cohort_tags" names "Power user", which no cohort of the project is called: did you mean "Power users"?' }]);
  });

  it('names the id a renamed cohort had, from the registry, and says ids survive renames', () => {
    expect(unmatchedCohorts(['Trial ends this week'], context({ 2: { name: 'Trial ends this week' } }))).toEqual([
      {
        fatal: true,
        problem: '"cohort_tags" names "Trial ends this week", which cohort 2 was called until it was renamed "Trial ends this week (v2)" in Mixpanel: choose cohorts by id, which survive renames ("cohort_tags": [2])',
      },
    ]);
  });

  it('without a registry, points at the tag a cohort of that name left in the audience', () => {
    const [unmatched] = unmatchedCohorts(['Webinar May'], context({}, ['Mixpanel: Webinar May']));
    expect(unmatched?.fatal).toBe(true);
    const problem = unmatched?.problem;
    expect(problem).toContain('the audience has the tag "Mixpanel: Webinar May"');
    expect(problem).toContain('choose it by its id');
  });

  it('names a cohort that is gone, by id or by its remembered name, as a warning: nothing of it is left to load', () => {
    expect(unmatchedCohorts(['9'], context({ 9: { name: 'Old', tag: 'Mixpanel: Old' } }))).toEqual([
      {
        fatal: false,
        problem: '"cohort_tags" names cohort 9, which the project does not have (it was "Old", tag "Mixpanel: Old", when last seen): it was deleted in Mixpanel or is not visible to these credentials; remove it from cohort_tags',
      },
    ]);
    expect(unmatchedCohorts(['Old'], context({ 9: { name: 'Old' } }))).toEqual([{ fatal: false, problem: '"cohort_tags" names "Old", cohort 9 when it was last seen, which the project no longer has: remove it from cohort_tags' }]);
    expect(unmatchedCohorts(['17'], context())[0]?.fatal).toBe(false);
  });
});
