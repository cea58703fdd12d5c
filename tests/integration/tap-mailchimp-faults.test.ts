/**
 * tap-mailchimp under trouble, the real binary against the sandbox: faults in the middle of
 * paging (retried within the run; or failing the run, which a later run resumes), members
 * changing while the run pages, a stop request, the failure alert, and never more requests in
 * flight than max_concurrency (at most 10, Mailchimp's limit).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { BIN_DIR } from '../../src/demo/pipeline.js';
import { getJson, lastState, parseSingerOutput, postJson, type RunResult } from './harness.js';
import { MailchimpTapWorld, bookmarkOf, duplicates, ids, recordsOf, type TapRun, type TruthMember } from './mailchimp-tap-world.js';

let world: MailchimpTapWorld;
let all: TruthMember[];
const MINUTE = 60_000;
const MEMBERS_PATH = '/3.0/lists/a1b2c3d4e5/members';

beforeAll(async () => {
  world = await MailchimpTapWorld.start({ mailchimp: { audienceSize: 600 } });
});

afterAll(async () => {
  await world?.close();
});

beforeEach(async () => {
  await postJson(`${world.admin}/reset`, {});
  all = await world.truth();
});

const members = (run: TapRun) => ids(recordsOf(run, 'list_members'));

describe('a fault in the middle of paging', () => {
  it('retried within the run (503s, a lost answer, a 429 with Retry-After): every member once', async () => {
    await world.settings({
      faults: [
        { kind: 'status', family: 'mailchimp', status: 503, times: 2, when: { path: MEMBERS_PATH, query: { offset: '50' } } },
        { kind: 'lose_answer', times: 1, when: { path: MEMBERS_PATH, query: { offset: '75' } } },
        { kind: 'status', family: 'mailchimp', status: 429, retry_after_s: 1, times: 1, when: { path: MEMBERS_PATH, query: { offset: '25' } } },
      ],
    });
    const run = await world.run(['--config', world.config(), '--select', 'list_members']);
    expect(run.code).toBe(0);
    expect(duplicates(members(run))).toEqual([]);
    expect(members(run).sort()).toEqual(all.map((m) => m.id).sort());
    const faulted = (await world.requests()).filter((r) => r.fault !== undefined).map((r) => r.fault);
    expect(faulted.sort()).toEqual(['lose_answer', 'status', 'status', 'status']);
    expect(run.stderr).toMatch(/rate limited on GET .*members .*Retry-After/);
  });

  it('that keeps failing fails the run (exit 4) with the state before it; the next run loses nothing', async () => {
    // Twenty pages go through, then every members page answers 503.
    await world.settings({ faults: [{ kind: 'status', family: 'mailchimp', status: 503, skip: 20, when: { path: MEMBERS_PATH } }] });
    const config = world.config({ max_retries: 2, max_concurrency: 2 });
    const failed = await world.run(['--config', config, '--select', 'list_members']);
    expect(failed.code).toBe(4);
    expect(failed.stderr).toMatch(/tap-mailchimp: error: GET http:\/\/127\.0\.0\.1:\d+\/3\.0\/lists\/a1b2c3d4e5\/members\?.* failed: 503/);
    expect(failed.stderr).not.toContain(world.sandbox.credentials.mailchimp.apiKey);
    // The state it leaves covers only what was read: everyone changed before its bookmark was emitted.
    const bookmark = bookmarkOf(failed.state, world.listId) ?? '';
    const emitted = new Set(members(failed));
    const before = all.filter((m) => Date.parse(m.last_changed) < Date.parse(bookmark));
    expect(before.length).toBeGreaterThan(0);
    expect(before.filter((m) => !emitted.has(m.id))).toEqual([]);
    expect(Date.parse(bookmark)).toBeLessThan(Date.parse('2024-06-10T11:59:00Z'));
    expect(all.filter((m) => !emitted.has(m.id)).length).toBeGreaterThan(0);

    await world.settings({ faults: [] });
    const resumed = await world.run(['--config', config, '--select', 'list_members', '--state', world.file('failed-state.json', failed.state ?? {})]);
    expect(resumed.code).toBe(0);
    expect(duplicates(members(resumed))).toEqual([]);
    const union = new Set([...members(failed), ...members(resumed)]);
    expect([...union].sort()).toEqual(all.map((m) => m.id).sort());
    // Sent twice: only members at or after the failed run's bookmark (re-read from there, as Singer's at-least-once allows).
    const twice = members(resumed).filter((id) => emitted.has(id));
    const changedAt = new Map(all.map((m) => [m.id, Date.parse(m.last_changed)]));
    for (const id of twice) expect(changedAt.get(id)).toBeGreaterThanOrEqual(Date.parse(bookmark));
  });
});

/** Runs the tap in the background; resolves when it exits. */
function start(args: string[]): { done: Promise<RunResult>; kill: (signal: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [join(BIN_DIR, 'tap-mailchimp.js'), ...args], { env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<RunResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { done, kill: (signal) => child.kill(signal) };
}

/** Waits (polling the request log, not the clock) until `n` members pages were answered. */
async function pagesAnswered(n: number): Promise<number> {
  for (;;) {
    const answered = (await world.requests()).filter((r) => r.path === MEMBERS_PATH && r.status !== null).length;
    if (answered >= n) return answered;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('members changing while the run pages', () => {
  it('leave the fixed window: nobody else is skipped or sent twice, and the next run has the leavers', async () => {
    // One slice for the whole audience, two pages at a time, each answered after 120 ms.
    await world.settings({ faults: [{ kind: 'latency', family: 'mailchimp', ms: 120, when: { path: MEMBERS_PATH } }] });
    await world.clearRequests();
    const config = world.config({ slice_members: 100_000, max_concurrency: 2 });
    const tap = start(['--config', config, '--select', 'list_members']);
    const before = await pagesAnswered(3);
    // Five members at the front of the audience's order unsubscribe: everyone after them moves up.
    const leavers = all.filter((m) => m.status === 'subscribed').slice(0, 5);
    for (const m of leavers) await world.change(m.id, { status: 'unsubscribed' });
    const run = await tap.done;
    const after = (await world.requests()).filter((r) => r.path === MEMBERS_PATH && r.status !== null).length;
    expect(after).toBeGreaterThan(before + 5);
    expect(run.code).toBe(0);
    const first = parseSingerOutput(run.stdout);
    const emitted = first.filter((m) => m.type === 'RECORD').map((m) => String((m as unknown as { record: { id: string } }).record.id));
    expect(duplicates(emitted)).toEqual([]);
    const stayed = all.filter((m) => !leavers.some((l) => l.id === m.id));
    expect(stayed.filter((m) => !emitted.includes(m.id)).map((m) => m.email_address)).toEqual([]);
    expect(run.stderr).toMatch(/members read while members changed: reading it again \(attempt 2\)/);

    await world.settings({ faults: [] });
    await world.advance(2 * MINUTE);
    const next = await world.run(['--config', config, '--select', 'list_members', '--state', world.file('mid-run.json', lastState(first))]);
    expect(recordsOf(next, 'list_members').map((m) => [m.id, m.status]).sort()).toEqual(leavers.map((m) => [m.id, 'unsubscribed']).sort());
  });
});

describe('a stop request (SIGTERM) mid-run', () => {
  it('exits 0 with a final state at a checked point; the next run completes the window, losing nobody', async () => {
    await world.settings({ faults: [{ kind: 'latency', family: 'mailchimp', ms: 80, when: { path: MEMBERS_PATH } }] });
    await world.clearRequests();
    const config = world.config({ max_concurrency: 2, slice_members: 60 });
    const tap = start(['--config', config, '--select', 'list_members']);
    // Planning (two first pages, a probe per cut) and some slices read.
    await pagesAnswered(30);
    tap.kill('SIGTERM');
    const stopped = await tap.done;
    expect(stopped.code).toBe(0);
    const messages = parseSingerOutput(stopped.stdout);
    const state = lastState(messages);
    expect(messages[messages.length - 1]?.type).toBe('STATE');
    expect(state?.currently_syncing).toBe('list_members');
    const bookmark = bookmarkOf(state, world.listId) ?? '';
    const emitted = new Set(messages.filter((m) => m.type === 'RECORD').map((m) => String((m as unknown as { record: { id: string } }).record.id)));
    expect(emitted.size).toBeLessThan(all.length);
    expect(Date.parse(bookmark)).toBeLessThan(Date.parse('2024-06-10T11:59:00Z'));
    expect(all.filter((m) => Date.parse(m.last_changed) < Date.parse(bookmark) && !emitted.has(m.id))).toEqual([]);

    await world.settings({ faults: [] });
    const resumed = await world.run(['--config', config, '--select', 'list_members', '--state', world.file('stopped.json', state)]);
    expect(resumed.code).toBe(0);
    expect(new Set([...emitted, ...members(resumed)]).size).toBe(all.length);
  });
});

describe('the failure alert', () => {
  it('a failed run posts the alert (error, stream, last state) to the webhook, without the key', async () => {
    await world.settings({ faults: [{ kind: 'status', family: 'mailchimp', status: 500, when: { path: MEMBERS_PATH } }] });
    const hook = `${world.sandbox.notify.webhookBaseUrl}/tap-alerts`;
    const run = await world.run(['--config', world.config({ max_retries: 1, alert_webhook_url: hook })]);
    expect(run.code).toBe(4);
    const { requests } = await getJson<{ requests: Array<{ path: string; body: Record<string, unknown> }> }>(`${world.admin}/webhooks`);
    const alert = requests.find((r) => r.path === '/hooks/tap-alerts')?.body;
    expect(alert).toMatchObject({ kind: 'alert', binary: 'tap-mailchimp', exit_code: 4, stopped_at: 'stream list_members' });
    expect(String(alert?.error)).toMatch(/members.* failed: 500/);
    expect(JSON.stringify(alert)).not.toContain(world.sandbox.credentials.mailchimp.apiKey);
    expect(run.stderr).not.toContain('/hooks/tap-alerts');
  });
});

describe('requests in flight', () => {
  it.each([10, 4])('never more than max_concurrency (%i) at once, and no 429 from Mailchimp', async (concurrency) => {
    await world.settings({ faults: [{ kind: 'latency', family: 'mailchimp', ms: 60, when: { path: MEMBERS_PATH } }] });
    await world.clearRequests();
    const run = await world.run(['--config', world.config({ max_concurrency: concurrency, slice_members: 100 }), '--select', 'list_members']);
    expect(run.code).toBe(0);
    expect(members(run)).toHaveLength(all.length);
    const summary = await world.summary();
    // Reached, so the limit is what held it there.
    expect(summary.mailchimp_peak_in_flight).toBe(concurrency);
    expect(summary.routes.every((r) => r.statuses['429'] === undefined)).toBe(true);
  });
});
