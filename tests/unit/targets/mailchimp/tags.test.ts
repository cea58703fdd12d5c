import { describe, expect, it } from '@jest/globals';
import { desiredTags, isManagedTag, tagChanges, presentTagProperties, type TagRules } from '../../../../src/targets/mailchimp/members/tags.js';

const RULES: TagRules = { staticTags: ['from-mixpanel'], properties: ['plan', 'country'] };

describe('desiredTags', () => {
  it('static tags plus property:value tags, sorted', () => {
    expect(desiredTags({ plan: 'pro', country: 'FR', other: 'x' }, RULES)).toEqual(['country:FR', 'from-mixpanel', 'plan:pro']);
  });

  it('a list property gives one tag per value; numbers and booleans are text', () => {
    expect(desiredTags({ plan: ['pro', 'team', 3, true] }, { staticTags: [], properties: ['plan'] })).toEqual(['plan:3', 'plan:pro', 'plan:team', 'plan:true']);
  });

  it.each<[string, unknown]>([
    ['missing', undefined],
    ['null', null],
    ['blank', '  '],
    ['an object', { a: 1 }],
    ['a list of blanks and nulls', ['', null, ' ']],
  ])('a %s property gives no tag', (_what, value) => {
    expect(desiredTags({ plan: value } as never, { staticTags: [], properties: ['plan'] })).toEqual([]);
  });

  it('trims values and caps a tag at 100 characters', () => {
    const [tag] = desiredTags({ plan: ` ${'x'.repeat(200)} ` }, { staticTags: [], properties: ['plan'] });
    expect(tag).toBe(`plan:${'x'.repeat(95)}`);
  });

  it('static tags alone when no property is set', () => {
    expect(desiredTags({}, RULES)).toEqual(['from-mixpanel']);
  });
});

describe('isManagedTag', () => {
  it.each<[string, boolean]>([
    ['from-mixpanel', true],
    ['plan:pro', true],
    ['country:', true],
    ['plan', false],
    ['planner:x', false],
    ['VIP', false],
    ['Newsletter', false],
    // Mailchimp tag names are case-insensitive: these are the same tags as ours.
    ['From-Mixpanel', true],
    ['Plan:Pro', true],
  ])('%s -> %j', (name, managed) => {
    expect(isManagedTag(name, RULES)).toBe(managed);
  });
});

describe('tagChanges: properties the record did not carry', () => {
  it('leaves the property:value tags of a property the record lacks, removes them when it is null', () => {
    const existing = ['from-mixpanel', 'plan:free'];
    expect(tagChanges(['from-mixpanel'], existing, RULES, presentTagProperties({}, RULES))).toEqual([]);
    expect(tagChanges(['from-mixpanel'], existing, RULES, presentTagProperties({ plan: null }, RULES))).toEqual([{ name: 'plan:free', status: 'inactive' }]);
  });
});

describe('tagChanges', () => {
  it('adds the missing managed tags and removes managed ones no longer wanted', () => {
    expect(tagChanges(['from-mixpanel', 'plan:pro'], ['from-mixpanel', 'plan:free'], RULES)).toEqual([
      { name: 'plan:pro', status: 'active' },
      { name: 'plan:free', status: 'inactive' },
    ]);
  });

  it('nothing to do when the managed tags already match', () => {
    expect(tagChanges(['from-mixpanel', 'plan:pro'], ['plan:pro', 'from-mixpanel', 'VIP'], RULES)).toEqual([]);
  });

  it('never removes a tag it does not manage', () => {
    const changes = tagChanges([], ['VIP', 'Newsletter', 'planner:x', 'plan:old'], RULES);
    expect(changes).toEqual([{ name: 'plan:old', status: 'inactive' }]);
    expect(changes.map((c) => c.name)).not.toEqual(expect.arrayContaining(['VIP']));
  });

  it('static tags are only ever added, never removed (not even one dropped from the config)', () => {
    expect(tagChanges([], ['from-mixpanel'], RULES)).toEqual([]);
    expect(tagChanges(['from-mixpanel'], [], RULES)).toEqual([{ name: 'from-mixpanel', status: 'active' }]);
  });

  it('a tag differing only in case is the same tag: no change, and never added then removed', () => {
    expect(tagChanges(['plan:pro', 'from-mixpanel'], ['Plan:Pro', 'FROM-MIXPANEL'], RULES)).toEqual([]);
  });

  it('a value that changed only in case does not remove the tag Mailchimp would treat as the one just added', () => {
    const changes = tagChanges(['plan:Pro'], ['plan:pro'], RULES);
    expect(changes.filter((c) => c.status === 'inactive')).toEqual([]);
  });

  it('a new member (no tags) gets every desired tag', () => {
    expect(tagChanges(['a', 'plan:x'], [], { staticTags: ['a'], properties: ['plan'] })).toEqual([
      { name: 'a', status: 'active' },
      { name: 'plan:x', status: 'active' },
    ]);
  });
});
