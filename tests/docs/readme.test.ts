/**
 * The doc test for README.md: every fenced block that runs the binaries is either run here as
 * written, with bash, against the sandbox on 127.0.0.1 (blocks.ts says how the workspace is
 * laid out), or named in EXCLUDED with the reason. A new block that runs a binary and is in
 * neither list fails the test, and so does a command changed without making it work.
 *
 * The Quick start runs in order: setup, --test, the first run, the "later runs" block twice
 * (three runs in all), the ENV example; then the cron line of "Pipelines, cron, orchestrators"
 * twice in the same directory. The catalog selects engage alone (what the target loads), so no
 * run asks Mixpanel's export API for a single event. After every run: exit code 0, no error
 * line from a binary, state.json a valid state file, profiles read, and the audience as after
 * the first run (nobody lost or left for later). A run that fails keeps state.json as it was.
 * Last, every file the blocks left in the directory is one the checkout's .gitignore ignores.
 *
 * Setup lines are handled by the test, exactly so:
 * - `npm ci && npm run build`: skipped; `make test` has just built the binaries they would build.
 * - `cp config.example.json tap.json`: tap.json is config.example.json with the sandbox's
 *   credentials, its URLs (export_base_url, query_base_url) and a start_date on its first day.
 * - `cp target-config.example.json target.json`: target.json is target-config.example.json with
 *   the sandbox's api_key, list_id and api_base_url.
 * - the cron line runs without its five schedule fields, with `cd /srv/mixpanel-mailchimp`
 *   replaced by a cd to the workspace.
 *
 * Last, "Cohorts to Mailchimp": its catalog block selects engage and the two cohort streams, its
 * settings block is added to target.json as the README says, and the same cron line then runs
 * twice, with the membership of one cohort changed through the sandbox's admin API between the
 * runs: each chosen cohort's tag is held by its members only, and the second run tags the
 * entrant and untags the leavers.
 *
 * Then "A mirrored audience": the archive settings of "Archiving people who leave the source" are
 * added to target.json, the dry-run block and the cron line run; one owned person's address
 * changes in Mixpanel (they leave the source under it); the dry run lists them and writes
 * nothing, and the next cron run archives them, and only them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { StreamSelection, type Catalog } from '../../src/singer/catalog.js';
import { parseStateText, type SingerState } from '../../src/singer/state.js';
import { getJson, postJson } from '../integration/harness.js';
import { blockById, cronCommand, errorLines, fencedBlocks, notIgnored, REPO_ROOT, runsBinary, Workspace, type DocBlock, type ShellResult } from './blocks.js';
import { README_BLOCKS_RUN_ELSEWHERE } from './tap-mailchimp-blocks.js';

const QUICK = 'README.md > Quick start with your own accounts';
const CRON = 'README.md > Pipelines, cron, orchestrators';
const COHORTS = 'README.md > From cron, and under Meltano';
const MIRROR = 'README.md > A mirrored audience, from cron and under Meltano';

/** Blocks run by this file, and how. */
const RUN = {
  setup: `${QUICK} [0]`,
  check: `${QUICK} [1]`,
  firstRun: `${QUICK} [2]`,
  laterRuns: `${QUICK} [3]`,
  env: `${QUICK} [4]`,
  cron: `${CRON} [0]`,
  cohortCatalog: `${COHORTS} [0]`,
  archiveDryRun: `${MIRROR} [0]`,
};

/** Not run, but read: the archive settings the README adds to target.json. */
const ARCHIVE_SETTINGS = 'README.md > Archiving people who leave the source [0]';

/** Not run, but read: the cohort settings the README adds to target.json. */
const COHORT_SETTINGS = 'README.md > Settings [0]';

/** Blocks that run a binary but cannot run here, each with the reason. */
const EXCLUDED: Record<string, string> = {
  ...README_BLOCKS_RUN_ELSEWHERE,
  [`${COHORTS} [1]`]: 'YAML for meltano.yml, not a command (Meltano is not installed here); tests/integration/meltano-cohorts.test.ts runs the example project that has it',
  [`${MIRROR} [1]`]: 'YAML for meltano.yml, not a command (Meltano is not installed here); a test below checks its settings against the JSON block the cron test runs with and the plugin definition',
};

const SETUP_LINES: Array<[RegExp, string]> = [
  [/^npm ci && npm run build\b/, 'skipped: make test has built the binaries'],
  [/^cp config\.example\.json tap\.json\b/, 'tap.json from config.example.json, pointed at the sandbox'],
  [/^cp target-config\.example\.json target\.json\b/, 'target.json from target-config.example.json, pointed at the sandbox'],
];

const blocks = fencedBlocks('README.md');
let sandbox: Sandbox;
let ws: Workspace;

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

/** Requests Mixpanel received since the last clear: export calls, and engage pages. */
async function mixpanelRequests(): Promise<{ export: number; engage: number }> {
  const of = async (family: string) => (await getJson<{ requests: Array<{ path: string }> }>(`${sandbox.url}/__admin/requests?family=${family}`)).requests;
  return { export: (await of('export')).length, engage: (await of('query')).filter((r) => r.path.endsWith('/engage')).length };
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

  it('Quick start: setup, --test, a first run and two later runs, reading engage alone, each from the state the one before left', async () => {
    setUp(blockById(blocks, RUN.setup));

    const check = await ws.bash(blockById(blocks, RUN.check).text);
    expectClean(check, '--test');
    expect(check.stderr).not.toMatch(/\bFAIL\b/);

    await clearRequests();
    const first = await ws.bash(blockById(blocks, RUN.firstRun).text);
    expectClean(first, 'first run');
    // What the target loads, and nothing else: no raw events read only to be thrown away.
    const catalog = JSON.parse(ws.read('catalog.json')) as Catalog;
    expect(catalog.streams.filter((e) => new StreamSelection(e).streamSelected).map((e) => e.tap_stream_id)).toEqual(['engage']);
    const requests = await mixpanelRequests();
    expect(requests.export).toBe(0);
    expect(requests.engage).toBeGreaterThan(0);
    expect(stateFile()).toEqual({ bookmarks: {}, currently_syncing: null });
    const people = await audience();
    expect(people.length).toBeGreaterThan(0);

    for (const run of ['second run', 'third run']) {
      await clearRequests();
      const result = await ws.bash(blockById(blocks, RUN.laterRuns).text);
      expectClean(result, run);
      expect(existsSync(ws.path('state.next.json'))).toBe(false);
      expect(stateFile()).toEqual({ bookmarks: {}, currently_syncing: null });
      const requests = await mixpanelRequests();
      expect(requests.export).toBe(0);
      expect(requests.engage).toBeGreaterThan(0);
      expect(await audience()).toEqual(people);
    }
  });

  it('Quick start: a later run that fails leaves state.json as it was', async () => {
    const before = ws.read('state.json');
    await postJson(`${sandbox.url}/__admin/settings`, { faults: [{ kind: 'status', family: 'query', status: 401 }] });
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

  it('the cron line runs twice in the Quick start directory, with its catalog, keeping a valid state', async () => {
    const command = cronCommand(blockById(blocks, RUN.cron));
    expect(command).toMatch(/^cd \/srv\/mixpanel-mailchimp && /);
    const script = command.replace(/^cd \/srv\/mixpanel-mailchimp/, `cd ${JSON.stringify(ws.dir)}`);
    const people = await audience();
    for (const run of ['cron run 1', 'cron run 2']) {
      await clearRequests();
      const result = await ws.bash(script);
      expectClean(result, run);
      const requests = await mixpanelRequests();
      expect(requests.export).toBe(0);
      expect(requests.engage).toBeGreaterThan(0);
      expect(stateFile()).toEqual({ bookmarks: {}, currently_syncing: null });
      // tail -n 1: one state line.
      expect(ws.read('state.json').trim().split('\n')).toHaveLength(1);
      expect(await audience()).toEqual(people);
    }
  });

  it('the cron line, when the tap fails, exits non-zero and keeps the state', async () => {
    const script = cronCommand(blockById(blocks, RUN.cron)).replace(/^cd \/srv\/mixpanel-mailchimp/, `cd ${JSON.stringify(ws.dir)}`);
    const before = ws.read('state.json');
    await postJson(`${sandbox.url}/__admin/settings`, { faults: [{ kind: 'status', family: 'query', status: 401 }] });
    try {
      const result = await ws.bash(script);
      expect(result.code).not.toBe(0);
    } finally {
      await postJson(`${sandbox.url}/__admin/settings`, { faults: [] });
    }
    expect(ws.read('state.json')).toBe(before);
    expect(ws.read('sync.log')).toMatch(/tap-mixpanel: error: .*\(401\)/);
  });

  it('Cohorts to Mailchimp: the catalog block and the settings, then the cron line twice: cohorts become tags, and follow a membership change', async () => {
    // The log of the failing run above is not this test's.
    ws.write('sync.log', '');
    const catalogRun = await ws.bash(blockById(blocks, RUN.cohortCatalog).text);
    expectClean(catalogRun, 'cohort catalog');
    const catalog = JSON.parse(ws.read('catalog.json')) as Catalog;
    expect(catalog.streams.filter((e) => new StreamSelection(e).streamSelected).map((e) => e.tap_stream_id).sort()).toEqual(['cohort_members', 'cohorts', 'engage']);
    const settings = JSON.parse(blockById(blocks, COHORT_SETTINGS).text) as { cohort_tags: string[]; cohort_tag_prefix: string; report_file: string; cohort_registry_file: string };
    ws.write('target.json', JSON.stringify({ ...(JSON.parse(ws.read('target.json')) as object), ...settings }, null, 2));
    const script = cronCommand(blockById(blocks, RUN.cron)).replace(/^cd \/srv\/mixpanel-mailchimp/, `cd ${JSON.stringify(ws.dir)}`);
    const admin = `${sandbox.url}/__admin`;
    const cohorts = async () => (await getJson<{ cohorts: Array<{ id: number; name: string; members: string[] }> }>(`${admin}/mixpanel/cohorts`)).cohorts;
    const emailOf = new Map((await getJson<Array<{ $distinct_id: string; $properties: { $email?: unknown } }>>(`${admin}/mixpanel/profiles`)).map((p) => [p.$distinct_id, typeof p.$properties.$email === 'string' ? p.$properties.$email.trim().toLowerCase() : '']));
    const { list_id } = sandboxClientConfigs(sandbox).target;
    const holders = async (tag: string) =>
      (await getJson<{ members: Array<{ email_address: string; tags: Array<{ name: string }> }> }>(`${admin}/mailchimp/lists/${list_id}/members`)).members
        .filter((m) => m.tags.some((t) => t.name === tag))
        .map((m) => m.email_address.toLowerCase())
        .sort();
    type Entry = { id: number; name: string; tag: string; complete: boolean; gained: number; kept: number; lost: number };
    const report = () => (JSON.parse(ws.read(settings.report_file)) as { cohorts: Entry[] }).cohorts;
    const chosen = (await cohorts()).filter((c) => settings.cohort_tags.includes(c.name));
    expect(chosen).toHaveLength(settings.cohort_tags.length);

    const first = await ws.bash(script);
    expectClean(first, 'cohort cron run 1');
    expect(report().map((c) => [c.id, c.tag, c.complete, c.lost])).toEqual(chosen.map((c) => [c.id, `${settings.cohort_tag_prefix}${c.name}`, true, 0]));
    for (const cohort of chosen) {
      const tagged = await holders(`${settings.cohort_tag_prefix}${cohort.name}`);
      const members = new Set(cohort.members.map((id) => emailOf.get(id)));
      expect(tagged.length).toBeGreaterThan(0);
      expect(tagged.length).toBe(report().find((c) => c.id === cohort.id)?.gained);
      for (const e of tagged) expect([e, members.has(e)]).toEqual([e, true]);
    }
    expect(Object.keys((JSON.parse(ws.read(settings.cohort_registry_file)) as { cohorts: object }).cohorts).map(Number)).toEqual(chosen.map((c) => c.id));

    // Two holders of the first cohort's tag leave it; a holder of the second cohort's tag (so
    // someone Mailchimp tags) who is not in the first enters it.
    const [cohort, other] = chosen as Array<{ id: number; name: string; members: string[] }>;
    const tag = `${settings.cohort_tag_prefix}${cohort?.name ?? ''}`;
    const before = await holders(tag);
    const leavers = (cohort?.members ?? []).filter((id) => before.includes(emailOf.get(id) ?? '')).slice(0, 2);
    const otherHolders = new Set(await holders(`${settings.cohort_tag_prefix}${other?.name ?? ''}`));
    const entrant = [...emailOf.entries()].find(([id, e]) => !cohort?.members.includes(id) && otherHolders.has(e) && !before.includes(e));
    expect(leavers).toHaveLength(2);
    expect(entrant).toBeDefined();
    await postJson(`${admin}/mixpanel/cohorts/${cohort?.id ?? 0}`, { add: [entrant?.[0]], remove: leavers });

    const second = await ws.bash(script);
    expectClean(second, 'cohort cron run 2');
    expect(report().find((c) => c.id === cohort?.id)).toMatchObject({ complete: true, lost: 2, gained: 1 });
    expect(await holders(tag)).toEqual([...before.filter((e) => !leavers.map((id) => emailOf.get(id)).includes(e)), entrant?.[1] as string].sort());
    expect(ws.read('state.json').trim().split('\n')).toHaveLength(1);
  });

  it('A mirrored audience: the settings, a dry run and the cron line; who leaves the source is listed, then archived', async () => {
    ws.write('sync.log', '');
    const settings = JSON.parse(blockById(blocks, ARCHIVE_SETTINGS).text) as { owner_tag: string; archive_file: string; report_file: string };
    ws.write('target.json', JSON.stringify({ ...(JSON.parse(ws.read('target.json')) as object), ...settings }, null, 2));
    const script = cronCommand(blockById(blocks, RUN.cron)).replace(/^cd \/srv\/mixpanel-mailchimp/, `cd ${JSON.stringify(ws.dir)}`);
    const admin = `${sandbox.url}/__admin`;
    const { list_id } = sandboxClientConfigs(sandbox).target;
    const members = async () =>
      new Map((await getJson<{ members: Array<{ email_address: string; status: string; tags: Array<{ name: string }> }> }>(`${admin}/mailchimp/lists/${list_id}/members`)).members.map((m) => [m.email_address.toLowerCase(), m]));
    const rows = () => ws.read(settings.archive_file).trim().split('\n').slice(1).map((l) => l.split(','));
    type Archive = { sweep: boolean; owned: number; left: number; archived: number };
    const archive = () => (JSON.parse(ws.read(settings.report_file)) as { archive: Archive }).archive;

    const dry = await ws.bash(blockById(blocks, RUN.archiveDryRun).text);
    expectClean(dry, 'archive dry run');
    // Nobody carries the owner tag before the first run: nobody would be archived. No state is printed.
    expect(dry.stdout).toBe(ws.read(settings.archive_file));
    expect(rows()).toEqual([]);
    const first = await ws.bash(script);
    expectClean(first, 'archive cron run 1');
    expect(archive()).toMatchObject({ sweep: true, left: 0, archived: 0 });
    const owned = [...(await members()).values()].filter((m) => m.tags.some((t) => t.name === settings.owner_tag));
    expect(owned.length).toBeGreaterThan(20);
    expect(archive().owned).toBe(owned.length);

    // One owned person's address changes in Mixpanel: under the old one, they left the source.
    const profiles = await getJson<Array<{ $distinct_id: string; $properties: { $email?: unknown } }>>(`${admin}/mixpanel/profiles`);
    const leaver = profiles.find((p) => typeof p.$properties.$email === 'string' && p.$properties.$email.toLowerCase() === owned[0]?.email_address.toLowerCase());
    expect(leaver).toBeDefined();
    await postJson(`${admin}/mixpanel/profiles`, { profiles: [{ distinct_id: leaver?.$distinct_id, $set: { $email: 'moved.away@acme.io' } }] });
    const old = String(leaver?.$properties.$email).toLowerCase();

    const before = await members();
    const preview = await ws.bash(blockById(blocks, RUN.archiveDryRun).text);
    expectClean(preview, 'archive dry run 2');
    expect(rows().map((r) => [r[0], r[1]?.toLowerCase()])).toEqual([['would archive', old]]);
    expect(await members()).toEqual(before);

    const second = await ws.bash(script);
    expectClean(second, 'archive cron run 2');
    expect(archive()).toMatchObject({ sweep: true, left: 1, archived: 1 });
    expect(rows().map((r) => [r[0], r[1]?.toLowerCase()])).toEqual([['archived', old]]);
    const after = await members();
    expect(after.get(old)?.status).toBe('archived');
    const archived = (all: typeof after) => [...all.values()].filter((m) => m.status === 'archived').map((m) => m.email_address.toLowerCase());
    expect(archived(after).sort()).toEqual([...archived(before), old].sort());
    expect(ws.read('state.json').trim().split('\n')).toHaveLength(1);
  });

  it('A mirrored audience under Meltano: the YAML loads engage and sets the archive settings the cron test ran with, each a setting of the plugin', () => {
    type Plugins = { plugins: { extractors: Array<{ name: string; select: string[] }>; loaders: Array<{ name: string; config: Record<string, unknown> }> } };
    const project = parseYaml(blockById(blocks, `${MIRROR} [1]`).text) as Plugins;
    const settings = JSON.parse(blockById(blocks, ARCHIVE_SETTINGS).text) as Record<string, unknown>;
    const plugin = parseYaml(readFileSync(join(REPO_ROOT, 'meltano', 'target-mailchimp.yml'), 'utf8')) as { settings: Array<{ name: string }> };
    const known = new Set(plugin.settings.map((setting) => setting.name));
    expect(project.plugins.extractors).toEqual([{ name: 'tap-mixpanel', select: ['engage.*'] }]);
    const config = project.plugins.loaders.find((l) => l.name === 'target-mailchimp')?.config ?? {};
    expect(Object.keys(config).filter((key) => !known.has(key))).toEqual([]);
    for (const key of ['archive_missing', 'owner_tag', 'archive_max_share']) expect([key, config[key]]).toEqual([key, settings[key]]);
    expect(config.archive_file).toBe(`\${MELTANO_PROJECT_ROOT}/${String(settings.archive_file)}`);
  });

  it('every file the blocks left in the directory is in the checkout\'s .gitignore', () => {
    expect(notIgnored(ws)).toEqual([]);
  });
});
