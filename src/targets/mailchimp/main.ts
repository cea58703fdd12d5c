/** target-mailchimp: command line. */
import { renderAbout } from '../../cli/about.js';
import { createProgram, parseArguments, readPackageInfo, type CommonOptions } from '../../cli/program.js';
import { runCli } from '../../cli/run.js';
import { ConfigError, errorMessage } from '../../errors/index.js';
import { HttpError } from '../../http/errors.js';
import { createLogger, type Logger } from '../../log/logger.js';
import { keepHeapNearLiveSize } from '../../util/heap.js';
import type { LineWriter } from '../../singer/writer.js';
import { OfficialMailchimpApi, type ListInfo, type MailchimpApi } from './api/api.js';
import { Audience } from './audience/audience.js';
import { AudienceKnowledge } from './audience/audience-knowledge.js';
import { OperationQueue } from './writing/batch-queue.js';
import { SubscribeQueue } from './writing/subscribe-queue.js';
import { CohortRegistry } from './cohorts/cohort-registry.js';
import { CohortTagJob, cohortTagSettings, type CohortSummary } from './cohorts/cohort-tags.js';
import { apiBaseUrl, listSetting, loadTargetConfig, targetConfigSchema, type TargetConfig } from './config.js';
import { RejectsFile, Suppressions, writeReport } from './reports/files.js';
import { loadMembers, planWriter, type LoadResult } from './engine/loader.js';
import { buildMergeMappings } from './members/merge-fields.js';
import { TargetNotifier, WatchedLineWriter } from './reports/notify.js';
import { Tally, type RowOutcome } from './reports/outcomes.js';
import type { TagRules } from './members/tags.js';
// --test (connection check): kept apart from the load path.
import { finishCheck } from '../../cli/check-report.js';

const NAME = 'target-mailchimp';
/** How many planned actions a dry run lists on stderr (report_file has them all). */
const DRY_RUN_LINES = 50;
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

export interface RunLoadOptions {
  config: TargetConfig;
  api: MailchimpApi;
  log: Logger;
  signal: AbortSignal;
  input: AsyncIterable<Buffer | string>;
  output: LineWriter;
  /** Digest, alerts and warnings (notify.ts); absent in tests of the load alone. */
  notifier?: TargetNotifier;
}

/** Everything after the command line: checks, the audience, the load, the files and the summary. */
export async function runLoad({ config, api, log, signal, input, output, notifier }: RunLoadOptions): Promise<LoadResult> {
  const started = Date.now();
  const list = await verifyList(api, config.list_id);
  log.info(`${config.dry_run ? 'planning (dry run) for' : 'loading into'} audience "${list.name}" (${list.id})`, { mode: config.mode, status_if_new: config.status_if_new });

  const mergeFields = await api.getMergeFields(config.list_id);
  const { mappings, problems } = buildMergeMappings(config, mergeFields);
  if (problems.length > 0) {
    throw new ConfigError(`merge_fields do not fit audience "${list.name}": nothing was written`, { details: problems });
  }
  const tagRules: TagRules = { staticTags: listSetting(config.tags), properties: listSetting(config.tag_properties) };
  const suppressions = new Suppressions(config.suppression_file);
  const total = await AudienceKnowledge.countMembers(api, config.list_id);
  const fieldTypes = new Map(mergeFields.map((f) => [f.tag.toUpperCase(), f.type]));
  const audience = new Audience(mappings.map((m) => ({ tag: m.tag, type: fieldTypes.get(m.tag) ?? 'text' })), tagRules, Math.ceil(Math.min(total, 4_000_000) * 1.1) + 1024);
  const knowledge = new AudienceKnowledge({ api, listId: config.list_id, audience, total, concurrency: config.max_concurrency, log });
  log.info(`audience has ${total} members`, { lookups_before_whole_read: knowledge.lookupLimit });
  const queue = new OperationQueue({
    api,
    log,
    maxOperations: config.bulk_batch_size,
    directBelow: config.bulk_threshold === 0 ? Number.POSITIVE_INFINITY : config.bulk_threshold,
    flushMs: Math.max(0, config.flush_interval_seconds) * 1000,
    concurrency: config.max_concurrency,
  });

  const subscribe = new SubscribeQueue({ api, listId: config.list_id, log, flushMs: Math.max(0, config.flush_interval_seconds) * 1000 });
  const cohortSettings = cohortTagSettings(config);
  const registry = new CohortRegistry(config.cohort_registry_file, config.list_id);
  const cohorts = cohortSettings
    ? new CohortTagJob({
        api,
        listId: config.list_id,
        queue,
        subscribe,
        log,
        settings: cohortSettings,
        registry,
        statusIfNew: config.status_if_new,
        mergeFields,
        mergeMappings: mappings,
        ...(config.email_property ? { emailProperty: config.email_property } : {}),
        dryRun: config.dry_run,
        knowledge,
        audience,
        concurrency: config.max_concurrency,
      })
    : undefined;
  let cohortSummaries: CohortSummary[] = [];

  const rejects = config.rejects_file ? new RejectsFile(config.rejects_file) : undefined;
  const tally = new Tally();
  notifier?.start(list, tally);
  let planLines = 0;
  const onOutcome = (row: RowOutcome): void => {
    notifier?.observe(row);
    if (config.dry_run && planLines++ < DRY_RUN_LINES) {
      log.info(`plan: line ${row.source.line} ${row.email ?? '(no email)'}: ${row.outcome === 'created' ? 'create' : row.outcome === 'updated' ? 'update' : row.outcome}${row.reason ? ` (${row.reason})` : ''}`);
    }
    if (row.outcome === 'rejected') {
      rejects?.add(row);
      log.debug('rejected', { line: row.source.line, reason: row.reason, field: row.field });
    }
  };

  let result: LoadResult | undefined;
  let failure: unknown;
  try {
    result = await loadMembers({
      config,
      input,
      output,
      log,
      signal,
      audience,
      knowledge,
      mergeFields,
      mergeMappings: mappings,
      tagRules,
      suppressions,
      onOutcome,
      tally,
      // Enough writes on their way for a batch operation at Mailchimp and the next one filling
      // (bulk_batch_size operations each; a person with a merge-field and a tag change is two):
      // more would only hold memory, as Mailchimp runs one batch at a time.
      maxBatchesInFlight: Math.max(config.max_concurrency, Math.ceil((8 * config.bulk_batch_size) / config.batch_size)),
      maxWritesInFlight: Math.max(config.batch_size, 2 * config.bulk_batch_size),
      // Only when nothing sent is on its way would nothing free the stalled loader: then send what is queued.
      flushWrites: () => {
        if (!subscribe.idleNow || !queue.idleNow) return;
        subscribe.flush();
        queue.flush();
      },
      writesIdle: () => Promise.race([queue.nextIdle(), subscribe.nextIdle()]),
      finishWrites: () => {
        subscribe.finish();
        queue.finish();
      },
      ...(cohorts ? { cohorts } : {}),
      write: planWriter({ api, listId: config.list_id, statusIfNew: config.status_if_new, mode: config.mode, audience, knowledge, queue, subscribe, tagRules, suppressions, log }),
    });
    await queue.drain();
    if (cohorts) {
      cohortSummaries = cohorts.finish();
      for (const warning of cohorts.warnings()) {
        log.warn(warning);
        tally.warnings.push(warning);
      }
    }
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    await rejects?.close();
    if (!config.dry_run) {
      suppressions.save();
      registry.save();
    }
    logSummary(log, tally, api.calls, Date.now() - started, config.dry_run);
    log.info(`API calls by kind: ${describeCalls(api.callsByKind)}`, { batches: queue.stats.batches, batched_operations: queue.stats.batchedOperations, direct_operations: queue.stats.directOperations, knowledge: knowledge.mode });
    if (failure !== undefined) log.error(`stopped early: ${tally.read - tally.accounted} records read but not written; the last state printed covers everything before them`);
    if (config.report_file) {
      writeReport(config.report_file, {
        ...(report(config, list, tally, api.calls, started, failure, result) as Record<string, unknown>),
        api_calls_by_kind: { ...api.callsByKind },
        audience_knowledge: knowledge.mode === 'whole' ? 'whole audience read' : 'lookups',
        batch_operations: { ...queue.stats },
        ...(cohorts ? { cohorts: cohortSummaries } : {}),
      });
    }
  }
  if (config.dry_run) log.info('dry run: nothing was written and no state is printed');
  await notifier?.afterLoad({ complete: !signal.aborted });
  return result;
}

async function verifyList(api: MailchimpApi, listId: string): Promise<ListInfo> {
  try {
    return await api.getList(listId);
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) {
      throw new ConfigError(
        `list_id "${listId}" is not an audience of this Mailchimp account: copy the Audience ID from Audience > Settings > Audience name and defaults`,
        { cause: err },
      );
    }
    throw err;
  }
}

function reasons(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? '' : ` (${entries.map(([reason, n]) => `${n} ${reason}`).join('; ')})`;
}

function describeCalls(kinds: Readonly<Record<string, number>>): string {
  const entries = Object.entries(kinds).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([kind, n]) => `${n} ${kind}`).join(', ');
}

function logSummary(log: Logger, tally: Tally, calls: number, ms: number, dryRun: boolean): void {
  const verb = dryRun ? 'would be ' : '';
  log.info(
    `${dryRun ? 'plan' : 'done'}: ${tally.read} records read; ${verb}created ${tally.created}, ${verb}updated ${tally.updated}, unchanged ${tally.unchanged}, ` +
      `skipped ${tally.skippedTotal}${reasons(tally.skipped)}, rejected ${tally.rejectedTotal}${reasons(tally.rejected)}; ` +
      `${calls} API calls, ${tally.statesEmitted} states printed, ${(ms / 1000).toFixed(1)} s`,
  );
  if (tally.ignored > 0) log.info(`${tally.ignored} records of streams not in "stream" (or of cohorts not in "cohort_tags") were ignored`);
  if (tally.streamsWithoutEmail.length > 0) {
    log.warn(`no email property in the SCHEMA of ${tally.streamsWithoutEmail.map((s) => `"${s}"`).join(', ')}: set email_property to the property that holds the address`);
  }
}

function report(config: TargetConfig, list: ListInfo, tally: Tally, calls: number, started: number, failure: unknown, result: LoadResult | undefined): unknown {
  return {
    list_id: list.id,
    list_name: list.name,
    mode: config.mode,
    dry_run: config.dry_run,
    started_at: new Date(started).toISOString(),
    finished_at: new Date().toISOString(),
    succeeded: failure === undefined,
    ...(failure !== undefined ? { error: errorMessage(failure), ...(tally.failedBatch ? { failed_batch: tally.failedBatch } : {}) } : {}),
    records_read: tally.read,
    created: tally.created,
    updated: tally.updated,
    unchanged: tally.unchanged,
    skipped: tally.skipped,
    rejected: tally.rejected,
    ignored_records: tally.ignored,
    warnings: tally.warnings,
    streams_without_email_property: tally.streamsWithoutEmail,
    states_printed: tally.statesEmitted,
    api_calls: calls,
    ...(config.dry_run && result
      ? {
          plan: result.plan.map((w) => ({
            action: w.kind,
            email: w.member.email,
            line: w.member.source.line,
            ...(w.kind === 'update' ? { merge_fields: w.mergeFields, tags: w.tags } : {}),
            ...(w.kind === 'create' ? { merge_fields: w.member.mergeFields, tags: w.member.tags } : {}),
            ...(w.kind === 'skip' || w.kind === 'reject' ? { reason: w.reason } : {}),
          })),
        }
      : {}),
  };
}
