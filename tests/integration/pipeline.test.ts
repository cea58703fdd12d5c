/**
 * tap-mixpanel | target-mailchimp as two real processes joined by a pipe, against the sandbox.
 * Assertions are on what the emulated audience holds afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { describeSeed, type SeedDescription } from '../../src/sandbox/data.js';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import { getJson, runPipeline, tempDir, writeJson } from './harness.js';

interface AdminMember {
  email_address: string;
  status: string;
  merge_fields: Record<string, unknown>;
}

const OPTIONS: SandboxOptions = { port: 0, seed: 11, profiles: 150, eventsPerDay: 40, days: 3, engagePageSize: 40 };

let sandbox: Sandbox;
let seed: SeedDescription;
let tapPath: string;
let targetPath: string;
let listId: string;

async function members(): Promise<AdminMember[]> {
  return (await getJson<{ members: AdminMember[] }>(`${sandbox.url}/__admin/mailchimp/lists/${listId}/members`)).members;
}

function statusByEmail(list: AdminMember[]): Map<string, string> {
  return new Map(list.map((m) => [m.email_address.toLowerCase(), m.status]));
}

beforeAll(async () => {
  sandbox = await startSandbox(OPTIONS);
  seed = describeSeed(OPTIONS);
  const dir = tempDir();
  const { tap, target } = sandboxClientConfigs(sandbox);
  listId = target.list_id;
  tapPath = writeJson(dir, 'tap.json', { ...tap, ingestion_settle_minutes: 0 });
  targetPath = writeJson(dir, 'target.json', target);
});

afterAll(async () => {
  await sandbox.close();
});

describe('tap-mixpanel | target-mailchimp', () => {
  let before: AdminMember[];
  let after: AdminMember[];
  let result: Awaited<ReturnType<typeof runPipeline>>;

  beforeAll(async () => {
    before = await members();
    result = await runPipeline({ tapArgs: ['--config', tapPath], targetArgs: ['--config', targetPath], timeoutMs: 60_000 });
    after = await members();
  });

  it('both processes exit 0 and the target prints only state values', () => {
    expect(result.tap.code).toBe(0);
    expect(result.target.code).toBe(0);
    const lines = result.target.stdout.trim().split('\n');
    for (const line of lines) expect(Object.keys(JSON.parse(line) as object)).toContain('bookmarks');
  });

  it("prints the tap's last state as its last line", () => {
    const lines = result.target.stdout.trim().split('\n');
    const last = JSON.parse(lines[lines.length - 1] as string) as { bookmarks: { export?: { last_day_read?: string } }; currently_syncing: unknown };
    expect(last.currently_syncing).toBeNull();
    expect(last.bookmarks.export?.last_day_read).toBe(sandbox.dataRange.toDate);
  });

  it('adds the new people with status_if_new', () => {
    const statuses = statusByEmail(before);
    const added = after.filter((m) => !statuses.has(m.email_address.toLowerCase()));
    expect(added.length).toBeGreaterThan(50);
    for (const m of added) expect(m.status).toBe('subscribed');
  });

  it('never changes the status of anyone already in the audience (unsubscribed, cleaned, pending, archived, ...)', () => {
    const was = statusByEmail(before);
    const now = statusByEmail(after);
    for (const [email, status] of was) expect([email, now.get(email)]).toEqual([email, status]);
    expect(seed.unsubscribed.length + seed.unsubscribedCompliance.length + seed.cleaned.length).toBeGreaterThan(0);
  });

  it('makes one member of emails that differ only in case', () => {
    expect(seed.profiles.casePairs.length).toBeGreaterThan(0);
    const emails = after.map((m) => m.email_address.toLowerCase());
    for (const [mixed] of seed.profiles.casePairs) expect(emails.filter((e) => e === mixed.trim().toLowerCase()).length).toBe(1);
  });

  it('adds nobody with an invalid email address', () => {
    const emails = new Set(after.map((m) => m.email_address.trim().toLowerCase()));
    for (const invalid of seed.profiles.invalidEmails) expect(emails.has(invalid.trim().toLowerCase())).toBe(false);
  });

  it('a second run adds nobody and still changes no status', async () => {
    const second = await runPipeline({ tapArgs: ['--config', tapPath], targetArgs: ['--config', targetPath], timeoutMs: 60_000 });
    expect(second.target.code).toBe(0);
    const again = await members();
    expect(again.length).toBe(after.length);
    expect(statusByEmail(again)).toEqual(statusByEmail(after));
  });
});
