import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox } from '../../src/sandbox/server.js';
import type { Sandbox } from '../../src/sandbox/server.js';
import { basic, call, secretAuth, serviceAccountAuth } from './helpers.js';

interface EngagePage {
  page: number;
  page_size: number;
  session_id: string;
  status: string;
  total: number;
  results: Array<{ $distinct_id: string; $properties: Record<string, unknown> }>;
}

type Profile = EngagePage['results'][number];

const PAGE_SIZE = 7;

describe('Mixpanel auth', () => {
  let sb: Sandbox;
  let project: string;

  beforeAll(async () => {
    sb = await startSandbox({ port: 0, now: '2024-06-10T12:00:00Z', days: 2, eventsPerDay: 20, profiles: 10 });
    project = String(sb.credentials.mixpanel.projectId);
  });

  afterAll(async () => {
    await sb.close();
  });

  const engage = (query: string, headers: Record<string, string>) => call<{ error?: string; status: string }>(`${sb.url}/api/2.0/engage${query}`, { headers });

  it('accepts the project secret with an empty password and no project_id', async () => {
    expect((await engage('', secretAuth(sb))).status).toBe(200);
  });

  it('accepts a service account with the right project_id, and only then', async () => {
    expect((await engage(`?project_id=${project}`, serviceAccountAuth(sb))).status).toBe(200);
    const missing = await engage('', serviceAccountAuth(sb));
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ error: expect.stringMatching(/^project_id is required/), status: 'error' });
    const wrong = await engage('?project_id=999', serviceAccountAuth(sb));
    expect(wrong.status).toBe(403);
    expect(wrong.body.status).toBe('error');
  });

  it.each([
    ['no credentials', {}],
    ['a wrong secret', { authorization: basic('nope', '') }],
    ['the secret with a password', { authorization: basic('sandbox-project-secret', 'x') }],
    ['a wrong service account secret', { authorization: basic('sandbox-sa.0a1b2c.mp-service-account', 'wrong') }],
    ['a bearer token', { authorization: 'Bearer sandbox-project-secret' }],
  ])('refuses %s with 401', async (_name, headers) => {
    const res = await engage(`?project_id=${project}`, headers);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'Unable to authenticate request', status: 'error' });
  });

  it('applies the same rules to export', async () => {
    const url = `${sb.url}/api/2.0/export?from_date=2024-06-10&to_date=2024-06-10`;
    expect((await call(url, { headers: serviceAccountAuth(sb) })).status).toBe(400);
    expect((await call(`${url}&project_id=${project}`, { headers: serviceAccountAuth(sb) })).status).toBe(200);
    expect((await call(url)).status).toBe(401);
  });

  it('checks credentials at /api/app/me without a project_id', async () => {
    const res = await call<{ status: string; results: { projects: Record<string, { id: number }> } }>(`${sb.url}/api/app/me`, {
      headers: serviceAccountAuth(sb),
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.results.projects[project]?.id).toBe(Number(project));
    expect((await call(`${sb.url}/api/app/me`)).status).toBe(401);
  });

  it('answers unknown paths with a Mixpanel-style 404', async () => {
    const res = await call(`${sb.url}/api/2.0/nothing-here`, { headers: secretAuth(sb) });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Not Found', status: 'error' });
  });
});

describe('Mixpanel engage', () => {
  let sb: Sandbox;
  let all: Profile[];

  beforeAll(async () => {
    sb = await startSandbox({ port: 0, now: '2024-06-10T12:00:00Z', days: 2, eventsPerDay: 20, profiles: 30, engagePageSize: PAGE_SIZE });
    all = (await call<Profile[]>(`${sb.url}/__admin/mixpanel/profiles`)).body;
  });

  afterAll(async () => {
    await sb.close();
  });

  async function engage(params: Record<string, string>, path = '/api/2.0/engage'): Promise<EngagePage> {
    const res = await call<EngagePage>(`${sb.url}${path}`, { headers: secretAuth(sb), form: params });
    if (res.status !== 200) throw new Error(`engage answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async function allPages(params: Record<string, string>, path?: string): Promise<{ pages: EngagePage[]; profiles: Profile[] }> {
    const pages: EngagePage[] = [];
    let sessionId: string | undefined;
    for (let page = 0; page < 100; page++) {
      const body = await engage({ ...params, page: String(page), ...(sessionId ? { session_id: sessionId } : {}) }, path);
      pages.push(body);
      sessionId = body.session_id;
      if (body.results.length < body.page_size) break;
    }
    return { pages, profiles: pages.flatMap((p) => p.results) };
  }

  it('pages through every profile exactly once with the session of page 0', async () => {
    const { pages, profiles } = await allPages({});
    expect(all).toHaveLength(30);
    expect(pages[0]).toMatchObject({ page: 0, page_size: PAGE_SIZE, status: 'ok', total: 30 });
    expect(Object.keys(pages[0] as object)).toEqual(['page', 'page_size', 'session_id', 'status', 'total', 'results']);
    expect(new Set(pages.map((p) => p.session_id)).size).toBe(1);
    expect(pages).toHaveLength(5);
    const ids = profiles.map((p) => p.$distinct_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(profiles).toEqual(all);
  });

  it('ends with an empty page when the total is a multiple of the page size', async () => {
    const ids = all.slice(0, PAGE_SIZE).map((p) => p.$distinct_id);
    const { pages } = await allPages({ distinct_ids: JSON.stringify(ids) });
    expect(pages.map((p) => p.results.length)).toEqual([PAGE_SIZE, 0]);
    expect(pages[1]?.page).toBe(1);
  });

  it('answers the same at /api/query/engage and with GET', async () => {
    const { profiles } = await allPages({}, '/api/query/engage');
    expect(profiles).toEqual(all);
    const res = await call<EngagePage>(`${sb.url}/api/2.0/engage?page=0`, { headers: secretAuth(sb) });
    expect(res.body.results).toEqual(all.slice(0, PAGE_SIZE));
  });

  it('reads project_id from the form body', async () => {
    const res = await call<EngagePage>(`${sb.url}/api/2.0/engage`, {
      headers: serviceAccountAuth(sb),
      form: { project_id: String(sb.credentials.mixpanel.projectId) },
    });
    expect(res.status).toBe(200);
  });

  it('refuses a page after 0 without a session_id, or with an unknown one', async () => {
    const res = await call<{ error: string }>(`${sb.url}/api/2.0/engage`, { headers: secretAuth(sb), form: { page: '1' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/session_id/);
    const unknown = await call(`${sb.url}/api/2.0/engage`, { headers: secretAuth(sb), form: { page: '1', session_id: 'nope' } });
    expect(unknown.status).toBe(400);
  });

  it('filters with where on $last_seen', async () => {
    const cutoff = '2024-01-01T00:00:00';
    const { profiles, pages } = await allPages({ where: `properties["$last_seen"] >= "${cutoff}"` });
    const expected = all.filter((p) => String(p.$properties.$last_seen) >= cutoff);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(30);
    expect(pages[0]?.total).toBe(expected.length);
    expect(profiles).toEqual(expected);
  });

  it('filters by cohort, with profile-less members only when include_all_users', async () => {
    const members = all.filter((_p, k) => k % 5 === 1);
    expect((await allPages({ filter_by_cohort: '{"id":2}' })).profiles).toEqual(members);
    const withAnonymous = (await allPages({ filter_by_cohort: '{"id": 1}' })).profiles;
    const profileOnly = (await allPages({ filter_by_cohort: '{"id": 1}', include_all_users: 'false' })).profiles;
    expect(profileOnly).toEqual(all.filter((_p, k) => k % 3 === 0));
    expect(withAnonymous.length).toBe(profileOnly.length + 2);
    expect(withAnonymous.slice(-2).every((p) => p.$distinct_id.startsWith('$device:'))).toBe(true);
    expect((await allPages({ filter_by_cohort: '{"id": 999}' })).profiles).toEqual([]);
  });

  it('returns only output_properties', async () => {
    const page = await engage({ output_properties: JSON.stringify(['$email', 'plan']) });
    for (const profile of page.results) {
      expect(Object.keys(profile.$properties).every((k) => k === '$email' || k === 'plan')).toBe(true);
      expect(profile.$properties.plan).toBeDefined();
    }
  });

  it.each([
    [{ where: 'properties["x"] ===' }, 'where'],
    [{ output_properties: '$email' }, 'output_properties'],
    [{ filter_by_cohort: '42' }, 'filter_by_cohort'],
    [{ page: '-1' }, 'page'],
  ])('rejects %p', async (form, word) => {
    const res = await call<{ error: string }>(`${sb.url}/api/2.0/engage`, { headers: secretAuth(sb), form });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain(word);
  });

  it('describes profile properties (undocumented endpoint)', async () => {
    const res = await call<{ results: Record<string, { count: number; type: string }> }>(`${sb.url}/api/2.0/engage/properties`, {
      headers: secretAuth(sb),
    });
    expect(res.body.results.$email?.type).toBe('string');
    expect(res.body.results.$last_seen).toEqual({ count: 30, type: 'datetime' });
    expect(res.body.results.tags?.type).toBe('list');
  });

  it('lists event names and top properties', async () => {
    const names = await call<string[]>(`${sb.url}/api/2.0/events/names?type=general`, { headers: secretAuth(sb) });
    expect(names.body).toContain('Page View');
    expect(names.body).toContain('注册');
    const limited = await call<string[]>(`${sb.url}/api/query/events/names?type=general&limit=3`, { headers: secretAuth(sb) });
    expect(limited.body).toHaveLength(3);
    const top = await call<Record<string, { count: number }>>(`${sb.url}/api/2.0/events/properties/top?event=Page%20View&limit=5`, {
      headers: secretAuth(sb),
    });
    expect(Object.keys(top.body)).toHaveLength(5);
    expect(Object.values(top.body).every((v) => v.count > 0)).toBe(true);
    const missing = await call(`${sb.url}/api/2.0/events/properties/top`, { headers: secretAuth(sb) });
    expect(missing.status).toBe(400);
  });
});
