/**
 * Marketing permissions, interest groups, language and VIP (issue 19), end to end: the real
 * target-mailchimp binary against the sandbox's Mailchimp over 127.0.0.1. Each test makes its
 * own audience (admin API), sets its members as someone in Mailchimp would, runs the target on a
 * hand-written Singer input and reads the audience back through the API. Writes are counted in
 * the sandbox's request log (batch operations included).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { getJson, postJson, runBinary, tempDir, writeJson } from './harness.js';

let sandbox: Sandbox;
let base: Record<string, unknown>;
const dir = tempDir('member-fields-');
let lists = 0;
let runs = 0;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 19, profiles: 5, eventsPerDay: 1, days: 1 });
  base = { ...sandboxClientConfigs(sandbox).target, flush_interval_seconds: 1 };
});

afterAll(async () => {
  await sandbox.close();
});

interface ApiMember {
  email_address: string;
  status: string;
  marketing_permissions: Array<{ marketing_permission_id: string; text: string; enabled: boolean }>;
  interests: Record<string, boolean>;
  language: string;
  vip: boolean;
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${sandbox.url}/3.0${path}`, { headers: { authorization: `Bearer ${String(base.api_key)}` } });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return (await response.json()) as T;
}

async function adminPatch(listId: string, email: string, body: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${sandbox.url}/__admin/mailchimp/lists/${listId}/members/${encodeURIComponent(email)}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, last_changed: 'keep' }),
  });
  if (!response.ok) throw new Error(`admin PATCH ${email}: ${response.status} ${await response.text()}`);
}

/** An audience of its own, with the sandbox's default groups and permissions unless told otherwise. */
class TestAudience {
  permissionIds = new Map<string, string>();
  interestIds = new Map<string, string>();

  private constructor(readonly id: string) {}

  static async create(members: string[], options: { marketing_permissions?: string[] } = {}): Promise<TestAudience> {
    const audience = new TestAudience(`fields${++lists}`);
    await postJson(`${sandbox.url}/__admin/mailchimp/lists`, { id: audience.id, name: `Fields ${lists}`, members: members.map((email_address) => ({ email_address })), ...options });
    const { categories } = await api<{ categories: Array<{ id: string; title: string }> }>(`/lists/${audience.id}/interest-categories`);
    for (const category of categories) {
      const { interests } = await api<{ interests: Array<{ id: string; name: string }> }>(`/lists/${audience.id}/interest-categories/${category.id}/interests`);
      for (const interest of interests) audience.interestIds.set(`${category.title} / ${interest.name}`, interest.id);
    }
    if (members[0]) for (const p of (await audience.member(members[0])).marketing_permissions) audience.permissionIds.set(p.text, p.marketing_permission_id);
    return audience;
  }

  /** Sets a member's permissions and interests (by text and "Category / Interest"), language and VIP, as a person would in Mailchimp. */
  async set(email: string, values: { permissions?: Record<string, boolean>; interests?: Record<string, boolean>; language?: string; vip?: boolean }): Promise<void> {
    const byId = <T>(entries: Record<string, T> | undefined, ids: Map<string, string>) => (entries ? Object.fromEntries(Object.entries(entries).map(([k, v]) => [ids.get(k) as string, v])) : undefined);
    await adminPatch(this.id, email, {
      ...(values.permissions ? { marketing_permissions: byId(values.permissions, this.permissionIds) } : {}),
      ...(values.interests ? { interests: byId(values.interests, this.interestIds) } : {}),
      ...(values.language !== undefined ? { language: values.language } : {}),
      ...(values.vip !== undefined ? { vip: values.vip } : {}),
    });
  }

  async member(email: string): Promise<ApiMember> {
    const { members } = await api<{ members: ApiMember[] }>(`/lists/${this.id}/members?count=1000`);
    const member = members.find((m) => m.email_address === email);
    if (!member) throw new Error(`${email} is not in ${this.id}`);
    return member;
  }

  /** A member's permissions by text. */
  async permissions(email: string): Promise<Record<string, boolean>> {
    return Object.fromEntries((await this.member(email)).marketing_permissions.map((p) => [p.text, p.enabled]));
  }

  /** A member's interests by "Category / Interest". */
  async interests(email: string): Promise<Record<string, boolean>> {
    const held = (await this.member(email)).interests;
    return Object.fromEntries([...this.interestIds].map(([label, id]) => [label, held[id] as boolean]));
  }
}

interface Report {
  created: number;
  updated: number;
  unchanged: number;
  rejected: Record<string, number>;
  plan?: Array<Record<string, unknown>>;
}

/** A Singer input of engage records (every property untyped: values are checked by the target, not the schema). */
function input(records: Array<Record<string, unknown>>): string {
  const properties = Object.fromEntries([...new Set(records.flatMap((r) => Object.keys(r)))].map((k) => [k, {}]));
  const lines = [
    { type: 'SCHEMA', stream: 'engage', key_properties: ['$distinct_id'], schema: { type: 'object', properties: { $distinct_id: { type: 'string' }, ...properties } } },
    ...records.map((r, i) => ({ type: 'RECORD', stream: 'engage', record: { $distinct_id: `u${i}`, ...r } })),
    { type: 'STATE', value: { done: records.length } },
  ];
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

async function target(audience: TestAudience, records: Array<Record<string, unknown>>, settings: Record<string, unknown>) {
  const run = ++runs;
  const report = join(dir, `report-${run}.json`);
  const rejects = join(dir, `rejects-${run}.csv`);
  const config = writeJson(dir, `target-${run}.json`, { ...base, list_id: audience.id, status_if_new: 'subscribed', report_file: report, rejects_file: rejects, ...settings });
  await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
  const result = await runBinary('target-mailchimp', ['--config', config], { stdin: input(records), timeoutMs: 60_000 });
  let parsed: Report | undefined;
  try {
    parsed = JSON.parse(readFileSync(report, 'utf8')) as Report;
  } catch {
    parsed = undefined;
  }
  let rejected: string[] = [];
  try {
    rejected = readFileSync(rejects, 'utf8').split('\n').filter((l) => l !== '');
  } catch {
    rejected = [];
  }
  return { ...result, report: parsed, rejects: rejected };
}

/** Mailchimp writes since the run began: HTTP calls that are not GET, and operations inside batches that are not GET. */
async function writes(): Promise<string[]> {
  const summary = await getJson<{ routes: Array<{ method: string; route: string; count: number }>; batch_operations: { routes: Array<{ method: string; route: string; count: number }> } }>(
    `${sandbox.url}/__admin/requests/summary?family=mailchimp`,
  );
  const list = (routes: Array<{ method: string; route: string; count: number }>, prefix: string) =>
    routes.filter((r) => r.method !== 'GET').flatMap((r) => Array.from({ length: r.count }, () => `${prefix}${r.method} ${r.route}`));
  return [...list(summary.routes, ''), ...list(summary.batch_operations.routes, 'batch: ')].sort();
}

async function lookupsAsked(): Promise<string[]> {
  const { requests } = await getJson<{ requests: Array<{ method: string; route?: string; query: Record<string, string> }> }>(`${sandbox.url}/__admin/requests?family=mailchimp`);
  return requests.filter((r) => r.method === 'GET' && (r.route ?? '').endsWith('/members/{hash}')).map((r) => String(r.query.fields));
}

const CONSENT = { marketing_permissions: { Email: 'consent_email', 'Direct Mail': 'consent_post' } };

describe('marketing permissions: consent only moves toward less contact', () => {
  it.each([
    ['direct calls', { bulk_threshold: 0 }],
    ['batch operations', { bulk_threshold: 1 }],
  ])('turns permissions off, never back on, and creates new people with theirs on (%s)', async (_how, bulk) => {
    const audience = await TestAudience.create(['ann@example.org', 'bob@example.org']);
    await audience.set('ann@example.org', { permissions: { Email: true, 'Direct Mail': true, 'Customized Online Advertising': true } });
    await audience.set('bob@example.org', { permissions: { Email: false, 'Direct Mail': true, 'Customized Online Advertising': false } });
    const records = [
      { $email: 'ann@example.org', consent_email: false, consent_post: true },
      { $email: 'bob@example.org', consent_email: true, consent_post: 'true' },
      { $email: 'cid@example.org', consent_email: true, consent_post: false },
    ];
    const run = await target(audience, records, { ...CONSENT, ...bulk });
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    expect(run.report).toMatchObject({ created: 1, updated: 1, unchanged: 1 });
    // Ann said no to email: switched off; her other permissions are as they were.
    expect(await audience.permissions('ann@example.org')).toEqual({ Email: false, 'Direct Mail': true, 'Customized Online Advertising': true });
    // Bob's source says yes to email, but he switched it off in Mailchimp: it stays off, and nothing was sent for him.
    expect(await audience.permissions('bob@example.org')).toEqual({ Email: false, 'Direct Mail': true, 'Customized Online Advertising': false });
    // Cid is new: created with the permissions the record gives.
    const cid = await audience.member('cid@example.org');
    expect(cid.status).toBe('subscribed');
    expect(Object.fromEntries(cid.marketing_permissions.filter((p) => p.text !== 'Customized Online Advertising').map((p) => [p.text, p.enabled]))).toEqual({ Email: true, 'Direct Mail': false });
    for (const email of ['ann@example.org', 'bob@example.org']) expect((await audience.member(email)).status).toBe('subscribed');
    // One create that carries permissions (batch subscribe takes none), one update (Ann), nothing for Bob.
    const sent = await writes();
    const prefix = bulk.bulk_threshold === 1 ? 'batch: ' : '';
    expect(sent.filter((w) => !w.endsWith('/batches'))).toEqual([`${prefix}PATCH /3.0/lists/{list_id}/members/{hash}`, `${prefix}POST /3.0/lists/{list_id}/members`].sort());
    // Lookups asked for the permissions.
    for (const fields of await lookupsAsked()) expect(fields.split(',')).toContain('marketing_permissions');

    // The same input again: nobody changed, nothing is written.
    const again = await target(audience, records, { ...CONSENT, ...bulk });
    expect(again.code).toBe(0);
    expect(again.report).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
    expect(await writes()).toEqual([]);
  });

  it('a person who withdrew consent in Mailchimp and whose source says yes is never switched back on, in a whole read too', async () => {
    // Twelve people: more than ten lookups for a one-page audience, so the target reads it whole.
    const emails = Array.from({ length: 12 }, (_, i) => `p${i}@example.org`);
    const audience = await TestAudience.create(emails);
    for (const email of emails) await audience.set(email, { permissions: { Email: false, 'Direct Mail': false }, interests: { 'Topics / Events': true } });
    const records = emails.map((email) => ({ $email: email, consent_email: true, consent_post: true, likes_events: true }));
    const run = await target(audience, records, { ...CONSENT, interests: { 'Topics / Events': 'likes_events' } });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('read the whole audience');
    // The pages asked for what the table keeps (an interest read as off would have been written).
    const { requests } = await getJson<{ requests: Array<{ method: string; route?: string; query: Record<string, string> }> }>(`${sandbox.url}/__admin/requests?family=mailchimp`);
    const pages = requests.filter((r) => r.method === 'GET' && r.route === '/3.0/lists/{list_id}/members' && String(r.query.fields).includes('members.id'));
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) expect(String(page.query.fields).split(',')).toEqual(expect.arrayContaining(['members.marketing_permissions', 'members.interests']));
    expect(run.report).toMatchObject({ created: 0, updated: 0, unchanged: 12 });
    expect(await writes()).toEqual([]);
    for (const email of emails) expect(await audience.permissions(email)).toMatchObject({ Email: false, 'Direct Mail': false });
  });

  it('a dry run shows the permissions it would switch off and writes nothing', async () => {
    const audience = await TestAudience.create(['dee@example.org']);
    await audience.set('dee@example.org', { permissions: { Email: true, 'Direct Mail': true } });
    const run = await target(audience, [{ $email: 'dee@example.org', consent_email: false, consent_post: true }], { ...CONSENT, dry_run: true });
    expect(run.code).toBe(0);
    expect(run.report?.plan).toEqual([
      { action: 'update', email: 'dee@example.org', line: 2, merge_fields: {}, tags: [], marketing_permissions: [{ marketing_permission_id: audience.permissionIds.get('Email'), enabled: false }] },
    ]);
    expect(await writes()).toEqual([]);
    expect(await audience.permissions('dee@example.org')).toMatchObject({ Email: true });
  });
});

describe('interest groups: only the named interests change', () => {
  it('sets a boolean interest and a category chosen by name, leaves the member\'s other interests alone, creates new people with theirs', async () => {
    const audience = await TestAudience.create(['eve@example.org']);
    await audience.set('eve@example.org', {
      interests: { 'Topics / Product news': true, 'Topics / Events': false, 'Topics / Tips and tutorials': true, 'How often / Weekly': true, 'How often / Monthly': false },
    });
    const settings = { interests: { 'Topics / Events': 'likes_events', 'How often': 'frequency' } };
    const records = [
      { $email: 'eve@example.org', likes_events: true, frequency: 'monthly' },
      { $email: 'fay@example.org', likes_events: 'yes', frequency: 'Weekly' },
    ];
    const run = await target(audience, records, settings);
    expect(run.code).toBe(0);
    expect(run.report).toMatchObject({ created: 1, updated: 1 });
    expect(await audience.interests('eve@example.org')).toEqual({
      'Topics / Product news': true,
      'Topics / Events': true,
      'Topics / Tips and tutorials': true,
      'How often / Weekly': false,
      'How often / Monthly': true,
    });
    expect(await audience.interests('fay@example.org')).toMatchObject({ 'Topics / Events': true, 'How often / Weekly': true, 'How often / Monthly': false });
    // No permissions configured: the new person goes through batch subscribe, which takes interests.
    expect(await writes()).toEqual(['PATCH /3.0/lists/{list_id}/members/{hash}', 'POST /3.0/lists/{list_id}']);

    const again = await target(audience, records, settings);
    expect(again.report).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    expect(await writes()).toEqual([]);
  });

  it('a value naming no interest of the category rejects the row, naming what the category has', async () => {
    const audience = await TestAudience.create(['gus@example.org']);
    const run = await target(audience, [{ $email: 'gus@example.org', frequency: 'Daily' }], { interests: { 'How often': 'frequency' } });
    expect(run.code).toBe(0);
    expect(run.report?.rejected).toEqual({ 'interest value not accepted': 1 });
    expect(run.rejects.join('\n')).toContain('interest group ""How often"" (from frequency) names no interest of ""How often"" (got ""Daily""; it has Weekly, Monthly)');
    expect(await writes()).toEqual([]);
  });
});

describe('language and VIP', () => {
  it('writes Mailchimp language codes and VIP flags, rejects values that are neither, and costs nothing when unchanged', async () => {
    const audience = await TestAudience.create(['hal@example.org', 'ida@example.org', 'jon@example.org', 'kim@example.org']);
    await audience.set('hal@example.org', { language: 'en', vip: false });
    await audience.set('kim@example.org', { language: 'de', vip: true });
    const settings = { language_property: 'locale', vip_property: 'is_vip' };
    const records = [
      { $email: 'hal@example.org', locale: 'pt-PT', is_vip: 1 },
      { $email: 'ida@example.org', locale: 'klingon', is_vip: true },
      { $email: 'jon@example.org', locale: 'fr', is_vip: 'maybe' },
      { $email: 'kim@example.org', locale: 'de_DE', is_vip: 'TRUE' },
      { $email: 'lea@example.org', locale: 'en-US', is_vip: false },
    ];
    const run = await target(audience, records, settings);
    expect(run.code).toBe(0);
    expect(run.report).toMatchObject({ created: 1, updated: 1, unchanged: 1, rejected: { "language not one of Mailchimp's languages": 1, 'vip value not true or false': 1 } });
    const hal = await audience.member('hal@example.org');
    expect([hal.language, hal.vip]).toEqual(['pt_PT', true]);
    const lea = await audience.member('lea@example.org');
    expect([lea.language, lea.vip]).toEqual(['en', false]);
    const rejects = run.rejects.join('\n');
    expect(rejects).toContain('ida@example.org');
    expect(rejects).toContain('language (from locale) must be one of Mailchimp\'s language codes');
    expect(rejects).toContain('jon@example.org');
    expect(rejects).toContain('vip (from is_vip) needs true or false (got ""maybe"")');
    // Rejected people are not written at all.
    expect((await audience.member('ida@example.org')).vip).toBe(false);

    const again = await target(audience, records.filter((r) => r.$email !== 'ida@example.org' && r.$email !== 'jon@example.org'), settings);
    expect(again.report).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
    expect(await writes()).toEqual([]);
  });
});

describe('settings that do not fit the audience stop the run before any write (exit 1)', () => {
  it('an unknown permission text names the setting and lists the audience\'s permissions', async () => {
    const audience = await TestAudience.create(['max@example.org']);
    const run = await target(audience, [{ $email: 'max@example.org', consent_email: false }], { marketing_permissions: { Emial: 'consent_email' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('"marketing_permissions.Emial": audience "Fields');
    expect(run.stderr).toContain('has no marketing permission "Emial"');
    for (const text of ['Email', 'Direct Mail', 'Customized Online Advertising']) expect(run.stderr).toContain(`"${text}"`);
    expect(run.stderr).toContain('did you mean "Email"?');
    expect(run.stdout).toBe('');
    expect(await writes()).toEqual([]);
  });

  it('an audience without GDPR fields is a config error naming marketing_permissions', async () => {
    const audience = await TestAudience.create(['ned@example.org'], { marketing_permissions: [] });
    const run = await target(audience, [{ $email: 'ned@example.org', consent_email: false }], CONSENT);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('"marketing_permissions": audience "Fields');
    expect(run.stderr).toContain('has no GDPR fields');
    expect(run.stdout).toBe('');
    expect(await writes()).toEqual([]);
  });

  it('an unknown interest names the setting and lists the audience\'s interests', async () => {
    const audience = await TestAudience.create(['oda@example.org']);
    const run = await target(audience, [{ $email: 'oda@example.org', likes: true }], { interests: { 'Topics / Webinars': 'likes' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('"interests.Topics / Webinars": audience "Fields');
    for (const label of ['Topics / Product news', 'Topics / Events', 'Topics / Tips and tutorials', 'How often / Weekly', 'How often / Monthly']) expect(run.stderr).toContain(label);
    expect(run.stdout).toBe('');
    expect(await writes()).toEqual([]);
  });
});
