/** target-mailchimp: command line. */
import { renderAbout } from '../../cli/about.js';
import { createProgram, parseArguments, readPackageInfo, type CommonOptions } from '../../cli/program.js';
import { runCli } from '../../cli/run.js';
import { createLogger } from '../../log/logger.js';
import { keepHeapNearLiveSize } from '../../util/heap.js';
import { OfficialMailchimpApi } from './api/api.js';
import { apiBaseUrl, loadTargetConfig, targetConfigSchema } from './config.js';
import { runLoad } from './load.js';
import { TargetNotifier, WatchedLineWriter } from './reports/notify.js';
// --test (connection check): kept apart from the load path.
import { finishCheck } from '../../cli/check-report.js';

const NAME = 'target-mailchimp';
const DESCRIPTION = 'Singer target for Mailchimp: loads people from Singer records into an audience without re-subscribing anyone.';
export const TARGET_CAPABILITIES = ['about', 'dry-run', 'rejects-file', 'report-file'];

const EXAMPLES = `Examples:
  tap-mixpanel --config tap.json | target-mailchimp --config target.json > state.json
  TARGET_MAILCHIMP_API_KEY=...-us6 TARGET_MAILCHIMP_LIST_ID=a1b2c3d4e5 TARGET_MAILCHIMP_STATUS_IF_NEW=pending target-mailchimp --config ENV < records.jsonl

stdout carries only the state values received (each printed after Mailchimp confirmed the records before it).`;

/** Said when stdin is a terminal: a user who ran the target alone would otherwise wait without a word. */
export const TERMINAL_INPUT_HINT =
  'reading Singer messages from the terminal: pipe a tap into target-mailchimp (tap-mixpanel --config tap.json | target-mailchimp --config target.json > state.json), or type them and end with Ctrl-D';

export function main(argv: string[] = process.argv): Promise<never> {
  keepHeapNearLiveSize();
  return runCli(NAME, async ({ signal, onFailure }) => {
    const program = createProgram(NAME, DESCRIPTION, EXAMPLES);
    if (!parseArguments(program, argv)) return;
    const options = program.opts<CommonOptions>();
    if (options.about) {
      process.stdout.write(
        renderAbout({ name: NAME, description: DESCRIPTION, version: readPackageInfo().version, capabilities: TARGET_CAPABILITIES, schema: targetConfigSchema() }, options.format),
      );
      return;
    }
    const config = loadTargetConfig(options.config);
    if (options.test) {
      // Loaded only for --test: its HTTP client (undici) is not needed by a load.
      const { checkTargetConnection } = await import('./check.js');
      return finishCheck(NAME, await checkTargetConnection(config, `${NAME}/${readPackageInfo().version}`));
    }
    const log = createLogger(NAME);
    // Digest and alerts (src/notify): a failure from here on is reported before the exit; dry runs notify nobody.
    const notifier = new TargetNotifier(config, { binary: NAME, log, userAgent: `${NAME}/${readPackageInfo().version}` });
    if (!config.dry_run) notifier.register(onFailure);
    const api = new OfficialMailchimpApi({
      baseUrl: apiBaseUrl(config),
      ...(config.api_key ? { apiKey: config.api_key } : { accessToken: config.access_token as string }),
      maxConcurrent: config.max_concurrency,
      timeoutMs: config.request_timeout * 1000,
      onRetry: notifier.retries.observe,
    });
    signal.addEventListener('abort', () => process.stdin.destroy(), { once: true });
    if (process.stdin.isTTY) log.warn(TERMINAL_INPUT_HINT);
    await runLoad({ config, api, log, signal, input: process.stdin, output: notifier.watch(new WatchedLineWriter(process.stdout)), notifier });
  });
}
