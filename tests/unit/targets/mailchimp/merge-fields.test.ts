import { describe, expect, it } from '@jest/globals';
import type { MergeField } from '../../../../src/targets/mailchimp/api/api.js';
import {
  canonicalMergeValue,
  buildMergeMappings,
  changedMergeFields,
  convertMergeValue,
  desiredMergeFields,
  missingRequired,
  sameMergeValue,
} from '../../../../src/targets/mailchimp/members/merge-fields.js';

const field = (tag: string, type: string, extra: Partial<MergeField> = {}): MergeField => ({ merge_id: 0, tag, name: tag.toLowerCase(), type, required: false, ...extra });

const FNAME = field('FNAME', 'text', { name: 'First Name' });
const LNAME = field('LNAME', 'text', { name: 'Last Name' });
const PLAN = field('PLAN', 'dropdown', { options: { choices: ['free', 'Pro', 'enterprise'] } });
const LTV = field('LTV', 'number');
const SIGNUP = field('SIGNUP', 'date');
const FIELDS = [FNAME, LNAME, PLAN, LTV, SIGNUP];
const byTag = (fields: MergeField[]) => new Map(fields.map((f) => [f.tag.toUpperCase(), f]));

describe('buildMergeMappings', () => {
  it('maps FNAME and LNAME from the names by default when the audience has them', () => {
    const { mappings, problems } = buildMergeMappings({ merge_fields: {} }, FIELDS);
    expect(problems).toEqual([]);
    expect(mappings.map((m) => m.tag)).toEqual(['FNAME', 'LNAME']);
    const record = { mp_reserved_name: 'Ada King Lovelace' };
    expect(mappings.map((m) => m.read(record))).toEqual(['Ada', 'King Lovelace']);
  });

  it('adds no default for a name field the audience lacks', () => {
    const { mappings, problems } = buildMergeMappings({ merge_fields: {} }, [FNAME]);
    expect(problems).toEqual([]);
    expect(mappings.map((m) => m.tag)).toEqual(['FNAME']);
  });

  it('works without merge_fields in the config at all', () => {
    expect(buildMergeMappings({} as never, [LNAME]).mappings.map((m) => m.tag)).toEqual(['LNAME']);
  });

  it('reads configured properties, sorted by tag, and a configured FNAME replaces the default', () => {
    const { mappings, problems } = buildMergeMappings({ merge_fields: { PLAN: 'plan', FNAME: 'nickname', LTV: 'Lifetime Value' } }, FIELDS);
    expect(problems).toEqual([]);
    expect(mappings.map((m) => [m.tag, m.source])).toEqual([
      ['FNAME', 'nickname'],
      ['LNAME', 'last name (or the rest of the full name)'],
      ['LTV', 'Lifetime Value'],
      ['PLAN', 'plan'],
    ]);
    const record = { nickname: 'Countess', mp_reserved_first_name: 'Ada', 'Lifetime Value': 12.5, plan: 'pro' };
    expect(Object.fromEntries(mappings.map((m) => [m.tag, m.read(record)]))).toEqual({ FNAME: 'Countess', LNAME: undefined, LTV: 12.5, PLAN: 'pro' });
  });

  it('a null mapping leaves the field alone: no mapping and no default', () => {
    const { mappings, problems } = buildMergeMappings({ merge_fields: { FNAME: null, PLAN: null } }, FIELDS);
    expect(problems).toEqual([]);
    expect(mappings.map((m) => m.tag)).toEqual(['LNAME']);
  });

  it('an unknown tag is a problem naming the tag and the tags the audience has', () => {
    const { mappings, problems } = buildMergeMappings({ merge_fields: { COMPANY: 'company' } }, [FNAME, PLAN]);
    expect(problems).toEqual(['"merge_fields.COMPANY": the audience has no merge field COMPANY (it has FNAME, PLAN)']);
    expect(mappings.map((m) => m.tag)).toEqual(['FNAME']);
  });

  it('an unknown tag close to one the audience has names it', () => {
    expect(buildMergeMappings({ merge_fields: { PLNA: 'plan' } }, [FNAME, PLAN]).problems).toEqual([
      '"merge_fields.PLNA": the audience has no merge field PLNA (it has FNAME, PLAN): did you mean "PLAN"?',
    ]);
  });

  it('an unknown tag on an audience without merge fields says "none"', () => {
    expect(buildMergeMappings({ merge_fields: { COMPANY: 'company' } }, []).problems).toEqual([
      '"merge_fields.COMPANY": the audience has no merge field COMPANY (it has none)',
    ]);
  });

  it('a tag nulled out that the audience lacks is still reported (a typo must not pass silently)', () => {
    expect(buildMergeMappings({ merge_fields: { FNAM: null } }, [FNAME]).problems).toHaveLength(1);
  });

  it('tags are matched as Mailchimp spells them: a lower-case tag is not silently taken for another', () => {
    const { mappings, problems } = buildMergeMappings({ merge_fields: { plan: 'plan' } }, FIELDS);
    expect(problems).toEqual([expect.stringContaining('"merge_fields.plan"')]);
    expect(mappings.map((m) => m.tag)).not.toContain('plan');
  });

  it('matches an audience tag Mailchimp returned in another case to the configured upper-case tag', () => {
    const { mappings, problems } = buildMergeMappings({ merge_fields: { PLAN: 'plan' } }, [field('Plan', 'text')]);
    expect(problems).toEqual([]);
    expect(mappings.map((m) => m.tag)).toEqual(['PLAN']);
  });

  it('a required field nobody fills is a problem that says how to fix it', () => {
    const required = field('COMPANY', 'text', { name: 'Company', required: true });
    const { problems } = buildMergeMappings({ merge_fields: {} }, [FNAME, required]);
    expect(problems).toEqual([
      'the audience requires merge field COMPANY (Company) but nothing fills it: add "COMPANY": "<record property>" to merge_fields, or make the field optional in Mailchimp',
    ]);
  });

  it('a required field filled by a mapping or by the FNAME default is fine', () => {
    const company = field('COMPANY', 'text', { required: true });
    const requiredFirst = { ...FNAME, required: true };
    expect(buildMergeMappings({ merge_fields: { COMPANY: 'company' } }, [requiredFirst, company]).problems).toEqual([]);
  });

  it('a required FNAME mapped to null is a problem', () => {
    const requiredFirst = { ...FNAME, required: true };
    expect(buildMergeMappings({ merge_fields: { FNAME: null } }, [requiredFirst]).problems).toEqual([expect.stringContaining('requires merge field FNAME')]);
  });
});

describe('convertMergeValue', () => {
  describe('number', () => {
    it.each<[unknown, number]>([
      [42, 42],
      [-1.5, -1.5],
      [0, 0],
      ['42', 42],
      [' 12.50 ', 12.5],
    ])('%j -> %j', (raw, value) => {
      expect(convertMergeValue(raw, LTV)).toEqual({ ok: true, value });
    });

    it.each<unknown>(['', '   ', 'abc', '12abc', true, null, [], {}, Number.NaN, Number.POSITIVE_INFINITY])('refuses %j', (raw) => {
      const result = convertMergeValue(raw, LTV);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.message).toMatch(/^needs a number/);
    });
  });

  describe('date', () => {
    it.each<[unknown, string]>([
      ['2024-03-05', '2024-03-05'],
      ['2024-03-05T10:00:00Z', '2024-03-05'],
      ['2024-03-05T23:59:59.999Z', '2024-03-05'],
      [' 2024-03-05T10:00:00+00:00 ', '2024-03-05'],
      ['2024-03-05 10:00:00', '2024-03-05'],
      [1709632800, '2024-03-05'], // epoch seconds
      [1709632800000, '2024-03-05'], // epoch milliseconds
      [0, '1970-01-01'],
    ])('%j -> %s', (raw, value) => {
      expect(convertMergeValue(raw, SIGNUP)).toEqual({ ok: true, value });
    });

    it.each<unknown>(['yesterday', '2024-13-01', '', true, null, Number.NaN, {}])('refuses %j', (raw) => {
      const result = convertMergeValue(raw, SIGNUP);
      expect(result).toEqual({ ok: false, message: `needs a date (got ${JSON.stringify(raw)})` });
    });
  });

  describe('birthday', () => {
    const BIRTHDAY = field('BIRTHDAY', 'birthday');
    it.each<[unknown, string]>([
      ['03/05', '03/05'],
      ['3/5', '03/05'],
      [' 12/31 ', '12/31'],
      ['1990-03-05', '03/05'],
      ['1990-12-31T23:00:00Z', '12/31'],
      [637200000, '03/12'], // epoch seconds: 1990-03-12
    ])('%j -> %s', (raw, value) => {
      expect(convertMergeValue(raw, BIRTHDAY)).toEqual({ ok: true, value });
    });

    it.each<unknown>(['13/05', '00/10', '02/32', '2/0', 'March 5', '', null, true])('refuses %j (Mailchimp would refuse it at write time)', (raw) => {
      const result = convertMergeValue(raw, BIRTHDAY);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.message).toMatch(/^needs a birthday/);
    });
  });

  describe.each(['dropdown', 'radio'])('%s', (type) => {
    const choice = field('PLAN', type, { options: { choices: ['free', 'Pro', 'enterprise', '2'] } });
    it.each<[unknown, string]>([
      ['free', 'free'],
      ['Pro', 'Pro'],
      ['pro', 'Pro'],
      ['PRO', 'Pro'],
      [' Enterprise ', 'enterprise'],
      [2, '2'],
    ])('%j -> the choice as Mailchimp spells it: %s', (raw, value) => {
      expect(convertMergeValue(raw, choice)).toEqual({ ok: true, value });
    });

    it.each<unknown>(['gold', '', true, null, ['free']])('refuses %j, listing the choices', (raw) => {
      expect(convertMergeValue(raw, choice)).toEqual({ ok: false, message: `must be one of free, Pro, enterprise, 2 (got ${JSON.stringify(raw)})` });
    });

    it('an exact match wins over a case-insensitive one', () => {
      const both = field('X', type, { options: { choices: ['pro', 'Pro'] } });
      expect(convertMergeValue('Pro', both)).toEqual({ ok: true, value: 'Pro' });
      expect(convertMergeValue('pro', both)).toEqual({ ok: true, value: 'pro' });
    });

    it('a field without choices refuses everything', () => {
      expect(convertMergeValue('free', field('X', type)).ok).toBe(false);
    });
  });

  describe('address', () => {
    const ADDRESS = field('ADDRESS', 'address');
    const full = { addr1: '1 Main St', city: 'Springfield', state: 'IL', zip: '62701' };
    it('accepts a complete address object as is', () => {
      expect(convertMergeValue({ ...full, country: 'US' }, ADDRESS)).toEqual({ ok: true, value: { ...full, country: 'US' } });
    });

    it.each<[string, unknown]>([
      ['a string', '1 Main St, Springfield'],
      ['null', null],
      ['a list', [full]],
      ['no zip', { addr1: '1 Main St', city: 'Springfield', state: 'IL' }],
      ['an empty city', { ...full, city: '' }],
      ['a number for addr1', { ...full, addr1: 1 }],
    ])('refuses %s', (_what, raw) => {
      expect(convertMergeValue(raw, ADDRESS)).toEqual({ ok: false, message: 'needs an address object with addr1, city, state and zip' });
    });
  });

  describe.each(['url', 'imageurl'])('%s', (type) => {
    const URL_FIELD = field('SITE', type);
    it.each<[unknown, string]>([
      ['https://example.org/a?b=c', 'https://example.org/a?b=c'],
      ['  HTTP://example.org  ', 'HTTP://example.org'],
    ])('%j -> %s', (raw, value) => {
      expect(convertMergeValue(raw, URL_FIELD)).toEqual({ ok: true, value });
    });

    it.each<unknown>(['example.org', 'ftp://example.org', 'https://exa mple.org', 'javascript:alert(1)', 42, null])('refuses %j', (raw) => {
      expect(convertMergeValue(raw, URL_FIELD).ok).toBe(false);
    });
  });

  describe.each(['text', 'phone', 'zip', 'something-new'])('%s (text-like)', (type) => {
    const TEXT = field('T', type);
    it.each<[unknown, string]>([
      ['  Ada  ', 'Ada'],
      ['', ''],
      [42, '42'],
      [1.5, '1.5'],
      [0, '0'],
      [true, 'true'],
      [false, 'false'],
      ['Zoë 日本', 'Zoë 日本'],
    ])('%j -> %j', (raw, value) => {
      expect(convertMergeValue(raw, TEXT)).toEqual({ ok: true, value });
    });

    it('refuses a list, saying it is a list', () => {
      expect(convertMergeValue(['a', 'b'], TEXT)).toEqual({ ok: false, message: 'needs text (got a list)' });
    });

    it('refuses an object', () => {
      expect(convertMergeValue({ a: 1 }, TEXT)).toEqual({ ok: false, message: 'needs text (got object)' });
    });
  });
});

describe('desiredMergeFields', () => {
  const { mappings } = buildMergeMappings({ merge_fields: { PLAN: 'plan', LTV: 'ltv', SIGNUP: 'signup' } }, FIELDS);
  const fields = byTag(FIELDS);

  it('converts every mapped value', () => {
    const record = { mp_reserved_first_name: ' Ada ', mp_reserved_last_name: 'Lovelace', plan: 'PRO', ltv: '99.5', signup: 1709632800 };
    expect(desiredMergeFields(record, mappings, fields)).toEqual({
      values: { FNAME: 'Ada', LNAME: 'Lovelace', PLAN: 'Pro', LTV: 99.5, SIGNUP: '2024-03-05' },
      problems: [],
    });
  });

  it.each<[string, unknown]>([
    ['missing', undefined],
    ['null', null],
    ['an empty string', ''],
    ['blanks', '   '],
  ])('a %s source is left out: it never blanks the field', (_what, value) => {
    const record = { mp_reserved_first_name: 'Ada', plan: value, ltv: value, signup: value };
    const result = desiredMergeFields(record, mappings, fields);
    expect(result).toEqual({ values: { FNAME: 'Ada' }, problems: [] });
    expect(Object.keys(result.values)).not.toContain('PLAN');
  });

  it('reports a value that cannot be converted, naming the tag and the source, and keeps the others', () => {
    const record = { mp_reserved_first_name: 'Ada', plan: 'gold', ltv: 'lots' };
    expect(desiredMergeFields(record, mappings, fields)).toEqual({
      values: { FNAME: 'Ada' },
      problems: [
        { field: 'LTV', message: 'merge field LTV (from ltv) needs a number (got "lots")' },
        { field: 'PLAN', message: 'merge field PLAN (from plan) must be one of free, Pro, enterprise (got "gold")' },
      ],
    });
  });

  it('zero and false are values, not empty', () => {
    const { mappings: m } = buildMergeMappings({ merge_fields: { LTV: 'ltv', FNAME: 'flag' } }, FIELDS);
    expect(desiredMergeFields({ ltv: 0, flag: false }, m, fields).values).toEqual({ LTV: 0, FNAME: 'false' });
  });
});

describe('missingRequired', () => {
  const company = field('COMPANY', 'text', { name: 'Company', required: true });
  it.each<[string, Record<string, unknown>, boolean]>([
    ['absent', {}, true],
    ['null', { COMPANY: null }, true],
    ['blank', { COMPANY: '  ' }, true],
    ['filled', { COMPANY: 'ACME' }, false],
    ['zero', { COMPANY: 0 }, false],
  ])('%s', (_what, values, missing) => {
    expect(missingRequired(values, [FNAME, company])).toEqual(missing ? [{ field: 'COMPANY', message: 'required merge field COMPANY (Company) is empty' }] : []);
  });
});

describe('sameMergeValue', () => {
  it.each<[unknown, unknown, boolean]>([
    [42, 42, true],
    [42, '42', true],
    [42, '42.0', true],
    [42.5, '42.5', true],
    [42, '43', false],
    [0, '', false],
    [0, null, false],
    [0, undefined, false],
    [0, '0', true],
    ['Ada', 'Ada', true],
    ['Ada', ' Ada ', true],
    ['Ada', 'ada', false],
    ['Ada', undefined, false],
    ['', undefined, true],
    ['42', 42, true],
    ['2024-03-05', '2024-03-05', true],
    ['Pro', 'free', false],
  ])('%j vs stored %j -> %j', (desired, existing, same) => {
    expect(sameMergeValue(desired, existing)).toBe(same);
  });

  const address = { addr1: '1 Main St', city: 'Springfield', state: 'IL', zip: '62701' };
  it('compares addresses by content, ignoring the parts Mailchimp adds (addr2, country)', () => {
    expect(sameMergeValue(address, { ...address, addr2: '', country: 'US' })).toBe(true);
    expect(sameMergeValue(address, { ...address, zip: ' 62701 ' })).toBe(true);
  });

  it('a changed address part, or a stored address that is not an object, differs', () => {
    expect(sameMergeValue(address, { ...address, city: 'Shelbyville' })).toBe(false);
    expect(sameMergeValue(address, '')).toBe(false);
    expect(sameMergeValue(address, null)).toBe(false);
    expect(sameMergeValue(address, undefined)).toBe(false);
    expect(sameMergeValue({ ...address, country: 'CA' }, { ...address, country: 'US' })).toBe(false);
  });
});

/** What Mailchimp holds, as the audience presents it to the planner. */
const holding = (fields: Record<string, unknown>) => ({ hasMergeValue: (tag: string, value: unknown) => tag in fields && sameMergeValue(value, fields[tag]) });

describe('changedMergeFields', () => {
  it('returns only the values Mailchimp does not already hold', () => {
    expect(changedMergeFields({ FNAME: 'Ada', LNAME: 'Byron', LTV: 42 }, holding({ FNAME: ' Ada', LNAME: 'Lovelace', LTV: '42' }))).toEqual({ LNAME: 'Byron' });
  });

  it('everything is a change for a member whose fields are unknown', () => {
    expect(changedMergeFields({ FNAME: 'Ada' }, undefined)).toEqual({ FNAME: 'Ada' });
  });

  it('fields Mailchimp holds that we do not map are never sent (nothing is blanked)', () => {
    expect(changedMergeFields({}, holding({ FNAME: 'Ada', PLAN: 'pro' }))).toEqual({});
  });
});

describe('canonicalMergeValue', () => {
  // The audience keeps fingerprints of canonical texts instead of values: equal texts must mean
  // exactly what sameMergeValue means, or a run would write unchanged people or miss changed ones.
  const desiredNumbers: unknown[] = [42, 0, -1.5, 1e21];
  const storedNumbers: unknown[] = [42, '42', ' 42 ', '42.0', 0, '0', '', null, undefined, -1.5, '-1.5', 'abc', 1e21, '1e21'];
  it.each(desiredNumbers)('number fields: desired %p compares like sameMergeValue with every stored shape', (desired) => {
    for (const stored of storedNumbers) {
      expect([stored, canonicalMergeValue(desired, 'number') === canonicalMergeValue(stored, 'number')]).toEqual([stored, sameMergeValue(desired, stored)]);
    }
  });

  const desiredTexts: unknown[] = ['Ada', 'Ada Lovelace', '2024-03-05', '05/03', '', 'Zoë'];
  const storedTexts: unknown[] = ['Ada', ' Ada ', 'ada', '', null, undefined, 'Ada Lovelace', '2024-03-05', '05/03', 'Zoë', 'Zoe', 5];
  it.each(['text', 'date', 'birthday', 'dropdown', 'url', 'phone'])('%s fields compare as trimmed text, like sameMergeValue', (type) => {
    for (const desired of desiredTexts) {
      for (const stored of storedTexts) {
        expect([desired, stored, canonicalMergeValue(desired, type) === canonicalMergeValue(stored, type)]).toEqual([desired, stored, sameMergeValue(desired, stored)]);
      }
    }
  });
});
