import { describe, expect, it } from '@jest/globals';
import { HashSet } from '../../../../src/targets/mailchimp/audience/hash-set.js';
import { fingerprint, hashWords, MemberTable } from '../../../../src/targets/mailchimp/audience/member-table.js';
import { subscriberHash } from '../../../../src/targets/mailchimp/members/members.js';

describe('MemberTable', () => {
  it('stores and finds members by subscriber hash through many growths', () => {
    const table = new MemberTable(['FNAME'], [], 16);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      table.set(subscriberHash(`p${i}@example.org`), { status: i % 3 === 0 ? 'unsubscribed' : 'subscribed', fields: { FNAME: `s:P${i}` }, tags: i % 2 === 0 ? ['plan:pro'] : [] });
    }
    expect(table.size).toBe(n);
    for (let i = 0; i < n; i += 997) {
      const m = table.get(subscriberHash(`p${i}@example.org`));
      expect(m?.status).toBe(i % 3 === 0 ? 'unsubscribed' : 'subscribed');
      expect(m?.fields.get('FNAME')).toEqual(fingerprint(`s:P${i}`));
      expect([...(m?.tags ?? [])]).toEqual(i % 2 === 0 ? ['plan:pro'] : []);
    }
    expect(table.get(subscriberHash('nobody@example.org'))).toBeUndefined();
  });

  it('a set changes only what it names', () => {
    const table = new MemberTable(['FNAME', 'LNAME']);
    const h = subscriberHash('a@example.org');
    table.set(h, { status: 'pending', fields: { FNAME: 's:A', LNAME: 's:B' }, tags: ['x'] });
    table.set(h, { fields: { LNAME: 's:C' } });
    const m = table.get(h);
    expect(m?.status).toBe('pending');
    expect(m?.fields.get('FNAME')).toEqual(fingerprint('s:A'));
    expect(m?.fields.get('LNAME')).toEqual(fingerprint('s:C'));
    expect([...(m?.tags ?? [])]).toEqual(['x']);
    expect(table.size).toBe(1);
  });

  it('a million members with two merge fields take under 64 MB of columns', () => {
    // Sized for a million up front, as the target does from the audience's total.
    const table = new MemberTable(['FNAME', 'LNAME'], [], 1_000_000);
    expect(table.bytes).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses anything that is not a subscriber hash', () => {
    expect(hashWords('abc')).toBeUndefined();
    expect(hashWords('z'.repeat(32))).toBeUndefined();
    expect(hashWords(subscriberHash('a@b.co'))).toHaveLength(4);
    expect(() => new MemberTable([]).set('not-a-hash', {})).toThrow(/subscriber hash/);
  });

  it('fingerprints differ for different texts (no collisions over 200,000 similar values)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) seen.add(fingerprint(`s:Person ${i}`).join(':'));
    expect(seen.size).toBe(200_000);
  });
});

describe('HashSet', () => {
  it('adds, finds and lists subscriber hashes through many growths', () => {
    const set = new HashSet(4);
    const hashes = Array.from({ length: 5000 }, (_, i) => subscriberHash(`m${i}@example.org`));
    for (const h of hashes) expect(set.add(h)).toBe(true);
    expect(set.add(hashes[7] as string)).toBe(false);
    expect(set.size).toBe(5000);
    expect(hashes.every((h) => set.has(h))).toBe(true);
    expect(set.has(subscriberHash('other@example.org'))).toBe(false);
    expect([...set].sort()).toEqual([...hashes].sort());
  });
});
