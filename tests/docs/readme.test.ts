/**
 * The doc test for README.md: every fenced block that runs the binaries is either run here as
 * written, with bash, against the sandbox on 127.0.0.1 (blocks.ts says how the workspace is
 * laid out), or named in EXCLUDED with the reason. A new block that runs a binary and is in
 * neither list fails the test, and so does a command changed without making it work.
 *
 * The Quick start runs in order: setup, --test, the first run, the "later runs" block twice
 * (three runs in all), the ENV example; then the cron line of "Pipelines, cron, orchestrators"
 * twice in the same directory. After every run: exit code 0, no error line from a binary,
 * state.json a valid state file whose last line has the export bookmark, the export read less
 * than the first run did (a later from_date), the watermark never went back, and the audience as
 * after the first run (nobody lost or left for later). A run that fails keeps state.json as it was.
 *
 * Setup lines are handled by the test, exactly so:
 * - `npm ci && npm run build`: skipped; `make test` has just built the binaries they would build.
 * - `cp config.example.json tap.json`: tap.json is config.example.json with the sandbox's
 *   credentials, its URLs (export_base_url, query_base_url) and a start_date on its first day.
 * - `cp target-config.example.json target.json`: target.json is target-config.example.json with
 *   the sandbox's api_key, list_id and api_base_url.
 * - the cron line runs without its five schedule fields, with `cd /srv/mixpanel-mailchimp`
 *   replaced by a cd to the workspace.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { parseStateText, type SingerState } from '../../src/singer/state.js';
import { getJson, postJson } from '../integration/harness.js';
import { blockById, cronCommand, errorLines, fencedBlocks, REPO_ROOT, runsBinary, Workspace, type DocBlock, type ShellResult } from './blocks.js';

const QUICK = 'README.md > Quick start with your own accounts';
const CRON = 'README.md > Pipelines, cron, orchestrators';

/** Blocks run by this file, and how. */
const RUN = {
  setup: `${QUICK} [0]`,
  check: `${QUICK} [1]`,
  firstRun: `${QUICK} [2]`,
  laterRuns: `${QUICK} [3]`,
  env: `${QUICK} [4]`,
  cron: `${CRON} [0]`,
};

/** Blocks that run a binary but cannot run here, each with the reason. */
const EXCLUDED: Record<string, string> = {};

const SETUP_LINES: Array<[RegExp, string]> = [
  [/^npm ci && npm run build\b/, 'skipped: make test has built the binaries'],
  [/^cp config\.example\.json tap\.json\b/, 'tap.json from config.example.json, pointed at the sandbox'],
  [/^cp target-config\.example\.json target\.json\b/, 'target.json from target-config.example.json, pointed at the sandbox'],
];

const blocks = fencedBlocks('README.md');
let sandbox: Sandbox;
let ws: Workspace;

interface ExportBookmark {
  last_day_read?: string;
  processing_watermark_ms?: number;
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 3, days: 12, eventsPerDay: 30, profiles: 60, engagePageSize: 20 });
  const { target } = sandboxClientConfigs(sandbox);
  ws = new Workspace('doc-readme-', { TAP_MIXPANEL_SERVICE_ACCOUNT_SECRET: sandbox.credentials.mixpanel.serviceAccountSecret, TARGET_MAILCHIMP_API_KEY: target.api_key });
});

afterAll(async () => {
  await sandbox?.close();
});

const example = (name: string) => JSON.parse(readFileSync(join(REPO_ROOT, name), 'utf8')) as Record<string, unknown>;

function setUp(block: DocBlock): void {
  const { tap, target } = sandboxClientConfigs(sandbox);
  const commands = block.text.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l !== '');
  for (const command of commands) {
    const rule = SETUP_LINES.find(([pattern]) => pattern.test(command));
    if (!rule) throw new Error(`${block.id}: the test does not know how to run the setup line ${JSON.stringify(command)}`);
  }
  expect(commands).toHaveLength(SETUP_LINES.length);
  ws.write('tap.json', JSON.stringify({ ...example('config.example.json'), ...tap, start_date: `${sandbox.dataRange.fromDate}T00:00:00Z` }, null, 2));
  ws.write('target.json', JSON.stringify({ ...example('target-config.example.json'), ...target }, null, 2));
}

async function exportRequests(): Promise<Array<{ query: Record<string, string> }>> {
  return (await getJson<{ requests: Array<{ query: Record<string, string>; path: string }> }>(`${sandbox.url}/__admin/requests?family=export`)).requests.filter(
    (r) => r.path === '/api/2.0/export',
  );
}

async function clearRequests(): Promise<void> {
  await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
}

async function audience(): Promise<string[]> {
  const { list_id } = sandboxClientConfigs(sandbox).target;
  const { members } = await getJson<{ members: Array<{ email_address: string }> }>(`${sandbox.url}/__admin/mailchimp/lists/${list_id}/members`);
  return members.map((m) => m.email_address.toLowerCase()).sort();
}

/** state.json as the next run will read it. */
function stateFile(name = 'state.json'): SingerState {
  const content = parseStateText(ws.read(name), name);
  if (content.empty) throw new Error(`${name} holds no state: ${content.reason}`);
  return content.state;
}

function expectClean(result: ShellResult, what: string): void {
  const logs = existsSync(ws.path('sync.log')) ? ws.read('sync.log') : '';
  expect({ what, code: result.code, errors: [...errorLines(result.stderr), ...errorLines(logs)] }).toEqual({ what, code: 0, errors: [] });
}

describe('README.md as written', () => {
  it('every block that runs a binary is run here or excluded with a reason, and both lists name real blocks', () => {
    const listed = new Set([...Object.values(RUN), ...Object.keys(EXCLUDED)]);
    const unlisted = blocks.filter((b) => runsBinary(b) && !listed.has(b.id)).map((b) => b.id);
    expect(unlisted).toEqual([]);
    for (const id of listed) expect(blocks.map((b) => b.id)).toContain(id);
    for (const id of Object.values(RUN)) expect([id, runsBinary(blockById(blocks, id)) || id === RUN.setup]).toEqual([id, true]);
  });

  it('Quick start: setup, --test, a first run and two later runs, each resuming from the state the one before left', async () => {
    setUp(blockById(blocks, RUN.setup));

    const check = await ws.bash(blockById(blocks, RUN.check).text);
    expectClean(check, '--test');
    expect(check.stderr).not.toMatch(/\bFAIL\b/);

    await clearRequests();
    const first = await ws.bash(blockById(blocks, RUN.firstRun).text);
    expectClean(first, 'first run');
    const firstFrom = (await exportRequests()).map((r) => r.query.from_date).sort()[0];
    expect(firstFrom).toBe(sandbox.dataRange.fromDate);
    let previous = stateFile().bookmarks.export as ExportBookmark;
    expect(previous.last_day_read).toBe(sandbox.dataRange.toDate);
    const people = await audience();
    expect(people.length).toBeGreaterThan(0);

    for (const run of ['second run', 'third run']) {
      await clearRequests();
      const result = await ws.bash(blockById(blocks, RUN.laterRuns).text);
      expectClean(result, run);
      expect(existsSync(ws.path('state.next.json'))).toBe(false);
      const bookmark = stateFile().bookmarks.export as ExportBookmark;
      expect(bookmark.last_day_read).toBe(sandbox.dataRange.toDate);
      // The watermark never goes back (it has whole seconds: two runs in one second share it).
      expect(bookmark.processing_watermark_ms).toBeGreaterThanOrEqual(previous.processing_watermark_ms ?? Infinity);
      // Resumed: only the attribution window is read again, not everything since start_date.
      const froms = (await exportRequests()).map((r) => r.query.from_date as string);
      expect(froms.length).toBeGreaterThan(0);
      for (const from of froms) expect(from > (firstFrom as string)).toBe(true);
      expect(await audience()).toEqual(people);
      previous = bookmark;
    }
  });

  it('Quick start: a later run that fails leaves state.json as it was', async () => {
    const before = ws.read('state.json');
    await postJson(`${sandbox.url}/__admin/settings`, { faults: [{ kind: 'status', family: 'export', status: 401 }] });
    try {
      const result = await ws.bash(blockById(blocks, RUN.laterRuns).text);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/tap-mixpanel: error: .*refused the credentials \(401\)/);
    } finally {
      await postJson(`${sandbox.url}/__admin/settings`, { faults: [] });
    }
    expect(ws.read('state.json')).toBe(before);
  });

  it('Quick start: configuration from ENV after a file wins over it', async () => {
    const result = await ws.bash(blockById(blocks, RUN.env).text);
    expectClean(result, 'ENV example');
  });

  it('the cron line runs twice in the Quick start directory, keeping a valid state that never goes back', async () => {
    const command = cronCommand(blockById(blocks, RUN.cron));
    expect(command).toMatch(/^cd \/srv\/mixpanel-mailchimp && /);
    const script = command.replace(/^cd \/srv\/mixpanel-mailchimp/, `cd ${JSON.stringify(ws.dir)}`);
    let previous = stateFile().bookmarks.export as ExportBookmark;
    for (const run of ['cron run 1', 'cron run 2']) {
      await clearRequests();
      const result = await ws.bash(script);
      expectClean(result, run);
      // Resumed from the Quick start's state: nothing before the attribution window is read again.
      const froms = (await exportRequests()).map((r) => r.query.from_date as string);
      expect(froms.length).toBeGreaterThan(0);
      for (const from of froms) expect(from > sandbox.dataRange.fromDate).toBe(true);
      const bookmark = stateFile().bookmarks.export as ExportBookmark;
      // The watermark never goes back (it has whole seconds: two runs in one second share it).
      expect(bookmark.processing_watermark_ms).toBeGreaterThanOrEqual(previous.processing_watermark_ms ?? Infinity);
      // tail -n 1: one state line.
      expect(ws.read('state.json').trim().split('\n')).toHaveLength(1);
      previous = bookmark;
    }
  });

  it('the cron line, when the tap fails, exits non-zero and keeps the state', async () => {
    const script = cronCommand(blockById(blocks, RUN.cron)).replace(/^cd \/srv\/mixpanel-mailchimp/, `cd ${JSON.stringify(ws.dir)}`);
    const before = ws.read('state.json');
    await postJson(`${sandbox.url}/__admin/settings`, { faults: [{ kind: 'status', family: 'export', status: 401 }] });
    try {
      const result = await ws.bash(script);
      expect(result.code).not.toBe(0);
    } finally {
      await postJson(`${sandbox.url}/__admin/settings`, { faults: [] });
    }
    expect(ws.read('state.json')).toBe(before);
    expect(ws.read('sync.log')).toMatch(/tap-mixpanel: error: .*\(401\)/);
  });
});
