/**
 * tap-mailchimp, the real binary against the sandbox's Mailchimp: a first full run, members
 * changed between runs (status, merge field, tag, archived, VIP through the API), a second run
 * from the state that returns exactly them, what a tag-only change does, FULL_TABLE, several
 * audiences with a bookmark each, discovery typing, `fields`, --test, --about and bad input.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Catalog } from '../../src/singer/catalog.js';
import type { SingerMessage } from '../../src/singer/messages.js';
import { MailchimpTapWorld, bookmarkOf, duplicates, ids, recordsOf, type TapRun, type TruthMember } from './mailchimp-tap-world.js';

let world: MailchimpTapWorld;
let config: string;
let first: TapRun;
let before: TruthMember[];

const MINUTE = 60_000;

beforeAll(async () => {
  world = await MailchimpTapWorld.start({ mailchimp: { audienceSize: 300 } });
  config = world.config();
  before = await world.truth();
  first = await world.run(['--config', config]);
});

afterAll(async () => {
  await world?.close();
});

function schemaOf(run: TapRun, stream: string): Extract<SingerMessage, { type: 'SCHEMA' }> | undefined {
  return run.messages.find((m): m is Extract<SingerMessage, { type: 'SCHEMA' }> => m.type === 'SCHEMA' && m.stream === stream);
}

describe('a first run', () => {
  it('reads every member of the audience once, in every status (archived included)', () => {
    expect(first.stderr).not.toMatch(/error/);
    expect(first.code).toBe(0);
    const members = recordsOf(first, 'list_members');
    expect(duplicates(ids(members))).toEqual([]);
    expect(ids(members).sort()).toEqual(before.map((m) => m.id).sort());
    const statuses = new Set(members.map((m) => m.status));
    for (const status of ['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional', 'archived']) expect(statuses).toContain(status);
    expect(members.every((m) => m.list_id === world.listId)).toBe(true);
  });

  it('carries merge fields typed, tags, interests, marketing permissions, language and VIP', () => {
    const member = recordsOf(first, 'list_members').find((m) => (m.tags as unknown[]).length > 0) as Record<string, unknown>;
    expect(member).toBeDefined();
    expect(Object.keys(member)).toEqual(expect.arrayContaining(['merge_fields', 'tags', 'interests', 'marketing_permissions', 'language', 'vip', 'last_changed', 'timestamp_signup']));
    const fields = member.merge_fields as Record<string, unknown>;
    expect(fields.LTV === null || typeof fields.LTV === 'number').toBe(true);
    expect(fields.SIGNUP === null || /^\d{4}-\d{2}-\d{2}$/.test(String(fields.SIGNUP))).toBe(true);
    expect(Object.values(member.interests as object).every((v) => typeof v === 'boolean')).toBe(true);
    expect(member.last_changed).toMatch(/Z$/);
  });

  it('its SCHEMA types the merge fields from their definitions', () => {
    const mergeFields = schemaOf(first, 'list_members')?.schema.properties?.merge_fields?.properties ?? {};
    expect(mergeFields.LTV?.type).toEqual(['null', 'number']);
    expect(mergeFields.SIGNUP).toMatchObject({ type: ['null', 'string'], format: 'date' });
    expect(mergeFields.BIRTHDAY?.pattern).toBe('^\\d{2}/\\d{2}$');
    expect(mergeFields.ADDRESS?.type).toEqual(['null', 'object']);
    expect(mergeFields.FNAME?.type).toEqual(['null', 'string']);
  });

  it('reads the audience, its merge fields, groups and tags', () => {
    expect(ids(recordsOf(first, 'lists'))).toEqual([world.listId]);
    expect(recordsOf(first, 'merge_fields').map((f) => f.tag)).toEqual(['FNAME', 'LNAME', 'ADDRESS', 'PHONE', 'BIRTHDAY', 'SIGNUP', 'PLAN', 'LTV']);
    expect(recordsOf(first, 'interest_categories').map((c) => c.title)).toEqual(['Topics', 'How often']);
    expect(recordsOf(first, 'interests').every((i) => typeof i.subscriber_count === 'number')).toBe(true);
    expect(recordsOf(first, 'tags').map((t) => t.name).sort()).toEqual(['customer', 'mixpanel', 'newsletter', 'plan:free', 'plan:pro', 'vip', 'webinar-2024'].sort());
  });

  it("bookmarks the audience at the window's end: Mailchimp's clock less the settle margin", () => {
    const bookmark = Date.parse(bookmarkOf(first.state, world.listId) ?? '');
    expect(bookmark).toBeGreaterThanOrEqual(Date.parse('2024-06-10T11:59:00Z'));
    expect(bookmark).toBeLessThan(Date.parse('2024-06-10T12:00:00Z'));
    expect(first.state?.currently_syncing).toBeNull();
  });
});

describe('members changed between runs', () => {
  let second: TapRun;
  let changed: string[];

  beforeAll(async () => {
    await world.advance(2 * MINUTE);
    const truth = await world.truth();
    const subscribed = truth.filter((m) => m.status === 'subscribed');
    const [a, b, c, d, e, f] = subscribed;
    await world.change(a?.email_address ?? '', { status: 'unsubscribed' });
    await world.change(b?.email_address ?? '', { status: 'unsubscribed' });
    await world.change(c?.id ?? '', { merge_fields: { LTV: 99.5 } });
    await world.change(d?.id ?? '', { tags: { add: ['churn risk'] } });
    await world.change(e?.id ?? '', { status: 'archived' });
    // Through the API, as another tool would: VIP moves last_changed.
    const key = Buffer.from(`x:${world.sandbox.credentials.mailchimp.apiKey}`).toString('base64');
    const patched = await fetch(`${world.sandbox.url}/3.0/lists/${world.listId}/members/${f?.id ?? ''}`, { method: 'PATCH', headers: { authorization: `Basic ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ vip: true }) });
    expect(patched.status).toBe(200);
    changed = [a, b, c, d, e, f].map((m) => m?.id ?? '');
    await world.advance(2 * MINUTE);
    const state = world.file('state-1.json', first.state);
    second = await world.run(['--config', config, '--state', state]);
  });

  it('a second run from the state returns exactly them, as they are now', async () => {
    expect(second.code).toBe(0);
    const members = recordsOf(second, 'list_members');
    expect(ids(members).sort()).toEqual([...changed].sort());
    const now = new Map((await world.truth()).map((m) => [m.id, m]));
    for (const m of members) expect([m.id, m.status]).toEqual([m.id, now.get(String(m.id))?.status]);
    expect(members.find((m) => m.id === changed[2])?.merge_fields).toMatchObject({ LTV: 99.5 });
    expect((members.find((m) => m.id === changed[3])?.tags as Array<{ name: string }>).map((t) => t.name)).toContain('churn risk');
    expect(members.find((m) => m.id === changed[4])?.status).toBe('archived');
    expect(members.find((m) => m.id === changed[5])?.vip).toBe(true);
  });

  it('its bookmark moved forward; a third run without changes reads nobody, in two calls', async () => {
    expect(Date.parse(bookmarkOf(second.state, world.listId) ?? '')).toBeGreaterThan(Date.parse(bookmarkOf(first.state, world.listId) ?? ''));
    await world.clearRequests();
    await world.advance(2 * MINUTE);
    const third = await world.run(['--config', config, '--state', world.file('state-2.json', second.state), '--select', 'list_members']);
    expect(third.code).toBe(0);
    expect(recordsOf(third, 'list_members')).toEqual([]);
    const pages = (await world.requests()).filter((r) => r.route === '/3.0/lists/{list_id}/members');
    expect(pages.map((p) => p.query.status ?? 'all').sort()).toEqual(['all', 'archived']);
  });
});

describe('a tag-only change made through the API', () => {
  it('does not move last_changed here, so INCREMENTAL misses it and FULL_TABLE reads it (README: what moves last_changed)', async () => {
    await world.advance(2 * MINUTE);
    const base = await world.run(['--config', config, '--select', 'list_members']);
    const target = (await world.truth()).find((m) => m.status === 'subscribed' && !m.tags.some((t) => t.name === 'quiet tag')) as TruthMember;
    const key = Buffer.from(`x:${world.sandbox.credentials.mailchimp.apiKey}`).toString('base64');
    const tagged = await fetch(`${world.sandbox.url}/3.0/lists/${world.listId}/members/${target.id}/tags`, {
      method: 'POST',
      headers: { authorization: `Basic ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tags: [{ name: 'quiet tag', status: 'active' }], is_syncing: true }),
    });
    expect(tagged.status).toBe(204);
    await world.advance(2 * MINUTE);
    const incremental = await world.run(['--config', config, '--state', world.file('state-quiet.json', base.state), '--select', 'list_members']);
    expect(ids(recordsOf(incremental, 'list_members'))).not.toContain(target.id);

    const discover = await world.command(['--config', config, '--discover', '--select', 'list_members']);
    const catalog = JSON.parse(discover.stdout) as Catalog;
    const entry = catalog.streams.find((s) => s.tap_stream_id === 'list_members');
    const root = entry?.metadata?.find((m) => m.breadcrumb.length === 0);
    if (root) root.metadata['replication-method'] = 'FULL_TABLE';
    const full = await world.run(['--config', config, '--catalog', world.file('full.json', catalog), '--state', world.file('state-quiet2.json', incremental.state)]);
    expect(full.code).toBe(0);
    const record = recordsOf(full, 'list_members').find((m) => m.id === target.id);
    expect((record?.tags as Array<{ name: string }>).map((t) => t.name)).toContain('quiet tag');
    expect(recordsOf(full, 'list_members').length).toBe((await world.truth()).length);
    // FULL_TABLE leaves no bookmark behind.
    expect(bookmarkOf(full.state, world.listId)).toBeUndefined();
  });
});

describe('several audiences', () => {
  it('list_ids chooses audiences; each has its own bookmark in the state', async () => {
    await world.advance(MINUTE);
    const created = await fetch(`${world.admin}/mailchimp/lists`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'f6a7b8c9d0', name: 'Events', members: Array.from({ length: 40 }, (_, i) => ({ email_address: `guest${i}@proton.me`, merge_fields: { FNAME: `Guest ${i}` } })) }),
    });
    expect(created.status).toBe(200);
    await world.advance(2 * MINUTE);
    const both = await world.run(['--config', world.config({ list_ids: [world.listId, 'f6a7b8c9d0'] }), '--select', 'lists,list_members']);
    expect(both.code).toBe(0);
    expect(ids(recordsOf(both, 'lists'))).toEqual([world.listId, 'f6a7b8c9d0']);
    const byList = (id: string) => recordsOf(both, 'list_members').filter((m) => m.list_id === id);
    expect(byList('f6a7b8c9d0')).toHaveLength(40);
    expect(byList(world.listId)).toHaveLength((await world.truth()).length);
    expect(bookmarkOf(both.state, world.listId)).toBeDefined();
    expect(bookmarkOf(both.state, 'f6a7b8c9d0')).toBeDefined();

    const one = await world.run(['--config', world.config({ list_ids: 'f6a7b8c9d0' }), '--select', 'list_members', '--state', world.file('state-both.json', both.state)]);
    expect(one.code).toBe(0);
    expect(recordsOf(one, 'list_members')).toEqual([]);
    // The other audience's bookmark is kept as it was.
    expect(bookmarkOf(one.state, world.listId)).toBe(bookmarkOf(both.state, world.listId));
  });

  it('an audience the account does not have stops the run before anything is read (exit 1), naming the ones it has', async () => {
    const run = await world.run(['--config', world.config({ list_ids: ['0000000000'] })]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/"list_ids" names "0000000000", which this Mailchimp account does not have: its audiences are a1b2c3d4e5 \("Sandbox Audience"\), f6a7b8c9d0 \("Events"\)/);
    expect(run.messages.filter((m) => m.type === 'RECORD')).toEqual([]);
  });
});

describe('what the tap asks Mailchimp for', () => {
  it('members pages ask only for the fields the catalog selects (and the key, last_changed, status, total_items)', async () => {
    const discover = await world.command(['--config', config, '--discover']);
    const catalog = JSON.parse(discover.stdout) as Catalog;
    for (const entry of catalog.streams) {
      for (const m of entry.metadata ?? []) {
        if (entry.tap_stream_id !== 'list_members') m.metadata.selected = m.breadcrumb.length === 0 ? false : m.metadata.selected;
        else if (m.breadcrumb.length === 2 && !['email_address', 'status'].includes(String(m.breadcrumb[1]))) m.metadata.selected = false;
      }
    }
    await world.clearRequests();
    const run = await world.run(['--config', config, '--catalog', world.file('narrow.json', catalog)]);
    expect(run.code).toBe(0);
    const pages = (await world.requests()).filter((r) => r.route === '/3.0/lists/{list_id}/members' && r.query.count !== '1');
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) expect(page.query.fields).toBe('members.email_address,members.id,members.last_changed,members.status,total_items');
    expect(Object.keys(recordsOf(run, 'list_members')[0] ?? {}).sort()).toEqual(['email_address', 'id', 'last_changed', 'list_id', 'status']);
  });
});

/**
 * The spec's query parameters of a GET, by the sandbox's route template of its path
 * (tests/fixtures/mailchimp-get-parameters.json: taken from Mailchimp's Marketing API 3.0.85 spec).
 */
function specParameters(route: string): Record<string, { enum?: unknown[]; maximum?: number }> | undefined {
  const spec = JSON.parse(readFileSync(new URL('../fixtures/mailchimp-get-parameters.json', import.meta.url), 'utf8')) as {
    paths: Record<string, Record<string, { enum?: unknown[]; maximum?: number }>>;
  };
  const path = route.replace(/^\/3\.0/, '').replace('{list_id}', '{listId}').replace('{hash}', '{subscriberHash}').replace('{category_id}', '{interestCategoryId}').replace('{segment_id}', '{segmentId}');
  return spec.paths[path];
}

describe('requests valid against the Marketing API spec', () => {
  it('every path, query parameter, enum value and count of a whole run is one the spec declares', async () => {
    await world.clearRequests();
    await world.advance(2 * MINUTE);
    const run = await world.run(['--config', config]);
    expect(run.code).toBe(0);
    const problems: string[] = [];
    for (const request of await world.requests()) {
      const parameters = specParameters(request.route ?? request.path);
      if (!parameters) {
        problems.push(`${request.path}: not in the spec`);
        continue;
      }
      for (const [name, value] of Object.entries(request.query)) {
        const schema = parameters[name];
        if (!schema) problems.push(`${request.route}: ${name} is not a parameter`);
        else if (schema.enum && !schema.enum.includes(value)) problems.push(`${request.route}: ${name}=${value} is not one of ${schema.enum.join(', ')}`);
        else if (schema.maximum !== undefined && Number(value) > schema.maximum) problems.push(`${request.route}: ${name}=${value} > ${schema.maximum}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('the command line', () => {
  it('--test checks the key and one audience with two calls and writes nothing', async () => {
    await world.clearRequests();
    const run = await world.command(['--config', config, '--test']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/ok +credentials: Mailchimp at 127\.0\.0\.1:\d+ accepts the API key/);
    expect(run.stderr).toMatch(/ok +audience: a1b2c3d4e5 is "Sandbox Audience" \(\d+ subscribed members\)/);
    expect((await world.requests()).map((r) => r.path)).toEqual(['/3.0/ping', '/3.0/lists']);
  });

  it('--test with a wrong key fails with exit 1, the key never printed', async () => {
    const run = await world.command(['--config', world.config({ api_key: 'ffffffffffffffffffffffffffffffff-us6' }), '--test']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/FAIL +credentials: Mailchimp refused the credentials \(401\)/);
    expect(run.stderr).not.toContain('ffffffffffffffffffffffffffffffff');
  });

  it('--about lists the settings with secrets marked and the capabilities', async () => {
    const run = await world.command(['--about', '--format', 'json']);
    const about = JSON.parse(run.stdout) as { name: string; capabilities: string[]; settings: Array<{ name: string; secret: boolean }> };
    expect(about.name).toBe('tap-mailchimp');
    expect(about.capabilities).toEqual(['catalog', 'discover', 'properties', 'state', 'about']);
    expect(about.settings.find((s) => s.name === 'api_key')?.secret).toBe(true);
  });

  it('a state it cannot use stops the run with exit 3 before anything is read', async () => {
    const state = world.file('bad-state.json', { bookmarks: { list_members: { partitions: [{ context: { list_id: world.listId }, replication_key_value: 'yesterday' }] } } });
    const run = await world.run(['--config', config, '--state', state]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/partitions\[0\]\.replication_key_value must be a date-time/);
    expect(run.stdout).toBe('');
  });

  it('a near miss of a setting is refused with exit 1 naming the setting meant', async () => {
    const run = await world.run(['--config', world.config({ max_concurency: 3 })]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/unknown key "max_concurency": did you mean "max_concurrency"\?/);
  });
});
