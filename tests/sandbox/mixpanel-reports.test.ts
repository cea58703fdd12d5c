/**
 * The sandbox's funnels, revenue, annotations and cohorts endpoints: Mixpanel's shapes, auth and
 * validation, numbers that agree with the events the export serves, and late events changing them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox } from '../../src/sandbox/server.js';
import type { Sandbox } from '../../src/sandbox/server.js';
import { COHORTS } from '../../src/sandbox/mixpanel/cohort-store.js';
import { call, exportEvents, secretAuth, serviceAccountAuth } from './helpers.js';

interface FunnelStep {
  count: number;
  avg_time: number | null;
  step_conv_ratio: number;
  overall_conv_ratio: number;
  event: string;
  goal: string;
}
interface FunnelResponse {
  meta: { dates: string[] };
  data: Record<string, { steps: FunnelStep[]; analysis: { completion: number; starting_amount: number; steps: number; worst: number } }>;
}
interface RevenueResponse {
  status: string;
  results: Record<string, { amount: number; count: number; paid_count: number }>;
}

const NOW = '2024-06-10T12:00:00Z';
const PAGE_SIZE = 9;

describe('Mixpanel reports in the sandbox', () => {
  let sb: Sandbox;
  let project: string;
  const get = <T>(path: string, headers?: Record<string, string>) => call<T>(`${sb.url}${path}`, { headers: headers ?? secretAuth(sb) });

  beforeAll(async () => {
    sb = await startSandbox({ port: 0, now: NOW, days: 6, eventsPerDay: 400, profiles: 40, engagePageSize: PAGE_SIZE });
    project = String(sb.credentials.mixpanel.projectId);
  });

  afterAll(async () => {
    await sb.close();
  });

  it('lists the saved funnels at both prefixes', async () => {
    const a = await get<Array<{ funnel_id: number; name: string }>>('/api/query/funnels/list');
    const b = await get<Array<{ funnel_id: number; name: string }>>('/api/2.0/funnels/list');
    expect(a.status).toBe(200);
    expect(a.body.length).toBeGreaterThanOrEqual(3);
    expect(Object.keys(a.body[0] as object)).toEqual(['funnel_id', 'name']);
    expect(b.body).toEqual(a.body);
  });

  it('answers a funnel with one bucket per day, steps in order, counts never growing down the funnel', async () => {
    const res = await get<FunnelResponse>(`/api/query/funnels?funnel_id=9070&from_date=${sb.dataRange.fromDate}&to_date=2024-06-10&unit=day&interval=1`);
    expect(res.status).toBe(200);
    expect(res.body.meta.dates).toHaveLength(6);
    expect(Object.keys(res.body.data)).toEqual(res.body.meta.dates);
    let started = 0;
    for (const day of Object.values(res.body.data)) {
      expect(day.steps.map((s) => s.event)).toEqual(['Page View', 'Add to Cart', 'Purchase']);
      for (let i = 1; i < day.steps.length; i++) expect(day.steps[i]?.count).toBeLessThanOrEqual(day.steps[i - 1]?.count ?? 0);
      expect(day.analysis.starting_amount).toBe(day.steps[0]?.count);
      expect(day.analysis.completion).toBe(day.steps[2]?.count);
      started += day.analysis.starting_amount;
    }
    expect(started).toBeGreaterThan(0);
  });

  it('counts as step 1 every distinct user with a processed Page View that day (the export agrees)', async () => {
    const day = sb.dataRange.fromDate;
    const res = await get<FunnelResponse>(`/api/2.0/funnels?funnel_id=7509&from_date=${day}&to_date=${day}`);
    const events = await exportEvents(sb, { from_date: day, to_date: day, event: '["Page View"]' });
    const users = new Set(events.map((e) => e.properties.distinct_id));
    expect(res.body.data[day]?.steps[0]?.count).toBe(users.size);
  });

  it('groups days into N-day buckets with interval', async () => {
    const from = sb.dataRange.fromDate;
    const daily = await get<FunnelResponse>(`/api/2.0/funnels?funnel_id=7509&from_date=${from}&to_date=2024-06-10`);
    const byThree = await get<FunnelResponse>(`/api/2.0/funnels?funnel_id=7509&from_date=${from}&to_date=2024-06-10&interval=3`);
    expect(byThree.body.meta.dates).toEqual([daily.body.meta.dates[0], daily.body.meta.dates[3]]);
  });

  it.each([
    ['?from_date=2024-06-01&to_date=2024-06-02', /^funnel_id is a required parameter$/],
    ['?funnel_id=1&from_date=2024-06-01&to_date=2024-06-02', /^Funnel 1 does not exist/],
    ['?funnel_id=7509&from_date=2024-06-03&to_date=2024-06-02', /^from_date cannot be later than to_date$/],
    ['?funnel_id=7509&from_date=2024-06-01&to_date=2024-06-11', /^to_date cannot be later than today$/],
    ['?funnel_id=7509&from_date=2024-6-1&to_date=2024-06-02', /^from_date must be a valid date/],
    ['?funnel_id=7509&from_date=2024-06-01&to_date=2024-06-02&unit=year', /^unit must be one of/],
  ])('refuses funnels%s with a 400 naming the problem', async (query, message) => {
    const res = await get<{ request: string; error: string }>(`/api/2.0/funnels${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
    expect(res.body.request).toContain('/api/2.0/funnels');
  });

  it('needs project_id with a service account', async () => {
    const path = '/api/query/funnels/list';
    expect((await get(path, serviceAccountAuth(sb))).status).toBe(400);
    expect((await get(`${path}?project_id=${project}`, serviceAccountAuth(sb))).status).toBe(200);
    expect((await get(path, {})).status).toBe(401);
  });

  it('computes daily revenue from the processed Purchase events, with an $overall summary', async () => {
    const day = sb.dataRange.fromDate;
    const res = await get<RevenueResponse>(`/api/2.0/engage/revenue?from_date=${day}&to_date=2024-06-10&unit=day`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    const purchases = await exportEvents(sb, { from_date: day, to_date: day, event: '["Purchase"]' });
    const first = res.body.results[day];
    expect(first?.count).toBe(purchases.length);
    expect(first?.paid_count).toBe(new Set(purchases.map((p) => p.properties.distinct_id)).size);
    expect(first?.amount).toBeCloseTo(purchases.reduce((sum, p) => sum + Number(p.properties.amount), 0), 2);
    const days = Object.keys(res.body.results).filter((k) => k !== '$overall');
    expect(days).toHaveLength(6);
    const total = days.reduce((sum, d) => sum + (res.body.results[d]?.count ?? 0), 0);
    expect(res.body.results.$overall?.count).toBe(total);
  });

  it('a late event changes its day once Mixpanel has processed it', async () => {
    const day = sb.dataRange.fromDate;
    const path = `/api/2.0/engage/revenue?from_date=${day}&to_date=${day}`;
    const before = (await get<RevenueResponse>(path)).body.results[day]?.count ?? 0;
    const time = Math.floor(Date.parse(`${day}T10:00:00Z`) / 1000);
    const res = await call(`${sb.url}/__admin/mixpanel/events`, {
      json: [{ event: 'Purchase', properties: { time, distinct_id: 'late-buyer', $insert_id: 'late-1', amount: 12.5 } }],
    });
    expect(res.status).toBe(200);
    const after = (await get<RevenueResponse>(path)).body.results[day];
    expect(after?.count).toBe(before + 1);
    await call(`${sb.url}/__admin/reset`, { method: 'POST' });
  });

  it('lists cohorts with Mixpanel fields, counts matching engage with filter_by_cohort', async () => {
    const res = await call<Array<Record<string, unknown>>>(`${sb.url}/api/query/cohorts/list`, { method: 'POST', headers: secretAuth(sb) });
    expect(res.status).toBe(200);
    expect(res.body.map((c) => c.id)).toEqual(COHORTS.map((c) => c.id));
    for (const cohort of res.body) {
      expect(Object.keys(cohort).sort()).toEqual(['count', 'created', 'description', 'id', 'is_visible', 'name', 'project_id']);
      expect([0, 1]).toContain(cohort.is_visible);
      expect(cohort.created).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      const page = await call<{ total: number }>(`${sb.url}/api/2.0/engage`, { headers: secretAuth(sb), form: { filter_by_cohort: JSON.stringify({ id: cohort.id }) } });
      expect(page.body.total).toBe(cohort.count);
    }
    expect(res.body.some((c) => Number(c.count) > PAGE_SIZE)).toBe(true);
    expect((await get('/api/2.0/cohorts/list')).status).toBe(200);
  });

  it('serves annotations on the app API (project in the path) and the legacy 2.0 API', async () => {
    type App = { status: string; results: Array<{ id: number; date: string; description: string; user: object; tags: object[] }> };
    const app = await get<App>(`/api/app/projects/${project}/annotations`, serviceAccountAuth(sb));
    expect(app.status).toBe(200);
    expect(app.body.status).toBe('ok');
    expect(app.body.results.length).toBeGreaterThanOrEqual(5);
    expect(new Set(app.body.results.map((a) => a.id)).size).toBe(app.body.results.length);
    for (const a of app.body.results) expect(a.date).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect((await get(`/api/app/projects/999/annotations`, serviceAccountAuth(sb))).status).toBe(403);

    const filtered = await get<App>(`/api/app/projects/${project}/annotations?fromDate=${sb.dataRange.fromDate}&toDate=${sb.dataRange.fromDate}`);
    expect(filtered.body.results.map((a) => a.id)).toEqual([app.body.results[0]?.id]);

    const legacy = await get<{ annotations: Array<Record<string, unknown>>; error: boolean }>(
      `/api/2.0/annotations?from_date=${sb.dataRange.fromDate}&to_date=${sb.dataRange.toDate}`,
    );
    expect(legacy.status).toBe(200);
    expect(legacy.body.annotations.map((a) => a.id)).toEqual(app.body.results.map((a) => a.id));
    expect(Object.keys(legacy.body.annotations[0] as object)).toEqual(['id', 'project_id', 'date', 'description']);
    expect((await get('/api/2.0/annotations')).status).toBe(400);
  });
});
