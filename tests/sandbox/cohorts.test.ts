/**
 * The sandbox's cohorts changing between runs through the admin API: members added and removed
 * (profiles and profile-less ids), cohorts renamed, created and deleted, a profile's email set;
 * cohorts/list (count) and engage with filter_by_cohort follow at once, an open engage session
 * keeps its snapshot, and POST /__admin/reset restores the seed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { COHORTS } from '../../src/sandbox/mixpanel/cohort-store.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { call, secretAuth } from './helpers.js';

interface EngagePage {
  page: number;
  page_size: number;
  session_id: string;
  total: number;
  results: Array<{ $distinct_id: string; $properties: Record<string, unknown> }>;
}

interface ListedCohort {
  id: number;
  name: string;
  count: number;
  created: string;
  is_visible: number;
}

interface AdminCohort {
  id: number;
  name: string;
  description: string;
  created: string;
  is_visible: boolean;
  count: number;
  members: string[];
}

const PAGE_SIZE = 4;
let sb: Sandbox;
let profiles: Array<{ $distinct_id: string; $properties: Record<string, unknown> }>;

beforeAll(async () => {
  sb = await startSandbox({ port: 0, seed: 5, now: '2024-06-10T12:00:00Z', days: 2, eventsPerDay: 10, profiles: 30, engagePageSize: PAGE_SIZE, projectTimezone: 'America/Los_Angeles' });
  profiles = (await call<typeof profiles>(`${sb.url}/__admin/mixpanel/profiles`)).body;
});

afterAll(async () => {
  await sb.close();
});

beforeEach(async () => {
  expect((await call(`${sb.url}/__admin/reset`, { method: 'POST' })).status).toBe(200);
});

const admin = (path = '') => `${sb.url}/__admin/mixpanel/cohorts${path}`;

async function members(cohortId: number): Promise<EngagePage['results']> {
  const all: EngagePage['results'] = [];
  let sessionId: string | undefined;
  for (let page = 0; ; page++) {
    const form: Record<string, string> = { filter_by_cohort: JSON.stringify({ id: cohortId }), ...(sessionId ? { session_id: sessionId, page: String(page) } : {}) };
    const res = await call<EngagePage>(`${sb.url}/api/query/engage`, { headers: secretAuth(sb), form });
    expect(res.status).toBe(200);
    all.push(...res.body.results);
    sessionId = res.body.session_id;
    if (res.body.results.length < PAGE_SIZE) return all;
  }
}

async function listed(): Promise<ListedCohort[]> {
  const res = await call<ListedCohort[]>(`${sb.url}/api/query/cohorts/list`, { method: 'POST', headers: secretAuth(sb) });
  expect(res.status).toBe(200);
  return res.body;
}

const ids = (results: EngagePage['results']) => results.map((p) => p.$distinct_id);

describe('cohort admin API', () => {
  it('lists every cohort with its members in engage order, matching cohorts/list and engage', async () => {
    const res = await call<{ cohorts: AdminCohort[] }>(admin());
    expect(res.body.cohorts.map((c) => c.id)).toEqual(COHORTS.map((c) => c.id));
    const list = await listed();
    for (const cohort of res.body.cohorts) {
      expect(list.find((c) => c.id === cohort.id)?.count).toBe(cohort.members.length);
      expect(ids(await members(cohort.id))).toEqual(cohort.members);
    }
  });

  it('adds and removes members: engage and the count follow at once', async () => {
    const before = (await call<AdminCohort>(admin('/2'))).body;
    const leaving = before.members[0] as string;
    const entering = profiles.find((p) => !before.members.includes(p.$distinct_id))?.$distinct_id as string;
    const res = await call<AdminCohort>(admin('/2'), { json: { add: [entering, 'anon-device-7'], remove: [leaving] } });
    expect(res.status).toBe(200);
    const got = ids(await members(2));
    expect(got).toContain(entering);
    expect(got).not.toContain(leaving);
    // A profile keeps its population position; an id without a profile comes after the profiles, with no properties.
    expect(got.at(-1)).toBe('anon-device-7');
    expect((await members(2)).at(-1)?.$properties).toEqual({});
    expect(got).toHaveLength(before.members.length + 1);
    expect((await listed()).find((c) => c.id === 2)?.count).toBe(before.members.length + 1);
    expect(res.body.members).toEqual(got);
  });

  it('removes seeded profile-less members too, and a removed member can come back', async () => {
    const seeded = (await call<AdminCohort>(admin('/1'))).body.members.filter((id) => id.startsWith('$device:'));
    expect(seeded).toHaveLength(2);
    await call(admin('/1'), { json: { remove: seeded } });
    expect(ids(await members(1)).some((id) => id.startsWith('$device:'))).toBe(false);
    await call(admin('/1'), { method: 'PATCH', json: { add: [seeded[0]] } });
    expect(ids(await members(1)).filter((id) => id.startsWith('$device:'))).toEqual([seeded[0]]);
  });

  it('renames a cohort', async () => {
    await call(admin('/3'), { json: { name: 'Enterprise (renamed)' } });
    expect((await listed()).find((c) => c.id === 3)?.name).toBe('Enterprise (renamed)');
  });

  it('creates a cohort with a name and members, dated by the sandbox clock in the project zone', async () => {
    const chosen = [profiles[4]?.$distinct_id as string, profiles[2]?.$distinct_id as string, 'no-profile-1'];
    const res = await call<AdminCohort>(admin(), { json: { name: 'Trial ends this week', members: chosen } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 5, name: 'Trial ends this week', is_visible: true });
    // The clock started at 12:00Z (05:00 in Los Angeles) after the reset and runs with real time.
    expect(res.body.created).toMatch(/^2024-06-10 05:0\d:\d\d$/);
    // Population order for profiles, then the profile-less id.
    expect(ids(await members(5))).toEqual([chosen[1], chosen[0], 'no-profile-1']);
    expect((await listed()).map((c) => [c.id, c.count]).at(-1)).toEqual([5, 3]);
    const empty = await call<AdminCohort>(admin(), { json: { id: 40, name: 'Nobody yet' } });
    expect(empty.body).toMatchObject({ id: 40, count: 0, members: [] });
    expect(await members(40)).toEqual([]);
    expect((await call(admin(), { json: { id: 40, name: 'again' } })).status).toBe(409);
  });

  it('deletes a cohort: gone from cohorts/list, engage finds no members', async () => {
    expect((await call(admin('/4'), { method: 'DELETE' })).status).toBe(204);
    expect((await listed()).map((c) => c.id)).toEqual([1, 2, 3]);
    expect(await members(4)).toEqual([]);
    expect((await call(admin('/4'))).status).toBe(404);
    expect((await call(admin('/4'), { method: 'DELETE' })).status).toBe(404);
    // As in Mixpanel, a new cohort does not take a deleted cohort's id.
    expect((await call<AdminCohort>(admin(), { json: { name: 'after the deletion' } })).body.id).toBe(5);
  });

  it('a profile\'s email set through the profiles endpoint shows in the cohort\'s engage results', async () => {
    const member = (await call<AdminCohort>(admin('/2'))).body.members[0] as string;
    await call(`${sb.url}/__admin/mixpanel/profiles`, { json: { profiles: [{ distinct_id: member, $set: { $email: 'new.address@example.org' } }] } });
    expect((await members(2)).find((p) => p.$distinct_id === member)?.$properties.$email).toBe('new.address@example.org');
  });

  it('an engage session opened before a change keeps its snapshot; a new one sees the change', async () => {
    const first = await call<EngagePage>(`${sb.url}/api/query/engage`, { headers: secretAuth(sb), form: { filter_by_cohort: '{"id":4}' } });
    const snapshot = first.body.total;
    const everyone = (await call<AdminCohort>(admin('/4'))).body.members;
    await call(admin('/4'), { json: { remove: everyone.slice(0, 5) } });
    const second = await call<EngagePage>(`${sb.url}/api/query/engage`, {
      headers: secretAuth(sb),
      form: { filter_by_cohort: '{"id":4}', session_id: first.body.session_id, page: '1' },
    });
    expect(second.body.total).toBe(snapshot);
    expect((await members(4)).length).toBe(snapshot - 5);
  });

  it('reset restores the seeded cohorts', async () => {
    const seeded = await listed();
    await call(admin('/1'), { json: { name: 'x', remove: (await call<AdminCohort>(admin('/1'))).body.members } });
    await call(admin('/2'), { method: 'DELETE' });
    await call(admin(), { json: { name: 'new' } });
    expect(await listed()).not.toEqual(seeded);
    await call(`${sb.url}/__admin/reset`, { method: 'POST' });
    expect(await listed()).toEqual(seeded);
  });

  it.each([
    ['', { members: ['a'] }, 400, 'name is required'],
    ['', { name: '  ' }, 400, 'name must be a non-empty string'],
    ['', { name: 'x', members: 'a,b' }, 400, 'members must be an array'],
    ['', { name: 'x', id: 0 }, 400, 'id must be a positive integer'],
    ['/2', { add: [''] }, 400, 'add must be an array of distinct_ids'],
    ['/2', { rename: 'x' }, 400, 'unknown key rename'],
    ['/2', { is_visible: 'yes' }, 400, 'is_visible must be true or false'],
    ['/99', { name: 'x' }, 404, 'No cohort 99'],
  ])('POST %s %p -> %i naming the problem', async (path, body, status, message) => {
    const res = await call<{ error: string }>(admin(path), { json: body });
    expect(res.status).toBe(status);
    expect(res.body.error).toContain(message);
  });
});
