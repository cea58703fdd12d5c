import { describe, expect, it } from '@jest/globals';
import type { EngageProfile } from '../../../../src/taps/mixpanel/client.js';
import { transformProfile } from '../../../../src/taps/mixpanel/streams/engage.js';
import { denestInto, derivedInsertId, epochSecondsToIso, profileDateTime, renameProperty } from '../../../../src/taps/mixpanel/transform.js';

describe('renameProperty', () => {
  it.each([
    ['$email', 'mp_reserved_email'],
    ['$insert_id', 'mp_reserved_insert_id'],
    ['$', 'mp_reserved_'],
    ['plan', 'plan'],
    ['price$', 'price$'],
    ['mp_country_code', 'mp_country_code'],
    ['', ''],
  ])('%j -> %j', (name, renamed) => {
    expect(renameProperty(name)).toBe(renamed);
  });
});

describe('denestInto', () => {
  it('copies properties under their renamed keys into the target and returns it', () => {
    const target: Record<string, unknown> = { event: 'Sign Up' };
    const result = denestInto(target, { $browser: 'Firefox', plan: 'pro', nested: { a: 1 } });
    expect(result).toBe(target);
    expect(target).toEqual({ event: 'Sign Up', mp_reserved_browser: 'Firefox', plan: 'pro', nested: { a: 1 } });
  });

  it('leaves the target as it is without properties', () => {
    expect(denestInto({ a: 1 }, undefined)).toEqual({ a: 1 });
  });
});

describe('profileDateTime', () => {
  it.each<[unknown, unknown]>([
    ['2024-01-02T03:04:05', '2024-01-02T03:04:05Z'],
    ['2024-01-02T03:04:05.123', '2024-01-02T03:04:05.123Z'],
    ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05Z'],
    ['2024-01-02T03:04:05+02:00', '2024-01-02T03:04:05+02:00'],
    ['2024-01-02', '2024-01-02'],
    ['2024-01-02 03:04:05', '2024-01-02 03:04:05'],
    ['not a date', 'not a date'],
    [1700000000, 1700000000],
    [null, null],
  ])('%j -> %j', (value, expected) => {
    expect(profileDateTime(value)).toBe(expected);
  });
});

describe('epochSecondsToIso', () => {
  it('writes RFC 3339 UTC with milliseconds', () => {
    expect(epochSecondsToIso(1700000000)).toBe('2023-11-14T22:13:20.000Z');
    expect(epochSecondsToIso(1700000000.5)).toBe('2023-11-14T22:13:20.500Z');
  });
});

describe('derivedInsertId', () => {
  const properties = { time: 1700000000, distinct_id: 'u1', $browser: 'Firefox' };

  it('is prefixed so that it is never mistaken for Mixpanel\'s own, and 32 hex digits long', () => {
    expect(derivedInsertId('Sign Up', properties)).toMatch(/^derived-[0-9a-f]{32}$/);
  });

  it('is the same for the same event, whatever the order of its properties', () => {
    const reordered = { $browser: 'Firefox', distinct_id: 'u1', time: 1700000000 };
    expect(derivedInsertId('Sign Up', reordered)).toBe(derivedInsertId('Sign Up', properties));
  });

  it.each<[string, string, Record<string, unknown>]>([
    ['another event name', 'Log In', properties],
    ['another time', 'Sign Up', { ...properties, time: 1700000001 }],
    ['another person', 'Sign Up', { ...properties, distinct_id: 'u2' }],
    ['another property value', 'Sign Up', { ...properties, $browser: 'Chrome' }],
    ['an extra property', 'Sign Up', { ...properties, plan: 'pro' }],
  ])('differs for %s', (_case, event, props) => {
    expect(derivedInsertId(event, props)).not.toBe(derivedInsertId('Sign Up', properties));
  });
});

describe('transformProfile (engage)', () => {
  it('keeps the distinct id as a string, renames $ properties and gives naive date-times their UTC zone', () => {
    const profile: EngageProfile = {
      $distinct_id: 12345,
      $properties: {
        $email: 'ana@example.org',
        $first_name: 'Ana',
        $last_seen: '2024-01-02T03:04:05',
        $created: '2023-06-01T00:00:00',
        plan: 'pro',
        signup_day: '2023-06-01',
        visits: 3,
      },
    };
    expect(transformProfile(profile)).toEqual({
      distinct_id: '12345',
      mp_reserved_email: 'ana@example.org',
      mp_reserved_first_name: 'Ana',
      mp_reserved_last_seen: '2024-01-02T03:04:05Z',
      mp_reserved_created: '2023-06-01T00:00:00Z',
      plan: 'pro',
      signup_day: '2023-06-01',
      visits: 3,
    });
  });

  it('gives a profile without properties just its id', () => {
    expect(transformProfile({ $distinct_id: 'u1' })).toEqual({ distinct_id: 'u1' });
  });
});
