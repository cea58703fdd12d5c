/**
 * What a load says when it ends: the summary lines on stderr and the report_file document, and
 * what it says of each row as it goes (the dry run's plan lines, the rejects file, the digest).
 */
import { errorMessage } from '../../../errors/index.js';
import type { Logger } from '../../../log/logger.js';
import type { ListInfo } from '../api/api.js';
import type { TargetConfig } from '../config.js';
import { profileBody } from '../members/profile.js';
import type { PlannedWrite } from '../writing/planner.js';
import type { RejectsFile } from './files.js';
import type { TargetNotifier } from './notify.js';
import type { ArchiveCounts, RowOutcome, Tally } from './outcomes.js';

/** How many planned actions a dry run lists on stderr (report_file has them all). */
const DRY_RUN_LINES = 50;

/** What the load does with each row's outcome as soon as it is known. */
export function rowObserver(config: TargetConfig, log: Logger, rejects: RejectsFile | undefined, notifier: TargetNotifier | undefined): (row: RowOutcome) => void {
  let planLines = 0;
  return (row) => {
    notifier?.observe(row);
    if (config.dry_run && planLines++ < DRY_RUN_LINES) {
      log.info(`plan: line ${row.source.line} ${row.email ?? '(no email)'}: ${row.outcome === 'created' ? 'create' : row.outcome === 'updated' ? 'update' : row.outcome}${row.reason ? ` (${row.reason})` : ''}`);
    }
    if (row.outcome === 'rejected') {
      rejects?.add(row);
      log.debug('rejected', { line: row.source.line, reason: row.reason, field: row.field });
    }
  };
}

function reasons(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? '' : ` (${entries.map(([reason, n]) => `${n} ${reason}`).join('; ')})`;
}

export function describeCalls(kinds: Readonly<Record<string, number>>): string {
  const entries = Object.entries(kinds).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([kind, n]) => `${n} ${kind}`).join(', ');
}

export function logSummary(log: Logger, tally: Tally, calls: number, ms: number, dryRun: boolean): void {
  const verb = dryRun ? 'would be ' : '';
  log.info(
    `${dryRun ? 'plan' : 'done'}: ${tally.read} records read; ${verb}created ${tally.created}, ${verb}updated ${tally.updated}, unchanged ${tally.unchanged}, ` +
      `skipped ${tally.skippedTotal}${reasons(tally.skipped)}, rejected ${tally.rejectedTotal}${reasons(tally.rejected)}; ` +
      `${calls} API calls, ${tally.statesEmitted} states printed, ${(ms / 1000).toFixed(1)} s`,
  );
  if (tally.archive) log.info(describeArchive(tally.archive, dryRun));
  if (tally.ignored > 0) log.info(`${tally.ignored} records of streams not in "stream" (or of cohorts not in "cohort_tags") were ignored`);
  if (tally.streamsWithoutEmail.length > 0) {
    log.warn(`no email property in the SCHEMA of ${tally.streamsWithoutEmail.map((s) => `"${s}"`).join(', ')}: set email_property to the property that holds the address`);
  }
}

/** archive_missing in one line: `archive: 1000 owned, 12 left the source: archived 12; 1 returned, stays archived`. */
export function describeArchive(a: ArchiveCounts, dryRun: boolean): string {
  const done = a.action === 'archive' ? 'archived' : 'deleted permanently';
  const returned = a.returned > 0 ? `; ${a.returned} archived earlier and in the source again (they stay archived)` : '';
  if (!a.sweep) return `archive: no complete sweep of the source in this input: nobody archived${returned}`;
  const head = `archive: ${a.owned} owned members, ${a.left} left the source`;
  if (a.refused > 0) return `${head}: NOT archived (more than archive_max_share)${returned}`;
  const failed = a.failed > 0 ? `, ${a.failed} failed` : '';
  return `${head}: ${dryRun ? `would be ${done}` : done} ${a.archived}${failed}${returned}`;
}

/** report_file's `archive` entry: the counts, and the addresses archived (or that would be), the first 1000. */
export function archiveReport(counts: ArchiveCounts, emails: readonly string[], dryRun: boolean): Record<string, unknown> {
  return { ...counts, [dryRun ? 'would_archive' : 'archived_emails']: emails, emails_truncated: emails.length < counts.archived };
}

export interface ReportInput {
  config: TargetConfig;
  list: ListInfo;
  tally: Tally;
  calls: number;
  started: number;
  failure: unknown;
  /** The plan of a dry run. */
  plan: readonly PlannedWrite[] | undefined;
}

/** The report_file document's counts and outcome (the caller adds what only it knows). */
export function loadReport({ config, list, tally, calls, started, failure, plan }: ReportInput): Record<string, unknown> {
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
    ...(config.dry_run && plan ? { plan: plan.map(planEntry) } : {}),
  };
}

function planEntry(w: PlannedWrite): Record<string, unknown> {
  return {
    action: w.kind,
    email: w.member.email,
    line: w.member.source.line,
    // The profile fields as they would be sent (marketing permissions by id, interests by id).
    ...(w.kind === 'update' ? { merge_fields: w.mergeFields, tags: w.tags, ...profileBody(w.profile) } : {}),
    ...(w.kind === 'create' ? { merge_fields: w.member.mergeFields, tags: w.member.tags, ...profileBody(w.member.profile) } : {}),
    ...(w.kind === 'skip' || w.kind === 'reject' ? { reason: w.reason } : {}),
  };
}
