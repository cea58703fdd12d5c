import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../../src/errors/index.js';
import type { JsonObject, JsonSchema, SchemaMessage } from '../../../../src/singer/messages.js';
import { SchemaRegistry } from '../../../../src/targets/mailchimp/records.js';

const ENGAGE_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    distinct_id: { type: 'string' },
    mp_reserved_email: { type: ['null', 'string'] },
    mp_reserved_last_seen: { type: ['null', 'string'], format: 'date-time' },
    visits: { type: ['null', 'integer'] },
    address: { type: ['null', 'object'], properties: { city: { type: 'string' } } },
  },
};

function schemaMessage(schema: JsonSchema = ENGAGE_SCHEMA, keys: string[] = ['distinct_id']): SchemaMessage {
  return { type: 'SCHEMA', stream: 'engage', schema, key_properties: keys };
}

function failure(action: () => void): InputError {
  try {
    action();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('SchemaRegistry', () => {
  it('accepts records that match the latest schema, extra properties included', () => {
    const registry = new SchemaRegistry();
    registry.register(schemaMessage(), 1);
    const records: JsonObject[] = [
      { distinct_id: 'u1', mp_reserved_email: 'ana@example.org', mp_reserved_last_seen: '2024-01-02T03:04:05Z', visits: 3 },
      { distinct_id: 'u2', mp_reserved_email: null, mp_reserved_last_seen: null, plan: 'pro', 'spécial chars ☃': true },
      { distinct_id: 'u3', mp_reserved_last_seen: '2024-01-02', address: { city: 'Lyon' } },
    ];
    for (const [i, record] of records.entries()) expect(() => registry.check('engage', record, i + 2)).not.toThrow();
  });

  it('rejects a RECORD before its SCHEMA, naming the line', () => {
    const registry = new SchemaRegistry();
    expect(failure(() => registry.check('engage', { distinct_id: 'u1' }, 3)).message).toBe('line 3: RECORD for "engage" arrived before its SCHEMA');
  });

  it.each<[string, JsonObject]>([
    ['missing', { mp_reserved_email: 'a@x.io' }],
    ['null', { distinct_id: null }],
  ])('rejects a record whose key property is %s, naming the line and the key', (_case, record) => {
    const registry = new SchemaRegistry();
    registry.register(schemaMessage(), 1);
    expect(failure(() => registry.check('engage', record, 9)).message).toBe('line 9: RECORD for "engage" is missing its key property "distinct_id"');
  });

  it('accepts any record of a stream without key properties', () => {
    const registry = new SchemaRegistry();
    registry.register(schemaMessage({ properties: {} }, []), 1);
    expect(() => registry.check('engage', { anything: 1 }, 2)).not.toThrow();
  });

  it.each<[string, JsonObject, string]>([
    ['a wrong type', { distinct_id: 'u1', visits: 'three' }, 'line 7: RECORD for "engage" does not match its schema: "visits" must be null,integer'],
    ['a bad date-time', { distinct_id: 'u1', mp_reserved_last_seen: 'last tuesday' }, 'line 7: RECORD for "engage" does not match its schema: "mp_reserved_last_seen" must match format "date-time"'],
    ['a nested mismatch', { distinct_id: 'u1', address: { city: 75001 } }, 'line 7: RECORD for "engage" does not match its schema: "address.city" must be string'],
  ])('rejects a record that does not match its schema (%s), naming the line and the property', (_case, record, message) => {
    const registry = new SchemaRegistry();
    registry.register(schemaMessage(), 1);
    expect(failure(() => registry.check('engage', record, 7)).message).toBe(message);
  });

  it('names the record itself when the mismatch is at the top level', () => {
    const registry = new SchemaRegistry();
    registry.register(schemaMessage({ type: 'object', properties: {}, required: ['email'] }, []), 1);
    expect(failure(() => registry.check('engage', {}, 4)).message).toBe(
      'line 4: RECORD for "engage" does not match its schema: "record" must have required property \'email\'',
    );
  });

  it('rejects a SCHEMA that is not a valid JSON Schema, naming the line', () => {
    const registry = new SchemaRegistry();
    const message = failure(() => registry.register(schemaMessage({ type: 'object', properties: { a: { type: 'text' } } }), 12)).message;
    expect(message).toMatch(/^line 12: SCHEMA for "engage" is not a valid JSON Schema: /);
  });

  it('rejects a SCHEMA without properties, naming the line', () => {
    const registry = new SchemaRegistry();
    expect(failure(() => registry.register(schemaMessage({ type: 'object' }), 7)).message).toBe(
      'line 7: SCHEMA for "engage" has no "properties": the target needs them to find the email and merge field values',
    );
  });

  it('checks date formats as the tap writes them', () => {
    const registry = new SchemaRegistry();
    registry.register(schemaMessage({ properties: { distinct_id: { type: 'string' }, day: { type: 'string', format: 'date' } } }), 1);
    expect(() => registry.check('engage', { distinct_id: 'u1', day: '2024-02-29' }, 2)).not.toThrow();
    expect(failure(() => registry.check('engage', { distinct_id: 'u1', day: '2024-02-30' }, 3)).message).toMatch(/^line 3: .*"day" must match format "date"/);
  });

  it('validates against the latest SCHEMA of a stream', () => {
    const registry = new SchemaRegistry();
    registry.register(schemaMessage({ properties: { distinct_id: { type: 'string' }, visits: { type: 'string' } } }), 1);
    expect(() => registry.check('engage', { distinct_id: 'u1', visits: 'three' }, 2)).not.toThrow();
    registry.register(schemaMessage(), 3);
    expect(() => registry.check('engage', { distinct_id: 'u1', visits: 'three' }, 4)).toThrow(/^line 4: /);
    expect(() => registry.check('engage', { distinct_id: 'u1', visits: 3 }, 5)).not.toThrow();
  });

  it('keeps each stream\'s schema apart', () => {
    const registry = new SchemaRegistry();
    registry.register(schemaMessage(), 1);
    expect(() => registry.check('cohort_members', { distinct_id: 'u1' }, 2)).toThrow('line 2: RECORD for "cohort_members" arrived before its SCHEMA');
  });
});
