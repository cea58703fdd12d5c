import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { GENERATED_TAGS, describeSeed, generatedCategory, generatedEmail, generatedMember } from '../../src/sandbox/data.js';
import type { SeedDescription } from '../../src/sandbox/data.js';
import { mailchimpTime } from '../../src/sandbox/mailchimp/store.js';
import { startSandbox } from '../../src/sandbox/server.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/server.js';
import { call, mailchimpAuth } from './helpers.js';

const SIZE = 20_000;
const OPTIONS: SandboxOptions = { port: 0, now: '2024-06-10T12:00:00Z', days: 1, eventsPerDay: 0, profiles: 100, mailchimp: { members: 30, audienceSize: SIZE } };
const hash = (email: string) => createHash('md5').update(email.toLowerCase()).digest('hex');

interface Member {
  id: string;
  email_address: string;
  status: string;
  merge_fields: Record<string, string>;
  tags: Array<{ id: number; name: string }>;
  last_changed: string;
  timestamp_signup: string;
}

interface Page {
  members: Member[];
  total_items: number;
}

describe('generatedMember', () => {
  it('is a pure function of the seed: same member every time, others for another seed', () => {
    const a = generatedMember(1234, OPTIONS);
    expect(generatedMember(1234, { ...OPTIONS })).toEqual(a);
    expect(generatedMember(1234, { ...OPTIONS, seed: 7 }).email).not.toBe(a.email);
    expect(a.email).toBe(generatedEmail(1234, 42));
    expect(a.category).toBe(generatedCategory(1234, 42));
    expect(a.email).toMatch(/^[a-z]+\.[a-z]+\.gen1234@[a-z.]+$/);
  });

  it('gives mostly subscribed members, some of every other kind, and the generated tags', () => {
    const seed = describeSeed(OPTIONS);
    const counts = seed.generated.byCategory;
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(SIZE);
    expect(counts.subscribed / SIZE).toBeGreaterThan(0.8);
    for (const category of ['unsubscribed', 'unsubscribedCompliance', 'cleaned', 'pending', 'archived'] as const) expect(counts[category]).toBeGreaterThan(100);
    const tags = new Set(Array.from({ length: 500 }, (_, i) => generatedMember(i, OPTIONS).tags).flat());
    expect([...tags].sort()).toEqual([...GENERATED_TAGS].sort());
    expect(seed.generated.firstPosition).toBe(30);
  });
});

describe('Mailchimp with a generated audience', () => {
  let sb: Sandbox;
  let seed: SeedDescription;
  let list: string;

  beforeAll(async () => {
    sb = await startSandbox(OPTIONS);
    seed = describeSeed(OPTIONS);
    list = `${sb.url}/3.0/lists/${sb.credentials.mailchimp.listId}`;
  });

  beforeEach(async () => {
    await call(`${sb.url}/__admin/reset`, { method: 'POST' });
  });

  afterAll(async () => {
    await sb.close();
  });

  const mc = <T>(url: string, init: { method?: string; json?: unknown } = {}) => call<T>(url, { ...init, headers: mailchimpAuth(sb) });
  const lookup = (email: string, query = '') => mc<Member & { title?: string }>(`${list}/members/${hash(email)}${query}`);

  describe('member lookups by subscriber hash', () => {
    it('finds generated members with the generated fields, by hash or by address', async () => {
      for (const i of [0, 1, 777, SIZE - 1]) {
        const expected = generatedMember(i, OPTIONS);
        const res = await lookup(expected.email);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({
          id: hash(expected.email),
          email_address: expected.email,
          status: expected.status,
          merge_fields: expect.objectContaining(expected.mergeFields),
          last_changed: mailchimpTime(expected.lastChangedMs),
          timestamp_signup: mailchimpTime(expected.timestampSignupMs),
        });
        expect(res.body.tags.map((t) => t.name).sort()).toEqual([...expected.tags].sort());
        const byAddress = await mc<Member>(`${list}/members/${encodeURIComponent(expected.email.toUpperCase())}`);
        expect(byAddress.body.id).toBe(res.body.id);
      }
    });

    it('projects fields and exclude_fields', async () => {
      const email = generatedMember(5, OPTIONS).email;
      expect((await lookup(email, '?fields=email_address,status')).body).toEqual({ email_address: email, status: generatedMember(5, OPTIONS).status });
      const excluded = await lookup(email, '?exclude_fields=merge_fields,_links,tags');
      expect(excluded.body.merge_fields).toBeUndefined();
      expect(excluded.body.email_address).toBe(email);
    });

    it('404s non-members and permanently deleted members; finds archived ones with their status', async () => {
      const missing = await lookup('gen.nobody.gen99999999@proton.me');
      expect(missing.status).toBe(404);
      expect(missing.body.title).toBe('Resource Not Found');
      expect((await mc(`${list}/members/not-a-hash`)).status).toBe(404);
      const archivedIndex = Array.from({ length: 200 }, (_, i) => i).find((i) => generatedMember(i, OPTIONS).category === 'archived') as number;
      const archived = await lookup(generatedMember(archivedIndex, OPTIONS).email);
      expect(archived.body.status).toBe('archived');
      const victim = generatedMember(3, OPTIONS).email;
      expect((await mc(`${list}/members/${hash(victim)}/actions/delete-permanent`, { method: 'POST' })).status).toBe(204);
      expect((await lookup(victim)).status).toBe(404);
      expect((await lookup(first(seed.forgotten))).status).toBe(404);
      expect((await lookup(first(seed.archived))).body.status).toBe('archived');
    });
  });

  describe('writes to generated members', () => {
    it('keep what changed and nothing else, and survive later lookups and pages', async () => {
      const target = generatedMember(10, OPTIONS);
      const res = await mc<Member>(`${list}/members/${hash(target.email)}`, { method: 'PATCH', json: { merge_fields: { LNAME: 'Changed' } } });
      expect(res.status).toBe(200);
      const after = (await lookup(target.email)).body;
      expect(after.merge_fields).toMatchObject({ FNAME: target.mergeFields.FNAME, LNAME: 'Changed' });
      expect(after.status).toBe(target.status);
      expect(after.last_changed).toBe(mailchimpTime(Date.parse('2024-06-10T12:00:00Z')));
      // API offsets skip the permanently deleted seeded member; positions (the admin view) do not.
      const page = await mc<Page>(`${list}/members?count=1&offset=${seed.generated.firstPosition - seed.forgotten.length + 10}&fields=members.email_address,members.merge_fields`);
      expect(page.body.members[0]).toEqual({ email_address: target.email, merge_fields: expect.objectContaining({ LNAME: 'Changed' }) });
      // A neighbour is untouched.
      expect((await lookup(generatedMember(11, OPTIONS).email)).body.merge_fields.LNAME).toBe(generatedMember(11, OPTIONS).mergeFields.LNAME);
    });

    it('follow the member rules: no re-subscribing compliance-locked members, archive, tags', async () => {
      const lockedIndex = Array.from({ length: 500 }, (_, i) => i).find((i) => generatedMember(i, OPTIONS).category === 'unsubscribedCompliance') as number;
      const locked = generatedMember(lockedIndex, OPTIONS).email;
      const refused = await mc<{ title: string }>(`${list}/members/${hash(locked)}`, { method: 'PATCH', json: { status: 'subscribed' } });
      expect(refused.body.title).toBe('Member In Compliance State');
      const subscribedIndex = Array.from({ length: 50 }, (_, i) => i).find((i) => generatedMember(i, OPTIONS).status === 'subscribed') as number;
      const email = generatedMember(subscribedIndex, OPTIONS).email;
      await mc(`${list}/members/${hash(email)}/tags`, { json: { tags: [{ name: 'cohort:vip', status: 'active' }, { name: 'mixpanel', status: 'inactive' }], is_syncing: true } });
      const tagged = (await lookup(email)).body;
      expect(tagged.tags.map((t) => t.name)).toContain('cohort:vip');
      expect(tagged.tags.map((t) => t.name)).not.toContain('mixpanel');
      expect((await mc(`${list}/members/${hash(email)}`, { method: 'DELETE' })).status).toBe(204);
      expect((await lookup(email)).body.status).toBe('archived');
    });

    it('PUT creates new members after the generated ones; reset puts the generated audience back', async () => {
      await mc(`${list}/members/${hash('brand.new@proton.me')}`, { method: 'PUT', json: { email_address: 'brand.new@proton.me', status_if_new: 'subscribed', merge_fields: { FNAME: 'New' } } });
      await mc(`${list}/members/${hash(generatedMember(0, OPTIONS).email)}`, { method: 'PATCH', json: { merge_fields: { FNAME: 'Temp' } } });
      const total = seed.memberCount - 1 + SIZE + 1;
      const last = await mc<Page>(`${list}/members?count=1&offset=${total - 1}&fields=members.email_address,total_items`);
      expect(last.body).toEqual({ members: [{ email_address: 'brand.new@proton.me' }], total_items: total });
      await call(`${sb.url}/__admin/reset`, { method: 'POST' });
      expect((await lookup('brand.new@proton.me')).status).toBe(404);
      expect((await lookup(generatedMember(0, OPTIONS).email)).body.merge_fields.FNAME).toBe(generatedMember(0, OPTIONS).mergeFields.FNAME);
    });
  });

  describe('the members page', () => {
    it('pages the whole audience in one stable order: seeded members, then generated ones by index', async () => {
      const seen: string[] = [];
      let total = 0;
      for (let offset = 0; ; offset += 1000) {
        const res = await mc<Page>(`${list}/members?count=1000&offset=${offset}&fields=members.email_address,total_items`);
        total = res.body.total_items;
        seen.push(...res.body.members.map((m) => m.email_address));
        if (res.body.members.length < 1000) break;
      }
      expect(total).toBe(seed.memberCount - 1 + SIZE);
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
      const firstGenerated = seed.memberCount - 1; // the forgotten seeded member is not listed
      for (const i of [0, 1, 4999, SIZE - 1]) expect(seen[firstGenerated + i]).toBe(generatedMember(i, OPTIONS).email);
    });

    it('filters by status, agreeing with the list stats and the categories', async () => {
      const stats = (await mc<{ stats: { member_count: number; unsubscribe_count: number; cleaned_count: number; total_contacts: number } }>(list)).body.stats;
      const byStatus = async (status: string) => (await mc<Page>(`${list}/members?status=${status}&count=1&fields=total_items`)).body.total_items;
      expect(await byStatus('subscribed')).toBe(stats.member_count);
      expect(await byStatus('unsubscribed')).toBe(stats.unsubscribe_count);
      expect(await byStatus('cleaned')).toBe(stats.cleaned_count);
      const g = seed.generated.byCategory;
      expect(await byStatus('archived')).toBe(seed.archived.length + g.archived);
      expect(stats.cleaned_count).toBe(seed.cleaned.length + g.cleaned);
      expect(stats.total_contacts).toBe(seed.memberCount - 1 + SIZE);
      const pending = await mc<Page>(`${list}/members?status=pending&count=1000&offset=0&fields=members.status`);
      expect(pending.body.members.every((m) => m.status === 'pending')).toBe(true);
    });

    it('since_last_changed returns the members changed after it, with writes moving last_changed', async () => {
      const cut = '2024-06-01T00:00:00+00:00';
      const expected = Array.from({ length: SIZE }, (_, i) => i).filter((i) => generatedMember(i, OPTIONS).lastChangedMs > Date.parse(cut)).length;
      const before = await mc<Page>(`${list}/members?since_last_changed=${encodeURIComponent(cut)}&count=1&fields=total_items`);
      const seededAfter = (await call<{ members: Array<{ last_changed: string; forgotten: boolean }> }>(`${sb.url}/__admin/mailchimp/lists/${sb.credentials.mailchimp.listId}/members?count=30`)).body.members.filter(
        (m) => !m.forgotten && Date.parse(m.last_changed) > Date.parse(cut),
      ).length;
      expect(before.body.total_items).toBe(expected + seededAfter);
      const now = '2024-06-10T12:00:00+00:00';
      const none = await mc<Page>(`${list}/members?since_last_changed=${encodeURIComponent(now)}&count=10`);
      expect(none.body.total_items).toBe(0);
      const changed = [generatedMember(100, OPTIONS).email, generatedMember(15000, OPTIONS).email];
      await call(`${sb.url}/__admin/clock`, { json: { advance_ms: 60_000 } });
      for (const email of changed) await mc(`${list}/members/${hash(email)}`, { method: 'PATCH', json: { merge_fields: { FNAME: 'Moved' } } });
      // A tag change does not move last_changed.
      await mc(`${list}/members/${hash(generatedMember(200, OPTIONS).email)}/tags`, { json: { tags: [{ name: 'only-a-tag', status: 'active' }], is_syncing: true } });
      // Nor does a PATCH that changes nothing.
      await mc(`${list}/members/${hash(generatedMember(300, OPTIONS).email)}`, { method: 'PATCH', json: { merge_fields: { FNAME: generatedMember(300, OPTIONS).mergeFields.FNAME } } });
      const after = await mc<Page>(`${list}/members?since_last_changed=${encodeURIComponent(now)}&count=10&fields=members.email_address,total_items`);
      expect(after.body.members.map((m) => m.email_address)).toEqual(changed);
      const bad = await mc<{ errors: Array<{ field: string }> }>(`${list}/members?since_last_changed=yesterday`);
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0]?.field).toBe('since_last_changed');
    });
  });

  describe('the admin view', () => {
    it('pages the audience with counts by status and lists written members', async () => {
      const admin = `${sb.url}/__admin/mailchimp/lists/${sb.credentials.mailchimp.listId}/members`;
      const page = await call<{ total_items: number; counts: Record<string, number>; members: Array<{ email_address: string; position: number }>; next_offset?: number; generated: { start: number; count: number } }>(
        `${admin}?offset=30&count=5`,
      );
      expect(page.body.members.map((m) => m.email_address)).toEqual([0, 1, 2, 3, 4].map((i) => generatedMember(i, OPTIONS).email));
      expect(page.body.members.map((m) => m.position)).toEqual([30, 31, 32, 33, 34]);
      expect(page.body.next_offset).toBe(35);
      expect(page.body.generated).toEqual({ start: 30, count: SIZE });
      expect(Object.values(page.body.counts).reduce((a, b) => a + b, 0)).toBe(seed.memberCount - 1 + SIZE);
      await mc(`${list}/members/${hash(generatedMember(42, OPTIONS).email)}`, { method: 'PATCH', json: { merge_fields: { FNAME: 'W' } } });
      const written = await call<{ members: Array<{ email_address: string }>; total_items: number }>(`${admin}?written=true`);
      expect(written.body.members.map((m) => m.email_address)).toEqual([generatedMember(42, OPTIONS).email]);
    });

    it('serves the generated members as generated, for clients in another process', async () => {
      const res = await call<{ total_items: number; members: Array<{ index: number; email_address: string; category: string; tags: string[] }> }>(`${sb.url}/__admin/mailchimp/generated?offset=100&count=3`);
      expect(res.body.total_items).toBe(SIZE);
      expect(res.body.members).toEqual([100, 101, 102].map((i) => expect.objectContaining({ index: i, email_address: generatedMember(i, OPTIONS).email, category: generatedMember(i, OPTIONS).category, tags: generatedMember(i, OPTIONS).tags })));
      const health = await call<{ rss_bytes: number; max_rss_bytes: number }>(`${sb.url}/__admin/health`);
      expect(health.body.rss_bytes).toBeGreaterThan(0);
      expect(health.body.max_rss_bytes).toBeGreaterThanOrEqual(health.body.rss_bytes * 0.5);
    });
  });
});

function first(emails: string[]): string {
  return emails[0] as string;
}
