/**
 * The sandbox command line: options for every SandboxOptions field, then a running sandbox that
 * prints its URL and ready-to-use tap and target configs, until SIGINT or SIGTERM.
 * (Not a Singer binary: its stdout is for people and scripts.)
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { sandboxClientConfigs, sandboxMailchimpTapConfig } from './configs.js';
import type { SandboxOptions } from './options.js';
import { startSandbox } from './server.js';

export const DEFAULT_CLI_PORT = 8750;

export interface SandboxCliArgs {
  options: SandboxOptions;
  tapAuth: 'service_account' | 'api_secret';
  json: boolean;
}

function integer(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('expected an integer');
  return Number(value);
}

function nonNegative(value: string): number {
  const n = integer(value);
  if (n < 0) throw new InvalidArgumentError('expected an integer >= 0');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

function jsonArray(value: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('expected a JSON array');
  }
  if (!Array.isArray(parsed)) throw new InvalidArgumentError('expected a JSON array');
  return parsed;
}

interface RawCliOptions {
  port: number;
  seed?: number;
  now?: string;
  fromDate?: string;
  days?: number;
  eventsPerDay?: number;
  profiles?: number;
  engagePageSize?: number;
  projectTimezone?: string;
  projectId?: number;
  apiSecret?: string;
  serviceAccountUsername?: string;
  serviceAccountSecret?: string;
  mailchimpApiKey?: string;
  listId?: string;
  members?: number;
  requiredMergeField?: string;
  audienceSize?: number;
  batchRate?: number;
  batchesPaused?: boolean;
  latencyExport?: number;
  latencyQuery?: number;
  latencyMailchimp?: number;
  rateLimits?: boolean;
  rateLimitHourMs?: number;
  faults?: unknown[];
  smtpUsername?: string;
  smtpPassword?: string;
  twilioAccountSid?: string;
  twilioAuthToken?: string;
  notifyFaults?: unknown[];
  tapAuth: 'service_account' | 'api_secret';
  json?: boolean;
}

function buildCommand(): Command {
  return new Command('mixpanel-mailchimp-sandbox')
    .description('Local emulated Mixpanel (export + query APIs) and Mailchimp (Marketing API v3) on 127.0.0.1, for demos and tests.')
    .option('--port <n>', 'port to listen on (0 = any free port)', nonNegative, DEFAULT_CLI_PORT)
    .option('--seed <n>', 'seed for all generated data (default 42)', integer)
    .option('--now <iso>', 'sandbox clock start, e.g. 2024-06-10T12:00:00Z (default: real time)')
    .option('--from-date <YYYY-MM-DD>', 'first day with events (default: today - days + 1)')
    .option('--days <n>', 'days with events (default 30)', nonNegative)
    .option('--events-per-day <n>', 'events per day (default 200)', nonNegative)
    .option('--profiles <n>', 'people profiles (default 500)', nonNegative)
    .option('--engage-page-size <n>', 'engage page size (default 1000)', nonNegative)
    .option('--project-timezone <zone>', 'IANA time zone; not UTC = pre-2023 project with local times (default UTC)')
    .option('--project-id <n>', 'Mixpanel project id (default 1234567)', nonNegative)
    .option('--api-secret <secret>', 'Mixpanel project API secret')
    .option('--service-account-username <name>', 'Mixpanel service account user name')
    .option('--service-account-secret <secret>', 'Mixpanel service account secret')
    .option('--mailchimp-api-key <key>', 'Mailchimp API key (suffix after "-" is the data center)')
    .option('--list-id <id>', 'Mailchimp audience id (default a1b2c3d4e5)')
    .option('--members <n>', 'seeded audience members (default 60)', nonNegative)
    .option('--required-merge-field <tag>', 'merge field that is required, or "none" (default FNAME)')
    .option('--audience-size <n>', 'generated members added to the audience, e.g. 1000000 (default 0)', nonNegative)
    .option('--batch-rate <ops/s>', 'Mailchimp batch operations run per second (default 1000)', positiveNumber)
    .option('--batches-paused', 'start with batch processing paused (resume: POST /__admin/mailchimp/batches {"paused":false})')
    .option('--latency-export <ms>', 'added latency for the export API', nonNegative)
    .option('--latency-query <ms>', 'added latency for the query API', nonNegative)
    .option('--latency-mailchimp <ms>', 'added latency for the Mailchimp API', nonNegative)
    .option('--rate-limits', "enforce Mixpanel's rate limits (429 with Retry-After)")
    .option('--rate-limit-hour-ms <ms>', 'length of the rate limits\' hour (implies --rate-limits), e.g. 6000', nonNegative)
    .option('--faults <json>', 'fault rules as a JSON array, e.g. \'[{"kind":"cut_mid_line","after_lines":100,"times":1}]\'', jsonArray)
    // Notification sinks (notify/): SMTP, Twilio, webhooks.
    .option('--smtp-username <name>', 'SMTP sink login (default sandbox-smtp-user)')
    .option('--smtp-password <password>', 'SMTP sink password (default sandbox-smtp-password)')
    .option('--twilio-account-sid <sid>', 'Twilio Account SID the endpoint accepts (AC + 32 hex digits)')
    .option('--twilio-auth-token <token>', 'Twilio Auth Token the endpoint accepts')
    .option('--notify-faults <json>', 'notification sink fault rules, e.g. \'[{"service":"smtp","kind":"refuse_login"}]\'', jsonArray)
    .addOption(
      new Option('--tap-auth <kind>', 'credentials in the printed tap config').choices(['service_account', 'api_secret']).default('service_account'),
    )
    .option('--json', 'print one JSON object {url, tap, target} instead of text');
}

export interface CliOutput {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

/** Parses the arguments after the program name; usage errors and --help go to `output`. */
export function parseSandboxArgs(argv: readonly string[], output?: CliOutput): SandboxCliArgs {
  const command = buildCommand().exitOverride();
  if (output) command.configureOutput(output);
  command.parse([...argv], { from: 'user' });
  const o = command.opts<RawCliOptions>();
  const options: SandboxOptions = {
    port: o.port,
    seed: o.seed,
    now: o.now,
    fromDate: o.fromDate,
    days: o.days,
    eventsPerDay: o.eventsPerDay,
    profiles: o.profiles,
    engagePageSize: o.engagePageSize,
    projectTimezone: o.projectTimezone,
    mixpanel: {
      projectId: o.projectId,
      apiSecret: o.apiSecret,
      serviceAccountUsername: o.serviceAccountUsername,
      serviceAccountSecret: o.serviceAccountSecret,
    },
    mailchimp: {
      apiKey: o.mailchimpApiKey,
      listId: o.listId,
      members: o.members,
      requiredMergeField: o.requiredMergeField === undefined ? undefined : o.requiredMergeField.toLowerCase() === 'none' ? null : o.requiredMergeField,
      audienceSize: o.audienceSize,
      batchOperationsPerSecond: o.batchRate,
      batchesPaused: o.batchesPaused === true ? true : undefined,
    },
    latencyMs: { export: o.latencyExport, query: o.latencyQuery, mailchimp: o.latencyMailchimp },
    rateLimits: o.rateLimitHourMs !== undefined ? { hour_ms: o.rateLimitHourMs } : o.rateLimits === true ? true : undefined,
    faults: o.faults,
    notify: {
      smtp: { username: o.smtpUsername, password: o.smtpPassword },
      twilio: { accountSid: o.twilioAccountSid, authToken: o.twilioAuthToken },
      faults: o.notifyFaults,
    },
  };
  return { options: dropUndefined(options), tapAuth: o.tapAuth, json: o.json === true };
}

/** Leaves out options the user did not give, so the sandbox's defaults apply. */
function dropUndefined<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    const cleaned = dropUndefined(v);
    if (cleaned !== null && typeof cleaned === 'object' && !Array.isArray(cleaned) && Object.keys(cleaned).length === 0) continue;
    out[key] = cleaned;
  }
  return out as T;
}

export async function runSandboxCli(argv: readonly string[]): Promise<void> {
  let args: SandboxCliArgs;
  try {
    args = parseSandboxArgs(argv);
  } catch (err) {
    // commander has already printed --help, or the usage error; exit 0 for help, 2 for usage.
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 2;
    return;
  }
  let sandbox;
  try {
    sandbox = await startSandbox(args.options);
  } catch (err) {
    console.error(`Sandbox could not start: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
    return;
  }
  const configs = sandboxClientConfigs(sandbox, { auth: args.tapAuth });
  if (args.json) {
    console.log(JSON.stringify({ url: sandbox.url, dataRange: sandbox.dataRange, ...configs, mailchimpTap: sandboxMailchimpTapConfig(sandbox), notify: sandbox.notify }));
  } else {
    console.log(`Sandbox listening on ${sandbox.url}`);
    console.log(`  Mixpanel export:  ${sandbox.url}/api/2.0/export    query: ${sandbox.url}/api/2.0/engage`);
    console.log(`  Mailchimp:        ${sandbox.url}/3.0    admin: ${sandbox.url}/__admin/health`);
    const { smtp, twilio } = sandbox.notify;
    console.log(`  SMTP sink:        127.0.0.1:${smtp.port} (STARTTLS offered), 127.0.0.1:${smtp.tlsPort} (TLS); login ${smtp.username} / ${smtp.password}`);
    console.log(`  Twilio:           ${twilio.baseUrl} (SID ${twilio.accountSid}, token ${twilio.authToken}, from ${twilio.from})`);
    console.log(`  Webhooks:         ${sandbox.notify.webhookBaseUrl}/<name>    received: ${sandbox.url}/__admin/notify`);
    console.log(`  Events from ${sandbox.dataRange.fromDate} to ${sandbox.dataRange.toDate} (${sandbox.projectTimezone})`);
    console.log('\nTap config (tap-mixpanel --config):');
    console.log(JSON.stringify(configs.tap, null, 2));
    console.log('\nTarget config (target-mailchimp --config):');
    console.log(JSON.stringify(configs.target, null, 2));
    console.log('\nMailchimp tap config (tap-mailchimp --config):');
    console.log(JSON.stringify(sandboxMailchimpTapConfig(sandbox), null, 2));
    console.log('\nPress Ctrl+C to stop.');
  }
  const stop = (signal: NodeJS.Signals) => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    console.error(`Received ${signal}, stopping the sandbox.`);
    void sandbox.close().then(() => {
      process.exitCode = 0;
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
