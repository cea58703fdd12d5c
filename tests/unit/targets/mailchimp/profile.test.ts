import { describe, expect, it } from '@jest/globals';
import { Audience } from '../../../../src/targets/mailchimp/audience/audience.js';
import { ProfileLayout } from '../../../../src/targets/mailchimp/audience/profile-layout.js';
import { subscriberHash } from '../../../../src/targets/mailchimp/members/members.js';
import { mailchimpLanguage } from '../../../../src/targets/mailchimp/members/languages.js';
import { desiredProfile, profileBody, profileChange, readBoolean } from '../../../../src/targets/mailchimp/members/profile.js';
import { resolveProfileRules, type AudienceProfileDefinitions, type ProfileRules } from '../../../../src/targets/mailchimp/members/profile-settings.js';

const DEFS: AudienceProfileDefinitions = {
  permissions: [
    { id: 'p1', text: 'Email' },
    { id: 'p2', text: 'Direct Mail' },
  ],
  permissionsKnown: true,
  categories: [
    { id: 'c1', title: 'Topics', type: 'checkboxes', interests: [{ id: 'i1', name: 'News' }, { id: 'i2', name: 'Events' }] },
    { id: 'c2', title: 'How often', type: 'radio', interests: [{ id: 'i3', name: 'Weekly' }, { id: 'i4', name: 'Monthly' }] },
  ],
};

const RULES: ProfileRules = resolveProfileRules(
  { marketing_permissions: { Email: 'e', p2: 'post' }, interests: { 'Topics / Events': 'ev', 'How often': 'freq' }, language_property: 'lang', vip_property: 'vip' },
  DEFS,
  'Newsletter',
).rules;

describe('readBoolean', () => {
  it.each([
    [true, true], [false, false], ['true', true], [' FALSE ', false], ['yes', true], ['no', false], [1, true], [0, false], ['1', true], ['0', false],
    ['maybe', undefined], [2, undefined], [[true], undefined], [{}, undefined],
  ])('%j -> %j', (raw, expected) => {
    expect(readBoolean(raw)).toBe(expected);
  });
});

describe('mailchimpLanguage', () => {
  it.each([
    ['en', 'en'], ['EN', 'en'], ['pt-PT', 'pt_PT'], ['pt_pt', 'pt_PT'], ['pt-BR', 'pt'], ['en-US', 'en'], ['fr_CA', 'fr_CA'], ['fr-ch', 'fr'], ['es-MX', 'es'],
    ['klingon', undefined], ['xx', undefined], ['english', undefined], ['', undefined],
  ])('%j -> %j', (raw, expected) => {
    expect(mailchimpLanguage(raw)).toBe(expected);
  });
});

describe('resolveProfileRules', () => {
  it('finds permissions by text (any case) or id, interests by "Category / Interest" or id, categories by title', () => {
    const { rules, problems } = resolveProfileRules({ marketing_permissions: { email: 'a', p2: 'b' }, interests: { i1: 'x', 'how often': 'y' } }, DEFS, 'Newsletter');
    expect(problems).toEqual([]);
    expect(rules.permissions.map((p) => p.id)).toEqual(['p1', 'p2']);
    expect(rules.interests.map((r) => [r.kind, r.id])).toEqual([['interest', 'i1'], ['category', 'c2']]);
  });

  it('names the setting and lists what the audience has for an unknown name', () => {
    const { problems } = resolveProfileRules({ marketing_permissions: { Emial: 'a' }, interests: { 'Topics / Webinars': 'w' } }, DEFS, 'Newsletter');
    expect(problems).toEqual([
      '"marketing_permissions.Emial": audience "Newsletter" has no marketing permission "Emial" (it has "Email" (p1), "Direct Mail" (p2)): did you mean "Email"?',
      expect.stringContaining('"interests.Topics / Webinars": audience "Newsletter" has no interest "Topics / Webinars" (it has Topics / News, Topics / Events, How often / Weekly, How often / Monthly; or a whole category by its title: Topics, How often)'),
    ]);
  });

  it('an audience without GDPR fields is a problem naming marketing_permissions', () => {
    const { problems } = resolveProfileRules({ marketing_permissions: { Email: 'a' } }, { ...DEFS, permissions: undefined }, 'Newsletter');
    expect(problems).toEqual([expect.stringMatching(/^"marketing_permissions": audience "Newsletter" has no GDPR fields/)]);
  });

  it('an interest mapped twice (alone and through its category) is a problem', () => {
    const { problems } = resolveProfileRules({ interests: { 'Topics / News': 'a', Topics: 'b' } }, DEFS, 'Newsletter');
    expect(problems).toEqual([expect.stringContaining('"interests.Topics": the category "Topics" is already mapped')]);
  });
});

describe('desiredProfile', () => {
  it('reads booleans, a category by the interest it names, the language and VIP; leaves out empty values', () => {
    expect(desiredProfile({ e: 'yes', post: null, ev: 0, freq: 'monthly', lang: 'de-AT', vip: 'true' }, RULES)).toEqual({
      values: { permissions: { p1: true }, interests: { i2: false, i3: false, i4: true }, language: 'de', vip: true },
      problems: [],
    });
    expect(desiredProfile({ e: '' }, RULES)).toEqual({ values: {}, problems: [] });
  });

  it('says why a value does not fit, with the reason the row is rejected for', () => {
    const { problems } = desiredProfile({ e: 'sure', ev: [true], freq: 'Daily', lang: 'tlh', vip: 3 }, RULES);
    expect(problems.map((p) => [p.field, p.reason])).toEqual([
      ['marketing_permissions.Email', 'marketing permission value not true or false'],
      ['interests.Topics / Events', 'interest value not accepted'],
      ['interests.How often', 'interest value not accepted'],
      ['language', "language not one of Mailchimp's languages"],
      ['vip', 'vip value not true or false'],
    ]);
  });
});

describe('profileChange: consent only moves toward less contact', () => {
  it.each([
    ['source no, member yes: switched off', { p1: false }, { p1: true }, { permissions: { p1: false } }],
    ['source no, member no: nothing', { p1: false }, { p1: false }, undefined],
    ['source yes, member no: never switched back on', { p1: true }, { p1: false }, undefined],
    ['source yes, member yes: nothing', { p1: true }, { p1: true }, undefined],
    ['source no, not known: switched off (the safe side)', { p1: false }, {}, { permissions: { p1: false } }],
  ])('%s', (_name, desired, existing, expected) => {
    expect(profileChange({ permissions: desired }, { permissions: existing })).toEqual(expected);
  });

  it('interests, language and VIP follow the source both ways; only what differs is sent', () => {
    expect(profileChange({ interests: { i1: true, i2: false }, language: 'fr', vip: false }, { interests: { i1: true, i2: true }, language: 'en', vip: true })).toEqual({
      interests: { i2: false },
      language: 'fr',
      vip: false,
    });
    expect(profileChange({ interests: { i1: true }, language: 'en', vip: true }, { interests: { i1: true }, language: 'en', vip: true })).toBeUndefined();
  });

  it('builds the body Mailchimp takes', () => {
    expect(profileBody({ permissions: { p1: false }, interests: { i2: true }, language: 'fr', vip: true })).toEqual({
      marketing_permissions: [{ marketing_permission_id: 'p1', enabled: false }],
      interests: { i2: true },
      language: 'fr',
      vip: true,
    });
    expect(profileBody(undefined)).toEqual({});
  });
});

describe('ProfileLayout and the member table', () => {
  it('keeps permissions, interests, language and VIP in one word per member', () => {
    const layout = new ProfileLayout(RULES);
    expect(layout.words).toBe(1);
    expect(layout.memberFields()).toEqual(['marketing_permissions', 'interests', 'language', 'vip']);
    const words = layout.fromMember({ marketing_permissions: [{ marketing_permission_id: 'p1', enabled: true }, { marketing_permission_id: 'p9', enabled: true }], interests: { i2: true, i4: true, other: true }, language: 'fr', vip: true });
    expect(layout.read(words)).toEqual({ permissions: { p1: true, p2: false }, interests: { i2: true, i3: false, i4: true }, language: 'fr', vip: true });
    expect(layout.read(layout.withValues(words, { permissions: { p1: false }, language: 'de' }))).toEqual({ permissions: { p1: false, p2: false }, interests: { i2: true, i3: false, i4: true }, language: 'de', vip: true });
  });

  it('spans several words when many interests are managed, and a language past the 254th never compares equal', () => {
    const interests = Array.from({ length: 40 }, (_, i) => ({ id: `x${i}`, name: `I${i}` }));
    const rules = resolveProfileRules({ interests: { Many: 'many' }, language_property: 'lang' }, { permissions: undefined, permissionsKnown: false, categories: [{ id: 'm', title: 'Many', type: 'checkboxes', interests }] }, 'A').rules;
    const layout = new ProfileLayout(rules);
    expect(layout.words).toBe(2);
    const held = Object.fromEntries(interests.map((i, n) => [i.id, n % 3 === 0]));
    expect(layout.read(layout.fromMember({ interests: held, language: 'en' }))).toEqual({ interests: held, language: 'en' });
    for (let i = 0; i < 300; i++) layout.withValues(undefined, { language: `l${i}` });
    expect(layout.read(layout.withValues(undefined, { language: 'l299' })).language).not.toBe('l299');
  });

  it('an audience remembers what Mailchimp says and what the run wrote, through the table\'s growth', () => {
    const audience = new Audience([], undefined, 16, new ProfileLayout(RULES));
    expect(audience.memberFields()).toEqual(['id', 'status', 'marketing_permissions', 'interests', 'language', 'vip']);
    const emails = Array.from({ length: 100 }, (_, i) => `m${i}@example.org`);
    for (const [i, email] of emails.entries()) {
      audience.remember({ email_address: email, status: 'subscribed', marketing_permissions: [{ marketing_permission_id: 'p1', enabled: i % 2 === 0 }], interests: { i2: i % 5 === 0 }, language: 'en', vip: false });
    }
    audience.apply(subscriberHash('m0@example.org'), { profile: { permissions: { p1: false }, vip: true } });
    expect(audience.get(subscriberHash('m0@example.org'))?.profile).toEqual({ permissions: { p1: false, p2: false }, interests: { i2: true, i3: false, i4: false }, language: 'en', vip: true });
    expect(audience.get(subscriberHash('m98@example.org'))?.profile).toMatchObject({ permissions: { p1: true }, interests: { i2: false } });
  });
});
