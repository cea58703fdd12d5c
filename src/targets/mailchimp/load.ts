/**
 * A load from start to end, after the command line: the audience is opened, the write queues and
 * the jobs are made, the engine reads the input (engine/loader.ts), and the files, the summary and
 * the notifications tell what happened, whether the load succeeded or not.
 */
import type { Logger } from '../../log/logger.js';
import type { LineWriter } from '../../singer/writer.js';
import type { MailchimpApi } from './api/api.js';
import { ArchiveFile } from './archive/archive-file.js';
import { ArchiveJob } from './archive/archive-job.js';
import { archiveSettings } from './archive/settings.js';
import { openAudience, type OpenAudience } from './audience/open-audience.js';
import { CohortRegistry } from './cohorts/cohort-registry.js';
import { CohortTagJob, cohortTagSettings, type CohortSummary } from './cohorts/cohort-tags.js';
import { configuredStreams, type TargetConfig } from './config.js';
import { loadMembers, planWriter, type LoadResult } from './engine/loader.js';
import { RejectsFile, Suppressions, writeReport } from './reports/files.js';
import type { TargetNotifier } from './reports/notify.js';
import { Tally } from './reports/outcomes.js';
import { archiveReport, describeCalls, loadReport, logSummary, rowObserver } from './reports/summary.js';
import { createWriteQueues, writeLimits, type WriteQueues } from './writing/write-queues.js';

export interface RunLoadOptions {
  config: TargetConfig;
  api: MailchimpApi;
  log: Logger;
  signal: AbortSignal;
  input: AsyncIterable<Buffer | string>;
  output: LineWriter;
  /** Digest, alerts and warnings (reports/notify.ts); absent in tests of the load alone. */
  notifier?: TargetNotifier;
}

/** What a load made and must close and report on, whatever happens. */
interface LoadParts {
  opened: OpenAudience;
  writes: WriteQueues;
  suppressions: Suppressions;
  registry: CohortRegistry;
  cohorts: CohortTagJob | undefined;
  archive: ArchiveJob | undefined;
  archiveFile: ArchiveFile | undefined;
  rejects: RejectsFile | undefined;
  tally: Tally;
  started: number;
}

export async function runLoad(options: RunLoadOptions): Promise<LoadResult> {
  const { config, api, log, signal, notifier } = options;
  const started = Date.now();
  const opened = await openAudience(api, config, log);
  const writes = createWriteQueues(api, config, log);
  const registry = new CohortRegistry(config.cohort_registry_file, config.list_id);
  const tally = new Tally();
  const archiving = archiveSettings(config);
  const archiveFile = archiving?.file ? new ArchiveFile(archiving.file) : undefined;
  const parts: LoadParts = {
    opened,
    writes,
    suppressions: new Suppressions(config.suppression_file),
    registry,
    cohorts: cohortJob(options, opened, writes, registry),
    archive: archiving ? archiveJob(options, opened, writes, tally, archiveFile) : undefined,
    archiveFile,
    rejects: config.rejects_file ? new RejectsFile(config.rejects_file) : undefined,
    tally,
    started,
  };
  notifier?.start(opened.list, parts.tally);
  let result: LoadResult | undefined;
  let cohortSummaries: CohortSummary[] = [];
  let failure: unknown;
  try {
    result = await runEngine(options, parts);
    await writes.queue.drain();
    if (parts.cohorts) cohortSummaries = finishCohorts(parts.cohorts, parts.tally, log);
    // The states were printed (everything read was loaded); the refused archive still fails the run.
    if (parts.archive?.refusal) throw parts.archive.refusal;
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    await closeLoad(options, parts, { failure, result, cohortSummaries });
  }
  if (config.dry_run) log.info('dry run: nothing was written and no state is printed');
  await notifier?.afterLoad({ complete: !signal.aborted, ...(parts.archive ? { archivedEmails: parts.archive.archivedEmails } : {}) });
  return result;
}

function runEngine(options: RunLoadOptions, parts: LoadParts): Promise<LoadResult> {
  const { config, api, log } = options;
  const { opened, writes, suppressions, tally } = parts;
  const { audience, knowledge, tagRules } = opened;
  return loadMembers({
    config,
    input: options.input,
    output: options.output,
    log,
    signal: options.signal,
    audience,
    knowledge,
    mergeFields: opened.mergeFields,
    mergeMappings: opened.mappings,
    tagRules,
    suppressions,
    onOutcome: rowObserver(config, log, parts.rejects, options.notifier),
    tally,
    ...writeLimits(config),
    flushWrites: writes.flushWrites,
    writesIdle: writes.writesIdle,
    finishWrites: writes.finishWrites,
    ...(parts.cohorts ? { cohorts: parts.cohorts } : {}),
    ...(parts.archive ? { archive: parts.archive } : {}),
    write: planWriter({ api, listId: config.list_id, statusIfNew: config.status_if_new, mode: config.mode, audience, knowledge, queue: writes.queue, subscribe: writes.subscribe, tagRules, suppressions, log }),
  });
}

/** The cohort-to-tag job, when cohort_tags is set. */
function cohortJob({ config, api, log }: RunLoadOptions, opened: OpenAudience, writes: WriteQueues, registry: CohortRegistry): CohortTagJob | undefined {
  const settings = cohortTagSettings(config);
  if (!settings) return undefined;
  return new CohortTagJob({
    api,
    listId: config.list_id,
    queue: writes.queue,
    subscribe: writes.subscribe,
    log,
    settings,
    registry,
    statusIfNew: config.status_if_new,
    mergeFields: opened.mergeFields,
    mergeMappings: opened.mappings,
    ...(config.email_property ? { emailProperty: config.email_property } : {}),
    dryRun: config.dry_run,
    knowledge: opened.knowledge,
    audience: opened.audience,
    concurrency: config.max_concurrency,
  });
}

/** archive_missing's job, when it is on (archive/archive-job.ts). */
function archiveJob({ config, api, log, signal }: RunLoadOptions, opened: OpenAudience, writes: WriteQueues, tally: Tally, file: ArchiveFile | undefined): ArchiveJob | undefined {
  const settings = archiveSettings(config);
  if (!settings) return undefined;
  return new ArchiveJob({
    api,
    listId: config.list_id,
    stream: [...configuredStreams(config)][0] ?? 'engage',
    queue: writes.queue,
    log,
    settings,
    dryRun: config.dry_run,
    signal,
    audience: opened.audience,
    tally,
    file,
    ...(config.email_property ? { emailProperty: config.email_property } : {}),
    concurrency: config.max_concurrency,
  });
}

function finishCohorts(cohorts: CohortTagJob, tally: Tally, log: Logger): CohortSummary[] {
  const summaries = cohorts.finish();
  for (const warning of cohorts.warnings()) {
    log.warn(warning);
    tally.warnings.push(warning);
  }
  return summaries;
}

/** Files saved, the summary logged and the report written, whether the load succeeded or not. */
async function closeLoad(options: RunLoadOptions, parts: LoadParts, end: { failure: unknown; result: LoadResult | undefined; cohortSummaries: CohortSummary[] }): Promise<void> {
  const { config, api, log } = options;
  const { tally, writes, opened } = parts;
  await parts.rejects?.close();
  await parts.archiveFile?.close();
  if (!config.dry_run) {
    parts.suppressions.save();
    parts.registry.save();
  }
  logSummary(log, tally, api.calls, Date.now() - parts.started, config.dry_run);
  const stats = writes.queue.stats;
  log.info(`API calls by kind: ${describeCalls(api.callsByKind)}`, { batches: stats.batches, batched_operations: stats.batchedOperations, direct_operations: stats.directOperations, knowledge: opened.knowledge.mode });
  // A refused archive stops nothing: everything read was written, and its states printed.
  if (end.failure !== undefined && end.failure !== parts.archive?.refusal) log.error(`stopped early: ${tally.read - tally.accounted} records read but not written; the last state printed covers everything before them`);
  if (!config.report_file) return;
  writeReport(config.report_file, {
    ...loadReport({ config, list: opened.list, tally, calls: api.calls, started: parts.started, failure: end.failure, plan: end.result?.plan }),
    api_calls_by_kind: { ...api.callsByKind },
    audience_knowledge: opened.knowledge.mode === 'whole' ? 'whole audience read' : 'lookups',
    batch_operations: { ...stats },
    ...(parts.cohorts ? { cohorts: end.cohortSummaries } : {}),
    ...(parts.archive ? { archive: archiveReport(parts.archive.counts, parts.archive.archivedEmails, config.dry_run) } : {}),
  });
}
