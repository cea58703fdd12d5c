import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { describeSeed } from '../../src/sandbox/data.js';
import { startSandbox } from '../../src/sandbox/server.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/server.js';
import { call, exportEvents, groundTruth, mailchimpAuth, secretAuth } from './helpers.js';

const NOW = '2024-06-10T12:00:00Z';
const OPTIONS: SandboxOptions = { port: 0, seed: 3, now: NOW, days: 3, eventsPerDay: 50, profiles: 40 };

interface AdminMember {
  email_address: string;
  status: string;
  forgotten: boolean;
  compliance_locked: boolean;
  tags: Array<{ name: string }>;
  merge_fields: Record<string, unknown>;
}

interface LogEntry {
  seq: number;
  time: string;
  family: string;
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  duration_ms: number;
  request_bytes: number;
}

describe('admin API', () => {
  let sb: Sandbox;
  let adminMembers: string;

  beforeAll(async () => {
    sb = await startSandbox(OPTIONS);
    adminMembers = `${sb.url}/__admin/mailchimp/lists/${sb.credentials.mailchimp.listId}/members`;
  });

  afterAll(async () => {
    await sb.close();
  });

  it('reports health, the seed and ready-to-use client configs', async () => {
    expect((await call<{ status: string }>(`${sb.url}/__admin/health`)).body.status).toBe('ok');
    expect((await call(`${sb.url}/__admin/seed`)).body).toEqual(JSON.parse(JSON.stringify(describeSeed(OPTIONS))));
    const configs = await call(`${sb.url}/__admin/configs`);
    expect(configs.body).toEqual(sandboxClientConfigs(sb));
    const secret = await call<{ tap: Record<string, unknown> }>(`${sb.url}/__admin/configs?auth=api_secret`);
    expect(secret.body.tap.api_secret).toBe('sandbox-project-secret');
  });

  it('lists every audience member with its full state, forgotten ones flagged', async () => {
    const res = await call<{ members: AdminMember[]; total_items: number }>(adminMembers);
    expect(res.body.total_items).toBe(60);
    const seed = describeSeed(OPTIONS);
    const forgotten = res.body.members.filter((m) => m.forgotten);
    expect(forgotten.map((m) => m.email_address)).toEqual(seed.forgotten);
    const locked = res.body.members.filter((m) => m.compliance_locked).map((m) => m.email_address);
    expect(locked).toEqual(seed.unsubscribedCompliance);
  });

  it('adds and replaces members directly, and the API sees them', async () => {
    const res = await call<{ upserted: number }>(adminMembers, {
      json: {
        members: [
          { email_address: 'Seeded@acme.io', status: 'unsubscribed', compliance_locked: true, merge_fields: { FNAME: 'Seeded' }, tags: ['from-test'] },
          { email_address: 'gone@acme.io', forgotten: true },
        ],
      },
    });
    expect(res.body.upserted).toBe(2);
    const list = `${sb.url}/3.0/lists/${sb.credentials.mailchimp.listId}`;
    const put = await call<{ title: string }>(`${list}/members/seeded%40acme.io`, {
      method: 'PUT',
      headers: mailchimpAuth(sb),
      json: { email_address: 'seeded@acme.io', status_if_new: 'subscribed', status: 'subscribed' },
    });
    expect(put.body.title).toBe('Member In Compliance State');
    const all = await call<{ members: AdminMember[] }>(adminMembers);
    const seeded = all.body.members.find((m) => m.email_address === 'Seeded@acme.io');
    expect(seeded?.tags.map((t) => t.name)).toEqual(['from-test']);
    const replaced = await call<{ total_items: number }>(adminMembers, { json: { replace_all: true, members: [{ email_address: 'only@acme.io' }] } });
    expect(replaced.body.total_items).toBe(1);
    expect((await call(`${sb.url}/__admin/mailchimp/lists/nope/members`)).status).toBe(404);
    expect((await call(adminMembers, { json: { members: [{ status: 'subscribed' }] } })).status).toBe(400);
  });

  it('keeps a request log per family, and clears it', async () => {
    await call(`${sb.url}/__admin/requests`, { method: 'DELETE' });
    await call(`${sb.url}/api/2.0/engage?where=${encodeURIComponent('properties["plan"] == "pro"')}`, { headers: secretAuth(sb) });
    await exportEvents(sb, { from_date: '2024-06-09', to_date: '2024-06-09' });
    await call(`${sb.url}/3.0/ping`, { headers: mailchimpAuth(sb) });
    await call(`${sb.url}/3.0/ping`);
    const all = await call<{ requests: LogEntry[] }>(`${sb.url}/__admin/requests`);
    expect(all.body.requests.map((r) => `${r.family} ${r.method} ${r.path} ${r.status}`)).toEqual([
      'query GET /api/2.0/engage 200',
      'export GET /api/2.0/export 200',
      'mailchimp GET /3.0/ping 200',
      'mailchimp GET /3.0/ping 401',
    ]);
    const [engage] = all.body.requests;
    expect(engage?.query).toEqual({ where: 'properties["plan"] == "pro"' });
    expect(engage?.duration_ms).toBeGreaterThanOrEqual(0);
    expect(engage?.time.startsWith('2024-06-10T12:')).toBe(true);
    const seqs = all.body.requests.map((r) => r.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const onlyExport = await call<{ requests: LogEntry[] }>(`${sb.url}/__admin/requests?family=export`);
    expect(onlyExport.body.requests).toHaveLength(1);
    expect(onlyExport.body.requests[0]?.query).toEqual({ from_date: '2024-06-09', to_date: '2024-06-09' });
    expect((await call(`${sb.url}/__admin/requests?family=nope`)).status).toBe(400);
    expect((await call(`${sb.url}/__admin/requests`, { method: 'DELETE' })).status).toBe(204);
    expect((await call<{ requests: LogEntry[] }>(`${sb.url}/__admin/requests`)).body.requests).toEqual([]);
  });

  it('serves the ground truth for the whole data range by default, and all profiles', async () => {
    const truth = await groundTruth(sb);
    const days = new Set(truth.map((e) => new Date(e.properties.time * 1000).toISOString().slice(0, 10)));
    expect(days).toEqual(new Set(['2024-06-08', '2024-06-09', '2024-06-10']));
    const profiles = await call<Array<{ $distinct_id: string }>>(`${sb.url}/__admin/mixpanel/profiles`);
    expect(profiles.body).toHaveLength(40);
  });

  it('moves the clock and refuses nonsense', async () => {
    const set = await call<{ now: string; today: string }>(`${sb.url}/__admin/clock`, { json: { now: '2024-07-01T00:00:00Z' } });
    expect(set.body.today).toBe('2024-07-01');
    const advanced = await call<{ now_ms: number }>(`${sb.url}/__admin/clock`, { json: { advance_ms: 86_400_000 } });
    expect(advanced.body.now_ms).toBeGreaterThanOrEqual(Date.parse('2024-07-02T00:00:00Z'));
    expect((await call<{ today: string }>(`${sb.url}/__admin/clock`)).body.today).toBe('2024-07-02');
    expect((await call(`${sb.url}/__admin/clock`, { json: { now: 'soon' } })).status).toBe(400);
    expect((await call(`${sb.url}/__admin/clock`, { json: {} })).status).toBe(400);
  });

  it('changes latency at run time', async () => {
    const res = await call<{ latency_ms: Record<string, number> }>(`${sb.url}/__admin/settings`, { json: { latency_ms: { query: 150 } } });
    expect(res.body.latency_ms).toEqual({ export: 0, query: 150, mailchimp: 0 });
    const started = performance.now();
    await call(`${sb.url}/api/2.0/events/names`, { headers: secretAuth(sb) });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect((await call(`${sb.url}/__admin/settings`, { json: { latency_ms: { query: -1 } } })).status).toBe(400);
    expect((await call(`${sb.url}/__admin/settings`, { json: { latency_ms: { faults: 1 } } })).status).toBe(400);
  });

  it('resets members, injected events, sessions, the log, the clock and settings', async () => {
    await call(`${sb.url}/__admin/mixpanel/events`, { json: { events: [{ event: 'Injected', properties: { time: Date.UTC(2024, 5, 9) / 1000, distinct_id: 'x' } }] } });
    const engage = await call<{ session_id: string }>(`${sb.url}/api/2.0/engage`, { headers: secretAuth(sb) });
    await call(`${sb.url}/__admin/reset`, { method: 'POST' });
    const members = await call<{ total_items: number }>(adminMembers);
    expect(members.body.total_items).toBe(60);
    expect((await groundTruth(sb, { event: '["Injected"]' })).length).toBe(0);
    expect((await call<{ requests: unknown[] }>(`${sb.url}/__admin/requests`)).body.requests).toEqual([]);
    const clock = await call<{ now_ms: number }>(`${sb.url}/__admin/clock`);
    expect(clock.body.now_ms - Date.parse(NOW)).toBeLessThan(60_000);
    expect((await call<{ latency_ms: Record<string, number> }>(`${sb.url}/__admin/settings`)).body.latency_ms.query).toBe(0);
    const stale = await call(`${sb.url}/api/2.0/engage`, { headers: secretAuth(sb), form: { page: '1', session_id: engage.body.session_id } });
    expect(stale.status).toBe(400);
  });

  it('404s unknown admin paths and paths outside every family', async () => {
    expect((await call(`${sb.url}/__admin/nothing`)).status).toBe(404);
    expect((await call(`${sb.url}/favicon.ico`)).status).toBe(404);
    expect((await call(`${sb.url}/__admin/health`, { method: 'DELETE' })).status).toBe(405);
  });
});
