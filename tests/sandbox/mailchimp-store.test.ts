import { describe, expect, it } from '@jest/globals';
import { generatedMember } from '../../src/sandbox/data.js';
import { resultJson, tarHeader } from '../../src/sandbox/mailchimp/batch-results.js';
import { Audience, buildGeneratedBase, mailchimpTime, subscriberHash } from '../../src/sandbox/mailchimp/store.js';
import { seedMergeFields } from '../../src/sandbox/mailchimp/validation.js';
import { readTar } from './helpers.js';

const CONTEXT = { seed: 42, referenceMs: Date.parse('2024-06-10T12:00:00Z') };

function audience(generated = 0): Audience {
  return Audience.fromSeed('list1', seedMergeFields('FNAME'), [], Date.parse('2022-01-01T00:00:00Z'), generated > 0 ? buildGeneratedBase(generated, CONTEXT) : undefined);
}

describe('mailchimpTime', () => {
  it.each([0, 951_782_400_000, 1_709_164_799_999, 1_718_020_800_123, 4_107_456_000_000, 253_402_300_799_000])('formats %p as toISOString does, in Mailchimp shape', (ms) => {
    expect(mailchimpTime(ms)).toBe(new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00'));
  });

  it('agrees with toISOString across the years', () => {
    for (let ms = 0; ms < 4_102_444_800_000; ms += 7_777_777_777) expect(mailchimpTime(ms)).toBe(new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00'));
  });
});

describe('Audience store', () => {
  it('finds every member by hash as the audience grows past its first arrays', () => {
    const a = audience();
    const emails = Array.from({ length: 3000 }, (_, i) => `grow${i}@proton.me`);
    for (const email of emails) a.create({ email, status: 'subscribed', mergeFields: { FNAME: 'G' }, source: 'API', lastChanged: '2024-01-01T00:00:00+00:00', tags: ['t'] });
    for (const email of emails) expect(a.get(subscriberHash(email))?.email_address).toBe(email);
    expect(a.get(subscriberHash('absent@proton.me'))).toBeUndefined();
    expect(a.visibleCount).toBe(3000);
    expect(a.select({ tagId: a.findTag('t')?.id as number }, 0, 0).total).toBe(3000);
  });

  it('replaces a member with the same address in its place', () => {
    const a = audience(10);
    const email = generatedMember(4, CONTEXT).email;
    const before = a.get(subscriberHash(email))?.position;
    a.create({ email, status: 'cleaned', mergeFields: {}, source: 'Admin Add', lastChanged: '2024-01-01T00:00:00+00:00' });
    const after = a.get(subscriberHash(email));
    expect(after?.position).toBe(before);
    expect(after?.status).toBe('cleaned');
    expect(a.visibleCount).toBe(10);
  });

  it('keeps a change to a generated member, and reads a change undone back as the generated value', () => {
    const a = audience(50);
    const base = generatedMember(7, CONTEXT);
    const record = a.get(subscriberHash(base.email));
    if (!record) throw new Error('missing');
    record.merge_fields.FNAME = 'Other';
    a.save(record);
    expect(a.get(subscriberHash(base.email))?.merge_fields.FNAME).toBe('Other');
    const again = a.get(subscriberHash(base.email));
    if (!again) throw new Error('missing');
    again.merge_fields.FNAME = base.mergeFields.FNAME;
    a.save(again);
    expect(a.get(subscriberHash(base.email))?.merge_fields).toEqual(base.mergeFields);
    // Its neighbours never changed.
    expect(a.get(subscriberHash(generatedMember(8, CONTEXT).email))?.merge_fields).toEqual(generatedMember(8, CONTEXT).mergeFields);
  });

  it('counts statuses as members change', () => {
    const a = audience(200);
    const counts = a.countsByStatus();
    const subscribed = Array.from({ length: 200 }, (_, i) => generatedMember(i, CONTEXT)).find((m) => m.status === 'subscribed');
    const record = a.get(subscriberHash(subscribed?.email as string));
    if (!record) throw new Error('missing');
    record.status = 'unsubscribed';
    a.save(record);
    expect(a.countsByStatus()).toEqual({ ...counts, subscribed: counts.subscribed - 1, unsubscribed: counts.unsubscribed + 1 });
    record.forgotten = true;
    a.save(record);
    expect(a.visibleCount).toBe(199);
  });
});

describe('results archive pieces', () => {
  it('writes ustar headers a reader accepts (checksum, size, name)', () => {
    const content = Buffer.from('[{"a":1}]');
    const padding = Buffer.alloc(512 - content.length, 0);
    const archive = Buffer.concat([tarHeader('abc.json', content.length, 1_718_020_800), content, padding, Buffer.alloc(1024, 0)]);
    expect(readTar(archive, false)).toEqual([{ name: 'abc.json', type: '0', content }]);
  });

  it('shapes a result with the answer body as a JSON string, empty for no body', () => {
    expect(JSON.parse(resultJson(200, 'op1', { id: 'x' }))).toEqual({ status_code: 200, operation_id: 'op1', response: '{"id":"x"}' });
    expect(JSON.parse(resultJson(204, null, undefined))).toEqual({ status_code: 204, operation_id: null, response: '' });
  });
});
