/**
 * Digests and alerts end to end: the real binaries against the sandbox's Mailchimp and Mixpanel,
 * its SMTP sink (STARTTLS with the sandbox's certificate), its Twilio endpoint and its webhook
 * receiver, over 127.0.0.1. A notification never changes a run's exit code or its stdout.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN_DIR } from '../../src/demo/pipeline.js';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { sandboxNotifyConfig } from '../../src/sandbox/notify/configs.js';
import type { ReceivedEmail, ReceivedSms, ReceivedWebhook } from '../../src/sandbox/notify/store.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { getJson, parseSingerOutput, postJson, runBinary, tempDir, writeJson, type RunResult } from './harness.js';

let sandbox: Sandbox;
let dir: string;
let caFile: string;
let notifyConfig: Record<string, unknown>;
let seq = 0;

const DIGEST_TO = ['team@example.org', 'lead@example.org'];
const ALERT_TO = ['oncall@example.org'];
const DIGEST_SMS = ['+14155550100', '+14155550101'];
const ALERT_SMS = ['+14155550199'];
const DIGEST_HOOK = 'T000-DIGESTHOOKSECRET';
const ALERT_HOOK = 'T000-ALERTHOOKSECRET';

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 7, profiles: 20, eventsPerDay: 20, days: 3 });
  dir = tempDir('notify-');
  caFile = join(dir, 'sandbox-ca.pem');
  writeFileSync(caFile, sandbox.notify.smtp.certificatePem);
  notifyConfig = {
    ...sandboxNotifyConfig(sandbox, { caFile, hookName: { digest: DIGEST_HOOK, alert: ALERT_HOOK } }),
    digest_email_to: DIGEST_TO,
    alert_email_to: ALERT_TO,
    digest_sms_to: DIGEST_SMS,
    alert_sms_to: ALERT_SMS,
  };
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  await postJson(`${sandbox.url}/__admin/reset`, {});
});

/** Every secret of the configs, and the forms they travel in. */
function secrets(): string[] {
  const { smtp, twilio } = sandbox.notify;
  return [
    smtp.password,
    Buffer.from(`\u0000${smtp.username}\u0000${smtp.password}`).toString('base64'),
    Buffer.from(smtp.password).toString('base64'),
    twilio.authToken,
    Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString('base64'),
    sandbox.credentials.mailchimp.apiKey,
    sandbox.credentials.mixpanel.serviceAccountSecret,
    DIGEST_HOOK,
    ALERT_HOOK,
  ];
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
  return { emails: emails.messages, sms: sms.messages, hooks: hooks.requests };
}

/** No secret in the run's output nor in any message (the receiver's own record of the hook path aside). */
function expectNoSecrets(run: RunResult, got: Received): void {
  const messages = JSON.stringify({ emails: got.emails, sms: got.sms, hooks: got.hooks.map((h) => h.body) });
  for (const secret of secrets()) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
    expect(messages).not.toContain(secret);
  }
}

const hooksAt = (got: Received, name: string) => got.hooks.filter((h) => h.path === `/hooks/${name}`);

// ---------------------------------------------------------------- target-mailchimp

const SCHEMA = {
  type: 'SCHEMA',
  stream: 'engage',
  key_properties: ['distinct_id'],
  schema: {
    type: 'object',
    properties: {
      distinct_id: { type: 'string' },
      mp_reserved_email: { type: ['null', 'string'] },
      mp_reserved_first_name: { type: ['null', 'string'] },
      mp_reserved_last_name: { type: ['null', 'string'] },
      plan: { type: ['null', 'string'] },
    },
  },
};

const lines = (...messages: unknown[]) => messages.map((m) => JSON.stringify(m)).join('\n') + '\n';
const rec = (id: string, email: string, first: string, plan = 'pro') => ({
  type: 'RECORD',
  stream: 'engage',
  record: { distinct_id: id, mp_reserved_email: email, mp_reserved_first_name: first, mp_reserved_last_name: 'Tester', plan },
});
const state = (n: number) => ({ type: 'STATE', value: { bookmarks: { engage: { n } } } });

const NEW_PEOPLE = [
  ['n1', 'ann.digest@acme.io', 'Ann'],
  ['n2', 'bob.digest@acme.io', '<script>alert(1)</script>'],
  ['n3', 'cy.digest@acme.io', 'Cy & Co'],
  ['n4', 'dee.digest@acme.io', 'Dee'],
] as const;

const LOAD = lines(SCHEMA, state(1), ...NEW_PEOPLE.map(([id, email, first]) => rec(id, email, first)), state(2));

function targetConfig(extra: Record<string, unknown> = {}): string {
  return writeJson(dir, `target-${++seq}.json`, { ...sandboxClientConfigs(sandbox).target, merge_fields: { PLAN: 'plan' }, ...extra });
}

function runTarget(config: string, stdin: string): Promise<RunResult> {
  return runBinary('target-mailchimp', ['--config', config], { stdin });
}

describe('target-mailchimp: the digest', () => {
  it('a run that adds people sends the digest by email, SMS and webhook, and prints the same state as without it', async () => {
    const run = await runTarget(targetConfig(notifyConfig), LOAD);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${JSON.stringify(state(1).value)}\n${JSON.stringify(state(2).value)}\n`);
    const got = await received();

    // Email: one message to both recipients, over STARTTLS, with every new person in both tables.
    expect(got.emails).toHaveLength(1);
    const [email] = got.emails as [ReceivedEmail];
    expect(email.envelope.to.sort()).toEqual([...DIGEST_TO].sort());
    expect(email.tls).toBe(true);
    expect(email.auth_user).toBe(sandbox.notify.smtp.username);
    const listName = (hooksAt(got, DIGEST_HOOK)[0]?.body as { list_name: string }).list_name;
    expect(email.subject).toBe(`4 new people in Mailchimp audience "${listName}"`);
    for (const [, address] of NEW_PEOPLE) {
      expect(email.text).toContain(address);
      expect(email.html).toContain(address);
    }
    expect(email.text).toMatch(/Name\s+Email\s+PLAN/);
    expect(email.text).toContain('<script>alert(1)</script> Tester');
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Tester');
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('Cy &amp; Co Tester');
    expect(email.text).toContain('This run: 4 records read; created 4, updated 0');

    // SMS: one per number, the summary line.
    expect(got.sms.map((m) => m.to).sort()).toEqual([...DIGEST_SMS].sort());
    for (const sms of got.sms) {
      expect(sms.body).toBe(`4 new users in "${listName}": ann.digest@acme.io, bob.digest@acme.io, cy.digest@acme.io and 1 more`);
      expect(sms.from).toBe(sandbox.notify.twilio.from);
    }

    // Webhook: the digest JSON of earlier versions.
    const hooks = hooksAt(got, DIGEST_HOOK);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]?.content_type).toContain('application/json');
    expect(hooks[0]?.body).toMatchObject({ text: `4 new people added to Mailchimp audience "${listName}"`, list_id: sandbox.credentials.mailchimp.listId, added_count: 4, truncated: false });
    expect((hooks[0]?.body as { added: Array<{ email: string; merge_fields: Record<string, unknown> }> }).added).toEqual(
      NEW_PEOPLE.map(([, address, first]) => ({ email: address, merge_fields: { FNAME: first, LNAME: 'Tester', PLAN: 'pro' } })),
    );

    // Nothing went to the alert channels, and no secret anywhere.
    expect(hooksAt(got, ALERT_HOOK)).toEqual([]);
    expect(got.emails.filter((m) => m.envelope.to.includes(ALERT_TO[0] as string))).toEqual([]);
    expect(run.stderr).toContain('sent the digest by email to 2 recipients');
    expectNoSecrets(run, got);
  });

  it('a run that adds nobody sends no digest, unless digest_send_empty', async () => {
    const input = lines(SCHEMA, state(1));
    expect((await runTarget(targetConfig(notifyConfig), input)).code).toBe(0);
    let got = await received();
    expect([got.emails.length, got.sms.length, got.hooks.length]).toEqual([0, 0, 0]);

    const run = await runTarget(targetConfig({ ...notifyConfig, digest_send_empty: true }), input);
    expect(run.code).toBe(0);
    got = await received();
    expect(got.emails.map((m) => m.subject)).toEqual([expect.stringMatching(/^No new people in Mailchimp audience /)]);
    expect(got.sms.map((m) => m.body)).toEqual([expect.stringMatching(/^No new users in "/), expect.stringMatching(/^No new users in "/)]);
    expect(hooksAt(got, DIGEST_HOOK).map((h) => (h.body as { added_count: number }).added_count)).toEqual([0]);
  });

  it('a dry run notifies nobody', async () => {
    const run = await runTarget(targetConfig({ ...notifyConfig, dry_run: true }), LOAD);
    expect(run.code).toBe(0);
    const got = await received();
    expect([got.emails.length, got.sms.length, got.hooks.length]).toEqual([0, 0, 0]);
  });

  it('digest_email_max_people lists the first N and gives the total', async () => {
    const run = await runTarget(targetConfig({ ...notifyConfig, digest_email_max_people: 2 }), LOAD);
    expect(run.code).toBe(0);
    const [email] = (await received()).emails as [ReceivedEmail];
    expect(email.text).toContain('ann.digest@acme.io');
    expect(email.text).toContain('bob.digest@acme.io');
    expect(email.text).not.toContain('cy.digest@acme.io');
    expect(email.text).toContain('Listed: the first 2 of 4');
  });
});

describe('target-mailchimp: a failing SMTP server fails nothing', () => {
  it.each([
    ['refused login', [{ service: 'smtp', kind: 'refuse_login' }], {}, 'refused the login'],
    ['a 554 for the message', [{ service: 'smtp', kind: 'reject_data', status: 554 }], {}, 'refused the message'],
    ['a server that never greets', [{ service: 'smtp', kind: 'hang' }], { notify_timeout_seconds: 2 }, 'notify_timeout_seconds'],
  ])('%s: exit 0, the same stdout, the other channels delivered, a warning logged', async (_what, faults, extra, logged) => {
    await postJson(`${sandbox.url}/__admin/notify/settings`, { faults });
    const run = await runTarget(targetConfig({ ...notifyConfig, ...extra }), LOAD);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${JSON.stringify(state(1).value)}\n${JSON.stringify(state(2).value)}\n`);
    const got = await received();
    expect(got.emails).toEqual([]);
    expect(got.sms).toHaveLength(2);
    expect(hooksAt(got, DIGEST_HOOK)).toHaveLength(1);
    const warnings = run.stderr.split('\n').filter((l) => l.includes('could not send the digest by email'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(logged);
    expectNoSecrets(run, got);
  });
});

describe('target-mailchimp: alerts', () => {
  /** Mailchimp answers 501 (not retried) to every batch write; the first GET of the list passes. */
  const failingWrites = async () => {
    const path = `/3.0/lists/${sandbox.credentials.mailchimp.listId}`;
    await postJson(`${sandbox.url}/__admin/settings`, {
      faults: [
        { kind: 'latency', family: 'mailchimp', ms: 0, times: 1, when: { path } },
        { kind: 'status', family: 'mailchimp', status: 501, when: { path } },
      ],
    });
  };

  it('a failing run sends one alert by every alert channel and exits with the code it has without alerts', async () => {
    await failingWrites();
    const plain = await runTarget(targetConfig(), LOAD);
    await postJson(`${sandbox.url}/__admin/reset`, {});
    await failingWrites();
    const run = await runTarget(targetConfig(notifyConfig), LOAD);

    expect(plain.code).toBe(4);
    expect(run.code).toBe(plain.code);
    expect(run.stdout).toBe(plain.stdout);
    expect(run.stdout).toBe(`${JSON.stringify(state(1).value)}\n`);
    const got = await received();

    expect(got.emails).toHaveLength(1);
    const [email] = got.emails as [ReceivedEmail];
    expect(email.envelope.to).toEqual(ALERT_TO);
    expect(email.subject).toMatch(/^target-mailchimp failed \(exit 4\): POST .*\/3\.0\/lists\/\S+ failed: 501/);
    expect(email.text).toContain('after 4 records read');
    // Where it stopped: the batch that failed, with the input lines it held.
    expect(email.text).toMatch(/batch \d+ \(members, \d+ rows, input lines \d+-\d+\) failed/);
    expect(email.text).toMatch(/Counts so far:\s+records read 4, created 0/);
    expect(email.text).toContain(JSON.stringify(state(1).value, null, 2));

    expect(got.sms.map((m) => m.to)).toEqual(ALERT_SMS);
    expect(got.sms[0]?.body).toMatch(/^target-mailchimp failed \(exit 4\) at loading into audience ".*": batch \d+ .* after 4 records read.*: POST /);
    expect(got.sms[0]?.body.length).toBeLessThanOrEqual(1600);

    const alerts = hooksAt(got, ALERT_HOOK);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.body).toMatchObject({ kind: 'alert', binary: 'target-mailchimp', exit_code: 4, last_state: state(1).value, counts: { 'records read': 4, created: 0 } });
    expect(hooksAt(got, DIGEST_HOOK)).toEqual([]);
    expectNoSecrets(run, got);
  });

  it('an alert whose SMTP server hangs is given up after notify_timeout_seconds; the exit code stays', async () => {
    await failingWrites();
    await postJson(`${sandbox.url}/__admin/notify/settings`, { faults: [{ service: 'smtp', kind: 'hang' }] });
    const run = await runTarget(targetConfig({ ...notifyConfig, notify_timeout_seconds: 1 }), LOAD);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('could not send the alert by email');
    const got = await received();
    expect(got.sms).toHaveLength(1);
    expect(hooksAt(got, ALERT_HOOK)).toHaveLength(1);
  });

  it('more Mailchimp 5xx retries than alert_retry_threshold: a warning after a run that succeeded', async () => {
    const path = `/3.0/lists/${sandbox.credentials.mailchimp.listId}`;
    await postJson(`${sandbox.url}/__admin/settings`, {
      faults: [
        { kind: 'latency', family: 'mailchimp', ms: 0, times: 1, when: { path } },
        { kind: 'status', family: 'mailchimp', status: 503, retry_after_s: 0, times: 2, when: { path } },
      ],
    });
    const run = await runTarget(targetConfig({ ...notifyConfig, alert_retry_threshold: 1, alert_empty_streams: ['engage', 'other_stream'] }), LOAD);
    expect(run.code).toBe(0);
    const got = await received();
    const warnings = hooksAt(got, ALERT_HOOK).map((h) => h.body as { kind: string; warnings: string[] });
    expect(warnings).toEqual([expect.objectContaining({ kind: 'warning' })]);
    expect(warnings[0]?.warnings).toEqual([
      'stream other_stream had 0 records (alert_empty_streams expects some)',
      'Mailchimp answered with errors that needed 2 retries (503 x2), more than alert_retry_threshold (1)',
    ]);
    const warningEmails = got.emails.filter((m) => m.subject.startsWith('target-mailchimp finished with 2 warnings: stream other_stream had 0 records'));
    expect(warningEmails.map((m) => m.envelope.to)).toEqual([ALERT_TO]);
  });

  it("a user's second signal stops at once: no alert, exit 143", async () => {
    const path = `/3.0/lists/${sandbox.credentials.mailchimp.listId}`;
    // The first GET of the list passes; the batch write then hangs, so the run cannot finish by itself.
    await postJson(`${sandbox.url}/__admin/settings`, {
      faults: [
        { kind: 'latency', family: 'mailchimp', ms: 0, times: 1, when: { path } },
        { kind: 'latency', family: 'mailchimp', ms: 60_000, when: { path } },
      ],
    });
    const child = spawn(process.execPath, [join(BIN_DIR, 'target-mailchimp.js'), '--config', targetConfig({ ...notifyConfig, batch_size: 1 })], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let stderr = '';
    const firstSignalSeen = new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        if (stderr.includes('SIGTERM received')) resolve();
      }),
    );
    try {
      child.stdin.write(lines(SCHEMA, state(1), rec('s1', 'sig1@acme.io', 'Sig')));
      const deadline = Date.now() + 20_000;
      for (;;) {
        const log = await getJson<{ requests: Array<{ method: string; path: string }> }>(`${sandbox.url}/__admin/requests?family=mailchimp`);
        if (log.requests.some((r) => r.method === 'POST' && r.path === path)) break;
        if (Date.now() > deadline) throw new Error('the batch write never started');
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Signals are not queued: the second is sent once the first was handled.
      child.kill('SIGTERM');
      await firstSignalSeen;
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
      expect(stderr).toContain('stopped by a second SIGTERM');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const got = await received();
    expect([got.emails.length, got.sms.length, got.hooks.length]).toEqual([0, 0, 0]);
  });

  it('bad notification settings are a config error naming the key, before anything is loaded', async () => {
    const run = await runTarget(targetConfig({ digest_sms_to: ['+14155550100'], smtp_security: 'none', smtp_host: 'smtp.example.org', smtp_username: 'u', smtp_password: 'p4ssw0rd' }), LOAD);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('"twilio_account_sid" is required with digest_sms_to');
    expect(run.stderr).toContain('"twilio_auth_token" is required with digest_sms_to');
    expect(run.stderr).toContain('"smtp_security" is none, which would send smtp_password unencrypted to smtp.example.org');
    expect(run.stderr).not.toContain('p4ssw0rd');
    expect((await received()).emails).toEqual([]);
  });
});

// ---------------------------------------------------------------- tap-mixpanel

function tapConfig(extra: Record<string, unknown> = {}): string {
  return writeJson(dir, `tap-${++seq}.json`, { ...sandboxClientConfigs(sandbox).tap, ingestion_settle_minutes: 0, max_retries: 2, retry_base_delay_seconds: 0, ...extra });
}

const messageTypes = (stdout: string) => parseSingerOutput(stdout).map((m) => (m.type === 'RECORD' ? `RECORD ${m.stream}` : m.type === 'SCHEMA' ? `SCHEMA ${m.stream}` : m.type));

describe('tap-mixpanel: alerts', () => {
  it('a failing run sends an alert naming the stream, and exits with the code it has without alerts', async () => {
    const fault = { faults: [{ kind: 'status', family: 'export', status: 503, retry_after_s: 0 }] };
    await postJson(`${sandbox.url}/__admin/settings`, fault);
    const plain = await runBinary('tap-mixpanel', ['--config', tapConfig()]);
    await postJson(`${sandbox.url}/__admin/reset`, {});
    await postJson(`${sandbox.url}/__admin/settings`, fault);
    const run = await runBinary('tap-mixpanel', ['--config', tapConfig(notifyConfig)]);

    expect(plain.code).toBe(4);
    expect(run.code).toBe(plain.code);
    expect(messageTypes(run.stdout)).toEqual(messageTypes(plain.stdout));
    const got = await received();
    expect(got.emails.map((m) => m.envelope.to)).toEqual([ALERT_TO]);
    expect(got.emails[0]?.subject).toMatch(/^tap-mixpanel failed \(exit 4\): export /);
    expect(got.emails[0]?.text).toMatch(/Error:\s+export .*GET \S+\/api\/2\.0\/export\S* failed: 503/);
    expect(got.emails[0]?.text).toMatch(/Stopped at:\s+stream export/);
    expect(got.sms.map((m) => [m.to, m.body.slice(0, 47)])).toEqual([[ALERT_SMS[0], 'tap-mixpanel failed (exit 4) at stream export: ']]);
    const alerts = hooksAt(got, ALERT_HOOK);
    expect(alerts.map((h) => h.body)).toEqual([expect.objectContaining({ kind: 'alert', binary: 'tap-mixpanel', exit_code: 4, stopped_at: 'stream export' })]);
    // The digest keys are the target's: the tap sends nothing to them.
    expect(hooksAt(got, DIGEST_HOOK)).toEqual([]);
    expectNoSecrets(run, got);
  });

  it('a run that succeeds with an expected stream empty and too many Mixpanel retries sends one warning', async () => {
    await postJson(`${sandbox.url}/__admin/settings`, { faults: [{ kind: 'status', family: 'query', status: 503, retry_after_s: 0, times: 2 }] });
    const run = await runBinary('tap-mixpanel', [
      '--config',
      tapConfig({ ...notifyConfig, export_events: ['No Such Event'], alert_empty_streams: ['export', 'engage'], alert_retry_threshold: 1 }),
    ]);
    expect(run.code).toBe(0);
    const got = await received();
    const warnings = hooksAt(got, ALERT_HOOK).map((h) => h.body as { kind: string; warnings: string[] });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.warnings).toEqual([
      'stream export had 0 records (alert_empty_streams expects some)',
      'Mixpanel answered with errors that needed 2 retries (503 x2), more than alert_retry_threshold (1)',
    ]);
    expect(got.emails.map((m) => m.subject)).toEqual([expect.stringMatching(/^tap-mixpanel finished with 2 warnings: stream export had 0 records/)]);
    expect(got.sms.map((m) => m.body)).toEqual([expect.stringMatching(/^tap-mixpanel warning: stream export had 0 records/)]);
    expectNoSecrets(run, got);
  });

  it('a run that succeeds without problems sends nothing', async () => {
    const run = await runBinary('tap-mixpanel', ['--config', tapConfig({ ...notifyConfig, alert_empty_streams: ['export'] })]);
    expect(run.code).toBe(0);
    const got = await received();
    expect([got.emails.length, got.sms.length, got.hooks.length]).toEqual([0, 0, 0]);
  });
});
