/**
 * Mailchimp fails for good, the way an ordinary hourly run meets it: every write answers 500
 * while one planning batch holds both new people (a batch subscribe) and changed people (merge
 * field updates, as direct PATCHes or inside POST /batches). Which retry loop gives up first is a
 * race, so each way is run many times, with varied flush intervals and concurrency: every run
 * must end through the one exit point, exit 4, with the "stopped" summary, the states covered
 * before the failure and none after, and the alert delivered by email, SMS and webhook.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { sandboxNotifyConfig } from '../../src/sandbox/notify/configs.js';
import type { ReceivedEmail, ReceivedSms, ReceivedWebhook } from '../../src/sandbox/notify/store.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { getJson, postJson, runBinary, tempDir, writeJson, type RunResult } from './harness.js';

/** Runs of each way; before the fix the race went wrong in every run of this input (31 of 31). */
const RUNS = 24;
/** A way stops starting runs after RUN_BUDGET_MS once MIN_RUNS are done (a slow machine), so the test ends in time. */
const MIN_RUNS = 12;
const RUN_BUDGET_MS = 70_000;

let sandbox: Sandbox;
let dir: string;
let notifyConfig: Record<string, unknown>;
let listId: string;
/** Seeded subscribed members: the first UNCHANGED keep their names, the next CHANGED get new ones. */
let subscribed: Array<{ email: string; first: string; last: string }>;
let seq = 0;

const UNCHANGED = 4;
const CHANGED = 2;
const NEW = 2;
const ALERT_HOOK = 'failing-writes-alerts';

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 17, profiles: 20, eventsPerDay: 5, days: 2, mailchimp: { requiredMergeField: null } });
  dir = tempDir('failing-writes-');
  const caFile = join(dir, 'sandbox-ca.pem');
  writeFileSync(caFile, sandbox.notify.smtp.certificatePem);
  notifyConfig = sandboxNotifyConfig(sandbox, { caFile, emailTo: ['oncall@example.org'], smsTo: ['+14155550199'], hookName: { alert: ALERT_HOOK } });
  listId = sandbox.credentials.mailchimp.listId;
  const { members } = await getJson<{ members: Array<{ email_address: string; status: string; merge_fields: Record<string, unknown> }> }>(
    `${sandbox.url}/__admin/mailchimp/lists/${listId}/members?status=subscribed`,
  );
  subscribed = members
    .filter((m) => typeof m.merge_fields.FNAME === 'string' && m.merge_fields.FNAME !== '' && typeof m.merge_fields.LNAME === 'string')
    .map((m) => ({ email: m.email_address, first: m.merge_fields.FNAME as string, last: m.merge_fields.LNAME as string }))
    .slice(0, UNCHANGED + 2 * CHANGED);
  expect(subscribed).toHaveLength(UNCHANGED + 2 * CHANGED);
});

afterAll(async () => {
  await sandbox.close();
});

const SCHEMA = {
  type: 'SCHEMA',
  stream: 'engage',
  key_properties: ['distinct_id'],
  schema: { type: 'object', properties: { distinct_id: { type: 'string' }, mp_reserved_email: { type: 'string' }, mp_reserved_first_name: { type: 'string' }, mp_reserved_last_name: { type: 'string' } } },
};
const state = (n: number) => ({ type: 'STATE', value: { bookmarks: { engage: { n } } } });
const rec = (id: string, email: string, first: string, last: string) => ({ type: 'RECORD', stream: 'engage', record: { distinct_id: id, mp_reserved_email: email, mp_reserved_first_name: first, mp_reserved_last_name: last } });

/**
 * Batch 1: people who need no write (it finishes, so state 2 is printed). Batches 2 and 3: new
 * and changed people together (batch_size fits each), whose writes all fail: states 3 and 4 wait
 * for them and must never be printed.
 */
function input(run: number): string {
  const people = subscribed;
  const unchanged = people.slice(0, UNCHANGED).map((p, i) => rec(`u${i}`, p.email, p.first, p.last));
  const mixed = (part: number) => [
    ...people.slice(UNCHANGED + part * CHANGED, UNCHANGED + (part + 1) * CHANGED).map((p, i) => rec(`c${part}-${i}`, p.email, `${p.first}x${run}`, p.last)),
    ...Array.from({ length: NEW }, (_, i) => rec(`n${part}-${i}`, `failing.${run}.${part}.${i}@acme.io`, 'New', 'Person')),
  ];
  return [SCHEMA, state(1), ...unchanged, state(2), ...mixed(0), state(3), ...mixed(1), state(4)].map((m) => JSON.stringify(m)).join('\n') + '\n';
}

/** Every write (anything but GET) answers 500, retried at once (Retry-After: 0) so a run takes about a second. */
async function failEveryWrite(): Promise<void> {
  await postJson(`${sandbox.url}/__admin/reset`, {});
  await postJson(`${sandbox.url}/__admin/settings`, {
    faults: ['POST', 'PATCH', 'PUT', 'DELETE'].map((method) => ({ kind: 'status', family: 'mailchimp', status: 500, retry_after_s: 0, when: { method } })),
  });
}

interface Received {
  emails: ReceivedEmail[];
  sms: ReceivedSms[];
  hooks: ReceivedWebhook[];
}

async function received(): Promise<Received> {
  const [emails, sms, hooks] = await Promise.all([
    getJson<{ messages: ReceivedEmail[] }>(`${sandbox.url}/__admin/smtp/messages`),
    getJson<{ messages: ReceivedSms[] }>(`${sandbox.url}/__admin/twilio/messages`),
    getJson<{ requests: ReceivedWebhook[] }>(`${sandbox.url}/__admin/webhooks`),
  ]);
  return { emails: emails.messages, sms: sms.messages, hooks: hooks.requests.filter((h) => h.path === `/hooks/${ALERT_HOOK}`) };
}

/** What one run got wrong (empty: nothing). */
function problemsOf(run: RunResult, got: Received): string[] {
  const problems: string[] = [];
  if (run.code !== 4) problems.push(`exit ${run.code}${run.signal ? ` (${run.signal})` : ''}`);
  // Node's own crash report, or our exit point's internal error (Mailchimp's 500 says "internal error" too).
  const crash = /^(Node\.js v\d+.*|.*please report it.*|\w*Error: .*)$/m.exec(run.stderr);
  if (crash) problems.push(`crashed: ${crash[0].slice(0, 160)}`);
  if (!/stopped early: \d+ records read but not written/.test(run.stderr)) problems.push('no "stopped early" summary');
  const expected = [state(1).value, state(2).value].map((v) => JSON.stringify(v) + '\n').join('');
  if (run.stdout !== expected) problems.push(`stdout ${JSON.stringify(run.stdout)}`);
  if (got.emails.length !== 1 || !/failed \(exit 4\)/.test(got.emails[0]?.subject ?? '')) problems.push(`${got.emails.length} alert emails`);
  if (got.sms.length !== 1 || !/failed \(exit 4\)/.test(got.sms[0]?.body ?? '')) problems.push(`${got.sms.length} alert SMS`);
  const hook = got.hooks[0]?.body as { exit_code?: number; last_state?: unknown } | undefined;
  if (got.hooks.length !== 1 || hook?.exit_code !== 4) problems.push(`${got.hooks.length} alert webhooks`);
  else if (JSON.stringify(hook.last_state) !== JSON.stringify(state(2).value)) problems.push(`alert's last state ${JSON.stringify(hook.last_state)}`);
  return problems;
}

/** Runs the failing load `RUNS` times (within the time budget) and lists what each run got wrong. */
async function runMany(way: Record<string, unknown>): Promise<{ runs: number; failures: string[] }> {
  const started = Date.now();
  const failures: string[] = [];
  let runs = 0;
  for (let i = 0; i < RUNS; i++) {
    if (runs >= MIN_RUNS && Date.now() - started > RUN_BUDGET_MS) break;
    // Varied small flush intervals and concurrency move which write gives up first.
    const config = {
      ...sandboxClientConfigs(sandbox).target,
      ...notifyConfig,
      batch_size: UNCHANGED,
      flush_interval_seconds: [0.05, 0.1, 0.25, 0.5][i % 4],
      max_concurrency: 1 + (i % 5),
      notify_timeout_seconds: 10,
      ...way,
    };
    await failEveryWrite();
    const run = await runBinary('target-mailchimp', ['--config', writeJson(dir, `target-${++seq}.json`, config)], { stdin: input(seq), timeoutMs: 40_000 });
    const problems = problemsOf(run, await received());
    runs++;
    if (problems.length > 0) failures.push(`run ${i + 1} (flush ${config.flush_interval_seconds} s, concurrency ${config.max_concurrency}): ${problems.join('; ')}`);
  }
  return { runs, failures };
}

describe('target-mailchimp when every write fails while a batch holds new and changed people', () => {
  it.each([
    ['direct calls (merge-field PATCHes)', { bulk_threshold: 0 }],
    ['batch operations (POST /batches)', { bulk_threshold: 1, bulk_batch_size: 5 }],
  ])(
    '%s: every run exits 4 with the summary, the states before the failure and an alert on every channel',
    async (_way, way) => {
      const { runs, failures } = await runMany(way);
      expect(runs).toBeGreaterThanOrEqual(MIN_RUNS);
      expect({ runs, failures }).toEqual({ runs, failures: [] });
    },
    // A run takes 2 to 6 s here; the budget leaves room for the run still going when it is spent.
    RUN_BUDGET_MS + 60_000,
  );
});
