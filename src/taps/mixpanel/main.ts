/** tap-mixpanel: command line. */
import { readFileSync } from 'node:fs';
import { renderAbout } from '../../cli/about.js';
import { createProgram, parseArguments, readPackageInfo, type CommonOptions } from '../../cli/program.js';
import { runCli } from '../../cli/run.js';
import { UsageError } from '../../errors/index.js';
import { createLogger, type Logger } from '../../log/logger.js';
import { catalogSelectionReport, parseCatalogText, selectStreams, type Catalog } from '../../singer/catalog.js';
import { parseStateText, type SingerState } from '../../singer/state.js';
import { finishCheck } from '../../cli/check-report.js';
import { checkTapConnection } from './check.js';
import { MixpanelClient } from './client.js';
import { loadTapConfig, tapConfigSchema } from './config.js';
import { defaultCatalog, discover } from './discover.js';
import { checkTapState } from './state-shape.js';
import { STREAMS } from './streams/index.js';
import { TapNotifier, WatchedSingerWriter } from '../tap-notifier.js';
import { runSync } from './sync.js';
import { didYouMean } from '../../util/near-miss.js';

const NAME = 'tap-mixpanel';
const DESCRIPTION = 'Singer tap for Mixpanel: raw events and people profiles as Singer messages on stdout.';
export const TAP_CAPABILITIES = ['catalog', 'discover', 'properties', 'state', 'about'];

const EXAMPLES = `Examples:
  tap-mixpanel --config config.json --discover > catalog.json
  tap-mixpanel --config config.json --discover --select engage > engage-only.json
  tap-mixpanel --config config.json --catalog catalog.json --state state.json | target-mailchimp --config target.json > state.new.json
  TAP_MIXPANEL_API_SECRET=... TAP_MIXPANEL_START_DATE=2024-01-01 tap-mixpanel --config ENV
  tap-mixpanel --about --format markdown

Configuration keys are listed by --about; logs go to stderr (LOG_LEVEL=debug for more).`;

interface TapOptions extends CommonOptions {
  state?: string;
  catalog?: string;
  properties?: string;
  discover?: boolean;
  select: string[];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The stream names of --select (comma-separated, repeatable); undefined when not given. */
function selectedStreams(values: string[]): string[] | undefined {
  if (values.length === 0) return undefined;
  const names = values.flatMap((v) => v.split(',')).map((n) => n.trim()).filter((n) => n !== '');
  const known = STREAMS.map((s) => s.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0 || names.length === 0) {
    const meant = unknown.length === 1 ? didYouMean(unknown[0] as string, known) : '';
    throw new UsageError(`--select: ${unknown.length > 0 ? `unknown stream ${unknown.join(', ')}${meant}` : 'no stream named'} (streams: ${known.join(', ')})`);
  }
  return names;
}

function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `${what} file ${path} does not exist` : `cannot read ${what} file ${path} (${code ?? String(err)})`);
  }
}

/** The catalog, with a warning when it selects streams this tap does not have, or none it has. */
function readCatalog(path: string, log: Logger): Catalog {
  const catalog = parseCatalogText(readTextFile(path, 'catalog'), path);
  const names = STREAMS.map((s) => s.name);
  const { unknownSelected, knownSelected } = catalogSelectionReport(catalog, names);
  if (unknownSelected.length > 0) {
    log.warn(`catalog ${path} selects streams this tap does not have, which are ignored: ${unknownSelected.join(', ')} (its streams: ${names.join(', ')})`);
  }
  if (knownSelected.length === 0) {
    log.warn(`catalog ${path} selects none of this tap's streams (${names.join(', ')}): nothing will be synced; set "selected": true in a stream's metadata (breadcrumb [])`);
  }
  return catalog;
}

/** The state to resume from; undefined (with a warning) when the file holds none. */
function readState(path: string, log: Logger): SingerState | undefined {
  const content = parseStateText(readTextFile(path, 'state'), path);
  if (content.empty) {
    log.warn(`state file ${path} ${content.reason}: no bookmarks, starting every stream from start_date`);
    return undefined;
  }
  checkTapState(content.state, path);
  return content.state;
}

export function main(argv: string[] = process.argv): Promise<never> {
  return runCli(NAME, async ({ signal, onFailure }) => {
    const program = createProgram(NAME, DESCRIPTION, EXAMPLES)
      .option('-s, --state <file>', "state from the previous run: the target's output, one state per line (the last wins) or one JSON document; empty = from start_date")
      .option('--catalog <file>', 'catalog selecting streams and properties (from --discover)')
      .option('-p, --properties <file>', 'legacy name of --catalog')
      .option('-d, --discover', 'print the catalog of streams and exit')
      .option(
        '--select <streams>',
        'only these streams (comma-separated, repeatable): with --discover, the catalog printed selects them; without a catalog, the run syncs them',
        collect,
        [],
      );
    if (!parseArguments(program, argv)) return;
    const options = program.opts<TapOptions>();
    const version = readPackageInfo().version;
    if (options.about) {
      process.stdout.write(renderAbout({ name: NAME, description: DESCRIPTION, version, capabilities: TAP_CAPABILITIES, schema: tapConfigSchema() }, options.format));
      return;
    }
    const config = loadTapConfig(options.config);
    if (options.test) return finishCheck(NAME, await checkTapConnection(config, `${NAME}/${version}`));
    const log = createLogger(NAME);
    // Alerts (src/notify): a failure from here on is reported by the configured channels before the exit.
    const notifier = new TapNotifier(config, 'Mixpanel', { binary: NAME, log, userAgent: `${NAME}/${version}` });
    notifier.register(onFailure);
    const catalogPath = options.catalog ?? options.properties;
    const select = selectedStreams(options.select);
    if (select && catalogPath && !options.discover) {
      throw new UsageError('--select chooses streams when there is no catalog: select them in the catalog instead, or leave out --catalog');
    }
    let catalog: Catalog | undefined = catalogPath && !options.discover ? readCatalog(catalogPath, log) : undefined;
    if (select && !options.discover) catalog = selectStreams(defaultCatalog(config), select);
    const state: SingerState | undefined = options.state && !options.discover ? readState(options.state, log) : undefined;
    const client = new MixpanelClient(config, { userAgent: `${NAME}/${version}`, signal, onRetry: notifier.retries.observe });
    try {
      if (options.discover) {
        const discovered = await discover(config, { client, log, ...(select ? { only: select } : {}) });
        process.stdout.write(JSON.stringify(select ? selectStreams(discovered, select) : discovered, null, 2) + '\n');
        return;
      }
      const writer = notifier.watch(new WatchedSingerWriter(process.stdout));
      const summary = await runSync({ config, client, writer, log, signal, ...(catalog ? { catalog } : {}), ...(state ? { state } : {}) });
      const total = summary.streams.reduce((n, s) => n + s.records, 0);
      log.info(`${summary.interrupted ? 'stopped early' : 'finished'}: ${total} records`, Object.fromEntries(summary.streams.map((s) => [s.stream, s.records])));
      const skipped = summary.streams.filter((s) => s.note !== undefined);
      if (skipped.length > 0) log.warn(`streams not read: ${skipped.map((s) => `${s.stream} (${s.note ?? ''})`).join(', ')}`);
      await notifier.afterSync(summary);
    } finally {
      await client.close();
    }
  });
}
