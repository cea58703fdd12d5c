/**
 * target-mailchimp at audience scale, against the sandbox's generated audience: what it reads
 * (lookups for a small input, one whole read for a large one), how it writes (batch operations,
 * polled, results read from the archive), and what happens when Mailchimp misbehaves on the way
 * (operations that fail inside a batch, a member deleted while a batch waits, a batch still
 * processing when SIGTERM arrives, lost answers, someone unsubscribing during the run). Every test
 * checks the audience afterwards, the outcome counts and that no status was changed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN_DIR } from '../../src/demo/pipeline.js';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { generatedMember } from '../../src/sandbox/data.js';
import type { SandboxOptions } from '../../src/sandbox/options.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { subscriberHash } from '../../src/targets/mailchimp/members/members.js';
import { REASONS } from '../../src/targets/mailchimp/reports/outcomes.js';
import { postJson, runBinary, tempDir, writeJson } from './harness.js';

const GENERATED = 3000;
const OPTIONS: SandboxOptions = { port: 0, profiles: 10, days: 1, eventsPerDay: 0, mailchimp: { audienceSize: GENERATED, batchOperationsPerSecond: 20_000 } };

let sandbox: Sandbox;
let dir: string;
let listId: string;
let base: Record<string, unknown>;

beforeAll(async () => {
  sandbox = await startSandbox(OPTIONS);
  dir = tempDir('target-scale-');
  const { target } = sandboxClientConfigs(sandbox);
  listId = target.list_id;
  base = { ...target, max_concurrency: 10, flush_interval_seconds: 1 };
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  await postJson(`${sandbox.url}/__admin/reset`, {});
});

const SCHEMA = {
  type: 'SCHEMA',
  stream: 'engage',
  key_properties: ['distinct_id'],
  schema: { type: 'object', properties: { distinct_id: { type: 'string' }, mp_reserved_email: { type: ['null', 'string'] }, mp_reserved_first_name: { type: ['null', 'string'] } } },
};

/** A generated member's record: odd indexes change their first name. */
function existing(i: number): { line: string; email: string; changed: boolean; status: string } {
  const m = generatedMember(i, OPTIONS);
  const changed = i % 2 === 1;
  const first = changed ? `Changed${i}` : m.mergeFields.FNAME;
  return { line: JSON.stringify({ type: 'RECORD', stream: 'engage', record: { distinct_id: `g${i}`, mp_reserved_email: m.email, mp_reserved_first_name: first } }), email: m.email, changed, status: m.status };
}

const fresh = (i: number) => ({ line: JSON.stringify({ type: 'RECORD', stream: 'engage', record: { distinct_id: `n${i}`, mp_reserved_email: `scale.new${i}@example.org`, mp_reserved_first_name: `New${i}` } }), email: `scale.new${i}@example.org` });
const state = (n: number) => JSON.stringify({ type: 'STATE', value: { bookmarks: { engage: { n } } } });

const WITHDRAWN: Record<string, string> = { unsubscribed: REASONS.unsubscribed, cleaned: REASONS.cleaned, archived: REASONS.archived };

/** What each existing record must become: skipped (withdrawn), updated (changed) or unchanged. */
function expectedCounts(indexes: number[], created: number) {
  const skipped: Record<string, number> = {};
  let updated = 0;
  let unchanged = 0;
  for (const i of indexes) {
    const r = existing(i);
    const withdrawn = WITHDRAWN[r.status];
    if (withdrawn) skipped[withdrawn] = (skipped[withdrawn] ?? 0) + 1;
    else if (r.changed) updated++;
    else unchanged++;
  }
  return { created, updated, unchanged, skipped };
}

interface Route {
  method: string;
  route: string;
  count: number;
}

async function summary(): Promise<{ calls: Record<string, number>; operations: Record<string, number> }> {
  const body = (await (await fetch(`${sandbox.url}/__admin/requests/summary`)).json()) as { routes: Route[]; batch_operations?: { routes: Route[] } };
  const byRoute = (routes: Route[]) => Object.fromEntries(routes.map((r) => [`${r.method} ${r.route}`, r.count]));
  return { calls: byRoute(body.routes), operations: byRoute(body.batch_operations?.routes ?? []) };
}

const LOOKUP = 'GET /3.0/lists/{list_id}/members/{hash}';
const PAGE = 'GET /3.0/lists/{list_id}/members';
const PATCH = 'PATCH /3.0/lists/{list_id}/members/{hash}';
const SUBMIT = 'POST /3.0/batches';

interface AdminMember {
  email_address: string;
  status: string;
  merge_fields: Record<string, unknown>;
}

async function member(email: string): Promise<AdminMember | undefined> {
  const response = await fetch(`${sandbox.url}/3.0/lists/${listId}/members/${subscriberHash(email)}`, { headers: { authorization: `Basic ${Buffer.from(`x:${String(base.api_key)}`).toString('base64')}` } });
  return response.status === 404 ? undefined : ((await response.json()) as AdminMember);
}

/** Statuses never change, and the changed people now hold the new first name (unless withdrawn). */
async function expectAudienceAfter(indexes: number[]): Promise<void> {
  for (const i of indexes) {
    const r = existing(i);
    const now = await member(r.email);
    expect([r.email, now?.status]).toEqual([r.email, r.status]);
    const g = generatedMember(i, OPTIONS);
    const wanted = r.changed && !WITHDRAWN[r.status] ? `Changed${i}` : g.mergeFields.FNAME;
    expect([r.email, now?.merge_fields.FNAME]).toEqual([r.email, wanted]);
  }
}

interface Report {
  created: number;
  updated: number;
  unchanged: number;
  skipped: Record<string, number>;
  rejected: Record<string, number>;
  audience_knowledge: string;
  batch_operations: { batches: number; batchedOperations: number; directOperations: number; retriedOperations: number };
  api_calls_by_kind: Record<string, number>;
}

const report = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Report;

function config(name: string, extra: Record<string, unknown> = {}): { path: string; reportFile: string } {
  const reportFile = join(dir, `${name}-report.json`);
  return { path: writeJson(dir, `${name}.json`, { ...base, report_file: reportFile, ...extra }), reportFile };
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);

describe('what the target reads follows its input', () => {
  it('a small input: each person is looked up, the audience is not paged', async () => {
    const indexes = range(100, 25);
    const input = [JSON.stringify(SCHEMA), ...indexes.map((i) => existing(i).line), ...range(0, 5).map((i) => fresh(i).line), state(1)].join('\n') + '\n';
    const { path, reportFile } = config('small');
    const run = await runBinary('target-mailchimp', ['--config', path], { stdin: input });
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(JSON.stringify({ bookmarks: { engage: { n: 1 } } }));
    const { calls } = await summary();
    expect(calls[LOOKUP]).toBe(30);
    expect(calls[PAGE]).toBe(1); // the one-member page that counts the audience
    expect(report(reportFile)).toMatchObject({ ...expectedCounts(indexes, 5), audience_knowledge: 'lookups' });
    await expectAudienceAfter(indexes);
    for (const i of range(0, 5)) expect((await member(fresh(i).email))?.status).toBe('subscribed');
  });

  it('a large input: the audience is read once, and changes are written in batch operations', async () => {
    const indexes = range(0, 600);
    const input = [JSON.stringify(SCHEMA), ...indexes.map((i) => existing(i).line), ...range(0, 20).map((i) => fresh(i).line), state(2)].join('\n') + '\n';
    const { path, reportFile } = config('large');
    const run = await runBinary('target-mailchimp', ['--config', path], { stdin: input });
    expect(run.code).toBe(0);
    const { calls, operations } = await summary();
    expect(calls[LOOKUP]).toBeUndefined();
    expect(calls[PAGE]).toBe(1 + Math.ceil((GENERATED + 59) / 1000));
    expect(calls[PATCH]).toBeUndefined();
    expect(calls[SUBMIT]).toBeGreaterThanOrEqual(1);
    const r = report(reportFile);
    expect(r).toMatchObject({ ...expectedCounts(indexes, 20), audience_knowledge: 'whole audience read' });
    expect(operations[PATCH]).toBe(r.updated);
    expect(r.batch_operations.directOperations).toBe(0);
    await expectAudienceAfter(indexes);
  });

  it('tags in bulk: property:value tags change through batch operations with is_syncing, so no tag automation fires', async () => {
    const indexes = range(0, 600).filter((i) => existing(i).status === 'subscribed');
    const TAGGED = { ...SCHEMA, schema: { ...SCHEMA.schema, properties: { ...SCHEMA.schema.properties, plan: { type: ['null', 'string'] } } } };
    const line = (i: number) => {
      const m = generatedMember(i, OPTIONS);
      return JSON.stringify({ type: 'RECORD', stream: 'engage', record: { distinct_id: `g${i}`, mp_reserved_email: m.email, mp_reserved_first_name: m.mergeFields.FNAME, plan: i % 3 === 0 ? 'enterprise' : null } });
    };
    const { path, reportFile } = config('tags', { tag_properties: ['plan'] });
    expect((await runBinary('target-mailchimp', ['--config', path], { stdin: [JSON.stringify(TAGGED), ...indexes.map(line), state(8)].join('\n') + '\n' })).code).toBe(0);
    const { calls, operations } = await summary();
    // In batches, but for a remainder smaller than bulk_threshold that goes out directly (also with is_syncing).
    const batched = operations['POST /3.0/lists/{list_id}/members/{hash}/tags'] ?? 0;
    expect(batched).toBeGreaterThan(100);
    expect(calls['POST /3.0/lists/{list_id}/members/{hash}/tags'] ?? 0).toBeLessThan(batched / 10);
    const automations = (await (await fetch(`${sandbox.url}/__admin/mailchimp/automations`)).json()) as { triggers: unknown[] };
    expect(automations.triggers).toEqual([]);
    for (const i of indexes.slice(0, 60)) {
      const tags = ((await (await fetch(`${sandbox.url}/3.0/lists/${listId}/members/${subscriberHash(existing(i).email)}/tags`, { headers: { authorization: `Basic ${Buffer.from(`x:${String(base.api_key)}`).toString('base64')}` } })).json()) as { tags: Array<{ name: string }> }).tags.map((t) => t.name);
      // plan:enterprise for every third person; null clears the other plan:* tags; other tags stay.
      expect(tags.filter((t) => t.startsWith('plan:'))).toEqual(i % 3 === 0 ? ['plan:enterprise'] : []);
      expect(tags.filter((t) => !t.startsWith('plan:')).sort()).toEqual(generatedMember(i, OPTIONS).tags.filter((t) => !t.startsWith('plan:')).sort());
    }
    expect(report(reportFile).rejected).toEqual({});
  });

  it('add_only at scale: new people are created, nobody existing is written to', async () => {
    const indexes = range(0, 600);
    const input = [JSON.stringify(SCHEMA), ...indexes.map((i) => existing(i).line), ...range(0, 3).map((i) => fresh(i).line), state(3)].join('\n') + '\n';
    const { path, reportFile } = config('add-only', { mode: 'add_only' });
    expect((await runBinary('target-mailchimp', ['--config', path], { stdin: input })).code).toBe(0);
    const { calls, operations } = await summary();
    expect([calls[PATCH], calls[SUBMIT], operations[PATCH]]).toEqual([undefined, undefined, undefined]);
    expect(report(reportFile).created).toBe(3);
    for (const i of indexes) expect((await member(existing(i).email))?.merge_fields.FNAME).toBe(generatedMember(i, OPTIONS).mergeFields.FNAME);
  });
});

/** The target as a child whose stdin the test controls. */
function startTarget(path: string) {
  const child = spawn(process.execPath, [join(BIN_DIR, 'target-mailchimp.js'), '--config', path], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  child.stdin.on('error', () => undefined);
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => (clearTimeout(killer), resolve(code))));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/** Polls a condition on the sandbox until it holds (or fails the test after the deadline). */
async function until(what: string, check: () => Promise<boolean>, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const batchesPaused = (paused: boolean) => postJson(`${sandbox.url}/__admin/settings`, { mailchimp_batches: { paused } });

describe('batch operations when things go wrong', () => {
  it('operations that fail inside a batch are sent again; a member deleted while the batch waits is reported, not retried', async () => {
    const indexes = range(0, 600).filter((i) => existing(i).status === 'subscribed');
    const changed = indexes.filter((i) => existing(i).changed);
    const victim = existing(changed[3] as number);
    await postJson(`${sandbox.url}/__admin/settings`, { faults: [{ kind: 'batch_operation_status', family: 'mailchimp', status: 500, times: 7, when: { method: 'PATCH' } }] });
    await batchesPaused(true);
    const { path, reportFile } = config('errors', { rejects_file: join(dir, 'errors-rejects.csv') });
    const target = startTarget(path);
    target.child.stdin.end([JSON.stringify(SCHEMA), ...indexes.map((i) => existing(i).line), state(4)].join('\n') + '\n');
    await until('the first batch to be submitted', async () => ((await summary()).calls[SUBMIT] ?? 0) >= 1);
    // Gone for good before Mailchimp gets to the batch.
    const gone = await fetch(`${sandbox.url}/3.0/lists/${listId}/members/${subscriberHash(victim.email)}/actions/delete-permanent`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`x:${String(base.api_key)}`).toString('base64')}` } });
    expect(gone.status).toBe(204);
    await batchesPaused(false);
    expect(await target.exited).toBe(0);
    expect(target.output().stdout.trim()).toBe(JSON.stringify({ bookmarks: { engage: { n: 4 } } }));
    const r = report(reportFile);
    expect(r.batch_operations.retriedOperations).toBeGreaterThanOrEqual(7);
    expect(r.updated).toBe(changed.length - 1);
    expect(r.skipped).toEqual({ [REASONS.vanished]: 1 });
    await expectAudienceAfter(indexes.filter((i) => existing(i).email !== victim.email));
  });

  it('SIGTERM while a batch is still processing: the target waits for its results, then prints the state that covers them', async () => {
    const indexes = range(0, 600);
    await batchesPaused(true);
    const { path, reportFile } = config('sigterm');
    const target = startTarget(path);
    // The input stays open: only the signal ends the run.
    target.child.stdin.write([JSON.stringify(SCHEMA), ...indexes.map((i) => existing(i).line), state(5)].join('\n') + '\n');
    await until('the batch to be submitted', async () => ((await summary()).calls[SUBMIT] ?? 0) >= 1);
    const polls = async () => (await summary()).calls['GET /3.0/batches/{batch_id}'] ?? 0;
    const pollsBefore = await polls();
    target.child.kill('SIGTERM');
    await until('the target to take the signal', async () => target.output().stderr.includes('SIGTERM received'));
    // Mailchimp has not run the batch: no state may appear while the target goes on polling it.
    await until('a poll of the paused batch after the signal', async () => (await polls()) > pollsBefore);
    expect(target.output().stdout).toBe('');
    await batchesPaused(false);
    expect(await target.exited).toBe(0);
    expect(target.output().stdout.trim()).toBe(JSON.stringify({ bookmarks: { engage: { n: 5 } } }));
    expect(report(reportFile)).toMatchObject(expectedCounts(indexes, 0));
    await expectAudienceAfter(indexes);
  });

  it('lost answers: a create and a batch submit whose answers never arrive are not counted twice, and the created stay created', async () => {
    const indexes = range(0, 600);
    await postJson(`${sandbox.url}/__admin/settings`, {
      faults: [
        { kind: 'lose_answer', family: 'mailchimp', times: 1, when: { method: 'POST', path: `/3.0/lists/${listId}` } },
        { kind: 'lose_answer', family: 'mailchimp', times: 1, when: { method: 'POST', path: '/3.0/batches' } },
      ],
    });
    const { path, reportFile } = config('lost');
    const run = await runBinary('target-mailchimp', ['--config', path], { stdin: [JSON.stringify(SCHEMA), ...indexes.map((i) => existing(i).line), ...range(0, 12).map((i) => fresh(i).line), state(6)].join('\n') + '\n' });
    expect(run.code).toBe(0);
    const r = report(reportFile);
    expect(r).toMatchObject(expectedCounts(indexes, 12));
    for (const i of range(0, 12)) expect((await member(fresh(i).email))?.status).toBe('subscribed');
    await expectAudienceAfter(indexes);
    const { calls } = await summary();
    expect(calls[`POST /3.0/lists/{list_id}`]).toBe(2);
    expect(calls[SUBMIT]).toBeGreaterThanOrEqual(2);
  });

  it('a results archive that breaks off half way, or answers 503, is downloaded again, and every operation is counted once', async () => {
    const indexes = range(0, 600);
    const archives = { path_prefix: '/mailchimp-api-batch/' };
    await postJson(`${sandbox.url}/__admin/settings`, {
      faults: [
        { kind: 'cut_after_bytes', family: 'mailchimp', times: 1, after_bytes: 200, when: archives },
        { kind: 'status', family: 'mailchimp', status: 503, times: 1, when: archives },
      ],
    });
    const { path, reportFile } = config('archive');
    const run = await runBinary('target-mailchimp', ['--config', path], { stdin: [JSON.stringify(SCHEMA), ...indexes.map((i) => existing(i).line), state(9)].join('\n') + '\n' });
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(JSON.stringify({ bookmarks: { engage: { n: 9 } } }));
    const r = report(reportFile);
    expect(r).toMatchObject(expectedCounts(indexes, 0));
    expect(r.batch_operations.retriedOperations).toBe(0);
    const raw = (await (await fetch(`${sandbox.url}/__admin/requests/summary`)).json()) as { routes: Array<Route & { faults: number }> };
    const downloads = raw.routes.filter((route) => route.route.startsWith('/mailchimp-api-batch/'));
    const submits = (await summary()).calls[SUBMIT] ?? 0;
    expect(downloads.reduce((n, route) => n + route.faults, 0)).toBe(2);
    expect(downloads.reduce((n, route) => n + route.count, 0)).toBe(submits + 2);
    await expectAudienceAfter(indexes);
  });

  it('someone who unsubscribes during the run is skipped, and keeps their status', async () => {
    const subscribed = range(0, 2000).filter((i) => existing(i).status === 'subscribed' && existing(i).changed);
    const late = existing(subscribed[0] as number);
    const { path, reportFile } = config('unsubscribe', { flush_interval_seconds: 0.2 });
    const target = startTarget(path);
    const others = range(2000, 600);
    target.child.stdin.write([JSON.stringify(SCHEMA), ...others.map((i) => existing(i).line)].join('\n') + '\n');
    await until('the audience to be read', async () => ((await summary()).calls[PAGE] ?? 0) >= 1 + Math.ceil((GENERATED + 59) / 1000));
    // The person unsubscribes in Mailchimp after the target read the audience.
    const changed = await fetch(`${sandbox.url}/3.0/lists/${listId}/members/${subscriberHash(late.email)}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`x:${String(base.api_key)}`).toString('base64')}` },
      body: JSON.stringify({ status: 'unsubscribed' }),
    });
    expect(changed.status).toBe(200);
    // Records keep coming (one at a time) until the target has looked for people who withdrew.
    let k = 2600;
    await until(
      'a refresh of withdrawn members',
      async () => {
        target.child.stdin.write(existing(k++).line + '\n');
        const log = (await (await fetch(`${sandbox.url}/__admin/requests?family=mailchimp`)).json()) as { requests: Array<{ path: string; query: Record<string, string> }> };
        return log.requests.some((q) => 'since_last_changed' in (q.query ?? {}));
      },
      40_000,
    );
    target.child.stdin.end([late.line, state(7)].join('\n') + '\n');
    expect(await target.exited).toBe(0);
    expect((await member(late.email))?.status).toBe('unsubscribed');
    expect((await member(late.email))?.merge_fields.FNAME).toBe(generatedMember(subscribed[0] as number, OPTIONS).mergeFields.FNAME);
    expect(report(reportFile).skipped[REASONS.unsubscribed]).toBeGreaterThanOrEqual(1);
  });
});
