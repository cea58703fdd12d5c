import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../../src/errors/index.js';
import { MappedPropertyCheck, mappedProperties } from '../../../../src/targets/mailchimp/engine/mapped-properties.js';

const ENGAGE = { distinct_id: {}, mp_reserved_email: {}, plan: {}, 'Lifetime Value': {} };

function schemaError(check: MappedPropertyCheck, properties: Record<string, unknown>): ConfigError | undefined {
  try {
    check.schema('engage', properties, 1);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
}

describe('mappedProperties', () => {
  it('lists the properties the settings name, with the setting that names them', () => {
    expect(mappedProperties({ email_property: 'email', merge_fields: { PLAN: 'plan', FNAME: null }, tag_properties: 'plan, tier' }).map((m) => [m.setting, m.property])).toEqual([
      ['email_property', 'email'],
      ['merge_fields.PLAN', 'plan'],
      ['tag_properties', 'plan'],
      ['tag_properties', 'tier'],
    ]);
  });
});

describe('MappedPropertyCheck', () => {
  it('stops at a SCHEMA that declares a property close to the one named', () => {
    const check = new MappedPropertyCheck(mappedProperties({ merge_fields: { PLAN: 'plna', LTV: 'lifetime value' } }));
    const err = schemaError(check, ENGAGE);
    expect(err?.details).toEqual([
      '"merge_fields.PLAN" names the property "plna", which the SCHEMA of stream "engage" (line 1) does not declare: did you mean "plan"?',
      '"merge_fields.LTV" names the property "lifetime value", which the SCHEMA of stream "engage" (line 1) does not declare: did you mean "Lifetime Value"?',
    ]);
  });

  it('catches a near miss of email_property too', () => {
    const check = new MappedPropertyCheck(mappedProperties({ email_property: 'mp_reserved_emial' }));
    expect(schemaError(check, ENGAGE)?.details[0]).toContain('did you mean "mp_reserved_email"?');
  });

  it('accepts declared properties without a word', () => {
    const check = new MappedPropertyCheck(mappedProperties({ merge_fields: { PLAN: 'plan' }, tag_properties: ['plan'] }));
    expect(schemaError(check, ENGAGE)).toBeUndefined();
    expect(check.warnings(10)).toEqual([]);
  });

  it('watches a property far from every declared one, and warns at the end when no record had it', () => {
    const check = new MappedPropertyCheck(mappedProperties({ merge_fields: { COMPANY: 'company_name' }, tag_properties: ['segment'] }));
    expect(schemaError(check, ENGAGE)).toBeUndefined();
    check.record({ distinct_id: 'u1', segment: 'b2b' });
    expect(check.warnings(2)).toEqual([
      '"merge_fields.COMPANY" names the property "company_name", which no SCHEMA of the loaded streams declares and none of the 2 records had: merge field COMPANY was not filled',
    ]);
  });

  it('takes a property declared by the SCHEMA of another loaded stream', () => {
    const check = new MappedPropertyCheck(mappedProperties({ merge_fields: { PLAN: 'plan' } }));
    check.schema('users', { plan: {} }, 1);
    expect(() => check.schema('engage', { plna: {} }, 5)).not.toThrow();
  });
});
