/** tap-mailchimp: command line. */
import { renderAbout } from '../../cli/about.js';
import { finishCheck } from '../../cli/check-report.js';
import { createProgram, parseArguments, readPackageInfo, type CommonOptions } from '../../cli/program.js';
import { runCli } from '../../cli/run.js';
import { collectOption, readTapCatalog, readTapState, selectedStreamNames } from '../../cli/tap-inputs.js';
import { UsageError } from '../../errors/index.js';
import { createLogger } from '../../log/logger.js';
import { selectStreams, type Catalog } from '../../singer/catalog.js';
import type { SingerState } from '../../singer/state.js';
import { Audiences } from './audiences.js';
import { checkMailchimpTapConnection } from './check.js';
import { MailchimpReader } from './client.js';
import { configuredListIds, loadMailchimpTapConfig, mailchimpTapConfigSchema } from './config.js';
import { discover } from './discover.js';
import { TapNotifier, WatchedSingerWriter } from '../tap-notifier.js';
import { checkMailchimpTapState } from './state-shape.js';
import { MAILCHIMP_STREAMS } from './streams/index.js';
import { runMailchimpSync } from './sync.js';

const NAME = 'tap-mailchimp';
const DESCRIPTION = 'Singer tap for Mailchimp: audiences, their members (incremental on last_changed), merge fields, groups and tags as Singer messages on stdout.';
export const MAILCHIMP_TAP_CAPABILITIES = ['catalog', 'discover', 'properties', 'state', 'about'];

const EXAMPLES = `Examples:
  tap-mailchimp --config config.json --test
  tap-mailchimp --config config.json --discover > catalog.json
  tap-mailchimp --config config.json --discover --select list_members > members-only.json
  tap-mailchimp --config config.json --catalog catalog.json --state state.json | target-jsonl > state.new.json
  TAP_MAILCHIMP_API_KEY=...-us6 TAP_MAILCHIMP_LIST_IDS=a1b2c3d4e5 tap-mailchimp --config ENV
  tap-mailchimp --about --format markdown

Configuration keys are listed by --about; logs go to stderr (LOG_LEVEL=debug for more).`;

interface TapOptions extends CommonOptions {
  state?: string;
  catalog?: string;
  properties?: string;
  discover?: boolean;
  select: string[];
}

const STREAM_NAMES = MAILCHIMP_STREAMS.map((s) => s.name);

function program() {
  return createProgram(NAME, DESCRIPTION, EXAMPLES)
    .option('-s, --state <file>', "state from the previous run: the target's output, one state per line (the last wins) or one JSON document; empty = from the start")
    .option('--catalog <file>', 'catalog selecting streams and properties (from --discover)')
    .option('-p, --properties <file>', 'legacy name of --catalog')
    .option('-d, --discover', 'print the catalog of streams and exit')
    .option('--select <streams>', 'only these streams (comma-separated, repeatable): with --discover, the catalog printed selects them; without a catalog, the run syncs them', collectOption, []);
}

export function main(argv: string[] = process.argv): Promise<never> {
  return runCli(NAME, async ({ signal, onFailure }) => {
    const cli = program();
    if (!parseArguments(cli, argv)) return;
    const options = cli.opts<TapOptions>();
    const version = readPackageInfo().version;
    if (options.about) {
      process.stdout.write(renderAbout({ name: NAME, description: DESCRIPTION, version, capabilities: MAILCHIMP_TAP_CAPABILITIES, schema: mailchimpTapConfigSchema() }, options.format));
      return;
    }
    const config = loadMailchimpTapConfig(options.config);
    const userAgent = `${NAME}/${version}`;
    if (options.test) return finishCheck(NAME, await checkMailchimpTapConnection(config, userAgent));
    const log = createLogger(NAME);
    // Alerts (src/notify): a failure from here on is reported by the configured channels before the exit.
    const notifier = new TapNotifier(config, 'Mailchimp', { binary: NAME, log, userAgent });
    notifier.register(onFailure);
    const catalogPath = options.catalog ?? options.properties;
    const select = selectedStreamNames(options.select, STREAM_NAMES);
    if (select && catalogPath && !options.discover) {
      throw new UsageError('--select chooses streams when there is no catalog: select them in the catalog instead, or leave out --catalog');
    }
    const catalog: Catalog | undefined = catalogPath && !options.discover ? readTapCatalog(catalogPath, STREAM_NAMES, log) : undefined;
    const state: SingerState | undefined = options.state && !options.discover ? readTapState(options.state, log, checkMailchimpTapState, 'reading every audience from the start') : undefined;
    const client = new MailchimpReader(config, { userAgent, signal, onRetry: notifier.retries.observe });
    try {
      if (options.discover) {
        const discovered = await discover(config, { client, log });
        process.stdout.write(JSON.stringify(select ? selectStreams(discovered, select) : discovered, null, 2) + '\n');
        return;
      }
      const writer = notifier.watch(new WatchedSingerWriter(process.stdout));
      const audiences = new Audiences(client, configuredListIds(config));
      const summary = await runMailchimpSync({ config, client, audiences, writer, log, signal, ...(catalog ? { catalog } : {}), ...(state ? { state } : {}), ...(select ? { select } : {}) });
      const total = summary.streams.reduce((n, s) => n + s.records, 0);
      log.info(`${summary.interrupted ? 'stopped early' : 'finished'}: ${total} records`, Object.fromEntries(summary.streams.map((s) => [s.stream, s.records])));
      await notifier.afterSync(summary);
    } finally {
      await client.close();
    }
  });
}
