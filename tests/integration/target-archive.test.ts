/**
 * archive_missing end to end: tap-mixpanel's engage (FULL_TABLE, table versions) fed to
 * target-mailchimp against the sandbox, over three runs in which people leave the source,
 * return to it and change their consent in Mailchimp:
 * - only members carrying the owner tag (put in or kept by this target) are ever archived;
 *   people from signup forms are never touched;
 * - archived exactly once, and only after a complete sweep: the output of a tap run stopped with
 *   SIGTERM archives nobody, nor does an INCREMENTAL run;
 * - a person who returns after being archived stays archived and is listed;
 * - no member is ever switched to a subscribing status;
 * - the safety limit refuses a mass archive (exit 1, states printed, nobody archived, listed),
 *   a dry run lists who would be archived and writes nothing, and delete_permanently erases.
 * People leave the source through engage_where (their profile's "account" becomes "closed").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SingerMessage } from '../../src/singer/messages.js';
import { CohortWorld, parseCsv, type AdminMember } from './cohort-world.js';
import { parseSingerOutput, postJson, runBinary, writeJson } from './harness.js';

const OWNER = 'Synced by target-mailchimp';
const SOURCE = 40;
const SUBSCRIBING = new Set(['subscribed', 'pending']);

let world: CohortWorld;
let tapConfig: string;
let catalog: string;
let ids: string[];

const email = (i: number) => `p${i}@acme.io`;

beforeAll(async () => {
  world = await CohortWorld.start();
  const base = JSON.parse(readFileSync(world.tapConfig, 'utf8')) as Record<string, unknown>;
  tapConfig = writeJson(world.dir, 'tap-archive.json', { ...base, engage_where: 'properties["account"] == "open"' });
  catalog = await world.catalog(['engage']);
});

afterAll(async () => {
  await world?.close();
});

beforeEach(async () => {
  await world.reset();
  const profiles = await world.profiles();
  ids = profiles.map((p) => p.$distinct_id);
  // The source: the first SOURCE profiles, each with an address; the others are not selected.
  await postJson(`${world.url}/__admin/mixpanel/profiles`, {
    profiles: ids.map((id, i) => ({ distinct_id: id, $set: i < SOURCE ? { $email: email(i), $first_name: 'Pat', $last_name: `Number ${i}`, account: 'open' } : { account: 'none' } })),
  });
  // The audience before the first run: two signup-form people, and two source people already in
  // it (one subscribed, one who unsubscribed).
  await world.setAudience([
    { email_address: 'signup1@acme.io', status: 'subscribed', tags: ['Newsletter form'] },
    { email_address: 'signup2@acme.io', status: 'unsubscribed' },
    { email_address: email(0), status: 'subscribed' },
    { email_address: email(9), status: 'unsubscribed' },
  ]);
});

async function setAccount(indexes: number[], account: 'open' | 'closed'): Promise<void> {
  await postJson(`${world.url}/__admin/mixpanel/profiles`, { profiles: indexes.map((i) => ({ distinct_id: ids[i], $set: { account } })) });
}

async function tapOutput(catalogPath = catalog): Promise<string> {
  const result = await runBinary('tap-mixpanel', ['--config', tapConfig, '--catalog', catalogPath], { timeoutMs: 90_000 });
  if (result.code !== 0) throw new Error(`tap exited ${String(result.code)}: ${result.stderr.slice(-2000)}`);
  return result.stdout;
}

interface ArchiveRun {
  code: number | null;
  stderr: string;
  states: string[];
  report: Record<string, unknown> & { archive?: Record<string, unknown> };
  rows: Array<Record<string, string>>;
}

async function target(input: string, settings: Record<string, unknown> = {}): Promise<ArchiveRun> {
  const archiveFile = join(world.dir, `archive-${Date.now()}-${Math.random().toString(36).slice(2)}.csv`);
  const run = await world.target(input, { archive_missing: true, archive_max_share: 0.2, archive_file: archiveFile, status_if_new: 'subscribed', ...settings });
  const rows = parseCsv(readFileSync(archiveFile, 'utf8')) as unknown as Array<Record<string, string>>;
  return { code: run.code, stderr: run.stderr, states: run.states, report: run.report as ArchiveRun['report'], rows };
}

/** Every member's status, by address. */
async function statuses(): Promise<Map<string, AdminMember>> {
  return world.audience();
}

/** Fails if a member who was not subscribing before is subscribing now. */
function expectNobodySubscribed(before: Map<string, AdminMember>, after: Map<string, AdminMember>): void {
  const switched = [...after.values()].filter((m) => {
    const was = before.get(m.email_address.toLowerCase());
    return was !== undefined && !SUBSCRIBING.has(was.status) && SUBSCRIBING.has(m.status);
  });
  expect(switched.map((m) => m.email_address)).toEqual([]);
}

/** A complete run's output cut as a stopped run leaves it: half the records, no activation, the last STATE. */
function interruptedOutput(output: string): string {
  const lines = output.split('\n').filter((l) => l !== '');
  const records = lines.filter((l) => l.startsWith('{"type":"RECORD"'));
  const kept = new Set(records.slice(0, Math.floor(records.length / 2)));
  const states = lines.filter((l) => l.startsWith('{"type":"STATE"'));
  return [...lines.filter((l) => l.startsWith('{"type":"SCHEMA"') || kept.has(l)), states[states.length - 1] ?? ''].join('\n') + '\n';
}

const removals = async () => (await world.mailchimpWrites()).filter((r) => r.method === 'DELETE' || r.route.endsWith('delete-permanent'));
const byAction = (rows: Array<Record<string, string>>, action: string) => rows.filter((r) => r.action === action).map((r) => r.email).sort();

describe('three runs: people leave, return and change consent', () => {
  it('archives owned leavers exactly once after complete sweeps only, keeps returners archived, and subscribes nobody', async () => {
    // Run 1: everyone in the source gets the owner tag; nobody has left.
    let before = await statuses();
    const first = await target(await tapOutput());
    expect(first.code).toBe(0);
    expect(first.report.archive).toMatchObject({ sweep: true, owned: SOURCE - 1, left: 0, archived: 0, refused: 0 });
    let after = await statuses();
    expectNobodySubscribed(before, after);
    expect(after.get(email(0))?.tags).toContain(OWNER);
    // The unsubscribed source person is left alone (not written, so not owned); signup people too.
    expect(after.get(email(9))).toMatchObject({ status: 'unsubscribed' });
    expect(after.get(email(9))?.tags).not.toContain(OWNER);
    expect(after.get('signup1@acme.io')?.tags).toEqual(['Newsletter form']);

    // Between runs: p1 and p2 leave the source; p3 unsubscribes in Mailchimp, then leaves too;
    // p9 (unsubscribed, not owned) leaves.
    await setAccount([1, 2, 3, 9], 'closed');
    await fetch(`${world.url}/__admin/mailchimp/lists/${world.listId}/members/${email(3)}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'unsubscribed' }) });

    // What a tap run stopped part way sends (tap-engage.test.ts stops one with SIGTERM): the
    // records read so far with their version, no ACTIVATE_VERSION, then its final STATE. Its
    // output archives nobody, although three owned people are missing from it.
    const stopped = interruptedOutput(await tapOutput());
    expect(parseSingerOutput(stopped).some((m: SingerMessage) => m.type === 'ACTIVATE_VERSION')).toBe(false);
    await world.clearRequests();
    before = await statuses();
    const interrupted = await target(stopped);
    expect(interrupted.code).toBe(0);
    expect(interrupted.report.archive).toMatchObject({ sweep: false, archived: 0 });
    expect(interrupted.stderr).toContain('archive: no complete sweep of the source in this input: nobody archived');
    expect(await removals()).toEqual([]);
    expectNobodySubscribed(before, await statuses());

    // Run 2, complete: p1, p2 and p3 (unsubscribed meanwhile) are archived, once each.
    await world.clearRequests();
    before = await statuses();
    const second = await target(await tapOutput());
    expect(second.code).toBe(0);
    expect(second.report.archive).toMatchObject({ sweep: true, owned: SOURCE - 1, left: 3, archived: 3, refused: 0, failed: 0 });
    expect(byAction(second.rows, 'archived')).toEqual([email(1), email(2), email(3)].sort());
    expect(second.rows.find((r) => r.email === email(3))?.status).toBe('unsubscribed');
    expect((await removals()).map((r) => r.path).sort()).toHaveLength(3);
    after = await statuses();
    expectNobodySubscribed(before, after);
    for (const i of [1, 2, 3]) expect(after.get(email(i))?.status).toBe('archived');
    expect(after.get(email(9))?.status).toBe('unsubscribed');
    expect(after.get('signup1@acme.io')?.status).toBe('subscribed');
    expect(after.get('signup2@acme.io')?.status).toBe('unsubscribed');
    expect(second.stderr).toMatch(/archive: 39 owned members, 3 left the source: archived 3/);

    // Run 3: p1 returns, p4 leaves. p4 is archived; p1 stays archived and is listed; p2 and p3
    // are not archived again.
    await setAccount([1], 'open');
    await setAccount([4], 'closed');
    await world.clearRequests();
    before = await statuses();
    const third = await target(await tapOutput());
    expect(third.code).toBe(0);
    expect(third.report.archive).toMatchObject({ sweep: true, owned: SOURCE - 4, left: 1, archived: 1, returned: 1 });
    expect(byAction(third.rows, 'archived')).toEqual([email(4)]);
    expect(byAction(third.rows, 'returned')).toEqual([email(1)]);
    const deleted = await removals();
    expect(deleted).toHaveLength(1);
    expect(deleted[0]?.path).toContain('/members/');
    after = await statuses();
    expectNobodySubscribed(before, after);
    expect(after.get(email(1))?.status).toBe('archived');
    expect(after.get(email(4))?.status).toBe('archived');
    expect(third.stderr).toContain('1 archived earlier and in the source again (they stay archived)');
  });

  it('an INCREMENTAL engage run activates nothing and archives nobody', async () => {
    await target(await tapOutput());
    await setAccount([5], 'closed');
    const incremental = JSON.parse(readFileSync(catalog, 'utf8')) as { streams: Array<{ tap_stream_id: string; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }> };
    for (const entry of incremental.streams) {
      const root = entry.metadata.find((m) => m.breadcrumb.length === 0);
      if (root && entry.tap_stream_id === 'engage') Object.assign(root.metadata, { 'replication-method': 'INCREMENTAL', 'replication-key': 'mp_reserved_last_seen' });
    }
    await world.clearRequests();
    const run = await target(await tapOutput(writeJson(world.dir, 'catalog-incremental.json', incremental)));
    expect(run.code).toBe(0);
    expect(run.report.archive).toMatchObject({ sweep: false, archived: 0 });
    expect(await removals()).toEqual([]);
    expect((await statuses()).get(email(5))?.status).toBe('subscribed');
  });
});

describe('the safety limit, the dry run and delete_permanently', () => {
  it('refuses a mass archive: exit 1 naming archive_max_share, states printed, nobody archived, everyone listed', async () => {
    await target(await tapOutput());
    const leaving = [1, 2, 3, 4, 5, 6, 7, 8, 10, 11];
    await setAccount(leaving, 'closed');
    await world.clearRequests();
    const output = await tapOutput();
    const before = await statuses();
    const refused = await target(output, { archive_max_share: 0.05 });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`archive_missing: 10 of the ${SOURCE - 1} members carrying "${OWNER}" (25.6%) are missing from the complete sweep of "engage", more than archive_max_share 0.05 allows: nobody was archived`);
    expect(refused.stderr).toContain('run again with archive_max_share 0.26 or more');
    expect(refused.states.length).toBeGreaterThan(0);
    expect(refused.report).toMatchObject({ succeeded: false, archive: { left: 10, archived: 0, refused: 10 } });
    expect(byAction(refused.rows, 'not archived')).toEqual(leaving.map(email).sort());
    expect(await removals()).toEqual([]);
    expectNobodySubscribed(before, await statuses());

    // A dry run with the limit raised lists them all, and writes nothing.
    const dry = await target(output, { archive_max_share: 0.3, dry_run: true });
    expect(dry.code).toBe(0);
    expect(dry.states).toEqual([]);
    expect(byAction(dry.rows, 'would archive')).toEqual(leaving.map(email).sort());
    expect(dry.report.archive).toMatchObject({ archived: 10, would_archive: expect.arrayContaining(leaving.map(email)) });
    expect(dry.stderr).toMatch(/plan: archive_missing would archive 10: /);
    expect(await world.mailchimpWrites()).toEqual([]);

    // Raised for one run, it archives them.
    const raised = await target(output, { archive_max_share: 0.3 });
    expect(raised.code).toBe(0);
    expect(byAction(raised.rows, 'archived')).toEqual(leaving.map(email).sort());
  });

  it('delete_permanently erases who left (never by default); they cannot come back', async () => {
    await target(await tapOutput());
    await setAccount([6], 'closed');
    await world.clearRequests();
    const run = await target(await tapOutput(), { delete_permanently: true });
    expect(run.code).toBe(0);
    expect(byAction(run.rows, 'deleted permanently')).toEqual([email(6)]);
    const writes = await removals();
    expect(writes.map((w) => w.method)).toEqual(['POST']);
    expect(writes[0]?.path).toMatch(/\/actions\/delete-permanent$/);
    expect((await statuses()).get(email(6))?.forgotten).toBe(true);
    // Back in the source: Mailchimp refuses the address for good; nobody is re-added.
    await setAccount([6], 'open');
    const back = await target(await tapOutput(), { delete_permanently: true });
    expect(back.code).toBe(0);
    expect((await statuses()).get(email(6))?.forgotten).toBe(true);
    const report = back.report as { skipped: Record<string, number>; created: number };
    expect(report.created).toBe(0);
  });
});
