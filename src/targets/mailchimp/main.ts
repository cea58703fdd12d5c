/** target-mailchimp: command line. */
import { renderAbout } from '../../cli/about.js';
import { createProgram, parseArguments, readPackageInfo, type CommonOptions } from '../../cli/program.js';
import { runCli } from '../../cli/run.js';
import { ConfigError } from '../../errors/index.js';
import { HttpError } from '../../http/errors.js';
import { createLogger } from '../../log/logger.js';
import { LineWriter } from '../../singer/writer.js';
import { OfficialMailchimpApi } from './api.js';
import { apiBaseUrl, loadTargetConfig, targetConfigSchema } from './config.js';
import { loadMembers } from './loader.js';
// --test (connection check): kept apart from the load path.
import { finishCheck } from '../../cli/check-report.js';
import { checkTargetConnection } from './check.js';

const NAME = 'target-mailchimp';
const DESCRIPTION = 'Singer target for Mailchimp: loads people from Singer records into an audience without re-subscribing anyone.';
export const TARGET_CAPABILITIES = ['about'];

const EXAMPLES = `Examples:
  tap-mixpanel --config tap.json | target-mailchimp --config target.json > state.json
  TARGET_MAILCHIMP_API_KEY=...-us6 TARGET_MAILCHIMP_LIST_ID=a1b2c3d4e5 TARGET_MAILCHIMP_STATUS_IF_NEW=pending target-mailchimp --config ENV < records.jsonl

stdout carries only the state values received (each printed after Mailchimp confirmed the records before it).`;

export function main(argv: string[] = process.argv): Promise<never> {
  return runCli(NAME, async ({ signal }) => {
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
    if (options.test) return finishCheck(NAME, await checkTargetConnection(config, `${NAME}/${readPackageInfo().version}`));
    const log = createLogger(NAME);
    const api = new OfficialMailchimpApi({
      baseUrl: apiBaseUrl(config),
      ...(config.api_key ? { apiKey: config.api_key } : { accessToken: config.access_token as string }),
      maxConcurrent: 5,
    });
    try {
      const list = await api.getList(config.list_id);
      log.info(`loading into audience "${list.name}" (${list.id})`);
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) {
        throw new ConfigError(`list_id ${config.list_id} does not exist in this Mailchimp account: copy the Audience ID from Audience > Settings > Audience name and defaults`, { cause: err });
      }
      throw err;
    }
    signal.addEventListener('abort', () => process.stdin.destroy(), { once: true });
    const summary = await loadMembers({ config, api, input: process.stdin, output: new LineWriter(process.stdout), log, signal });
    const skipped = Object.values(summary.skipped).reduce((a, b) => a + b, 0);
    const rejected = Object.values(summary.rejected).reduce((a, b) => a + b, 0);
    log.info(`done: ${summary.read} records read, ${summary.created} created, ${skipped} skipped, ${rejected} rejected, ${summary.apiCalls} API calls`, {
      skipped: summary.skipped,
      rejected: summary.rejected,
      ignored: summary.ignored,
    });
  });
}
