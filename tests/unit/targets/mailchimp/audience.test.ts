import { describe, expect, it } from '@jest/globals';
import type { MemberInfo } from '../../../../src/targets/mailchimp/api/api.js';
import { Audience } from '../../../../src/targets/mailchimp/audience/audience.js';
import { subscriberHash } from '../../../../src/targets/mailchimp/members/members.js';

const RULES = { staticTags: ['from-mixpanel'], properties: ['plan'] };
const FIELDS = [
  { tag: 'FNAME', type: 'text' },
  { tag: 'LTV', type: 'number' },
  { tag: 'ADDR', type: 'address' },
];

const member = (email: string, extra: Partial<MemberInfo> = {}): MemberInfo => ({
  email_address: email,
  status: 'subscribed',
  merge_fields: { FNAME: 'Ada', LTV: '42', ADDR: { addr1: '1 Main St', city: 'X', state: 'IL', zip: '1', country: 'US' }, SECRET: 'not ours' },
  tags: [{ id: 1, name: 'from-mixpanel' }, { id: 2, name: 'VIP' }, { id: 3, name: 'plan:pro' }],
  ...extra,
});

describe('Audience: what Mailchimp holds, compactly', () => {
  it('keeps the status, the managed tags only, and answers for the mapped merge fields; found by subscriber hash', () => {
    const audience = new Audience(FIELDS, RULES);
    audience.remember(member('Ada@Example.org', { status: 'unsubscribed' }));
    const ada = audience.get(subscriberHash('ada@example.org'));
    expect(ada?.status).toBe('unsubscribed');
    expect([...(ada?.tags ?? [])]).toEqual(['from-mixpanel', 'plan:pro']);
    expect(ada?.hasMergeValue('FNAME', 'Ada')).toBe(true);
    expect(ada?.hasMergeValue('FNAME', ' Ada ')).toBe(true);
    expect(ada?.hasMergeValue('FNAME', 'Bob')).toBe(false);
    expect(ada?.hasMergeValue('LTV', 42)).toBe(true);
    expect(ada?.hasMergeValue('LTV', 43)).toBe(false);
    expect(ada?.hasMergeValue('ADDR', { addr1: '1 Main St', city: 'X', state: 'IL', zip: '1' })).toBe(true);
    expect(ada?.hasMergeValue('ADDR', { addr1: '2 Main St', city: 'X', state: 'IL', zip: '1' })).toBe(false);
    // Not mapped: never "already held", so it would be sent if it were desired.
    expect(ada?.hasMergeValue('SECRET', 'not ours')).toBe(false);
    expect(audience.get(subscriberHash('bob@example.org'))).toBeUndefined();
  });

  it('uses the member id Mailchimp gives, or the MD5 of the lower-cased address', () => {
    const audience = new Audience(FIELDS, RULES);
    audience.remember(member('X@Example.org', { id: subscriberHash('x@example.org') }));
    audience.remember(member('Y@Example.org'));
    expect(audience.get(subscriberHash('x@example.org'))).toBeDefined();
    expect(audience.get(subscriberHash('y@example.org'))).toBeDefined();
    expect(audience.size).toBe(2);
  });

  it('an empty field is no value: a desired one differs from it', () => {
    const audience = new Audience(FIELDS, RULES);
    audience.remember(member('a@example.org', { merge_fields: { FNAME: '', LTV: '' } }));
    const a = audience.get(subscriberHash('a@example.org'));
    expect(a?.hasMergeValue('FNAME', 'Ada')).toBe(false);
    expect(a?.hasMergeValue('LTV', 0)).toBe(false);
  });

  it('apply: what this run wrote replaces what was read, and the status stays unless told', () => {
    const audience = new Audience(FIELDS, RULES);
    audience.remember(member('a@example.org', { status: 'pending' }));
    const hash = subscriberHash('a@example.org');
    audience.apply(hash, { mergeFields: { FNAME: 'Bea' }, tags: ['plan:free'] });
    const a = audience.get(hash);
    expect(a?.status).toBe('pending');
    expect(a?.hasMergeValue('FNAME', 'Bea')).toBe(true);
    expect(a?.hasMergeValue('LTV', 42)).toBe(true);
    expect([...(a?.tags ?? [])]).toEqual(['plan:free']);
  });

  it('apply: a new member gets the status given', () => {
    const audience = new Audience(FIELDS, RULES);
    const hash = subscriberHash('n@example.org');
    audience.apply(hash, { status: 'pending', mergeFields: { FNAME: 'N' } });
    expect(audience.get(hash)?.status).toBe('pending');
  });

  it('knows: nobody until looked up or the whole audience is read; a lookup that found nobody is knowledge too', () => {
    const audience = new Audience(FIELDS, RULES);
    const present = subscriberHash('p@example.org');
    const absent = subscriberHash('q@example.org');
    expect(audience.knows(present)).toBe(false);
    audience.remember(member('p@example.org'));
    audience.rememberAbsent(absent);
    expect(audience.knows(present)).toBe(true);
    expect(audience.knows(absent)).toBe(true);
    expect(audience.get(absent)).toBeUndefined();
    expect(audience.knows(subscriberHash('r@example.org'))).toBe(false);
    audience.complete = true;
    expect(audience.knows(subscriberHash('r@example.org'))).toBe(true);
  });
});
