/**
 * The doc test for docs/recipes.md and pipelinewise/README.md: every fenced block that runs the
 * binaries is run here as written, with bash, against the sandbox on 127.0.0.1 (blocks.ts says
 * how the workspace is laid out), or named in EXCLUDED with the reason. A new block that runs a
 * binary and is in neither list fails, and so does a recipe changed without making it work.
 *
 * The recipes run in the order a reader follows them, in one workspace; the incremental ones run
 * twice. Prepared by the test before the first block (the recipes say to start from the examples):
 * tap.json (config.example.json with the sandbox's credentials and URLs, start_date 2023-01-01,
 * the first day of the sandbox's data), target.json (target-config.example.json with the
 * sandbox's api_key, list_id, api_base_url) and warehouse.json for the stand-in target-postgres.
 * Script blocks (`#!...` then `# name.sh: ...`) are written to that file and made executable;
 * crontab lines run without their schedule fields, with their `cd /srv/mixpanel-mailchimp`
 * replaced by a cd to the workspace. The cohort recipe's JSON block is written to the file its
 * text names (`cohort-tags.json`).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { StreamSelection, type Catalog } from '../../src/singer/catalog.js';
import { parseStateText, type SingerState } from '../../src/singer/state.js';
import { countKeys, eventKey, exportedKey, type TruthEvent } from '../integration/export-truth.js';
import { getJson, groundTruthEvents, postJson } from '../integration/harness.js';
import { blockById, cronCommand, errorLines, fencedBlocks, notIgnored, REPO_ROOT, runsBinary, scriptName, Workspace, type DocBlock, type ShellResult } from './blocks.js';
import { RECIPE_BLOCKS_RUN_ELSEWHERE } from './tap-mailchimp-blocks.js';

const R = 'docs/recipes.md';
const P = 'pipelinewise/README.md';

/** Blocks run by this file. */
const RUN = {
  check: `${R} > Install [1]`,
  engageOnly: `${R} > Only the streams Mailchimp needs [0]`,
  shell: `${R} > Shell pipeline [0]`,
  shellEnv: `${R} > Shell pipeline [1]`,
  syncScript: `${R} > cron, with locking and state rotation [0]`,
  syncCron: `${R} > cron, with locking and state rotation [1]`,
  cohortCatalog: `${R} > Cohorts as Mailchimp tags, from cron [0]`,
  cohortScript: `${R} > Cohorts as Mailchimp tags, from cron [2]`,
  cohortDryRun: `${R} > Cohorts as Mailchimp tags, from cron [3]`,
  cohortCron: `${R} > Cohorts as Mailchimp tags, from cron [4]`,
  backfillScript: `${R} > Backfills as parallel date partitions [0]`,
  backfill: `${R} > Backfills as parallel date partitions [1]`,
  pipelinewiseMailchimp: `${P} > Then Mailchimp [0]`,
};

/** Blocks that are files of a recipe, written where the recipe says. */
const COHORT_SETTINGS = `${R} > Cohorts as Mailchimp tags, from cron [1]`;

/** Blocks that run a binary but cannot run here, each with the reason. */
const EXCLUDED: Record<string, string> = {
  ...RECIPE_BLOCKS_RUN_ELSEWHERE,
  [`${R} > Install [0]`]: 'npm install -g from the registry: the tests run the binaries of this checkout instead (blocks.ts)',
  [`${R} > Meltano (3.x and 4.x) [0]`]: 'Meltano is not installed here (PyPI is unreachable); tests/integration/meltano-project.test.ts runs the example project as Meltano would',
  [`${R} > Meltano (3.x and 4.x) [1]`]: 'Meltano is not installed here (PyPI is unreachable)',
  [`${R} > Meltano (3.x and 4.x) [2]`]: 'Meltano is not installed here (PyPI is unreachable); tests/integration/meltano-cohorts.test.ts runs the example project\'s cohort settings as Meltano would',
  [`${R} > PipelineWise [0]`]: 'PipelineWise is not installed here',
  [`${R} > Airflow (BashOperator) [0]`]: 'Airflow is not installed here; the command it runs, sync.sh, is run by the cron recipe',
  [`${P} > Extract Mixpanel into the warehouse with PipelineWise [0]`]: 'npm install -g from the registry: the tests run the binaries of this checkout instead (blocks.ts)',
  [`${P} > Extract Mixpanel into the warehouse with PipelineWise [1]`]: 'run by tests/docs/pipelinewise.test.ts, which then runs the tap from the path the block links, as PipelineWise does',
  [`${P} > Extract Mixpanel into the warehouse with PipelineWise [2]`]:
    'PipelineWise is not installed here; tests/docs/pipelinewise.test.ts does what its import and run_tap do (from PipelineWise 0.76.7\'s source) with pipelinewise/tap_mixpanel.yml',
};

const FILES = [R, P];
const blocks = FILES.flatMap((f) => fencedBlocks(f));
const BACKFILL_FROM = '2023-01-01';
const BACKFILL_TO = '2023-06-30';

let sandbox: Sandbox;
let ws: Workspace;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 8, fromDate: BACKFILL_FROM, days: 181, eventsPerDay: 4, profiles: 60, engagePageSize: 10 });
  const { tap, target } = sandboxClientConfigs(sandbox);
  ws = new Workspace('doc-recipes-', { TAP_MIXPANEL_SERVICE_ACCOUNT_SECRET: sandbox.credentials.mixpanel.serviceAccountSecret, TARGET_MAILCHIMP_API_KEY: target.api_key });
  const example = (name: string) => JSON.parse(readFileSync(join(REPO_ROOT, name), 'utf8')) as Record<string, unknown>;
  ws.write('tap.json', JSON.stringify({ ...example('config.example.json'), ...tap, start_date: `${BACKFILL_FROM}T00:00:00Z` }, null, 2));
  ws.write('target.json', JSON.stringify({ ...example('target-config.example.json'), ...target }, null, 2));
  ws.write('warehouse.json', JSON.stringify({ path: ws.path('warehouse.jsonl') }));
});

afterAll(async () => {
  await sandbox?.close();
});

const text = (id: string) => blockById(blocks, id).text;

function expectClean(result: ShellResult, what: string, logFile?: string): void {
  const logs = logFile && existsSync(ws.path(logFile)) ? ws.read(logFile) : '';
  expect({ what, code: result.code, errors: [...errorLines(result.stderr), ...errorLines(logs)] }).toEqual({ what, code: 0, errors: [] });
}

function stateFile(name: string): SingerState {
  const content = parseStateText(ws.read(name), name);
  if (content.empty) throw new Error(`${name} holds no state: ${content.reason}`);
  return content.state;
}

function writeScript(block: DocBlock): void {
  ws.write(scriptName(block), block.text + '\n', 0o755);
}

function cronScript(id: string): string {
  const command = cronCommand(blockById(blocks, id));
  expect(command).toMatch(/^cd \/srv\/mixpanel-mailchimp && /);
  return command.replace(/^cd \/srv\/mixpanel-mailchimp/, `cd ${JSON.stringify(ws.dir)}`);
}

async function engagePages(): Promise<number> {
  const { requests } = await getJson<{ requests: Array<{ path: string }> }>(`${sandbox.url}/__admin/requests?family=query`);
  return requests.filter((r) => r.path.endsWith('/engage')).length;
}

async function clearRequests(): Promise<void> {
  await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
}

async function audience(): Promise<string[]> {
  const { list_id } = sandboxClientConfigs(sandbox).target;
  const { members } = await getJson<{ members: Array<{ email_address: string }> }>(`${sandbox.url}/__admin/mailchimp/lists/${list_id}/members`);
  return members.map((m) => m.email_address.toLowerCase()).sort();
}

/** A profile seen again now: the next incremental engage run must pick it up (and only it, roughly). */
async function seeAgain(distinctId: string): Promise<void> {
  await postJson(`${sandbox.url}/__admin/mixpanel/profiles`, { profiles: [{ distinct_id: distinctId, $set: { $last_seen: new Date().toISOString().slice(0, 19) } }] });
}

/**
 * An incremental engage recipe, twice: the first run reads every profile and stores an engage
 * bookmark; after one profile is seen again, the second reads less, the bookmark moves forward,
 * and the audience is the same (nobody lost, nobody left for later).
 */
async function runEngageRecipeTwice(what: string, script: string, state: string, logFile?: string): Promise<void> {
  await clearRequests();
  const first = await ws.bash(script);
  expectClean(first, `${what}, run 1`, logFile);
  const firstPages = await engagePages();
  const before = stateFile(state).bookmarks.engage?.replication_key_value;
  expect(typeof before).toBe('string');
  const people = await audience();

  const profiles = await getJson<Array<{ $distinct_id: string }>>(`${sandbox.url}/__admin/mixpanel/profiles`);
  await seeAgain((profiles[0] as { $distinct_id: string }).$distinct_id);
  await clearRequests();
  const second = await ws.bash(script);
  expectClean(second, `${what}, run 2`, logFile);
  expect(await engagePages()).toBeLessThan(firstPages);
  const after = stateFile(state).bookmarks.engage?.replication_key_value;
  expect(Date.parse(String(after))).toBeGreaterThan(Date.parse(String(before)));
  expect(await audience()).toEqual(people);
}

describe('docs/recipes.md and pipelinewise/README.md as written', () => {
  it('every block that runs a binary is run here or excluded with a reason, and both lists name real blocks', () => {
    const listed = new Set([...Object.values(RUN), ...Object.keys(EXCLUDED)]);
    const unlisted = blocks.filter((b) => runsBinary(b) && !listed.has(b.id)).map((b) => b.id);
    expect(unlisted).toEqual([]);
    for (const id of listed) expect(blocks.map((b) => b.id)).toContain(id);
    for (const reason of Object.values(EXCLUDED)) expect(reason.length).toBeGreaterThan(20);
  });

  it('Install: --test passes for both binaries', async () => {
    const result = await ws.bash(text(RUN.check));
    expectClean(result, '--test');
    expect(result.stderr).not.toMatch(/\bFAIL\b/);
    expect(result.stderr).toMatch(/ok/);
  });

  it('Only the streams Mailchimp needs: a catalog selecting engage alone, INCREMENTAL, without jq', async () => {
    const result = await ws.bash(text(RUN.engageOnly));
    expectClean(result, 'engage-only.json');
    const catalog = JSON.parse(ws.read('engage-only.json')) as Catalog;
    const selected = catalog.streams.filter((e) => new StreamSelection(e).streamSelected).map((e) => e.tap_stream_id);
    expect(selected).toEqual(['engage']);
    const engage = catalog.streams.find((e) => e.tap_stream_id === 'engage');
    expect(new StreamSelection(engage as Catalog['streams'][number]).replication().method).toBe('INCREMENTAL');
  });

  it('Shell pipeline: from no state to an engage bookmark, then a run that reads only what changed', async () => {
    expect(existsSync(ws.path('state.json'))).toBe(false);
    await runEngageRecipeTwice('shell pipeline', text(RUN.shell), 'state.json');
    expect(ws.read('state.json').trim().split('\n')).toHaveLength(1);
  });

  it('Shell pipeline: a run that fails keeps the state as it was', async () => {
    const before = ws.read('state.json');
    await postJson(`${sandbox.url}/__admin/settings`, { faults: [{ kind: 'status', family: 'query', status: 401 }] });
    try {
      const result = await ws.bash(text(RUN.shell));
      expect(result.stderr).toMatch(/tap-mixpanel: error: .*\(401\)/);
    } finally {
      await postJson(`${sandbox.url}/__admin/settings`, { faults: [] });
    }
    expect(ws.read('state.json')).toBe(before);
  });

  it('Shell pipeline with --config ENV: secrets from the environment', async () => {
    for (const run of ['run 1', 'run 2']) {
      const result = await ws.bash(text(RUN.shellEnv));
      expectClean(result, `ENV ${run}`);
      expect(stateFile('state.json').bookmarks.engage?.replication_key_value).toEqual(expect.any(String));
    }
  });

  it('cron with sync.sh: two runs under flock, state/state.json valid and moving forward, history kept', async () => {
    writeScript(blockById(blocks, RUN.syncScript));
    await runEngageRecipeTwice('sync.sh from cron', cronScript(RUN.syncCron), 'state/state.json', 'sync.log');
    const history = readdirSync(ws.path('state/history')).filter((f) => /^state-.*\.json$/.test(f));
    expect(history).toHaveLength(2);
    for (const file of history) expect(() => stateFile(join('state/history', file))).not.toThrow();
    expect(readdirSync(ws.path('state')).filter((f) => f.startsWith('out.'))).toEqual([]);
  });

  it('cron with sync.sh: a failing run exits non-zero and keeps state/state.json', async () => {
    const before = ws.read('state/state.json');
    await postJson(`${sandbox.url}/__admin/settings`, { faults: [{ kind: 'status', family: 'query', status: 401 }] });
    try {
      const result = await ws.bash(cronScript(RUN.syncCron));
      expect(result.code).not.toBe(0);
    } finally {
      await postJson(`${sandbox.url}/__admin/settings`, { faults: [] });
    }
    expect(ws.read('state/state.json')).toBe(before);
  });

  describe('Cohorts as Mailchimp tags, from cron', () => {
    type Entry = { id: number; name: string; tag: string; complete: boolean; gained: number; kept: number; lost: number; wouldGain?: string[]; wouldLose?: string[] };
    const admin = () => `${sandbox.url}/__admin`;
    const holders = async (tag: string): Promise<string[]> => {
      const { list_id } = sandboxClientConfigs(sandbox).target;
      const { members } = await getJson<{ members: Array<{ email_address: string; tags: Array<{ name: string }> }> }>(`${admin()}/mailchimp/lists/${list_id}/members`);
      return members.filter((m) => m.tags.some((t) => t.name === tag)).map((m) => m.email_address.toLowerCase()).sort();
    };
    const settings = () => JSON.parse(text(COHORT_SETTINGS)) as { cohort_tags: string[]; cohort_tag_prefix: string; report_file: string; cohort_registry_file: string; rejects_file: string };
    const report = () => (JSON.parse(ws.read(settings().report_file)) as { cohorts: Entry[] }).cohorts;
    const chosen = async () => (await getJson<{ cohorts: Array<{ id: number; name: string; members: string[] }> }>(`${admin()}/mixpanel/cohorts`)).cohorts.filter((c) => settings().cohort_tags.includes(c.name));
    const mailchimpWrites = async () =>
      (await getJson<{ requests: Array<{ method: string }> }>(`${admin()}/requests?family=mailchimp`)).requests.filter((r) => r.method !== 'GET').length;

    it('the catalog selects both cohort streams and nothing else', async () => {
      const result = await ws.bash(text(RUN.cohortCatalog));
      expectClean(result, 'cohorts-only.json');
      const catalog = JSON.parse(ws.read('cohorts-only.json')) as Catalog;
      expect(catalog.streams.filter((e) => new StreamSelection(e).streamSelected).map((e) => e.tap_stream_id).sort()).toEqual(['cohort_members', 'cohorts']);
    });

    it('the dry run writes nothing, keeps no state, and lists per cohort who would gain the tag', async () => {
      expect(text(COHORT_SETTINGS)).toContain('"cohort_tags"');
      ws.write('cohort-tags.json', text(COHORT_SETTINGS) + '\n');
      writeScript(blockById(blocks, RUN.cohortScript));
      await clearRequests();
      const result = await ws.bash(text(RUN.cohortDryRun));
      expectClean(result, 'cohort dry run');
      expect(await mailchimpWrites()).toBe(0);
      expect(existsSync(ws.path('state/cohorts/state.json'))).toBe(false);
      const cohorts = await chosen();
      expect(report().map((c) => c.id)).toEqual(cohorts.map((c) => c.id));
      for (const c of report()) {
        expect(c.wouldGain?.length).toBeGreaterThan(0);
        expect(result.stdout).toContain(`${c.tag}: would gain ${c.wouldGain?.length ?? -1}, would lose 0`);
      }
      for (const c of cohorts) expect(await holders(`${settings().cohort_tag_prefix}${c.name}`)).toEqual([]);
    });

    it('from cron, twice with a membership change between: entrants tagged, leavers untagged, a valid state, the registry written', async () => {
      const cron = cronScript(RUN.cohortCron);
      const first = await ws.bash(cron);
      expectClean(first, 'cohort cron run 1', 'cohort-tags.log');
      const [cohort, other] = await chosen();
      if (!cohort || !other) throw new Error('the recipe chooses two cohorts of the sandbox');
      const tag = `${settings().cohort_tag_prefix}${cohort.name}`;
      const tagged = await holders(tag);
      expect(report().find((c) => c.id === cohort.id)).toMatchObject({ complete: true, gained: tagged.length, lost: 0 });
      expect(tagged.length).toBeGreaterThan(2);
      expect(ws.read('cohort-tags.log')).toContain(`cohort ${cohort.id} "${cohort.name}" -> tag "${tag}": gained ${tagged.length}`);
      expect(Object.keys((JSON.parse(ws.read(settings().cohort_registry_file)) as { cohorts: object }).cohorts).map(Number)).toEqual([cohort.id, other.id].sort((a, b) => a - b));
      const state = stateFile('state/cohorts/state.json');
      expect(state.bookmarks).not.toHaveProperty('cohort_members');

      // Two of its tag holders leave the cohort; a holder of the other cohort's tag enters it.
      const emailOf = new Map((await getJson<Array<{ $distinct_id: string; $properties: { $email?: unknown } }>>(`${admin()}/mixpanel/profiles`)).map((p) => [p.$distinct_id, typeof p.$properties.$email === 'string' ? p.$properties.$email.trim().toLowerCase() : '']));
      const leavers = cohort.members.filter((id) => tagged.includes(emailOf.get(id) ?? '')).slice(0, 2);
      const otherTagged = new Set(await holders(`${settings().cohort_tag_prefix}${other.name}`));
      const entrant = [...emailOf.entries()].find(([id, e]) => !cohort.members.includes(id) && otherTagged.has(e) && !tagged.includes(e));
      if (leavers.length !== 2 || !entrant) throw new Error('the sandbox has no two tag holders and one entrant to move');
      await postJson(`${admin()}/mixpanel/cohorts/${cohort.id}`, { add: [entrant[0]], remove: leavers });

      const second = await ws.bash(cron);
      expectClean(second, 'cohort cron run 2', 'cohort-tags.log');
      expect(report().find((c) => c.id === cohort.id)).toMatchObject({ complete: true, gained: 1, lost: 2 });
      const gone = new Set(leavers.map((id) => emailOf.get(id)));
      expect(await holders(tag)).toEqual([...tagged.filter((e) => !gone.has(e)), entrant[1]].sort());
      expect(ws.read('state/cohorts/state.json').trim().split('\n')).toHaveLength(1);
      expect(readdirSync(ws.path('state/cohorts')).filter((f) => f.startsWith('out.'))).toEqual([]);
    });
  });

  it('PipelineWise README, then Mailchimp: the loop beside PipelineWise, twice', async () => {
    expect(existsSync(ws.path('mc-state.json'))).toBe(false);
    await runEngageRecipeTwice('pipelinewise then mailchimp', text(RUN.pipelinewiseMailchimp), 'mc-state.json');
  });

  it('Backfills: six monthly partitions, three at a time, twice: every event once, the second run adds nothing', async () => {
    writeScript(blockById(blocks, RUN.backfillScript));
    const truth = countKeys(((await groundTruthEvents(sandbox.url, BACKFILL_FROM, BACKFILL_TO)) as TruthEvent[]).map(eventKey));
    expect(truth.size).toBeGreaterThan(500);
    const warehouse = () =>
      existsSync(ws.path('warehouse.jsonl'))
        ? ws
            .read('warehouse.jsonl')
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => JSON.parse(l) as { stream: string; record: Record<string, unknown> })
        : [];

    const first = await ws.bash(text(RUN.backfill), 300_000);
    expectClean(first, 'backfill run 1');
    const loaded = warehouse();
    expect(new Set(loaded.map((r) => r.stream))).toEqual(new Set(['export']));
    expect(countKeys(loaded.map((r) => exportedKey(r.record)))).toEqual(truth);
    const states = ['2023-01', '2023-02', '2023-03', '2023-04', '2023-05', '2023-06'].map((m) => stateFile(`backfill/${m}/state.json`));
    for (const [i, state] of states.entries()) {
      const last = (state.bookmarks.export as { last_day_read?: string }).last_day_read ?? '';
      expect(last.slice(0, 7)).toBe(`2023-0${i + 1}`);
    }

    const second = await ws.bash(text(RUN.backfill), 300_000);
    expectClean(second, 'backfill run 2');
    expect(warehouse()).toHaveLength(loaded.length);
    for (const m of ['2023-01', '2023-06']) expect(stateFile(`backfill/${m}/state.json`).bookmarks.export).toBeDefined();
  });

  it("every file the recipes had the reader create is in the checkout's .gitignore", () => {
    // warehouse.jsonl is the stand-in target-postgres's table (blocks.ts), not a file of the recipes.
    expect(notIgnored(ws, ['bin', 'warehouse.jsonl'])).toEqual([]);
  });
});
