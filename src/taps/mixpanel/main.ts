/** tap-mixpanel: command line. */
import { readFileSync } from 'node:fs';
import { renderAbout } from '../../cli/about.js';
import { createProgram, parseArguments, readPackageInfo, type CommonOptions } from '../../cli/program.js';
import { runCli } from '../../cli/run.js';
import { InputError, UsageError } from '../../errors/index.js';
import { createLogger } from '../../log/logger.js';
import { parseCatalog, type Catalog } from '../../singer/catalog.js';
import { parseState, type SingerState } from '../../singer/state.js';
import { finishCheck } from '../../cli/check-report.js';
import { checkTapConnection } from './check.js';
import { MixpanelClient } from './client.js';
import { loadTapConfig, tapConfigSchema } from './config.js';
import { discover } from './discover.js';
import { TapNotifier, WatchedSingerWriter } from './notify.js';
import { runSync } from './sync.js';

const NAME = 'tap-mixpanel';
const DESCRIPTION = 'Singer tap for Mixpanel: raw events and people profiles as Singer messages on stdout.';
export const TAP_CAPABILITIES = ['catalog', 'discover', 'properties', 'state', 'about'];

const EXAMPLES = `Examples:
  tap-mixpanel --config config.json --discover > catalog.json
  tap-mixpanel --config config.json --catalog catalog.json --state state.json | target-mailchimp --config target.json > state.new.json
  TAP_MIXPANEL_API_SECRET=... TAP_MIXPANEL_START_DATE=2024-01-01 tap-mixpanel --config ENV
  tap-mixpanel --about --format markdown

Configuration keys are listed by --about; logs go to stderr (LOG_LEVEL=debug for more).`;

interface TapOptions extends CommonOptions {
  state?: string;
  catalog?: string;
  properties?: string;
  discover?: boolean;
}

function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `${what} file ${path} does not exist` : `cannot read ${what} file ${path} (${code ?? String(err)})`);
  }
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`${what} file ${path} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function main(argv: string[] = process.argv): Promise<never> {
  return runCli(NAME, async ({ signal, onFailure }) => {
    const program = createProgram(NAME, DESCRIPTION, EXAMPLES)
      .option('-s, --state <file>', 'state from the previous run (the last line the target printed)')
      .option('--catalog <file>', 'catalog selecting streams and properties (from --discover)')
      .option('-p, --properties <file>', 'legacy name of --catalog')
      .option('-d, --discover', 'print the catalog of streams and exit');
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
    const notifier = new TapNotifier(config, { binary: NAME, log, userAgent: `${NAME}/${version}` });
    notifier.register(onFailure);
    const catalogPath = options.catalog ?? options.properties;
    const catalog: Catalog | undefined =
      catalogPath && !options.discover ? parseCatalog(readJsonFile(catalogPath, 'catalog'), catalogPath) : undefined;
    const state: SingerState | undefined = options.state ? parseState(readJsonFile(options.state, 'state'), options.state) : undefined;
    const client = new MixpanelClient(config, { userAgent: `${NAME}/${version}`, signal, onRetry: notifier.retries.observe });
    try {
      if (options.discover) {
        const discovered = await discover(config, { client, log });
        process.stdout.write(JSON.stringify(discovered, null, 2) + '\n');
        return;
      }
      const writer = notifier.watch(new WatchedSingerWriter(process.stdout));
      const summary = await runSync({ config, client, writer, log, signal, ...(catalog ? { catalog } : {}), ...(state ? { state } : {}) });
      const total = summary.streams.reduce((n, s) => n + s.records, 0);
      log.info(`${summary.interrupted ? 'stopped early' : 'finished'}: ${total} records`, Object.fromEntries(summary.streams.map((s) => [s.stream, s.records])));
      await notifier.afterSync(summary);
    } finally {
      await client.close();
    }
  });
}
