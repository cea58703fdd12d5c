import { describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import { createRecordAjv, describeRecordError, isDate, isDateTime, isMultipleOf, isTime, isUri, normaliseSchema, pickProperties } from '../../../src/singer/json-schema.js';
import type { JsonSchema } from '../../../src/singer/messages.js';

describe('isMultipleOf: decimal, never float division', () => {
  it.each<[number, number]>([
    [13, 1e-20],
    [13.0, 1e-20],
    [10, 1e-20],
    [1234567.891, 1e-20],
    [0.1, 1e-20],
    [1e21, 1e-20],
    [-42.5, 1e-20],
    [99.99, 1e-38],
    [123456789.123456, 1e-38],
    [0.3, 0.1],
    [0.7, 0.1],
    [12.34, 0.01],
    [1.1, 0.0001],
    [5, 0.5],
    [4.5, 1.5],
    [Number('9007199254740993'), 1],
    [100, 25],
    [0, 7],
    [1e300, 1e-300],
  ])('%p is a multiple of %p', (value, multiple) => {
    expect(isMultipleOf(value, multiple)).toBe(true);
  });

  it.each<[number, number]>([
    [0.35, 0.1],
    [12.345, 0.01],
    [7, 2],
    [1e-21, 1e-20],
    [5.5, 1],
  ])('%p is not a multiple of %p', (value, multiple) => {
    expect(isMultipleOf(value, multiple)).toBe(false);
  });

  it('agrees where float division does not: Ajv\'s own multipleOf rejects 13 for 1e-20 and 0.3 for 0.1', () => {
    const plain = new Ajv({ strict: false });
    expect(plain.compile({ type: 'number', multipleOf: 1e-20 })(13)).toBe(false);
    expect(plain.compile({ type: 'number', multipleOf: 0.1 })(0.3)).toBe(false);
    const ours = createRecordAjv();
    expect(ours.compile({ type: 'number', multipleOf: 1e-20 })(13)).toBe(true);
    expect(ours.compile({ type: 'number', multipleOf: 0.1 })(0.3)).toBe(true);
  });

  it('says which multiple a value missed', () => {
    const validate = createRecordAjv().compile({ type: 'object', properties: { price: { type: 'number', multipleOf: 0.01 } } });
    expect(validate({ price: 1.234 })).toBe(false);
    expect(describeRecordError(validate.errors?.[0])).toBe('"price" must be a multiple of 0.01');
  });
});

describe('formats as other taps write them', () => {
  it.each([
    '2024-01-01T00:00:00Z',
    '2024-01-01T00:00:00.000Z',
    '2024-01-01T00:00:00.000000Z',
    '2024-01-01T00:00:00.123456789+00:00',
    '2024-01-01T00:00:00+00:00',
    '2024-06-30T23:59:60-07:00',
    '2024-01-01T10:00:00+0530',
    '2024-01-01T10:00:00',
    '2024-01-01 10:00:00',
    '2024-01-01t10:00:00z',
    '2024-02-29',
  ])('date-time accepts %s', (value) => {
    expect(isDateTime(value)).toBe(true);
  });

  it.each(['last tuesday', '2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T25:00:00Z', '2024-01-01T00:00:00+24:00', '1700000000', '2024-01-01X00:00:00', ''])('date-time refuses %j', (value) => {
    expect(isDateTime(value)).toBe(false);
  });

  it('date accepts dates (and a date-time: taps differ in what they put in a date field), not impossible days', () => {
    expect(isDate('2024-02-29')).toBe(true);
    expect(isDate('2024-02-29T00:00:00+00:00')).toBe(true);
    expect(isDate('2024-02-30')).toBe(false);
    expect(isDate('29/02/2024')).toBe(false);
  });

  it('time accepts HH:MM[:SS[.f]] with an optional zone', () => {
    for (const t of ['12:00', '12:00:00', '23:59:59.999999', '12:00:00Z', '12:00:00+01:00']) expect(isTime(t)).toBe(true);
    for (const t of ['24:00:00', '12:60', 'noon', '12:00:00+25:00']) expect(isTime(t)).toBe(false);
  });

  it('uri accepts absolute URIs of any scheme', () => {
    for (const u of ['https://example.com', 'http://127.0.0.1:8080/x?y=1', 'mailto:ana@example.org', 'urn:isbn:0451450523']) expect(isUri(u)).toBe(true);
    for (const u of ['example.com', '/relative/path', '']) expect(isUri(u)).toBe(false);
  });

  it('ignores formats it does not know, and leaves email to the target\'s own row check', () => {
    const validate = createRecordAjv().compile({
      type: 'object',
      properties: {
        amount: { type: 'string', format: 'x-singer.decimal' },
        id: { type: 'string', format: 'uuid' },
        span: { type: 'string', format: 'duration' },
        email: { type: 'string', format: 'email' },
      },
    });
    expect(validate({ amount: '12.50', id: 'not-a-uuid', span: 'soon', email: 'n/a' })).toBe(true);
  });
});

describe('normaliseSchema: other drafts read as their taps meant them', () => {
  it('drops the root $schema (the SDK writes 2020-12) and $id, so Ajv compiles it and a resent SCHEMA does not clash', () => {
    const schema: JsonSchema = { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'users', type: 'object', properties: { id: { type: 'integer' } } };
    const ajv = createRecordAjv();
    expect(() => ajv.compile(normaliseSchema(schema))).not.toThrow();
    expect(() => ajv.compile(normaliseSchema(schema))).not.toThrow();
    expect(schema.$schema).toBeDefined();
  });

  it('turns draft-04 boolean exclusive bounds (tap-postgres numeric columns) into draft-07 numbers', () => {
    const schema = normaliseSchema({
      properties: { n: { type: ['null', 'number'], exclusiveMaximum: true, maximum: 1e38, exclusiveMinimum: true, minimum: -1e38, multipleOf: 1e-38 }, m: { type: 'number', exclusiveMinimum: false, minimum: 0 } },
    });
    expect(schema.properties?.n).toEqual({ type: ['null', 'number'], exclusiveMaximum: 1e38, exclusiveMinimum: -1e38, multipleOf: 1e-38 });
    expect(schema.properties?.m).toEqual({ type: 'number', minimum: 0 });
    const validate = createRecordAjv().compile(schema);
    expect(validate({ n: 12345.6789, m: 0 })).toBe(true);
    expect(validate({ n: 1e38 })).toBe(false);
  });

  it('drops draft-03 boolean "required" inside properties (the Python tap-mixpanel writes "required": false)', () => {
    const schema = normaliseSchema(JSON.parse('{"properties":{"tags":{"type":["null","array"],"required":false,"items":{}}}}') as JsonSchema);
    expect(schema.properties?.tags).toEqual({ type: ['null', 'array'], items: {} });
    expect(createRecordAjv().validateSchema(schema)).toBe(true);
  });

  it('leaves a draft-07 schema as it is', () => {
    const schema: JsonSchema = { type: 'object', required: ['id'], properties: { id: { type: 'integer', exclusiveMinimum: 0 } }, definitions: { x: { type: 'string' } } };
    expect(normaliseSchema(schema)).toEqual(schema);
  });
});

describe('pickProperties: the part of a record schema about some properties', () => {
  const schema: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'email', 'score'],
    anyOf: [{ required: ['phone'] }],
    definitions: { tags: { type: 'array', items: { type: 'string' } } },
    properties: { id: { type: 'integer' }, email: { type: 'string' }, score: { type: 'number', multipleOf: 1 }, tags: { $ref: '#/definitions/tags' } },
  };

  it('keeps the chosen properties whole, required limited to them, definitions for their references', () => {
    expect(pickProperties(schema, new Set(['email', 'tags', 'not_in_schema']))).toEqual({
      type: 'object',
      required: ['email'],
      definitions: schema.definitions,
      properties: { email: { type: 'string' }, tags: { $ref: '#/definitions/tags' } },
    });
  });

  it('checks nothing about the other properties, nor about the record as a whole', () => {
    const validate = createRecordAjv().compile(pickProperties(schema, new Set(['email', 'tags'])));
    expect(validate({ email: 'a@example.org', tags: ['vip'], score: 'high', extra: true })).toBe(true);
    expect(validate({ email: 'a@example.org', tags: [1] })).toBe(false);
  });
});
