/**
 * target-mailchimp against the sandbox audience: consent, exact plans, accounting, files,
 * state release and stopping. The real binary, real HTTP over 127.0.0.1.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BIN_DIR } from '../../src/demo/pipeline.js';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { REASONS } from '../../src/targets/mailchimp/reports/outcomes.js';
import { getJson, postJson, runBinary, tempDir, writeJson } from './harness.js';

let sandbox: Sandbox;
let dir: string;
let base: Record<string, unknown>;
let listId: string;

interface AdminMember {
  email_address: string;
  forgotten: boolean;
  status: string;
  merge_fields: Record<string, unknown>;
  tags: Array<{ name: string }>;
}

const tagNames = (m: AdminMember | undefined) => (m?.tags ?? []).map((t) => t.name).sort();

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

function rec(id: string, email: string | null, first: string | null = 'Ada', plan: string | null = 'pro'): unknown {
  return { type: 'RECORD', stream: 'engage', record: { distinct_id: id, mp_reserved_email: email, mp_reserved_first_name: first, mp_reserved_last_name: 'Lovelace', plan } };
}

const stateMsg = (n: number) => ({ type: 'STATE', value: { bookmarks: { engage: { n } } } });
const lines = (...messages: unknown[]) => messages.map((m) => JSON.stringify(m)).join('\n') + '\n';

/** The people in the sandbox audience at the start of every test. */
const SEEDED = [
  { email_address: 'same@acme.io', status: 'subscribed', merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace' }, tags: ['mixpanel', 'plan:pro', 'vip'] },
  { email_address: 'changed@acme.io', status: 'subscribed', merge_fields: { FNAME: 'Old', LNAME: 'Lovelace' }, tags: ['mixpanel', 'plan:free'] },
  { email_address: 'unsub@acme.io', status: 'unsubscribed', merge_fields: { FNAME: 'Una', LNAME: 'Lovelace' } },
  { email_address: 'cleaned@acme.io', status: 'cleaned', merge_fields: { FNAME: 'Cle', LNAME: 'Lovelace' } },
  { email_address: 'archived@acme.io', status: 'archived', merge_fields: { FNAME: 'Arc', LNAME: 'Lovelace' } },
  { email_address: 'locked@acme.io', status: 'unsubscribed', compliance_locked: true, merge_fields: { FNAME: 'Loc', LNAME: 'Lovelace' } },
  { email_address: 'forgotten@acme.io', status: 'unsubscribed', forgotten: true },
];

/** Every kind of row; line numbers in comments (SCHEMA is line 1). */
const INPUT = lines(
  SCHEMA,
  rec('u1', 'new@acme.io', 'Ada'), // 2 created
  rec('u2', 'Same@Acme.io', 'Ada'), // 3 unchanged (case differs only)
  rec('u3', 'changed@acme.io', 'New', 'enterprise'), // 4 updated: FNAME and the plan tag
  rec('u4', 'unsub@acme.io', 'Una'), // 5 skipped: unsubscribed
  rec('u5', 'cleaned@acme.io', 'Cle'), // 6 skipped: cleaned
  rec('u6', 'archived@acme.io', 'Arc'), // 7 skipped: archived
  rec('u7', 'locked@acme.io', 'Changed'), // 8 skipped: unsubscribed (compliance locked)
  rec('u8', 'forgotten@acme.io', 'For'), // 9 skipped: permanently deleted (Mailchimp says so)
  rec('u9', 'Dup@Acme.io', 'First'), // 10 skipped: superseded by line 11
  rec('u10', 'dup@acme.io', 'Second'), // 11 created
  rec('u11', 'noname@acme.io', null), // 12 rejected: required FNAME missing
  rec('u12', null), // 13 rejected: no email
  rec('u13', 'not-an-email'), // 14 rejected: invalid
  rec('u14', 'test@acme.io', 'Tess'), // 15 rejected: Mailchimp says fake
  stateMsg(1),
);

function config(extra: Record<string, unknown> = {}): string {
  return writeJson(dir, `target-${Math.random().toString(36).slice(2)}.json`, {
    ...base,
    tags: ['mixpanel'],
    tag_properties: ['plan'],
    rejects_file: join(dir, 'rejects.csv'),
    report_file: join(dir, 'report.json'),
    suppression_file: join(dir, 'suppressions.json'),
    ...extra,
  });
}

async function members(): Promise<Map<string, AdminMember>> {
  const { members: all } = await getJson<{ members: AdminMember[] }>(`${sandbox.url}/__admin/mailchimp/lists/${listId}/members`);
  return new Map(all.map((m) => [m.email_address.toLowerCase(), m]));
}

async function writeCalls(): Promise<Array<{ method: string; path: string }>> {
  const { requests } = await getJson<{ requests: Array<{ method: string; path: string }> }>(`${sandbox.url}/__admin/requests?family=mailchimp`);
  return requests.filter((r) => r.method !== 'GET');
}

function report(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Record<string, unknown>;
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 5, profiles: 10, eventsPerDay: 2, days: 1, mailchimp: { members: 0, requiredMergeField: 'FNAME' } });
  base = { ...sandboxClientConfigs(sandbox).target, status_if_new: 'subscribed', flush_interval_seconds: 1 };
  listId = String(base.list_id);
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  dir = tempDir('target-load-');
  await postJson(`${sandbox.url}/__admin/mailchimp/lists/${listId}/members`, { replace_all: true, members: SEEDED });
  await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
});

describe('a first run: every record ends as created, updated, unchanged, skipped or rejected', () => {
  it('does exactly the planned writes and accounts for every row', async () => {
    const result = await runBinary('target-mailchimp', ['--config', config()], { stdin: INPUT });
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(JSON.stringify(stateMsg(1).value) + '\n');

    const r = report();
    expect(r).toMatchObject({
      succeeded: true,
      records_read: 14,
      created: 2,
      updated: 1,
      unchanged: 1,
      skipped: {
        [REASONS.unsubscribed]: 2,
        [REASONS.cleaned]: 1,
        [REASONS.archived]: 1,
        [REASONS.forgotten]: 1,
        [REASONS.superseded]: 1,
      },
      rejected: { [REASONS.requiredMissing]: 1, [REASONS.noEmail]: 1, [REASONS.invalidEmail]: 1, [REASONS.fake]: 1 },
    });
    const sum = (o: unknown) => Object.values(o as Record<string, number>).reduce((a, b) => a + b, 0);
    expect((r.created as number) + (r.updated as number) + (r.unchanged as number) + sum(r.skipped) + sum(r.rejected)).toBe(r.records_read);
    expect(result.stderr).toContain('done: 14 records read');

    const after = await members();
    expect(after.get('new@acme.io')).toMatchObject({ status: 'subscribed', merge_fields: expect.objectContaining({ FNAME: 'Ada', LNAME: 'Lovelace' }) });
    expect(tagNames(after.get('new@acme.io'))).toEqual(['mixpanel', 'plan:pro']);
    // Case-variant duplicates: one member, the later record's values.
    expect([...after.keys()].filter((k) => k === 'dup@acme.io')).toHaveLength(1);
    expect(after.get('dup@acme.io')?.merge_fields.FNAME).toBe('Second');
    // An update changes fields and managed tags, never the status, never a tag we do not manage.
    expect(after.get('changed@acme.io')).toMatchObject({ status: 'subscribed', merge_fields: expect.objectContaining({ FNAME: 'New' }) });
    expect(tagNames(after.get('changed@acme.io'))).toEqual(['mixpanel', 'plan:enterprise']);
    expect(tagNames(after.get('same@acme.io'))).toEqual(['mixpanel', 'plan:pro', 'vip']);
    // Consent: nobody who left is back, nothing about them changed.
    for (const email of ['unsub@acme.io', 'locked@acme.io']) expect(after.get(email)?.status).toBe('unsubscribed');
    expect(after.get('locked@acme.io')?.merge_fields.FNAME).toBe('Loc');
    expect(after.get('cleaned@acme.io')?.status).toBe('cleaned');
    expect(after.get('archived@acme.io')?.status).toBe('archived');
    expect(after.has('noname@acme.io')).toBe(false);
    expect(after.has('test@acme.io')).toBe(false);

    // The rejects file names the line and the reason of each rejected row.
    const csv = readFileSync(join(dir, 'rejects.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('line,stream,key,email,reason,field,detail,cohort');
    // The key as plain text: the distinct_id, not JSON.
    expect(csv.find((l) => l.startsWith('12,'))).toMatch(/^12,engage,u11,noname@acme.io,/);
    expect(csv.slice(1).map((l) => l.split(',').slice(0, 2).join(',')).sort()).toEqual(['12,engage', '13,engage', '14,engage', '15,engage']);
    expect(csv.find((l) => l.startsWith('12,'))).toContain(`${REASONS.requiredMissing},FNAME`);

    // The only write calls: one batch subscribe, the PATCH of the changed person, and tags.
    const writes = await writeCalls();
    expect(writes.filter((w) => w.method === 'PUT')).toEqual([]);
    expect(writes.filter((w) => w.method === 'POST' && w.path === `/3.0/lists/${listId}`)).toHaveLength(1);
    expect(writes.filter((w) => w.method === 'PATCH')).toHaveLength(1);
  });

  it('a second identical run makes no write calls', async () => {
    const path = config();
    const first = await runBinary('target-mailchimp', ['--config', path], { stdin: INPUT });
    expect(first.code).toBe(0);
    await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
    const second = await runBinary('target-mailchimp', ['--config', path], { stdin: INPUT });
    expect(second.code).toBe(0);
    expect(await writeCalls()).toEqual([]);
    expect(report()).toMatchObject({ created: 0, updated: 0, unchanged: 4 });
    expect(second.stdout).toBe(JSON.stringify(stateMsg(1).value) + '\n');
  });
});

describe('consent: an unsubscribed person stays unsubscribed', () => {
  it.each([
    ['upsert', 'subscribed'],
    ['upsert', 'pending'],
    ['add_only', 'subscribed'],
  ])('mode %s, status_if_new %s, three runs', async (mode, statusIfNew) => {
    const path = config({ mode, status_if_new: statusIfNew, suppression_file: undefined });
    for (let run = 0; run < 3; run++) {
      const result = await runBinary('target-mailchimp', ['--config', path], { stdin: INPUT });
      expect(result.code).toBe(0);
      const after = await members();
      expect(after.get('unsub@acme.io')?.status).toBe('unsubscribed');
      expect(after.get('locked@acme.io')?.status).toBe('unsubscribed');
      expect(after.get('cleaned@acme.io')?.status).toBe('cleaned');
      expect(after.get('archived@acme.io')?.status).toBe('archived');
      expect(after.get('forgotten@acme.io')).toMatchObject({ status: 'unsubscribed', forgotten: true });
    }
    const touched = (await writeCalls()).filter((w) => /unsub|locked|cleaned|archived/.test(w.path));
    expect(touched).toEqual([]);
  });

  it('add_only creates new people and leaves existing ones alone', async () => {
    const result = await runBinary('target-mailchimp', ['--config', config({ mode: 'add_only' })], { stdin: INPUT });
    expect(result.code).toBe(0);
    const after = await members();
    expect(after.get('changed@acme.io')?.merge_fields.FNAME).toBe('Old');
    expect(after.get('new@acme.io')?.status).toBe('subscribed');
    expect((await writeCalls()).filter((w) => w.method === 'PATCH')).toEqual([]);
    expect(report().skipped).toMatchObject({ [REASONS.addOnly]: 2 });
  });
});

describe('checks before anything is written', () => {
  it('an unknown merge tag is a config error and nothing is written', async () => {
    const result = await runBinary('target-mailchimp', ['--config', config({ merge_fields: { NICKNAME: 'nick' } })], { stdin: INPUT });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"merge_fields.NICKNAME": the audience has no merge field NICKNAME');
    expect(await writeCalls()).toEqual([]);
  });

  it('a required merge field nothing fills is a config error', async () => {
    const result = await runBinary('target-mailchimp', ['--config', config({ merge_fields: { FNAME: null } })], { stdin: INPUT });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the audience requires merge field FNAME');
    expect(await writeCalls()).toEqual([]);
  });

  it('dry run reads everything, writes nothing, prints the plan and no state', async () => {
    const result = await runBinary('target-mailchimp', ['--config', config({ dry_run: true })], { stdin: INPUT });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(await writeCalls()).toEqual([]);
    expect(result.stderr).toContain('plan: line 2 new@acme.io: create');
    const r = report();
    // A plan cannot know Mailchimp's own refusals: the forgotten and the fake address count as creates.
    expect(r).toMatchObject({ dry_run: true, records_read: 14, created: 4, updated: 1, unchanged: 1 });
    expect((r.plan as Array<{ action: string; email: string }>).find((p) => p.email === 'changed@acme.io')).toMatchObject({ action: 'update', merge_fields: { FNAME: 'New' } });
    expect((await members()).has('new@acme.io')).toBe(false);
  });
});

describe('state release and stopping', () => {
  /** Starts the target with stdin left open; resolves stdout lines as they come. */
  function startTarget(path: string) {
    const child = spawn(process.execPath, [join(BIN_DIR, 'target-mailchimp.js'), '--config', path], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'debug' } });
    let stdout = '';
    let stderr = '';
    const waiters: Array<() => void> = [];
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      for (const w of waiters.splice(0)) w();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
      for (const w of waiters.splice(0)) w();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => (clearTimeout(killer), resolve(code))));
    const firstLine = async (): Promise<string> => {
      while (!stdout.includes('\n')) await new Promise<void>((resolve) => waiters.push(resolve));
      return stdout.split('\n')[0] as string;
    };
    const stderrContains = async (text: string): Promise<void> => {
      while (!stderr.includes(text)) await new Promise<void>((resolve) => waiters.push(resolve));
    };
    return { child, firstLine, stderrContains, exited, output: () => ({ stdout, stderr }) };
  }

  it('a state is printed only once the people before it are in Mailchimp (flushed by time, input still open)', async () => {
    await postJson(`${sandbox.url}/__admin/settings`, { latencyMs: { mailchimp: 150 } });
    try {
      const target = startTarget(config({ batch_size: 500, flush_interval_seconds: 1 }));
      target.child.stdin.write(lines(SCHEMA, rec('s1', 'early1@acme.io'), rec('s2', 'early2@acme.io'), stateMsg(41)));
      const line = await target.firstLine();
      // At the moment the state appears, both people must already be members.
      const now = await members();
      expect(line).toBe(JSON.stringify(stateMsg(41).value));
      expect(now.get('early1@acme.io')?.status).toBe('subscribed');
      expect(now.get('early2@acme.io')?.status).toBe('subscribed');
      target.child.stdin.end();
      expect(await target.exited).toBe(0);
    } finally {
      await postJson(`${sandbox.url}/__admin/settings`, { latencyMs: { mailchimp: 0 } });
    }
  });

  it('SIGTERM: writes what it read, prints the state that covers it, exits 0', async () => {
    const target = startTarget(config({ batch_size: 500, flush_interval_seconds: 600 }));
    target.child.stdin.write(lines(SCHEMA, stateMsg(1)));
    expect(await target.firstLine()).toBe(JSON.stringify(stateMsg(1).value));
    // The batch is not full and the timer is far away: state 2 waits. A message type the target
    // does not handle is logged at debug level when read: it tells us the lines before it were read.
    target.child.stdin.write(lines(rec('t1', 'term1@acme.io'), rec('t2', 'term2@acme.io'), stateMsg(2), { type: 'TEST_MARKER' }));
    await target.stderrContains('ignoring message');
    expect(target.output().stdout.trim().split('\n')).toHaveLength(1);
    target.child.kill('SIGTERM');
    expect(await target.exited).toBe(0);
    expect(target.output().stdout.trim().split('\n')).toEqual([JSON.stringify(stateMsg(1).value), JSON.stringify(stateMsg(2).value)]);
    const now = await members();
    expect(now.get('term1@acme.io')?.status).toBe('subscribed');
    expect(now.get('term2@acme.io')?.status).toBe('subscribed');
    expect(target.output().stderr).toContain('SIGTERM received');
  });
});

describe('notify_webhook_url', () => {
  let server: Server;
  const received: Array<{ url: string; body: Record<string, unknown> }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ url: req.url ?? '', body: JSON.parse(body) as Record<string, unknown> });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('posts a digest of the people added, once, and never shows the hook secret in logs', async () => {
    const port = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}/hooks/T000/SECRETPART`;
    const result = await runBinary('target-mailchimp', ['--config', config({ notify_webhook_url: url })], { stdin: INPUT });
    expect(result.code).toBe(0);
    expect(received).toHaveLength(1);
    expect(received[0]?.url).toBe('/hooks/T000/SECRETPART');
    expect(received[0]?.body).toMatchObject({ list_id: listId, added_count: 2, truncated: false });
    expect((received[0]?.body.added as Array<{ email: string }>).map((p) => p.email).sort()).toEqual(['dup@acme.io', 'new@acme.io']);
    expect(result.stderr).not.toContain('SECRETPART');
  });
});
