/**
 * The world of the cohort-to-tag integration tests: a sandbox whose Mailchimp audience and
 * Mixpanel cohorts the test sets up through the admin API, the real binaries run against it
 * (`tap-mixpanel | target-mailchimp` joined by a pipe, or the target fed a tap's real output),
 * and readers for what came out: the audience (status and tags of every member), the report's
 * `cohorts` entries, the rejects file, the automation log and the requests Mailchimp received.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import type { Catalog } from '../../src/singer/catalog.js';
import type { CohortSummary } from '../../src/targets/mailchimp/cohorts/cohort-tags.js';
import { getJson, postJson, runBinary, runPipeline, tempDir, writeJson, type RunResult } from './harness.js';

export interface AdminMember {
  email_address: string;
  status: string;
  tags: string[];
  /** Permanently deleted (the API answers 404 for them; the admin listing keeps them). */
  forgotten: boolean;
}

export interface AdminCohort {
  id: number;
  name: string;
  members: string[];
}

export interface Profile {
  $distinct_id: string;
  $properties: Record<string, unknown>;
}

export interface RejectRow {
  line: string;
  stream: string;
  key: string;
  email: string;
  reason: string;
  field: string;
  detail: string;
  cohort: string;
}

export interface TargetRun {
  code: number | null;
  stderr: string;
  /** State values printed, one per line. */
  states: string[];
  report: { succeeded: boolean; cohorts?: CohortSummary[]; records_read: number; [key: string]: unknown };
  rejects: RejectRow[];
  /** The report's entry for one cohort. */
  cohort(id: number): CohortSummary;
}

export interface TapRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const TAG_PREFIX = 'Mixpanel: ';

/** A small, fast sandbox: engage pages of 5, so a cohort of a few dozen members takes several pages. */
export const WORLD_OPTIONS: SandboxOptions = { port: 0, seed: 23, profiles: 60, eventsPerDay: 5, days: 2, engagePageSize: 5 };

export class CohortWorld {
  readonly dir = tempDir('cohort-tags-');
  readonly tapConfig: string;
  readonly listId: string;
  private readonly targetBase: Record<string, unknown>;
  private runs = 0;

  private constructor(readonly sandbox: Sandbox) {
    const { tap, target } = sandboxClientConfigs(sandbox);
    this.tapConfig = writeJson(this.dir, 'tap.json', { ...tap, start_date: sandbox.dataRange.fromDate, ingestion_settle_minutes: 0 });
    this.listId = target.list_id;
    // Small flush interval: a run's last writes go out at the end of the input anyway; this keeps waits short.
    this.targetBase = { ...target, flush_interval_seconds: 1 };
  }

  static async start(options: SandboxOptions = WORLD_OPTIONS): Promise<CohortWorld> {
    return new CohortWorld(await startSandbox(options));
  }

  close(): Promise<void> {
    return this.sandbox.close();
  }

  get url(): string {
    return this.sandbox.url;
  }

  /** Seeded data back, every change and log gone. */
  async reset(): Promise<void> {
    await postJson(`${this.url}/__admin/reset`, {});
  }

  /** A catalog from --discover that selects exactly these streams (every property of them). */
  async catalog(streams: string[]): Promise<string> {
    const discovered = await runBinary('tap-mixpanel', ['--config', this.tapConfig, '--discover']);
    if (discovered.code !== 0) throw new Error(`--discover failed: ${discovered.stderr}`);
    const catalog = JSON.parse(discovered.stdout) as Catalog;
    for (const entry of catalog.streams) {
      const root = entry.metadata?.find((m) => m.breadcrumb.length === 0);
      if (root) root.metadata.selected = streams.includes(entry.tap_stream_id);
    }
    return writeJson(this.dir, `catalog-${streams.join('-')}.json`, catalog);
  }

  // --- Mixpanel, through the admin API ---------------------------------------------------------

  async profiles(): Promise<Profile[]> {
    return getJson<Profile[]>(`${this.url}/__admin/mixpanel/profiles`);
  }

  /** Gives profiles the addresses a test needs (distinct_id -> $email). */
  async setEmails(emails: Record<string, string>): Promise<void> {
    await postJson(`${this.url}/__admin/mixpanel/profiles`, { profiles: Object.entries(emails).map(([distinct_id, $email]) => ({ distinct_id, $set: { $email } })) });
  }

  async createCohort(name: string, members: string[]): Promise<AdminCohort> {
    return postJson<AdminCohort>(`${this.url}/__admin/mixpanel/cohorts`, { name, members });
  }

  async changeCohort(id: number, change: { name?: string; add?: string[]; remove?: string[] }): Promise<AdminCohort> {
    return postJson<AdminCohort>(`${this.url}/__admin/mixpanel/cohorts/${id}`, change);
  }

  async deleteCohort(id: number): Promise<void> {
    const response = await fetch(`${this.url}/__admin/mixpanel/cohorts/${id}`, { method: 'DELETE' });
    if (response.status !== 204) throw new Error(`DELETE cohort ${id}: ${response.status}`);
  }

  async cohorts(): Promise<AdminCohort[]> {
    return (await getJson<{ cohorts: AdminCohort[] }>(`${this.url}/__admin/mixpanel/cohorts`)).cohorts;
  }

  /** Query answers slowed by a latency fault, or back to normal (`ms` 0). */
  async slowQueries(ms: number): Promise<void> {
    await postJson(`${this.url}/__admin/settings`, { faults: ms > 0 ? [{ kind: 'latency', family: 'query', ms }] : [] });
  }

  // --- Mailchimp, through the admin API --------------------------------------------------------

  /** Replaces the whole audience with these members. */
  async setAudience(members: Array<{ email_address: string; status?: string; tags?: string[]; merge_fields?: Record<string, unknown> }>): Promise<void> {
    await postJson(`${this.url}/__admin/mailchimp/lists/${this.listId}/members`, { members, replace_all: true });
  }

  /** Every member by lower-cased address, tags sorted. */
  async audience(): Promise<Map<string, AdminMember>> {
    const { members } = await getJson<{ members: Array<Omit<AdminMember, 'tags'> & { tags: Array<{ name: string }> }> }>(`${this.url}/__admin/mailchimp/lists/${this.listId}/members`);
    return new Map(members.map((m) => [m.email_address.toLowerCase(), { ...m, tags: m.tags.map((t) => t.name).sort() }]));
  }

  /** Status and sorted tags of each address (undefined: not in the audience). */
  async statusAndTags(emails: string[]): Promise<Record<string, [string, string[]] | undefined>> {
    const all = await this.audience();
    return Object.fromEntries(emails.map((e) => {
      const m = all.get(e.toLowerCase());
      return [e, m ? [m.status, m.tags] : undefined];
    }));
  }

  /** Who holds a tag, sorted. */
  async holders(tag: string): Promise<string[]> {
    return [...(await this.audience()).values()].filter((m) => m.tags.includes(tag)).map((m) => m.email_address.toLowerCase()).sort();
  }

  /** The audience's tags (static segments): name -> segment id. */
  async segments(): Promise<Map<string, number>> {
    const response = await fetch(`${this.url}/3.0/lists/${this.listId}/segments?type=static&count=1000`, { headers: { authorization: `Bearer ${String(this.targetBase.api_key)}` } });
    if (!response.ok) throw new Error(`GET segments: ${response.status}`);
    const body = (await response.json()) as { segments: Array<{ id: number; name: string }> };
    return new Map(body.segments.map((s) => [s.name, s.id]));
  }

  async tagNames(): Promise<string[]> {
    return [...(await this.segments()).keys()].sort();
  }

  async automations(): Promise<{ total: number; by_tag: Record<string, number>; by_via: Record<string, number> }> {
    return getJson(`${this.url}/__admin/mailchimp/automations`);
  }

  async clearRequests(): Promise<void> {
    await fetch(`${this.url}/__admin/requests`, { method: 'DELETE' });
  }

  /** Mailchimp requests since the last clear that could change something (not GET). */
  async mailchimpWrites(): Promise<Array<{ method: string; route: string; path: string }>> {
    const { requests } = await getJson<{ requests: Array<{ method: string; route: string; path: string }> }>(`${this.url}/__admin/requests?family=mailchimp`);
    return requests.filter((r) => r.method !== 'GET');
  }

  // --- The binaries ----------------------------------------------------------------------------

  /** The target's config for a run: the sandbox's, a report and a rejects file, and `settings`. */
  targetConfig(settings: Record<string, unknown>): { path: string; report: string; rejects: string } {
    const n = ++this.runs;
    const report = join(this.dir, `report-${n}.json`);
    const rejects = join(this.dir, `rejects-${n}.csv`);
    const path = writeJson(this.dir, `target-${n}.json`, { ...this.targetBase, report_file: report, rejects_file: rejects, ...settings });
    return { path, report, rejects };
  }

  /** `tap-mixpanel --catalog ... [--state] | target-mailchimp`, two processes and a pipe. */
  async pipe(catalog: string, settings: Record<string, unknown>, state?: unknown): Promise<TargetRun & { tap: TapRun }> {
    const target = this.targetConfig(settings);
    const stateArgs = state === undefined ? [] : ['--state', writeJson(this.dir, `state-${this.runs}.json`, state)];
    const result = await runPipeline({ tapArgs: ['--config', this.tapConfig, '--catalog', catalog, ...stateArgs], targetArgs: ['--config', target.path], captureTapOutput: true, timeoutMs: 90_000 });
    if (result.tap.code !== 0) throw new Error(`tap exited ${String(result.tap.code)}: ${result.tap.stderr.slice(-3000)}`);
    return { ...readTargetRun(result.target, target), tap: result.tap };
  }

  /** target-mailchimp fed `input` (a tap's real output) on stdin. */
  async target(input: string, settings: Record<string, unknown>): Promise<TargetRun> {
    const target = this.targetConfig(settings);
    const result = await runBinary('target-mailchimp', ['--config', target.path], { stdin: input, timeoutMs: 90_000 });
    return readTargetRun(result, target);
  }

  /** The tap alone, run to its end. */
  async tap(catalog: string, state?: unknown): Promise<TapRun> {
    const stateArgs = state === undefined ? [] : ['--state', writeJson(this.dir, `tap-state-${++this.runs}.json`, state)];
    const result = await runBinary('tap-mixpanel', ['--config', this.tapConfig, '--catalog', catalog, ...stateArgs], { timeoutMs: 90_000 });
    if (result.code !== 0) throw new Error(`tap exited ${String(result.code)}: ${result.stderr.slice(-3000)}`);
    return result;
  }
}

function readTargetRun(result: Pick<RunResult, 'code' | 'stdout' | 'stderr'>, files: { report: string; rejects: string }): TargetRun {
  let report: TargetRun['report'];
  try {
    report = JSON.parse(readFileSync(files.report, 'utf8')) as TargetRun['report'];
  } catch {
    throw new Error(`target exited ${String(result.code)} without a report: ${result.stderr.slice(-3000)}`);
  }
  const rejects = parseCsv(readFileSync(files.rejects, 'utf8'));
  return {
    code: result.code,
    stderr: result.stderr,
    states: result.stdout.split('\n').filter((l) => l !== ''),
    report,
    rejects,
    cohort(id: number): CohortSummary {
      const entry = report.cohorts?.find((c) => c.id === id);
      if (!entry) throw new Error(`no cohorts entry for ${id} in the report: ${JSON.stringify(report.cohorts)}`);
      return entry;
    },
  };
}

/** RFC 4180 CSV with a header line (quoted fields, doubled quotes, commas and newlines inside quotes). */
export function parseCsv(text: string): RejectRow[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n') {
      endField();
      rows.push(row);
      row = [];
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) {
    endField();
    rows.push(row);
  }
  const [header, ...body] = rows;
  return body.map((cells) => Object.fromEntries((header ?? []).map((h, i) => [h, cells[i] ?? ''])) as unknown as RejectRow);
}
