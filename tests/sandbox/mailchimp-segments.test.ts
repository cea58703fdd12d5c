import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { describeSeed, generatedMember } from '../../src/sandbox/data.js';
import type { SeedDescription } from '../../src/sandbox/data.js';
import { startSandbox } from '../../src/sandbox/server.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/server.js';
import { call, mailchimpAuth } from './helpers.js';

const OPTIONS: SandboxOptions = { port: 0, now: '2024-06-10T12:00:00Z', days: 1, eventsPerDay: 0, profiles: 200, mailchimp: { audienceSize: 3000, batchesPaused: true } };
const hash = (email: string) => createHash('md5').update(email.toLowerCase()).digest('hex');

interface Segment {
  id: number;
  name: string;
  member_count: number;
  type: string;
  created_at: string;
  updated_at: string;
  list_id: string;
}

interface SegmentBatch {
  members_added: Array<{ email_address: string }>;
  members_removed: Array<{ email_address: string }>;
  errors: Array<{ email_addresses: string[]; error: string }>;
  total_added: number;
  total_removed: number;
  error_count: number;
}

interface Automations {
  total: number;
  by_via: Record<string, number>;
  triggers: Array<{ email_address: string; tag: string; via: string; batch_id?: string; operation_id?: string | null; list_id: string }>;
}

describe('Mailchimp static segments (tags)', () => {
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
  const segments = () => mc<{ segments: Segment[]; total_items: number }>(`${list}/segments?type=static&count=1000`);
  const automations = async () => (await call<Automations>(`${sb.url}/__admin/mailchimp/automations`)).body;
  const subscribed = () => seed.subscribedSame.slice(0, 6);
  const tagNames = async (email: string) => (await mc<{ tags: Array<{ name: string }> }>(`${list}/members/${hash(email)}`)).body.tags.map((t) => t.name);
  /** Members of a tag, as the generated data and the seed say (subscribed and pending ones). */
  const generatedHolders = (tag: string) =>
    Array.from({ length: 3000 }, (_, i) => generatedMember(i, OPTIONS)).filter((m) => m.tags.includes(tag) && (m.status === 'subscribed' || m.status === 'pending')).length;

  it('lists every tag as a static segment with its member count', async () => {
    const res = await segments();
    const byName = new Map(res.body.segments.map((s) => [s.name, s]));
    expect(byName.get('plan:pro')).toMatchObject({ type: 'static', list_id: sb.credentials.mailchimp.listId, member_count: generatedHolders('plan:pro') });
    expect(byName.get('mixpanel')?.member_count).toBe(generatedHolders('mixpanel'));
    expect(res.body.total_items).toBe(res.body.segments.length);
    expect((await mc<{ segments: Segment[]; total_items: number }>(`${list}/segments?type=saved`)).body.total_items).toBe(0);
    expect((await mc(`${list}/segments?type=bogus`)).status).toBe(400);
    const page = await mc<{ segments: Segment[] }>(`${list}/segments?count=2&offset=1&fields=segments.name`);
    expect(page.body.segments).toEqual(res.body.segments.slice(1, 3).map((s) => ({ name: s.name })));
  });

  it('creates a segment from addresses, ignoring those not on the list', async () => {
    const emails = subscribed().slice(0, 3);
    const res = await mc<Segment>(`${list}/segments`, { json: { name: 'Cohort: Power users', static_segment: [...emails, 'stranger@proton.me'] } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Cohort: Power users', member_count: 3, type: 'static', created_at: '2024-06-10T12:00:00+00:00' });
    for (const email of emails) expect(await tagNames(email)).toContain('Cohort: Power users');
    expect((await mc(`${list}/segments/${res.body.id}`)).status).toBe(200);
    // The same name, in another case, is taken (tags compare case-insensitively).
    const twice = await mc<{ title: string; detail: string }>(`${list}/segments`, { json: { name: 'cohort: power users', static_segment: [] } });
    expect(twice.status).toBe(400);
    const noMembers = await mc<{ detail: string }>(`${list}/segments`, { json: { name: 'Nothing' } });
    expect(noMembers.body.detail).toBe('Must provide either an "options" field or a "static_segment" field');
    const saved = await mc(`${list}/segments`, { json: { name: 'Saved', options: { match: 'any', conditions: [] } } });
    expect(saved.status).toBe(400);
    expect((await mc(`${list}/segments`, { json: { static_segment: [] } })).status).toBe(400);
  });

  it('is one registry with member tags: a tag added to a member is a segment, and the other way round', async () => {
    const [a, b] = subscribed() as [string, string];
    await mc(`${list}/members/${hash(a)}/tags`, { json: { tags: [{ name: 'from-tags', status: 'active' }], is_syncing: true } });
    const created = (await segments()).body.segments.find((s) => s.name === 'from-tags');
    expect(created?.member_count).toBe(1);
    const members = await mc<{ members: Array<{ email_address: string }>; total_items: number }>(`${list}/segments/${created?.id}/members`);
    expect(members.body).toMatchObject({ total_items: 1, members: [{ email_address: a }] });
    const segment = (await mc<Segment>(`${list}/segments`, { json: { name: 'from-segment', static_segment: [b] } })).body;
    expect(await tagNames(b)).toContain('from-segment');
    const tags = await mc<{ tags: Array<{ id: number; name: string }> }>(`${list}/members/${hash(b)}/tags`);
    expect(tags.body.tags.find((t) => t.name === 'from-segment')?.id).toBe(segment.id);
  });

  it('adds and removes members in bulk, at most 500 each, reporting addresses not on the list', async () => {
    const segment = (await mc<Segment>(`${list}/segments`, { json: { name: 'bulk', static_segment: [] } })).body;
    const [a, b, c] = subscribed() as [string, string, string];
    const added = await mc<SegmentBatch>(`${list}/segments/${segment.id}`, { json: { members_to_add: [a, b, b.toUpperCase(), 'ghost@proton.me', first(seed.forgotten)] } });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ total_added: 2, total_removed: 0, error_count: 2 });
    expect(added.body.members_added.map((m) => m.email_address)).toEqual([a, b]);
    expect(added.body.errors).toEqual([{ email_addresses: ['ghost@proton.me', first(seed.forgotten)], error: expect.any(String) }]);
    const again = await mc<SegmentBatch>(`${list}/segments/${segment.id}`, { json: { members_to_add: [a], members_to_remove: [b, c] } });
    // a already has the tag and c never had it: nothing to do for them.
    expect(again.body).toMatchObject({ total_added: 0, total_removed: 1, members_removed: [{ email_address: b }] });
    expect((await mc<Segment>(`${list}/segments/${segment.id}`)).body.member_count).toBe(1);
    const tooMany = await mc<{ errors: Array<{ field: string }> }>(`${list}/segments/${segment.id}`, {
      json: { members_to_add: Array.from({ length: 501 }, (_, i) => `bulk${i}@proton.me`) },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0]?.field).toBe('members_to_add');
    expect((await mc(`${list}/segments/999`, { json: { members_to_add: [a] } })).status).toBe(404);
  });

  it('pages segment members, leaving out unsubscribed, cleaned and transactional ones unless asked', async () => {
    const emails = [first(seed.subscribedSame), first(seed.unsubscribed), first(seed.cleaned), first(seed.pending), first(seed.transactional), first(seed.archived)];
    const segment = (await mc<Segment>(`${list}/segments`, { json: { name: 'mixed', static_segment: emails } })).body;
    expect(segment.member_count).toBe(2);
    const page = await mc<{ members: Array<{ email_address: string; status: string }>; total_items: number }>(`${list}/segments/${segment.id}/members?fields=members.status,total_items`);
    expect(page.body.total_items).toBe(2);
    expect(page.body.members.map((m) => m.status).sort()).toEqual(['pending', 'subscribed']);
    const all = await mc<{ total_items: number }>(`${list}/segments/${segment.id}/members?include_unsubscribed=true&include_cleaned=true&include_transactional=true`);
    expect(all.body.total_items).toBe(5);
    const paged = await mc<{ members: Array<{ email_address: string }> }>(`${list}/segments/${segment.id}/members?include_unsubscribed=true&include_cleaned=true&include_transactional=true&count=2&offset=2`);
    expect(paged.body.members).toHaveLength(2);
  });

  it('renames on PATCH (members keep the tag under its new name) and replaces members with static_segment', async () => {
    const [a, b, c] = subscribed() as [string, string, string];
    const segment = (await mc<Segment>(`${list}/segments`, { json: { name: 'old name', static_segment: [a, b] } })).body;
    await call(`${sb.url}/__admin/clock`, { json: { advance_ms: 60_000 } });
    const renamed = await mc<Segment>(`${list}/segments/${segment.id}`, { method: 'PATCH', json: { name: 'new name' } });
    expect(renamed.body).toMatchObject({ id: segment.id, name: 'new name', member_count: 2, updated_at: '2024-06-10T12:01:00+00:00' });
    expect(await tagNames(a)).toContain('new name');
    expect(await tagNames(a)).not.toContain('old name');
    const replaced = await mc<Segment>(`${list}/segments/${segment.id}`, { method: 'PATCH', json: { name: 'new name', static_segment: [b, c] } });
    expect(replaced.body.member_count).toBe(2);
    expect(await tagNames(a)).not.toContain('new name');
    expect(await tagNames(c)).toContain('new name');
    const taken = (await mc<Segment>(`${list}/segments`, { json: { name: 'other', static_segment: [] } })).body;
    expect((await mc(`${list}/segments/${taken.id}`, { method: 'PATCH', json: { name: 'NEW NAME' } })).status).toBe(400);
    expect((await mc(`${list}/segments/${segment.id}`, { method: 'PATCH', json: {} })).status).toBe(400);
  });

  it('deletes a segment: its tag leaves every member, generated ones included', async () => {
    const pro = (await segments()).body.segments.find((s) => s.name === 'plan:pro') as Segment;
    const holder = Array.from({ length: 100 }, (_, i) => generatedMember(i, OPTIONS)).find((m) => m.tags.includes('plan:pro'));
    expect(await tagNames(holder?.email as string)).toContain('plan:pro');
    expect((await mc(`${list}/segments/${pro.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await mc(`${list}/segments/${pro.id}`)).status).toBe(404);
    expect(await tagNames(holder?.email as string)).not.toContain('plan:pro');
    expect((await segments()).body.segments.some((s) => s.name === 'plan:pro')).toBe(false);
  });

  describe('automation triggers', () => {
    it('records tag additions without is_syncing, and none with it', async () => {
      const email = first(seed.subscribedSame);
      await mc(`${list}/members/${hash(email)}/tags`, { json: { tags: [{ name: 'quiet', status: 'active' }], is_syncing: true } });
      expect((await automations()).total).toBe(0);
      await mc(`${list}/members/${hash(email)}/tags`, { json: { tags: [{ name: 'loud', status: 'active' }, { name: 'quiet', status: 'active' }, { name: 'gone', status: 'inactive' }] } });
      const log = await automations();
      // "quiet" was already there: adding it again changes nothing and fires nothing.
      expect(log.total).toBe(1);
      expect(log.triggers).toEqual([expect.objectContaining({ email_address: email, tag: 'loud', via: 'member_tags', list_id: sb.credentials.mailchimp.listId })]);
      const bad = await mc(`${list}/members/${hash(email)}/tags`, { json: { tags: [{ name: 'x', status: 'active' }], is_syncing: 'yes' } });
      expect(bad.status).toBe(400);
    });

    it('counts segment additions, new members with tags and batch operations doing either', async () => {
      const [a, b] = subscribed() as [string, string];
      const segment = (await mc<Segment>(`${list}/segments`, { json: { name: 'cohort', static_segment: [a] } })).body;
      await mc(`${list}/segments/${segment.id}`, { json: { members_to_add: [b], members_to_remove: [a] } });
      await mc(`${list}/members`, { json: { email_address: 'tagged.new@proton.me', status: 'subscribed', merge_fields: { FNAME: 'T' }, tags: ['welcome'] } });
      const operations = [
        { method: 'POST', path: `/lists/${sb.credentials.mailchimp.listId}/members/${hash(a)}/tags`, body: JSON.stringify({ tags: [{ name: 'batch-loud', status: 'active' }] }), operation_id: 'loud' },
        { method: 'POST', path: `/lists/${sb.credentials.mailchimp.listId}/members/${hash(a)}/tags`, body: JSON.stringify({ tags: [{ name: 'batch-quiet', status: 'active' }], is_syncing: true }), operation_id: 'quiet' },
      ];
      const submitted = await mc<{ id: string }>(`${sb.url}/3.0/batches`, { json: { operations } });
      await call(`${sb.url}/__admin/mailchimp/batches`, { json: { advance_operations: 10 } });
      const log = await automations();
      expect(log.by_via).toEqual({ segment_create: 1, segment_members: 1, add_member: 1, member_tags: 1 });
      expect(log.triggers.find((t) => t.tag === 'batch-loud')).toMatchObject({ email_address: a, batch_id: submitted.body.id, operation_id: 'loud' });
      expect(log.triggers.some((t) => t.tag === 'batch-quiet')).toBe(false);
      await call(`${sb.url}/__admin/reset`, { method: 'POST' });
      expect((await automations()).total).toBe(0);
    });
  });
});

function first(emails: string[]): string {
  return emails[0] as string;
}
