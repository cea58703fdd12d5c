import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../../src/errors/index.js';
import type { JsonObject, JsonSchema, SchemaMessage } from '../../../../src/singer/messages.js';
import { propertiesUsedBy, SchemaRegistry, validationOptions } from '../../../../src/targets/mailchimp/engine/records.js';

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

describe('propertiesUsedBy: what the target reads from a record', () => {
  it('reads the default email properties, the name properties and nothing else by default', () => {
    expect(propertiesUsedBy({ merge_fields: {}, tag_properties: [] }).sort()).toEqual(
      ['$email', 'email', 'firstName', 'first_name', 'lastName', 'last_name', 'mp_reserved_email', 'mp_reserved_first_name', 'mp_reserved_last_name', 'mp_reserved_name', 'name'].sort(),
    );
  });

  it('reads the configured email property, mapped merge fields and tag properties; not the names when FNAME and LNAME are both configured', () => {
    const used = propertiesUsedBy({ email_property: 'work_email', merge_fields: { FNAME: 'given', LNAME: null, PLAN: 'plan' }, tag_properties: 'segment, tier' });
    expect(used.sort()).toEqual(['given', 'plan', 'segment', 'tier', 'work_email']);
  });

  it('maps the config to a scope: used by default, all with validate_all_properties, none with validate_records false', () => {
    const base = { merge_fields: {}, tag_properties: [] };
    expect(validationOptions(base).scope).toBe('used');
    expect(validationOptions({ ...base, validate_records: true, validate_all_properties: true }).scope).toBe('all');
    expect(validationOptions({ ...base, validate_records: false, validate_all_properties: true }).scope).toBe('none');
  });
});

describe('SchemaRegistry: only what the target reads is checked by default', () => {
  const schema: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['internal_id'],
    properties: {
      distinct_id: { type: 'string' },
      email: { type: ['null', 'string'] },
      plan: { type: ['null', 'string'] },
      segment: { type: ['null', 'string'] },
      first_name: { type: ['null', 'string'] },
      internal_id: { type: 'integer' },
      score: { type: 'number', multipleOf: 0.5 },
      seen: { type: 'string', format: 'date-time' },
    },
  };
  const config = { email_property: 'email', merge_fields: { PLAN: 'plan' }, tag_properties: ['segment'] };
  const registry = (extra: Record<string, unknown> = {}): SchemaRegistry => {
    const r = new SchemaRegistry(validationOptions({ ...config, ...extra }));
    r.register(schemaMessage(schema), 1);
    return r;
  };
  const fine = { distinct_id: 'u1', email: 'a@example.org', plan: 'pro', segment: 'b2b', first_name: 'Ana', internal_id: 1, score: 1.5, seen: '2024-01-01T00:00:00Z' };

  it.each<[string, JsonObject]>([
    ['a wrong type in a property it does not read', { ...fine, score: 'high' }],
    ['a multipleOf miss there', { ...fine, score: 1.25 }],
    ['a bad format there', { ...fine, seen: 'yesterday' }],
    ['a missing required property it does not read', { distinct_id: 'u1', email: 'a@example.org' }],
    ['a property the schema does not know (additionalProperties false)', { ...fine, surprise: true }],
  ])('accepts %s', (_case, record) => {
    expect(() => registry().check('engage', record, 2)).not.toThrow();
    expect(() => registry({ validate_all_properties: true }).check('engage', record, 2)).toThrow(/^line 2: RECORD for "engage" does not match its schema/);
  });

  it.each<[string, JsonObject, string]>([
    ['the email', { ...fine, email: 42 }, '"email" must be null,string'],
    ['a mapped merge field', { ...fine, plan: ['pro'] }, '"plan" must be null,string'],
    ['a tag property', { ...fine, segment: { b: 2 } }, '"segment" must be null,string'],
    ['a name property', { ...fine, first_name: false }, '"first_name" must be null,string'],
    ['a key property', { ...fine, distinct_id: 7 }, '"distinct_id" must be string'],
  ])('refuses a wrong type in %s', (_case, record, problem) => {
    expect(failure(() => registry().check('engage', record, 5)).message).toBe(`line 5: RECORD for "engage" does not match its schema: ${problem}`);
  });

  it('checks nothing but the key properties with validate_records false', () => {
    const r = registry({ validate_records: false });
    expect(() => r.check('engage', { distinct_id: 'u1', email: 42, plan: [] }, 2)).not.toThrow();
    expect(failure(() => r.check('engage', { email: 'a@example.org' }, 3)).message).toBe('line 3: RECORD for "engage" is missing its key property "distinct_id"');
  });

  it('refuses a schema that is not valid JSON Schema even where nothing is checked', () => {
    const broken = schemaMessage({ properties: { distinct_id: { type: 'string' }, notes: { type: 'text' } } });
    for (const extra of [{}, { validate_records: false }]) {
      expect(failure(() => new SchemaRegistry(validationOptions({ ...config, ...extra })).register(broken, 4)).message).toMatch(/^line 4: SCHEMA for "engage" is not a valid JSON Schema: schema\/properties\/notes\/type/);
    }
  });
});

describe('SchemaRegistry: schemas other programs write', () => {
  it('compiles a SCHEMA sent again and again, with a $schema of another draft and an $id', () => {
    const registry = new SchemaRegistry();
    const message = schemaMessage({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'engage', type: 'object', properties: { distinct_id: { type: 'string' } } });
    for (let line = 1; line <= 5; line++) expect(() => registry.register(message, line)).not.toThrow();
    expect(() => registry.check('engage', { distinct_id: 'u1' }, 6)).not.toThrow();
  });

  it.each<[string, unknown]>([
    ['5.0 (JSON Schema: an integer)', 5.0],
    ['an integer beyond 2^53', JSON.parse('12345678901234567890')],
    ['a negative integer', -3],
  ])('reads %s as an integer', (_case, value) => {
    const registry = new SchemaRegistry();
    registry.register(schemaMessage({ properties: { distinct_id: { type: 'string' }, n: { type: ['null', 'integer'] } } }), 1);
    expect(() => registry.check('engage', { distinct_id: 'u1', n: value }, 2)).not.toThrow();
  });

  it('still refuses 5.5 for an integer', () => {
    const registry = new SchemaRegistry();
    registry.register(schemaMessage({ properties: { distinct_id: { type: 'string' }, n: { type: ['null', 'integer'] } } }), 1);
    expect(failure(() => registry.check('engage', { distinct_id: 'u1', n: 5.5 }, 2)).message).toMatch(/"n" must be null,integer/);
  });

  it('checks deep schemas: nested objects, arrays of objects, anyOf, additionalProperties as a schema', () => {
    const registry = new SchemaRegistry();
    registry.register(
      schemaMessage({
        properties: {
          distinct_id: { type: 'string' },
          a: { type: 'object', properties: { b: { type: 'object', properties: { c: { type: 'array', items: { type: 'object', properties: { d: { anyOf: [{ type: 'integer' }, { type: 'string', format: 'date' }] } } } } } } } },
          attrs: { type: 'object', additionalProperties: { type: 'number' } },
        },
      }),
      1,
    );
    expect(() => registry.check('engage', { distinct_id: 'u1', a: { b: { c: [{ d: 1 }, { d: '2024-01-01' }] } }, attrs: { x: 1.5 } }, 2)).not.toThrow();
    expect(failure(() => registry.check('engage', { distinct_id: 'u1', a: { b: { c: [{ d: true }] } } }, 3)).message).toMatch(/"a\.b\.c\.0\.d" must be integer/);
    expect(failure(() => registry.check('engage', { distinct_id: 'u1', attrs: { x: 'one' } }, 4)).message).toMatch(/"attrs\.x" must be number/);
  });

  it('names the BATCH file and line of a record that came from one', () => {
    const registry = new SchemaRegistry();
    registry.register(schemaMessage(), 1);
    const origin = { line: 7, batch: { url: 'file:///tmp/b/engage-1.jsonl.gz', line: 3 } };
    expect(failure(() => registry.check('engage', { mp_reserved_email: 'a@x.io' }, origin)).message).toBe(
      'line 7 (file:///tmp/b/engage-1.jsonl.gz line 3): RECORD for "engage" is missing its key property "distinct_id"',
    );
  });
});
