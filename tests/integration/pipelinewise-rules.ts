/**
 * What PipelineWise 0.76.7 does with a tap's YAML file, for the tests that run a tap as
 * PipelineWise would. Written here from reading its source (transferwise/pipelinewise:
 * pipelinewise/cli/__init__.py, config.py, tap_properties.py, pipelinewise.py, commands.py);
 * none of its code is copied.
 *
 * `pipelinewise import --dir DIR`
 * - The tap's config.json is the YAML's `db_conn` with the tap type's extra keys laid over it
 *   (the extras win). tap-mixpanel's extras: `user_agent` "PipelineWise - Tap Mixpanel" always, and
 *   `denest_properties` = the db_conn value if the YAML has one, else the string "false".
 * - selection.json: per table, `tap_stream_id` (the type's pattern: the table name for
 *   tap-mixpanel), `replication_method` (the table's, else the type's default: LOG_BASED for
 *   tap-mixpanel) and `replication_key` only when the method is INCREMENTAL.
 * - properties.json: the output of `<tap> --config config.json --discover`; in each stream's
 *   metadata with breadcrumb [] it sets `selected` (true for tables of the selection, false for the
 *   others) and, for selected streams, `replication-method` and `replication-key` from the
 *   selection. Property metadata is left alone. Every `multipleOf` key is removed, and their
 *   key-removal also drops empty, zero, false and null items from every list.
 * - Checks after discovery: `transform-field --validate --config transformation.json --catalog
 *   <properties>` runs (the connector must exist, even with no transformations), and a selected
 *   INCREMENTAL or LOG_BASED stream without `table-key-properties` fails the import.
 *
 * `pipelinewise run_tap --tap ID --target ID`
 * - Connectors run as `$PIPELINEWISE_HOME/.virtualenvs/<type>/bin/<type>`; PIPELINEWISE_HOME
 *   defaults to ~/pipelinewise.
 * - Tap command: `<tap> --config config.json <catalog argument> <properties> [--state state.json]`,
 *   the catalog argument by type (--catalog for tap-mixpanel), --state only when the file exists;
 *   piped into `<target> --config <target config>`, run by `bash -o pipefail -c`, the stderr of
 *   both merged into the stdout PipelineWise reads.
 * - The properties passed are properties.json with its selection (tap types without a fastsync
 *   component for the target, tap-mixpanel among them, run every selected stream with Singer).
 * - state.json becomes the last line of that output that is JSON with a `bookmarks` key.
 * - A stream "needs an initial sync" (PipelineWise's status and its fastsync decision) when it is
 *   FULL_TABLE, INCREMENTAL without `replication_key_value` (or `modified_since`) in its bookmark,
 *   or LOG_BASED without any of `lsn`, `log_file`, `log_pos`, `gtid`, `token`.
 *
 * A tap type is data (TAP_TYPES), so another tap is one more entry.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { Catalog, CatalogEntry } from '../../src/singer/catalog.js';

export type PipelineWiseMethod = 'FULL_TABLE' | 'INCREMENTAL' | 'LOG_BASED';

export interface TapTable {
  table_name: string;
  replication_method?: PipelineWiseMethod;
  replication_key?: string;
}

/** The parts of a tap YAML file that decide what the tap is given. */
export interface TapYaml {
  id: string;
  name: string;
  type: string;
  target: string;
  db_conn: Record<string, unknown>;
  schemas: Array<{ source_schema: string; target_schema: string; tables?: TapTable[] }>;
  [other: string]: unknown;
}

/** PipelineWise's per-type settings (tap_properties.py) that a Singer run depends on. */
export interface TapTypeProperties {
  configExtras(tap: TapYaml): Record<string, unknown>;
  tapStreamIdPattern: string;
  catalogArgument: '--catalog' | '--properties';
  defaultReplicationMethod: PipelineWiseMethod;
}

export const TAP_TYPES: Record<string, TapTypeProperties> = {
  'tap-mixpanel': {
    configExtras: (tap) => ({ user_agent: 'PipelineWise - Tap Mixpanel', denest_properties: tap.db_conn.denest_properties ?? 'false' }),
    tapStreamIdPattern: '{{table_name}}',
    catalogArgument: '--catalog',
    defaultReplicationMethod: 'LOG_BASED',
  },
  /** What PipelineWise uses for a type it has no entry for. */
  DEFAULT: {
    configExtras: () => ({}),
    tapStreamIdPattern: '{{schema_name}}-{{table_name}}',
    catalogArgument: '--catalog',
    defaultReplicationMethod: 'LOG_BASED',
  },
};

export function tapType(type: string): TapTypeProperties {
  return TAP_TYPES[type] ?? (TAP_TYPES.DEFAULT as TapTypeProperties);
}

/** A tap YAML as PipelineWise loads it (PyYAML, YAML 1.1: `true` is a boolean, `"30"` a string). */
export function readTapYaml(path: string): TapYaml {
  return parseDocument(readFileSync(path, 'utf8'), { version: '1.1' }).toJS() as TapYaml;
}

export function tapConfigJson(tap: TapYaml): Record<string, unknown> {
  return { ...tap.db_conn, ...tapType(tap.type).configExtras(tap) };
}

export interface SelectionEntry {
  tap_stream_id: string;
  replication_method: PipelineWiseMethod;
  replication_key?: string;
}

export function selectionOf(tap: TapYaml): SelectionEntry[] {
  const type = tapType(tap.type);
  return tap.schemas.flatMap((schema) =>
    (schema.tables ?? []).map((table) => {
      const method = table.replication_method ?? type.defaultReplicationMethod;
      const id = type.tapStreamIdPattern
        .replace('{{database_name}}', String(tap.db_conn.dbname ?? 'None'))
        .replace('{{schema_name}}', schema.source_schema)
        .replace('{{table_name}}', table.table_name);
      return { tap_stream_id: id, replication_method: method, ...(method === 'INCREMENTAL' && table.replication_key ? { replication_key: table.replication_key } : {}) };
    }),
  );
}

function streamRoot(entry: CatalogEntry): Record<string, unknown> {
  const root = (entry.metadata ?? []).find((m) => Array.isArray(m.breadcrumb) && m.breadcrumb.length === 0);
  if (!root) throw new Error(`Metadata of stream ${entry.tap_stream_id} doesn't have an empty breadcrumb`);
  return root.metadata;
}

/** Their key removal: `keys` dropped from every object, falsy items from every list. */
function withoutKeys(value: unknown, keys: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutKeys(v, keys)).filter((v) => isTruthyInPython(v));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !keys.has(k)).map(([k, v]) => [k, withoutKeys(v, keys)]));
}

function isTruthyInPython(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return value !== null && value !== false && value !== 0 && value !== '';
}

/** properties.json from the discovered catalog and the selection (stream ids compared case-insensitively, as they do). */
export function applySelection(discovered: Catalog, selection: readonly SelectionEntry[]): Catalog {
  const catalog = structuredClone(discovered);
  for (const entry of catalog.streams) {
    const chosen = selection.find((s) => s.tap_stream_id.toLowerCase() === entry.tap_stream_id.toLowerCase());
    const root = streamRoot(entry);
    root.selected = chosen !== undefined;
    if (chosen) {
      root['replication-method'] = chosen.replication_method;
      if (chosen.replication_key !== undefined) root['replication-key'] = chosen.replication_key;
    }
  }
  return withoutKeys(catalog, new Set(['multipleOf'])) as Catalog;
}

/** The import's own check of the catalog (transform-field's is run by PipelineWiseHome.importTap). */
export function primaryKeyProblems(catalog: Catalog): string[] {
  for (const entry of catalog.streams) {
    const root = streamRoot(entry);
    const keys = root['table-key-properties'];
    const method = root['replication-method'];
    if (root.selected === true && (method === 'INCREMENTAL' || method === 'LOG_BASED') && (!Array.isArray(keys) || keys.length === 0)) {
      return [`No primary key set for ${entry.tap_stream_id} stream (${String(method)})`];
    }
  }
  return [];
}

/** The last line PipelineWise would keep as state.json, if any. */
export function stateLine(output: string): string | undefined {
  let last: string | undefined;
  for (const line of output.split('\n')) {
    try {
      const value: unknown = JSON.parse(line);
      if (value !== null && typeof value === 'object' && 'bookmarks' in value) last = line;
    } catch {
      // not JSON: a log line
    }
  }
  return last;
}

export function initialSyncRequired(method: unknown, bookmark: Record<string, unknown> | undefined): boolean {
  if (bookmark === undefined) return true;
  const has = (keys: string[]) => keys.some((k) => k in bookmark);
  if (method === 'FULL_TABLE') return true;
  if (method === 'INCREMENTAL') return !has(['replication_key_value', 'modified_since']);
  if (method === 'LOG_BASED') return !has(['lsn', 'log_file', 'log_pos', 'gtid', 'token']);
  return false;
}

export function pipelinewiseHome(env: { HOME: string; PIPELINEWISE_HOME?: string }): string {
  return env.PIPELINEWISE_HOME ?? join(env.HOME, 'pipelinewise');
}

export function connectorBin(home: string, type: string): string {
  return join(home, '.virtualenvs', type, 'bin', type);
}

export interface CommandResult {
  code: number | null;
  /** stdout and stderr together, as PipelineWise reads a run. */
  output: string;
  stderr: string;
}

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Runs a command line with `bash -o pipefail -c`; `merge` sends stderr into stdout as run_tap does. */
export function runBash(command: string, env: NodeJS.ProcessEnv, merge: boolean): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', merge ? `{ ${command} ; } 2>&1` : command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, stderr });
    });
  });
}

/** One tap's directory under ~/.pipelinewise/<target>/<tap>/ and the files PipelineWise keeps there. */
export class TapFiles {
  constructor(readonly dir: string) {}

  get config(): string {
    return join(this.dir, 'config.json');
  }
  get properties(): string {
    return join(this.dir, 'properties.json');
  }
  get state(): string {
    return join(this.dir, 'state.json');
  }
  get transformation(): string {
    return join(this.dir, 'transformation.json');
  }
  read<T>(file: string): T {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  }
}

export interface ImportResult {
  code: number;
  problems: string[];
}

/**
 * A PipelineWise installation (PIPELINEWISE_HOME with its .virtualenvs) and configuration
 * directory, running import and run_tap for one tap YAML as PipelineWise does.
 */
export class PipelineWiseHome {
  constructor(
    readonly home: string,
    readonly configDir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  tapFiles(tap: TapYaml): TapFiles {
    return new TapFiles(join(this.configDir, tap.target, tap.id));
  }

  /** config.json, selection and transformation files, then discovery, selection and the checks. */
  async importTap(tap: TapYaml): Promise<ImportResult> {
    const files = this.tapFiles(tap);
    mkdirSync(files.dir, { recursive: true });
    writeFileSync(files.config, JSON.stringify(tapConfigJson(tap), null, 4));
    writeFileSync(files.transformation, JSON.stringify({ transformations: [] }, null, 4));
    const discovered = await runBash(`${quote(connectorBin(this.home, tap.type))} --config ${quote(files.config)} --discover`, this.env, false);
    if (discovered.code !== 0) return { code: 1, problems: [`${tap.target} - ${tap.id}: ${discovered.stderr}`] };
    const catalog = applySelection(JSON.parse(discovered.output) as Catalog, selectionOf(tap));
    const checked = join(this.configDir, 'tmp', 'properties_check.json');
    mkdirSync(join(this.configDir, 'tmp'), { recursive: true });
    writeFileSync(checked, JSON.stringify(catalog));
    const transform = await runBash(`${quote(connectorBin(this.home, 'transform-field'))} --validate --config ${quote(files.transformation)} --catalog ${quote(checked)}`, this.env, false);
    const problems = [...(transform.code === 0 ? [] : [transform.stderr.trim()]), ...primaryKeyProblems(catalog)];
    if (problems.length > 0) return { code: 1, problems };
    writeFileSync(files.properties, JSON.stringify(catalog, null, 4));
    return { code: 0, problems: [] };
  }

  /** The tap piped into the target; state.json updated from the output as run_tap does. */
  async runTap(tap: TapYaml, target: { type: string; config: string }): Promise<CommandResult> {
    const files = this.tapFiles(tap);
    const state = existsSync(files.state) ? ` --state ${quote(files.state)}` : '';
    const tapCommand = `${quote(connectorBin(this.home, tap.type))} --config ${quote(files.config)} ${tapType(tap.type).catalogArgument} ${quote(files.properties)}${state}`;
    const targetCommand = `${quote(connectorBin(this.home, target.type))} --config ${quote(target.config)}`;
    const result = await runBash(`${tapCommand} | ${targetCommand}`, this.env, true);
    const line = stateLine(result.output);
    if (line !== undefined) writeFileSync(files.state, line + '\n');
    return result;
  }
}
