/**
 * target-mailchimp at audience scale (issue 11) and the cohort-to-tag job (issue 12): each run is
 * the real binary, fed a generated Singer file on stdin, against the sandbox as its own process
 * with a generated audience (10k to 1M members) and batch operations run at a high rate (the
 * processing time of batches is Mailchimp's, not ours). Calls are counted by the sandbox's
 * request summary (every request since the last clear, by route, batch operations apart) and
 * split into kinds; refreshes (since_last_changed pages) are told apart from other page reads by
 * the target's report_file (api_calls_by_kind), as both share one route.
 *
 * Before: the same rows for a build of the target as it was before issue 11 (`--before DIR`, a
 * checkout of commit fabe005, built), which pages the whole audience and writes each person with
 * their own calls. Its rows that write every person run at `--before-members` and are also shown
 * extrapolated linearly to the full size (page reads and per-person writes both scale with it).
 *
 *   node dist-bench/run.js --only scale [--members 1000000] [--before DIR] [--before-members 100000] [--repeat N]
 */
import { createReadStream, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMeasured, type Measured } from './measure.js';
import { startSandboxProcess, type SandboxProcess } from './sandbox-process.js';
import {
  afterApplied,
  COHORT_ID,
  cohortFinalState,
  ENGAGE_STATE,
  loadGeneratedMember,
  range,
  SEED,
  spread,
  WITHDRAWN,
  writeCohortSweep,
  writeEngageInput,
  type Expected,
  type GeneratedMemberOf,
} from './scale-input.js';
import { fixed, printMarkdownTable, printTable, thousands } from './table.js';

/** The groups of rows, each run alone with --rows: the hourly deltas, the first run and its re-run, tag_properties, the cohort rows, archive_missing (issue 19). */
export const SCALE_ROWS = ['delta', 'first', 'tags', 'cohort', 'archive'] as const;
export type ScaleRow = (typeof SCALE_ROWS)[number];

export interface ScaleBenchOptions {
  root: string;
  work: string;
  /** A built checkout of the target before issue 11 (fabe005), or null to leave the before rows out. */
  beforeRoot: string | null;
  /** Which builds to measure (before only when beforeRoot is set). */
  builds: Array<'after' | 'before'>;
  /** Which groups of rows to run. */
  rows: ScaleRow[];
  /** Audiences of the hourly delta row. */
  deltaSizes: number[];
  /** Audience of the other rows. */
  members: number;
  /** Audience of the before rows that write every person (then extrapolated to `members`). */
  beforeMembers: number;
  /** Members of the cohort row's cohort. */
  cohortMembers: number;
  /** Sandbox batch operations per second. */
  batchRate: number;
  repeat: number;
}

/** The model: Mailchimp answers a call in 250 ms and allows 10 connections. */
const CALL_S = 0.25;
const CONNECTIONS = 10;
const RSS_GOAL_MB = 250;
const MAX_CONCURRENCY = 10;

const KINDS = ['lookups', 'page reads', 'refreshes', 'batch subscribe', 'direct writes', 'batch submit', 'batch polls', 'results downloads', 'other'] as const;
type Kind = (typeof KINDS)[number];

interface SummaryRoute {
  family: string;
  method: string;
  route: string;
  count: number;
}

interface RequestSummary {
  total: number;
  routes: SummaryRoute[];
  batch_operations: { total: number; routes: SummaryRoute[] };
}

interface TargetReport {
  created?: number;
  updated?: number;
  unchanged?: number;
  skipped?: Record<string, number>;
  rejected?: Record<string, number>;
  api_calls?: number;
  api_calls_by_kind?: Record<string, number>;
  cohorts?: Array<{ id: number; gained: number; kept: number; lost: number; notInAudience: number; rejected: number; complete: boolean }>;
  archive?: { sweep: boolean; owned: number; left: number; archived: number; refused: number; failed: number };
}

type Build = 'after' | 'before';

interface Row {
  build: Build;
  run: string;
  /** Generated members in the audience. */
  audience: number;
  /** Members in the list when the run started (seeded and generated ones, and those earlier runs created). */
  membersInList: number;
  calls: Record<Kind, number>;
  total: number;
  /** Operations Mailchimp ran inside batches (their processing time is not modelled). */
  batchOps: number;
  modelledS: number;
  wallS: number | null;
  rssMb: number | null;
  outcomes: string;
  /** Whether the outcome counts (and exit code and final state) are what a correct target reports. */
  asExpected: boolean;
  notes: string[];
  goal: string;
  met: string;
  extrapolatedFrom?: number;
}

function classify(route: SummaryRoute): Kind {
  const r = `${route.method} ${route.route}`;
  if (r === 'GET /3.0/lists/{list_id}/members/{hash}') return 'lookups';
  if (r === 'GET /3.0/lists/{list_id}/members' || r === 'GET /3.0/lists/{list_id}/segments/{segment_id}/members') return 'page reads';
  if (r === 'POST /3.0/lists/{list_id}') return 'batch subscribe';
  if (r === 'PATCH /3.0/lists/{list_id}/members/{hash}' || r === 'POST /3.0/lists/{list_id}/members/{hash}/tags') return 'direct writes';
  if (r === 'POST /3.0/batches') return 'batch submit';
  if (r === 'GET /3.0/batches/{batch_id}') return 'batch polls';
  if (route.route.startsWith('/mailchimp-api-batch/')) return 'results downloads';
  return 'other';
}

function emptyCalls(): Record<Kind, number> {
  return Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
}

/** Polls wait on each other (one batch at a time is polled); every other call shares the 10 connections. */
function modelledSeconds(calls: Record<Kind, number>, total: number): number {
  const polls = calls['batch polls'];
  return ((total - polls) / CONNECTIONS) * CALL_S + polls * CALL_S;
}

function minutes(seconds: number): string {
  return seconds < 120 ? `${fixed(seconds, 0)} s` : `${fixed(seconds / 60, 1)} min`;
}

class Sandbox {
  private constructor(readonly process: SandboxProcess) {}

  static async start(root: string, members: number, batchRate: number): Promise<Sandbox> {
    return new Sandbox(
      await startSandboxProcess(join(root, 'bin', 'mixpanel-mailchimp-sandbox.js'), [
        '--seed', String(SEED), '--days', '1', '--events-per-day', '0', '--profiles', '10',
        '--audience-size', String(members), '--batch-rate', String(batchRate),
      ]),
    );
  }

  async admin<T>(path: string, method = 'GET'): Promise<T> {
    const response = await fetch(`${this.process.url}${path}`, { method });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** Members in the list as the API counts them (seeded, generated, and those created by earlier runs). */
  async memberCount(): Promise<number> {
    const t = this.process.target;
    const response = await fetch(`${String(t.api_base_url)}/lists/${String(t.list_id)}/members?count=1&fields=total_items`, {
      headers: { authorization: `Basic ${Buffer.from(`bench:${String(t.api_key)}`).toString('base64')}` },
    });
    if (!response.ok) throw new Error(`member count: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { total_items: number }).total_items;
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}

interface RunSpec {
  build: Build;
  run: string;
  audience: number;
  input: string;
  config: Record<string, unknown>;
  /** The last line the target must print (the input's final state). */
  finalState: unknown;
  check: (report: TargetReport) => { ok: boolean; outcomes: string; notes: string[] };
}

function skippedTotal(report: TargetReport): number {
  return Object.values(report.skipped ?? {}).reduce((a, b) => a + b, 0);
}

function rejectedTotal(report: TargetReport): number {
  return Object.values(report.rejected ?? {}).reduce((a, b) => a + b, 0);
}

function engageCheck(expected: Expected): RunSpec['check'] {
  return (report) => {
    const got = { created: report.created ?? 0, updated: report.updated ?? 0, unchanged: report.unchanged ?? 0, skipped: skippedTotal(report) };
    const rejected = rejectedTotal(report);
    const ok = got.created === expected.created && got.updated === expected.updated && got.unchanged === expected.unchanged && got.skipped === expected.skipped && rejected === 0;
    const notes = ok ? [] : [`expected ${expected.created}/${expected.updated}/${expected.unchanged}/${expected.skipped}${rejected ? `, ${rejected} rejected` : ''}`];
    return { ok, outcomes: `${thousands(got.created)} / ${thousands(got.updated)} / ${thousands(got.unchanged)} / ${thousands(got.skipped)}`, notes };
  };
}

/** Expected tag changes; archived members are left out of cohort tags (they are not in the audience's tag lists), so they count in none. */
function cohortCheck(expected: { gained: number; kept: number; lost: number; archived: number }): RunSpec['check'] {
  return (report) => {
    const c = report.cohorts?.find((x) => x.id === COHORT_ID);
    if (!c) return { ok: false, outcomes: 'no cohort summary', notes: [] };
    const ok = c.complete && c.gained === expected.gained && c.kept === expected.kept && c.lost === expected.lost && c.rejected === 0;
    const notes = ok ? [] : [`expected +${thousands(expected.gained)} =${thousands(expected.kept)} -${thousands(expected.lost)}`];
    // Archived members keep their tags, but the tag's members endpoint does not list them.
    if (expected.archived > 0) notes.push(`${thousands(expected.archived)} archived members of the cohort left out`);
    if (c.notInAudience) notes.push(`${c.notInAudience} not in the audience`);
    return { ok, outcomes: `tag +${thousands(c.gained)} =${thousands(c.kept)} -${thousands(c.lost)}`, notes };
  };
}

async function runTarget(root: string, sandbox: Sandbox, spec: RunSpec, work: string): Promise<Row> {
  const t = sandbox.process.target;
  const reportFile = join(work, 'report.json');
  rmSync(reportFile, { force: true });
  const configFile = join(work, 'target.json');
  writeFileSync(
    configFile,
    JSON.stringify({ api_key: t.api_key, list_id: t.list_id, api_base_url: t.api_base_url, status_if_new: 'subscribed', max_concurrency: MAX_CONCURRENCY, report_file: reportFile, ...spec.config }, null, 2),
  );
  const membersInList = await sandbox.memberCount();
  await sandbox.admin('/__admin/requests', 'DELETE');
  const run: Measured = await runMeasured(process.execPath, [join(root, 'bin', 'target-mailchimp.js'), '--config', configFile], {
    stdin: createReadStream(spec.input),
    env: { LOG_LEVEL: 'info' },
  });
  const summary = await sandbox.admin<RequestSummary>('/__admin/requests/summary');
  const report = existsSync(reportFile) ? (JSON.parse(readFileSync(reportFile, 'utf8')) as TargetReport) : {};
  const calls = emptyCalls();
  for (const route of summary.routes) calls[classify(route)] += route.count;
  // Refreshes share the members route with page reads; the target's own count tells them apart.
  const refreshes = Math.min(calls['page reads'], report.api_calls_by_kind?.['changed members page'] ?? 0);
  calls['page reads'] -= refreshes;
  calls.refreshes = refreshes;
  const total = KINDS.reduce((n, k) => n + calls[k], 0);
  const checked = spec.check(report);
  const stateOk = run.lastLine.trim() === JSON.stringify(spec.finalState);
  const notes = [...checked.notes];
  if (run.code !== 0) notes.push(`exit ${run.code}`);
  if (!stateOk) notes.push('final state not printed');
  console.log(`scale: ${spec.build}, ${spec.run}, ${thousands(spec.audience)}: ${fixed(run.seconds, 1)} s; the target's own count: ${JSON.stringify(report.api_calls_by_kind ?? report.api_calls ?? null)}`);
  if (run.code !== 0 || !checked.ok) console.log(`target (${spec.build}, ${spec.run}, ${thousands(spec.audience)}): exit ${run.code}; stderr ends:\n${run.stderrTail.slice(-2000)}`);
  return {
    build: spec.build,
    run: spec.run,
    audience: spec.audience,
    membersInList,
    calls,
    total,
    batchOps: summary.batch_operations.total,
    modelledS: modelledSeconds(calls, total),
    wallS: run.seconds,
    rssMb: run.peakRssMb,
    outcomes: checked.outcomes,
    asExpected: checked.ok && run.code === 0 && stateOk,
    notes,
    goal: '',
    met: '',
  };
}

function extrapolate(row: Row, to: number): Row {
  const factor = to / row.audience;
  const calls = emptyCalls();
  // The calls of the start (audience, merge fields) do not scale; everything else does.
  for (const k of KINDS) calls[k] = k === 'other' ? row.calls[k] : Math.round(row.calls[k] * factor);
  const total = KINDS.reduce((n, k) => n + calls[k], 0);
  return {
    ...row,
    audience: to,
    membersInList: Math.round(row.membersInList * factor),
    calls,
    total,
    batchOps: Math.round(row.batchOps * factor),
    modelledS: modelledSeconds(calls, total),
    wallS: null,
    rssMb: null,
    outcomes: 'n/a',
    notes: [`extrapolated x${fixed(factor, 0)} from the ${thousands(row.audience)} row`],
    extrapolatedFrom: row.audience,
  };
}

interface Plan {
  options: ScaleBenchOptions;
  memberOf: GeneratedMemberOf;
  rows: Row[];
}

function engageConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { stream: ['engage'], mode: 'upsert', ...extra };
}

async function deltaRows(plan: Plan, build: Build, root: string): Promise<void> {
  for (const size of plan.options.deltaSizes) {
    const input = join(plan.options.work, `delta-${size}.jsonl`);
    // 90 existing people spread over the audience, each with a different FNAME, and 10 new ones.
    const expected = await writeEngageInput(input, plan.memberOf, { indices: spread(size, 90), changed: () => true, newCount: 10, newEvery: 9, newPrefix: `delta${size}`, plans: false });
    const sandbox = await Sandbox.start(plan.options.root, size, plan.options.batchRate);
    try {
      plan.rows.push(await runTarget(root, sandbox, { build, run: 'hourly delta: 100 records (90 changed, 10 new)', audience: size, input, config: engageConfig(), finalState: ENGAGE_STATE, check: engageCheck(expected) }, plan.options.work));
    } finally {
      await sandbox.stop();
    }
    rmSync(input, { force: true });
  }
}

async function firstRunRows(plan: Plan, build: Build, root: string, size: number): Promise<void> {
  const input = join(plan.options.work, `first-${size}.jsonl`);
  // Every member, every other one with a different FNAME, and 5% new addresses (one after every 20).
  const expected = await writeEngageInput(input, plan.memberOf, { indices: range(size), changed: (i) => i % 2 === 0, newCount: Math.round(size * 0.05), newEvery: 20, newPrefix: 'first', plans: false });
  const sandbox = await Sandbox.start(plan.options.root, size, plan.options.batchRate);
  try {
    plan.rows.push(await runTarget(root, sandbox, { build, run: 'first run: 50% changed, 5% new', audience: size, input, config: engageConfig(), finalState: ENGAGE_STATE, check: engageCheck(expected) }, plan.options.work));
    plan.rows.push(await runTarget(root, sandbox, { build, run: 'identical re-run (first run applied)', audience: size, input, config: engageConfig(), finalState: ENGAGE_STATE, check: engageCheck(afterApplied(expected)) }, plan.options.work));
  } finally {
    await sandbox.stop();
  }
  rmSync(input, { force: true });
}

async function tagRow(plan: Plan, build: Build, root: string, size: number): Promise<void> {
  const input = join(plan.options.work, `tags-${size}.jsonl`);
  // As the first run, and the people who change also change their plan (plan:free <-> plan:pro; none -> pro).
  const expected = await writeEngageInput(input, plan.memberOf, { indices: range(size), changed: (i) => i % 2 === 0, newCount: Math.round(size * 0.05), newEvery: 20, newPrefix: 'tags', plans: true });
  const sandbox = await Sandbox.start(plan.options.root, size, plan.options.batchRate);
  try {
    plan.rows.push(await runTarget(root, sandbox, { build, run: 'first run + tag_properties (changed people change plan)', audience: size, input, config: engageConfig({ tag_properties: ['plan'] }), finalState: ENGAGE_STATE, check: engageCheck(expected) }, plan.options.work));
  } finally {
    await sandbox.stop();
  }
  rmSync(input, { force: true });
}

async function cohortRows(plan: Plan, root: string): Promise<void> {
  const { members: size, cohortMembers } = plan.options;
  const step = Math.max(1, Math.floor(size / cohortMembers));
  // The cohort: every step-th member (offset 3); the re-run: the first 1% leave, as many others enter.
  const cohort = (i: number) => i * step + 3;
  const changed = Math.round(cohortMembers * 0.01);
  const first = join(plan.options.work, 'cohort-1.jsonl');
  const second = join(plan.options.work, 'cohort-2.jsonl');
  const v1 = Date.UTC(2024, 5, 10, 12);
  const v2 = v1 + 3_600_000;
  const members = Array.from({ length: cohortMembers }, (_, k) => cohort(k));
  await writeCohortSweep(first, plan.memberOf, { members, version: v1 });
  const stayed = Array.from({ length: cohortMembers - changed }, (_, k) => cohort(k + changed));
  const entered = Array.from({ length: changed }, (_, k) => k * step + 7);
  const archived = (indices: number[]) => indices.filter((i) => plan.memberOf(i).category === 'archived').length;
  const left = Array.from({ length: changed }, (_, k) => cohort(k));
  await writeCohortSweep(second, plan.memberOf, { members: [...stayed, ...entered], version: v2 });
  const sandbox = await Sandbox.start(plan.options.root, size, plan.options.batchRate);
  const config = { cohort_tags: [COHORT_ID], cohort_registry_file: join(plan.options.work, 'cohort-registry.json') };
  rmSync(config.cohort_registry_file, { force: true });
  try {
    plan.rows.push(
      await runTarget(root, sandbox, { build: 'after', run: `cohort of ${thousands(cohortMembers)} -> tag, first run`, audience: size, input: first, config, finalState: cohortFinalState(v1), check: cohortCheck({ gained: cohortMembers - archived(members), kept: 0, lost: 0, archived: archived(members) }) }, plan.options.work),
    );
    plan.rows.push(
      await runTarget(root, sandbox, { build: 'after', run: `cohort re-run, 1% changed (${thousands(changed)} left, ${thousands(changed)} entered)`, audience: size, input: second, config, finalState: cohortFinalState(v2), check: cohortCheck({ gained: changed - archived(entered), kept: cohortMembers - changed - archived(stayed), lost: changed - archived(left), archived: archived([...stayed, ...entered, ...left]) }) }, plan.options.work),
    );
  } finally {
    await sandbox.stop();
  }
  rmSync(first, { force: true });
  rmSync(second, { force: true });
}

/** Sets each row's goal (issue 11's table; issue 12's row has only figures) and whether it was met. */
/** archive_missing rows: the outcomes of the records, and who the archive took. */
function archiveCheck(expected: Expected, archived: number): RunSpec['check'] {
  const records = engageCheck(expected);
  return (report) => {
    const checked = records(report);
    const a = report.archive;
    const ok = checked.ok && a !== undefined && a.sweep && a.left === archived && a.archived === archived && a.refused === 0 && a.failed === 0;
    const notes = [...checked.notes, ...(a ? [`owned ${thousands(a.owned)}, left ${thousands(a.left)}, archived ${thousands(a.archived)}`] : ['no archive in the report'])];
    if (!ok && a) notes.push(`expected ${thousands(archived)} archived`);
    return { ok, outcomes: `${checked.outcomes}; archived ${thousands(a?.archived ?? 0)}`, notes };
  };
}

/**
 * archive_missing (issue 19): a complete sweep of every member gives them the owner tag (the
 * adoption run, once), then a complete sweep with 1% gone archives those of them the target owns.
 */
async function archiveRows(plan: Plan, root: string): Promise<void> {
  const size = plan.options.members;
  const first = join(plan.options.work, 'archive-1.jsonl');
  const second = join(plan.options.work, 'archive-2.jsonl');
  const v1 = Date.UTC(2024, 5, 10, 12);
  const gone = (i: number) => i % 100 === 50;
  const adopted = await writeEngageInput(first, plan.memberOf, { indices: range(size), changed: () => false, newCount: 0, newEvery: 1, newPrefix: 'archive', plans: false, version: v1 });
  const kept = await writeEngageInput(second, plan.memberOf, { indices: [...range(size)].filter((i) => !gone(i)), changed: () => false, newCount: 0, newEvery: 1, newPrefix: 'archive', plans: false, version: v1 + 3_600_000 });
  const leavers = [...range(size)].filter((i) => gone(i) && !WITHDRAWN.has(plan.memberOf(i).category)).length;
  const sandbox = await Sandbox.start(plan.options.root, size, plan.options.batchRate);
  const config = engageConfig({ archive_missing: true });
  try {
    // Everyone written gets the owner tag (an update each): what the first run with archive_missing costs.
    const adoption: Expected = { created: 0, updated: adopted.unchanged, unchanged: 0, skipped: adopted.skipped };
    plan.rows.push(await runTarget(root, sandbox, { build: 'after', run: 'archive_missing: first complete sweep (everyone gets the owner tag)', audience: size, input: first, config, finalState: ENGAGE_STATE, check: archiveCheck(adoption, 0) }, plan.options.work));
    plan.rows.push(await runTarget(root, sandbox, { build: 'after', run: 'archive_missing: complete sweep, 1% gone', audience: size, input: second, config, finalState: ENGAGE_STATE, check: archiveCheck(kept, leavers) }, plan.options.work));
  } finally {
    await sandbox.stop();
  }
  rmSync(first, { force: true });
  rmSync(second, { force: true });
}

function judge(rows: Row[], options: ScaleBenchOptions): void {
  const full = options.members;
  const deltaTotals = (build: Build) => new Set(rows.filter((r) => r.build === build && r.run.startsWith('hourly delta') && r.extrapolatedFrom === undefined).map((r) => r.total));
  for (const row of rows) {
    const parts: Array<[string, boolean | null]> = [];
    if (row.run.startsWith('hourly delta')) {
      const same = deltaTotals(row.build).size === 1;
      parts.push(['same calls at every size', same], ['<= 150 calls', row.total <= 150]);
    } else if (row.run.startsWith('first run:')) {
      parts.push(['<= 5,000 calls', row.total <= 5000], ['modelled < 15 min', row.modelledS < 15 * 60]);
    } else if (row.run.startsWith('first run + tag')) {
      parts.push(['<= 10,000 calls', row.total <= 10_000]);
    } else if (row.run.startsWith('identical')) {
      const writes = row.calls['batch subscribe'] + row.calls['direct writes'] + row.calls['batch submit'] + row.batchOps;
      const pages = Math.ceil(row.membersInList / 1000);
      parts.push(['no writes', writes === 0], [`page reads <= ${thousands(pages + 1)} (one page-through + the count)`, row.calls['page reads'] <= pages + 1]);
    } else if (row.run.endsWith('1% gone')) {
      const pages = Math.ceil(row.membersInList / 1000);
      parts.push([`<= ${thousands(3 * pages)} calls (the audience read, the owner tag's holders, the archives in batches)`, row.total <= 3 * pages]);
    } else {
      parts.push([row.run.startsWith('archive') ? 'figures only (issue 19)' : 'figures only (issue 12)', null]);
    }
    if (row.audience >= full && row.extrapolatedFrom === undefined) parts.push([`RSS <= ${RSS_GOAL_MB} MB`, row.rssMb !== null && row.rssMb <= RSS_GOAL_MB]);
    if (row.extrapolatedFrom === undefined) parts.push(['outcomes as expected', row.asExpected]);
    row.goal = parts.map(([text]) => text).join('; ');
    const judged = parts.filter(([, ok]) => ok !== null);
    const missed = judged.filter(([, ok]) => ok === false).map(([text]) => text);
    row.met = judged.length === 0 ? 'n/a' : missed.length === 0 ? 'yes' : `no (${missed.join('; ')})`;
  }
}

const HEADER = ['build', 'run', 'audience', ...KINDS, 'total', 'ops in batches', 'modelled', 'wall', 'peak RSS MB', 'created / updated / unchanged / skipped', 'goal', 'met', 'notes'];

function cells(row: Row): string[] {
  return [
    row.build,
    row.run,
    `${thousands(row.audience)}${row.extrapolatedFrom !== undefined ? ' (extrapolated)' : ''}`,
    ...KINDS.map((k) => thousands(row.calls[k])),
    thousands(row.total),
    thousands(row.batchOps),
    minutes(row.modelledS),
    row.wallS === null ? 'n/a' : `${fixed(row.wallS, 1)} s`,
    fixed(row.rssMb, 0),
    row.outcomes,
    row.goal,
    row.met,
    row.notes.join('; '),
  ];
}

const CAPTION =
  'calls counted by the sandbox (every request, retries included), by kind; modelled time = (calls - batch polls) / 10 connections x 0.25 s + batch polls x 0.25 s (one batch is polled at a time); ' +
  "Mailchimp's own batch processing is excluded (see ops in batches; polls were few because the sandbox ran batches fast); " +
  'page reads include the one-member count call and, for cohorts, the tag members pages; wall = this 2-core machine, sandbox included; max_concurrency 10, other settings default';

export async function benchTargetScale(options: ScaleBenchOptions): Promise<void> {
  const memberOf = await loadGeneratedMember(options.root);
  const builds: Array<[Build, string]> = options.builds.includes('after') ? [['after', options.root]] : [];
  if (options.beforeRoot && options.builds.includes('before')) {
    if (!existsSync(join(options.beforeRoot, 'dist', 'targets', 'mailchimp', 'main.js'))) throw new Error(`--before ${options.beforeRoot}: no built target there (dist/targets/mailchimp/main.js); run npm ci && npm run build in it`);
    builds.push(['before', options.beforeRoot]);
  } else {
    console.log('\nscale: no --before DIR given, so only the current target is measured (see README: the bench paragraph)');
  }
  for (let pass = 1; pass <= options.repeat; pass++) {
    const plan: Plan = { options, memberOf, rows: [] };
    for (const [build, root] of builds) {
      const started = performance.now();
      const wanted = (row: ScaleRow) => options.rows.includes(row);
      if (wanted('delta')) await deltaRows(plan, build, root);
      const writeSize = build === 'before' ? Math.min(options.beforeMembers, options.members) : options.members;
      if (wanted('first')) await firstRunRows(plan, build, root, writeSize);
      if (wanted('tags')) await tagRow(plan, build, root, writeSize);
      if (build === 'after' && wanted('cohort')) await cohortRows(plan, root);
      if (build === 'after' && wanted('archive')) await archiveRows(plan, root);
      if (writeSize < options.members) {
        const measured = plan.rows.filter((r) => r.build === build && r.audience === writeSize && !r.run.startsWith('hourly delta'));
        for (const row of measured) plan.rows.push(extrapolate(row, options.members));
      }
      console.log(`scale: ${build} rows of pass ${pass} took ${fixed((performance.now() - started) / 1000, 0)} s`);
    }
    judge(plan.rows, options);
    const title = `Target at audience scale (issues 11, 12), pass ${pass} of ${options.repeat}`;
    printTable(`${title}\n(${CAPTION})`, HEADER, plan.rows.map(cells));
    console.log('\nThe same as markdown:');
    printMarkdownTable(title, CAPTION, HEADER, plan.rows.map(cells));
  }
}
