/**
 * What the sandbox's Mailchimp serves a reader (tap-mailchimp): interest categories and
 * interests, tag search, members' interests and marketing permissions (and writes of them),
 * sort_field, the Date header by the sandbox clock, the peak of requests in flight, faults
 * matched by query parameters, and the admin API that creates audiences and changes members.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { call, mailchimpAuth } from './helpers.js';

interface Member {
  id: string;
  email_address: string;
  status: string;
  last_changed: string;
  interests: Record<string, boolean>;
  marketing_permissions: Array<{ marketing_permission_id: string; text: string; enabled: boolean }>;
  merge_fields: Record<string, unknown>;
  tags: Array<{ name: string }>;
  vip: boolean;
  language: string;
}

interface MembersPage {
  members: Member[];
  total_items: number;
}

let sb: Sandbox;
let api: string;
let admin: string;
let auth: Record<string, string>;

beforeAll(async () => {
  sb = await startSandbox({ port: 0, now: '2024-06-10T12:00:00Z', days: 1, eventsPerDay: 5, profiles: 60, mailchimp: { audienceSize: 500 } });
  api = `${sb.url}/3.0/lists/${sb.credentials.mailchimp.listId}`;
  admin = `${sb.url}/__admin/mailchimp/lists`;
  auth = mailchimpAuth(sb);
});

afterAll(async () => {
  await sb.close();
});

beforeEach(async () => {
  await call(`${sb.url}/__admin/reset`, { method: 'POST' });
});

const get = <T>(url: string) => call<T>(url, { headers: auth });

describe('groups and marketing permissions', () => {
  it('lists interest categories and their interests with the API shapes (subscriber_count a string)', async () => {
    const categories = await get<{ categories: Array<{ id: string; title: string; type: string; list_id: string }>; total_items: number }>(`${api}/interest-categories?count=10`);
    expect(categories.status).toBe(200);
    expect(categories.body.categories.map((c) => [c.title, c.type])).toEqual([['Topics', 'checkboxes'], ['How often', 'radio']]);
    const topics = categories.body.categories[0]?.id ?? '';
    const interests = await get<{ interests: Array<{ id: string; name: string; category_id: string; subscriber_count: unknown }>; total_items: number }>(`${api}/interest-categories/${topics}/interests`);
    expect(interests.body.interests.map((i) => i.name)).toEqual(['Product news', 'Events', 'Tips and tutorials']);
    expect(interests.body.interests.every((i) => typeof i.subscriber_count === 'string' && i.category_id === topics)).toBe(true);
    expect((await get(`${api}/interest-categories/nope/interests`)).status).toBe(404);
  });

  it("a member's interests name every interest; writes change them, move last_changed and refuse unknown ids", async () => {
    const page = await get<MembersPage>(`${api}/members?count=1&fields=members.id,members.interests,members.last_changed,members.marketing_permissions`);
    const member = page.body.members[0] as Member;
    expect(Object.keys(member.interests)).toHaveLength(5);
    expect(member.marketing_permissions.map((p) => p.text)).toEqual(['Email', 'Direct Mail', 'Customized Online Advertising']);
    const [first] = Object.keys(member.interests);
    const permission = member.marketing_permissions[0]?.marketing_permission_id ?? '';
    await call(`${sb.url}/__admin/clock`, { method: 'POST', json: { advance_ms: 5000 } });
    const patched = await call<Member>(`${api}/members/${member.id}`, {
      method: 'PATCH',
      headers: auth,
      json: { interests: { [first as string]: !member.interests[first as string] }, marketing_permissions: [{ marketing_permission_id: permission, enabled: !member.marketing_permissions[0]?.enabled }] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.interests[first as string]).toBe(!member.interests[first as string]);
    expect(patched.body.marketing_permissions[0]?.enabled).toBe(!member.marketing_permissions[0]?.enabled);
    expect(Date.parse(patched.body.last_changed)).toBeGreaterThan(Date.parse(member.last_changed));
    const refused = await call<{ title: string }>(`${api}/members/${member.id}`, { method: 'PATCH', headers: auth, json: { interests: { nope: true } } });
    expect([refused.status, refused.body.title]).toEqual([400, 'Invalid Resource']);
  });

  it('a member created through the API is in no interest and has every permission off, unless the write says so', async () => {
    const categories = await get<{ categories: Array<{ id: string }> }>(`${api}/interest-categories?count=10`);
    const topics = categories.body.categories[0]?.id ?? '';
    const interests = await get<{ interests: Array<{ id: string }> }>(`${api}/interest-categories/${topics}/interests`);
    const chosen = interests.body.interests[1]?.id ?? '';
    const sample = (await get<MembersPage>(`${api}/members?count=1&fields=members.marketing_permissions`)).body.members[0] as Member;
    const permission = sample.marketing_permissions[2]?.marketing_permission_id ?? '';
    for (let i = 0; i < 12; i++) {
      // Twelve addresses, so a default drawn from the address could not come out all false by chance.
      const plain = await call<Member>(`${api}/members`, { method: 'POST', headers: auth, json: { email_address: `new.${i}@example.org`, status: 'subscribed', merge_fields: { FNAME: 'New' } } });
      expect(plain.status).toBe(200);
      expect(Object.values(plain.body.interests).some(Boolean)).toBe(false);
      expect(plain.body.marketing_permissions.some((p) => p.enabled)).toBe(false);
    }
    const given = await call<Member>(`${api}/members`, { method: 'POST', headers: auth, json: { email_address: 'given@example.org', status: 'subscribed', merge_fields: { FNAME: 'Given' }, interests: { [chosen]: true }, marketing_permissions: [{ marketing_permission_id: permission, enabled: true }] } });
    expect(Object.entries(given.body.interests).filter(([, on]) => on).map(([id]) => id)).toEqual([chosen]);
    expect(given.body.marketing_permissions.filter((p) => p.enabled).map((p) => p.marketing_permission_id)).toEqual([permission]);
  });

  it('the audience has GDPR fields; tag search finds tags by prefix', async () => {
    const list = await get<{ marketing_permissions: boolean }>(`${api}?fields=marketing_permissions`);
    expect(list.body.marketing_permissions).toBe(true);
    const tags = await get<{ tags: Array<{ name: string }>; total_items: number }>(`${api}/tag-search?name=plan`);
    expect(tags.body.tags.map((t) => t.name).sort()).toEqual(['plan:free', 'plan:pro']);
  });
});

describe('members listing for a reader', () => {
  it('sort_field=last_changed orders the listing (ASC and DESC), filters still apply', async () => {
    const asc = await get<MembersPage>(`${api}/members?count=1000&fields=members.last_changed,total_items&sort_field=last_changed&sort_dir=ASC&before_last_changed=2024-06-01T00:00:00Z`);
    const times = asc.body.members.map((m) => Date.parse(m.last_changed));
    expect(times.length).toBe(asc.body.total_items);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.every((t) => t < Date.parse('2024-06-01T00:00:00Z'))).toBe(true);
    const desc = await get<MembersPage>(`${api}/members?count=5&offset=0&fields=members.last_changed&sort_field=last_changed&sort_dir=DESC&before_last_changed=2024-06-01T00:00:00Z`);
    expect(desc.body.members.map((m) => m.last_changed)).toEqual(asc.body.members.slice(-5).reverse().map((m) => m.last_changed));
    expect((await get(`${api}/members?sort_field=email`)).status).toBe(400);
  });

  it("answers with Mailchimp's Date header by the sandbox clock", async () => {
    const response = await get(`${sb.url}/3.0/ping`);
    const date = Date.parse(response.headers.get('date') ?? '');
    expect(date).toBeGreaterThanOrEqual(Date.parse('2024-06-10T12:00:00Z'));
    expect(date).toBeLessThan(Date.parse('2024-06-10T13:00:00Z'));
  });

  it('counts the most requests in flight at once (cleared with the request log)', async () => {
    await call(`${sb.url}/__admin/requests`, { method: 'DELETE' });
    await call(`${sb.url}/__admin/settings`, { method: 'POST', json: { latency_ms: { mailchimp: 100 } } });
    await Promise.all(Array.from({ length: 4 }, () => get(`${sb.url}/3.0/ping`)));
    const summary = await call<{ mailchimp_peak_in_flight: number }>(`${sb.url}/__admin/requests/summary`);
    expect(summary.body.mailchimp_peak_in_flight).toBe(4);
    await call(`${sb.url}/__admin/requests`, { method: 'DELETE' });
    expect((await call<{ mailchimp_peak_in_flight: number }>(`${sb.url}/__admin/requests/summary`)).body.mailchimp_peak_in_flight).toBe(0);
  });

  it('a fault rule can match query parameters (one page of a listing)', async () => {
    await call(`${sb.url}/__admin/settings`, { method: 'POST', json: { faults: [{ kind: 'status', family: 'mailchimp', status: 503, times: 1, when: { path_prefix: '/3.0/lists/', query: { offset: 20 } } }] } });
    expect((await get(`${api}/members?count=10&offset=10`)).status).toBe(200);
    expect((await get(`${api}/members?count=10&offset=20`)).status).toBe(503);
    expect((await get(`${api}/members?count=10&offset=20`)).status).toBe(200);
  });
});

describe('admin: audiences and member changes', () => {
  it('creates another audience with its own groups; GET /lists lists both', async () => {
    const created = await call(admin, { method: 'POST', json: { id: 'f6a7b8c9d0', name: 'Second', members: [{ email_address: 'ana@proton.me' }], interest_categories: [{ title: 'Colour', type: 'dropdown', interests: ['Red', 'Blue'] }], marketing_permissions: ['Email'] } });
    expect(created.status).toBe(200);
    const lists = await get<{ lists: Array<{ id: string; name: string }>; total_items: number }>(`${sb.url}/3.0/lists?fields=lists.id,lists.name,total_items`);
    expect(lists.body.lists.map((l) => l.id)).toEqual([sb.credentials.mailchimp.listId, 'f6a7b8c9d0']);
    const categories = await get<{ categories: Array<{ title: string }> }>(`${sb.url}/3.0/lists/f6a7b8c9d0/interest-categories`);
    expect(categories.body.categories.map((c) => c.title)).toEqual(['Colour']);
    expect((await call(admin, { method: 'POST', json: { id: 'f6a7b8c9d0' } })).status).toBe(409);
  });

  it('changes a member: status, merge field, tags, VIP, language, archive; last_changed moves unless "keep"', async () => {
    const { members } = (await get<MembersPage>(`${api}/members?count=1&status=subscribed`)).body;
    const member = members[0] as Member;
    await call(`${sb.url}/__admin/clock`, { method: 'POST', json: { advance_ms: 60_000 } });
    const changed = await call<Member>(`${admin}/${sb.credentials.mailchimp.listId}/members/${encodeURIComponent(member.email_address)}`, {
      method: 'PATCH',
      json: { status: 'unsubscribed', merge_fields: { LTV: 12 }, tags: { add: ['churned'] }, vip: true, language: 'fr' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ status: 'unsubscribed', vip: true, language: 'fr' });
    expect(changed.body.merge_fields.LTV).toBe(12);
    expect(changed.body.tags.map((t) => t.name)).toContain('churned');
    expect(Date.parse(changed.body.last_changed)).toBeGreaterThan(Date.parse(member.last_changed));
    const kept = await call<Member>(`${admin}/${sb.credentials.mailchimp.listId}/members/${member.id}`, { method: 'PATCH', json: { tags: { remove: ['churned'] }, last_changed: 'keep' } });
    expect(kept.body.last_changed).toBe(changed.body.last_changed);
    await call(`${sb.url}/__admin/clock`, { method: 'POST', json: { advance_ms: 1000 } });
    const archived = await call<Member>(`${admin}/${sb.credentials.mailchimp.listId}/members/${member.id}`, { method: 'PATCH', json: { status: 'archived' } });
    expect(archived.body.status).toBe('archived');
    const listed = await get<MembersPage>(`${api}/members?status=archived&since_last_changed=${encodeURIComponent(kept.body.last_changed)}`);
    expect(listed.body.members.map((m) => m.id)).toEqual([member.id]);
  });

  it('refuses what no member could have', async () => {
    const url = `${admin}/${sb.credentials.mailchimp.listId}/members`;
    const { members } = (await get<MembersPage>(`${api}/members?count=1`)).body;
    expect((await call(`${url}/nobody@proton.me`, { method: 'PATCH', json: { status: 'subscribed' } })).status).toBe(404);
    expect((await call(`${url}/${members[0]?.id ?? ''}`, { method: 'PATCH', json: { status: 'gone' } })).status).toBe(400);
    expect((await call(`${url}/${members[0]?.id ?? ''}`, { method: 'PATCH', json: { merge_fields: { LTV: 'lots' } } })).status).toBe(400);
  });
});
