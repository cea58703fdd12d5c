/** Discovery typing of merge fields, member values in those types, records and the `fields` asked for, as tables. */
import { describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import { isoDate, mergeFieldSchema, mergeFieldsObjectSchema, mergeFieldValue, type ValueProblem } from '../../../../src/taps/mailchimp/merge-field-types.js';
import { memberFields } from '../../../../src/taps/mailchimp/members/fields.js';
import { memberRecord, needsAllTags, utcTimestamp } from '../../../../src/taps/mailchimp/members/records.js';
import type { RawMergeField } from '../../../../src/taps/mailchimp/raw.js';
import type { JsonSchema } from '../../../../src/singer/messages.js';

const field = (tag: string, type: string, options: RawMergeField['options'] = {}): RawMergeField => ({ merge_id: 1, tag, name: tag.toLowerCase(), type, options });

describe('merge field types -> JSON Schema', () => {
  it.each<[string, RawMergeField, JsonSchema]>([
    ['number', field('LTV', 'number'), { type: ['null', 'number'] }],
    ['date (a full date)', field('SIGNUP', 'date', { date_format: 'MM/DD/YYYY' }), { type: ['null', 'string'], format: 'date' }],
    ['birthday (month/day)', field('BDAY', 'birthday', { date_format: 'MM/DD' }), { type: ['null', 'string'], pattern: '^\\d{2}/\\d{2}$' }],
    ['address', field('ADDR', 'address'), { type: ['null', 'object'] }],
    ['phone', field('PHONE', 'phone'), { type: ['null', 'string'] }],
    ['text', field('FNAME', 'text'), { type: ['null', 'string'] }],
    ['url', field('SITE', 'url'), { type: ['null', 'string'] }],
    ['imageurl', field('PIC', 'imageurl'), { type: ['null', 'string'] }],
    ['dropdown', field('PLAN', 'dropdown', { choices: ['a'] }), { type: ['null', 'string'] }],
    ['radio', field('SIZE', 'radio'), { type: ['null', 'string'] }],
    ['zip', field('ZIP', 'zip'), { type: ['null', 'string'] }],
  ])('%s', (_name, definition, expected) => {
    expect(mergeFieldSchema(definition)).toMatchObject(expected);
  });

  it('an address is an object of its six parts', () => {
    expect(Object.keys(mergeFieldSchema(field('ADDR', 'address')).properties ?? {})).toEqual(['addr1', 'addr2', 'city', 'state', 'zip', 'country']);
  });

  it('a type the tap does not know accepts any value', () => {
    expect(mergeFieldSchema(field('X', 'hologram')).type).toBeUndefined();
  });

  it('several audiences: one property per tag, anyOf where they disagree, sorted, open to later fields', () => {
    const schema = mergeFieldsObjectSchema([
      [field('LTV', 'number'), field('FNAME', 'text')],
      [field('LTV', 'text'), field('FNAME', 'text'), field('ADDR', 'address')],
    ]);
    expect(Object.keys(schema.properties ?? {})).toEqual(['ADDR', 'FNAME', 'LTV']);
    expect((schema.properties?.LTV?.anyOf as JsonSchema[]).map((s) => s.type)).toEqual([['null', 'number'], ['null', 'string']]);
    expect(schema.properties?.FNAME?.anyOf).toBeUndefined();
    expect(schema.additionalProperties).toBe(true);
  });
});

describe('member values in their field types', () => {
  it.each<[string, RawMergeField, unknown, unknown]>([
    ['number', field('LTV', 'number'), 12.5, 12.5],
    ['number as text', field('LTV', 'number'), '1,234.5', 1234.5],
    ['empty number', field('LTV', 'number'), '', null],
    ['date in its display format MM/DD/YYYY', field('D', 'date', { date_format: 'MM/DD/YYYY' }), '07/04/2024', '2024-07-04'],
    ['date in DD/MM/YYYY', field('D', 'date', { date_format: 'DD/MM/YYYY' }), '04/07/2024', '2024-07-04'],
    ['date already ISO', field('D', 'date', { date_format: 'MM/DD/YYYY' }), '2024-07-04', '2024-07-04'],
    ['empty date', field('D', 'date'), '', null],
    ['birthday padded', field('B', 'birthday'), '7/4', '07/04'],
    ['empty birthday', field('B', 'birthday'), '', null],
    ['address', field('A', 'address'), { addr1: '1 Main St', city: 'Atlanta', state: 'GA', zip: '30308', country: 'US' }, { addr1: '1 Main St', addr2: null, city: 'Atlanta', state: 'GA', zip: '30308', country: 'US' }],
    ['empty address', field('A', 'address'), '', null],
    ['empty text stays empty', field('T', 'text'), '', ''],
    ['a phone number given as a number', field('P', 'phone'), 5551234, '5551234'],
    ['a field the audience does not define (added since discovery)', undefined as unknown as RawMergeField, 'x', 'x'],
  ])('%s', (_name, definition, value, expected) => {
    const problems: ValueProblem[] = [];
    expect(mergeFieldValue(definition, value, (p) => problems.push(p))).toEqual(expected);
    expect(problems).toEqual([]);
  });

  it.each<[string, RawMergeField, unknown]>([
    ['text in a number field', field('LTV', 'number'), 'lots'],
    ['not a date', field('D', 'date'), 'soon'],
    ['not month/day', field('B', 'birthday'), '2024-07-04'],
  ])('%s: null, and the problem is told', (_name, definition, value) => {
    const problems: ValueProblem[] = [];
    expect(mergeFieldValue(definition, value, (p) => problems.push(p))).toBeNull();
    expect(problems).toEqual([{ tag: definition.tag, value }]);
  });

  it.each([
    ['2024-02-30', undefined, undefined],
    ['13/01/2024', 'MM/DD/YYYY', undefined],
    ['2024-1-5', undefined, '2024-01-05'],
  ])('isoDate(%p, %p) = %p', (value, format, expected) => {
    expect(isoDate(value, format)).toBe(expected);
  });
});

describe('member records', () => {
  const context = { listId: 'a1', mergeFields: new Map([['LTV', field('LTV', 'number')]]), onValueProblem: () => undefined };

  it('adds list_id, makes time stamps RFC 3339 UTC ("" is null), types merge fields', () => {
    const record = memberRecord(
      { id: 'h', status: 'subscribed', last_changed: '2024-05-01T12:34:56+00:00', timestamp_opt: '', timestamp_signup: '2024-01-01T00:00:00+02:00', merge_fields: { LTV: '', FNAME: 'Ann' }, _links: [] },
      context,
    );
    expect(record).toEqual({ id: 'h', status: 'subscribed', list_id: 'a1', last_changed: '2024-05-01T12:34:56.000Z', timestamp_opt: null, timestamp_signup: '2023-12-31T22:00:00.000Z', merge_fields: { LTV: null, FNAME: 'Ann' } });
  });

  it('valid against the discovered schema with strict formats', () => {
    const ajv = new Ajv({ strict: false });
    ajv.addFormat('date-time', (v: string) => /Z$/.test(v) && !Number.isNaN(Date.parse(v)));
    ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
    const defs = [field('LTV', 'number'), field('D', 'date', { date_format: 'MM/DD/YYYY' }), field('B', 'birthday')];
    const validate = ajv.compile({ type: 'object', properties: { merge_fields: mergeFieldsObjectSchema([defs]), last_changed: { type: 'string', format: 'date-time' } } });
    const record = memberRecord({ id: 'h', last_changed: '2024-05-01T12:34:56+00:00', merge_fields: { LTV: '', D: '07/04/2024', B: '' } }, { ...context, mergeFields: new Map(defs.map((d) => [d.tag, d])) });
    expect(validate(record)).toBe(true);
  });

  it.each([
    [{ id: 'h', tags: [{ id: 1, name: 'a' }], tags_count: 1 }, false],
    [{ id: 'h', tags: new Array(50).fill({ id: 1, name: 'a' }), tags_count: 51 }, true],
    [{ id: 'h' }, false],
  ])('needsAllTags(%#) = %p', (member, expected) => {
    expect(needsAllTags(member)).toBe(expected);
  });

  it.each([
    ['2024-05-01T12:34:56+00:00', '2024-05-01T12:34:56.000Z'],
    ['', null],
    ['never', null],
    [undefined, null],
  ])('utcTimestamp(%p) = %p', (value, expected) => {
    expect(utcTimestamp(value)).toBe(expected);
  });
});

describe('fields: only what the catalog selects, plus what the tap needs', () => {
  const full: JsonSchema = {
    properties: { list_id: {}, id: {}, email_address: {}, status: {}, last_changed: {}, tags: {}, merge_fields: { properties: { FNAME: {}, LNAME: {}, LTV: {} } }, vip: {} },
  };

  it.each<[string, JsonSchema, string[]]>([
    ['everything', full, ['members.email_address', 'members.id', 'members.last_changed', 'members.merge_fields', 'members.status', 'members.tags', 'members.tags_count', 'members.vip', 'total_items']],
    ['only the keys (automatic) and the email', { properties: { list_id: {}, id: {}, last_changed: {}, email_address: {} } }, ['members.email_address', 'members.id', 'members.last_changed', 'members.status', 'total_items']],
    [
      'merge fields narrowed to two tags',
      { properties: { list_id: {}, id: {}, last_changed: {}, merge_fields: { properties: { FNAME: {}, LTV: {} } } } },
      ['members.id', 'members.last_changed', 'members.merge_fields.FNAME', 'members.merge_fields.LTV', 'members.status', 'total_items'],
    ],
  ])('%s', (_name, selected, expected) => {
    expect(memberFields(full, selected)).toEqual(expected);
  });
});
