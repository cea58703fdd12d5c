/**
 * The doc test for tap-mailchimp: README.md's "Quick start: tap-mailchimp" and docs/recipes.md's
 * "Mailchimp unsubscribes and consent changes into the warehouse", run as written with bash
 * against the sandbox on 127.0.0.1 (blocks.ts lays out the workspace; `target-postgres` is its
 * stand-in Singer target, appending records to the file its config names).
 *
 * Setup done by the test, exactly so: `cp mailchimp-tap-config.example.json mailchimp.json` writes
 * the example with the sandbox's key, URL and audience; warehouse.json names the warehouse file;
 * the recipe's mailchimp.json leaves api_key out, which the recipe exports as
 * TAP_MAILCHIMP_API_KEY. Between runs the test changes members through the sandbox's admin API and
 * moves the sandbox clock (Mailchimp's, as the tap reads it) past the tap's 60 s settle margin.
 * After every run: exit 0, no error line, the warehouse's new list_members rows exactly the members
 * changed since the run before (all of them the first time), and a state that moves forward.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxMailchimpTapConfig } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { StreamSelection, type Catalog } from '../../src/singer/catalog.js';
import { getJson, postJson } from '../integration/harness.js';
import { blockById, cronCommand, errorLines, fencedBlocks, notIgnored, REPO_ROOT, scriptName, Workspace, type ShellResult } from './blocks.js';
import { TAP_MAILCHIMP_README as README, TAP_MAILCHIMP_RECIPE as RECIPE } from './tap-mailchimp-blocks.js';

const blocks = [...fencedBlocks('README.md'), ...fencedBlocks('docs/recipes.md')];
const text = (id: string) => blockById(blocks, id).text;
const CP_EXAMPLE = /^cp mailchimp-tap-config\.example\.json mailchimp\.json\b/;

let sandbox: Sandbox;
let ws: Workspace;

interface Member {
  id: string;
  email_address: string;
  status: string;
  forgotten: boolean;
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, now: '2024-06-10T12:00:00Z', days: 1, eventsPerDay: 5, profiles: 60, mailchimp: { audienceSize: 150 } });
  ws = new Workspace('doc-tapmc-', { TAP_MAILCHIMP_API_KEY: sandbox.credentials.mailchimp.apiKey });
  ws.write('warehouse.json', JSON.stringify({ path: ws.path('warehouse.jsonl') }));
  ws.write('warehouse.jsonl', '');
});

afterAll(async () => {
  await sandbox?.close();
});

const admin = () => `${sandbox.url}/__admin`;

async function audience(): Promise<Member[]> {
  return (await getJson<{ members: Member[] }>(`${admin()}/mailchimp/lists/${sandbox.credentials.mailchimp.listId}/members`)).members.filter((m) => !m.forgotten);
}

/** Every list_members row in the warehouse file so far. */
function warehouseMembers(): string[] {
  return readFileSync(ws.path('warehouse.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { stream: string; record: { id: string } })
    .filter((r) => r.stream === 'list_members')
    .map((r) => r.record.id);
}

/** Runs `run` and returns the list_members ids it added to the warehouse. */
async function added(run: () => Promise<ShellResult>, what: string): Promise<string[]> {
  const before = warehouseMembers().length;
  const result = await run();
  const logs = ws.read('mailchimp-sync.log');
  expect({ what, code: result.code, errors: [...errorLines(result.stderr), ...errorLines(logs)] }).toEqual({ what, code: 0, errors: [] });
  return warehouseMembers().slice(before);
}

/** Two unsubscribe, one is archived, one changes a merge field; then the clock moves past the settle margin. */
async function changeFour(): Promise<string[]> {
  const subscribed = (await audience()).filter((m) => m.status === 'subscribed').slice(-4);
  const bodies = [{ status: 'unsubscribed' }, { status: 'unsubscribed' }, { status: 'archived' }, { merge_fields: { LNAME: 'Changed' } }];
  await postJson(`${admin()}/clock`, { advance_ms: 60_000 });
  for (const [i, m] of subscribed.entries()) {
    const response = await fetch(`${admin()}/mailchimp/lists/${sandbox.credentials.mailchimp.listId}/members/${m.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(bodies[i]) });
    expect(response.status).toBe(200);
  }
  await postJson(`${admin()}/clock`, { advance_ms: 120_000 });
  return subscribed.map((m) => m.id);
}

function stateValue(file: string): string {
  const state = JSON.parse(ws.read(file)) as { bookmarks: { list_members: { partitions: Array<{ replication_key_value: string }> } } };
  return state.bookmarks.list_members.partitions[0]?.replication_key_value ?? '';
}

describe('README.md: Quick start: tap-mailchimp', () => {
  it('setup: the example config, then --test passes with two calls', async () => {
    ws.write('mailchimp-sync.log', '');
    const lines = text(README.setup).split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l !== '');
    expect(lines.filter((l) => CP_EXAMPLE.test(l))).toHaveLength(1);
    const example = JSON.parse(readFileSync(join(REPO_ROOT, 'mailchimp-tap-config.example.json'), 'utf8')) as Record<string, unknown>;
    ws.write('mailchimp.json', JSON.stringify({ ...example, ...sandboxMailchimpTapConfig(sandbox), list_ids: [sandbox.credentials.mailchimp.listId] }, null, 2));
    const check = await ws.bash(lines.filter((l) => !CP_EXAMPLE.test(l)).join('\n'));
    expect({ code: check.code, errors: errorLines(check.stderr) }).toEqual({ code: 0, errors: [] });
    expect(check.stderr).toMatch(/tap-mailchimp: connection test passed/);
  });

  it('the catalog', async () => {
    const result = await ws.bash(text(README.discover));
    expect(result.code).toBe(0);
    const catalog = JSON.parse(ws.read('mailchimp-catalog.json')) as Catalog;
    expect(catalog.streams.map((s) => s.tap_stream_id)).toEqual(['lists', 'merge_fields', 'interest_categories', 'interests', 'tags', 'list_members']);
  });

  it('a first run loads every member; later runs only those changed since; the state moves forward', async () => {
    const all = (await audience()).map((m) => m.id);
    const first = await added(() => ws.bash(text(README.run)), 'first run');
    expect(first.sort()).toEqual([...all].sort());
    const bookmark1 = stateValue('mailchimp-state.json');

    const changed = await changeFour();
    const second = await added(() => ws.bash(text(README.run)), 'second run');
    expect(second.sort()).toEqual([...changed].sort());
    expect(Date.parse(stateValue('mailchimp-state.json'))).toBeGreaterThan(Date.parse(bookmark1));

    await postJson(`${admin()}/clock`, { advance_ms: 120_000 });
    expect(await added(() => ws.bash(text(README.run)), 'third run')).toEqual([]);
  });

  it('a run that fails leaves mailchimp-state.json as it was', async () => {
    const before = ws.read('mailchimp-state.json');
    await postJson(`${admin()}/settings`, { faults: [{ kind: 'status', family: 'mailchimp', status: 401, when: { path_prefix: '/3.0/lists' } }] });
    try {
      const result = await ws.bash(text(README.run));
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/tap-mailchimp: error: Mailchimp refused the credentials \(401\)/);
    } finally {
      await postJson(`${admin()}/settings`, { faults: [] });
    }
    expect(ws.read('mailchimp-state.json')).toBe(before);
  });
});

describe('docs/recipes.md: Mailchimp unsubscribes and consent changes into the warehouse', () => {
  const cron = () => cronCommand(blockById(blocks, RECIPE.cron)).replace(/^cd \/srv\/mailchimp-warehouse/, `cd ${JSON.stringify(ws.dir)}`);

  it('the catalog block (the key from TAP_MAILCHIMP_API_KEY), the script, then the cron line: everyone, then exactly who changed', async () => {
    await postJson(`${admin()}/reset`, {});
    ws.write('mailchimp.json', JSON.stringify({ api_base_url: `${sandbox.url}/3.0`, list_ids: [sandbox.credentials.mailchimp.listId] }, null, 2));
    ws.write('warehouse.jsonl', '');
    const catalogRun = await ws.bash(text(RECIPE.catalog));
    expect(catalogRun.code).toBe(0);
    const catalog = JSON.parse(ws.read('mailchimp-catalog.json')) as Catalog;
    expect(catalog.streams.filter((e) => new StreamSelection(e).streamSelected).map((e) => e.tap_stream_id)).toEqual(['lists', 'list_members']);
    const script = blockById(blocks, RECIPE.script);
    ws.write(scriptName(script), script.text + '\n', 0o755);
    expect(cron()).toMatch(/flock -n \/tmp\/mailchimp-warehouse\.lock \.\/mailchimp-sync\.sh >> mailchimp-sync\.log 2>&1$/);

    const all = (await audience()).map((m) => m.id);
    expect((await added(() => ws.bash(cron()), 'cron run 1')).sort()).toEqual([...all].sort());
    const changed = await changeFour();
    expect((await added(() => ws.bash(cron()), 'cron run 2')).sort()).toEqual([...changed].sort());
  });

  it('a run that fails part way keeps the last state the target confirmed; the next run loses nobody', async () => {
    await postJson(`${admin()}/reset`, {});
    ws.write('warehouse.jsonl', '');
    ws.write('mailchimp-state/state.json', '');
    ws.write('mailchimp.json', JSON.stringify({ api_base_url: `${sandbox.url}/3.0`, list_ids: [sandbox.credentials.mailchimp.listId], page_size: 20, slice_members: 40, max_retries: 1, retry_base_delay_seconds: 0.05, max_concurrency: 1 }, null, 2));
    await postJson(`${admin()}/settings`, { faults: [{ kind: 'status', family: 'mailchimp', status: 503, skip: 20, when: { path: `/3.0/lists/${sandbox.credentials.mailchimp.listId}/members` } }] });
    const failed = await ws.bash(cron());
    await postJson(`${admin()}/settings`, { faults: [] });
    expect(failed.code).toBe(4);
    const partial = new Set(warehouseMembers());
    expect(stateValue('mailchimp-state/state.json')).not.toBe('');
    const all = (await audience()).map((m) => m.id);
    expect(partial.size).toBeLessThan(all.length);
    ws.write('mailchimp-sync.log', '');
    await added(() => ws.bash(cron()), 'resumed run');
    expect([...new Set(warehouseMembers())].sort()).toEqual([...all].sort());
  });

  it('every file the blocks left in the directory is in .gitignore (the stand-in target output aside)', () => {
    expect(notIgnored(ws, ['bin', 'warehouse.jsonl'])).toEqual([]);
  });
});
