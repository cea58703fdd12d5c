/**
 * The sync engine: for each selected stream, SCHEMA, then the stream's records (pruned to the
 * selection), and a STATE after every bookmark the stream reports, never before its records.
 * A FULL_TABLE stream that finishes clears its bookmark. currently_syncing names the stream
 * being read, and an interrupted run's stream goes first next time.
 */
import { errorMessage } from '../../errors/index.js';
import type { Logger } from '../../log/logger.js';
import { catalogEntry, makeRecordFilter, StreamSelection, type Catalog, type CatalogEntry } from '../../singer/catalog.js';
import { resolveReplication, type ResolvedReplication } from '../../singer/replication.js';
import { StateStore, type SingerState } from '../../singer/state.js';
import type { SingerWriter } from '../../singer/writer.js';
import { recordsPerSecond, SyncProgress, type StreamSummary } from '../mixpanel/progress.js';
import type { Audiences } from './audiences.js';
import type { MailchimpReader } from './client.js';
import type { MailchimpTapConfig } from './config.js';
import { listMembersSchema } from './discover.js';
import { MAILCHIMP_STREAMS } from './streams/index.js';
import type { MailchimpStreamDefinition } from './streams/types.js';

export interface MailchimpSyncOptions {
  config: MailchimpTapConfig;
  client: MailchimpReader;
  audiences: Audiences;
  writer: SingerWriter;
  log: Logger;
  signal: AbortSignal;
  catalog?: Catalog;
  state?: SingerState;
  /** --select without a catalog: only these streams. */
  select?: readonly string[];
}

export interface MailchimpSyncSummary {
  streams: StreamSummary[];
  interrupted: boolean;
  /** What the run found that a warning should say (already logged). */
  problems: string[];
}

export interface StreamPlan {
  stream: MailchimpStreamDefinition;
  entry: CatalogEntry;
  selection: StreamSelection;
  replication: ResolvedReplication;
}

/** Streams in run order; an interrupted run's stream first. */
export function orderStreams(currentlySyncing: string | null, streams: readonly MailchimpStreamDefinition[] = MAILCHIMP_STREAMS): MailchimpStreamDefinition[] {
  const resumed = streams.find((s) => s.name === currentlySyncing);
  return resumed ? [resumed, ...streams.filter((s) => s !== resumed)] : [...streams];
}

/**
 * The selected streams in run order, replication resolved for all before the first is read (a
 * catalog asking for a method that does not exist fails before anything is written). Without
 * a catalog every stream runs (or those of --select), list_members with its merge fields typed as
 * discovery types them.
 */
export async function planStreams(options: Pick<MailchimpSyncOptions, 'catalog' | 'client' | 'audiences' | 'log' | 'select'>, currentlySyncing: string | null): Promise<StreamPlan[]> {
  const plans: StreamPlan[] = [];
  for (const stream of orderStreams(currentlySyncing)) {
    if (options.select && !options.catalog && !options.select.includes(stream.name)) continue;
    let entry = options.catalog?.streams.find((e) => e.tap_stream_id === stream.name);
    if (!options.catalog) {
      const base = stream.baseSchema();
      entry = catalogEntry(stream, stream.name === 'list_members' ? await listMembersSchema(base, options.client, options.audiences) : base);
    }
    if (!entry) continue;
    const selection = new StreamSelection(entry);
    if (!selection.streamSelected) {
      options.log.debug(`${stream.name}: not selected`);
      continue;
    }
    plans.push({ stream, entry, selection, replication: resolveReplication(stream, selection.replication()) });
  }
  return plans;
}

async function syncStream(plan: StreamPlan, options: MailchimpSyncOptions, state: StateStore, progress: SyncProgress, problems: string[]): Promise<StreamSummary> {
  const { stream, entry, selection, replication } = plan;
  const { writer, log, signal } = options;
  if (replication.note) log[replication.note.level](`${stream.name}: ${replication.note.text}`);
  const schema = selection.selectedSchema();
  const filter = makeRecordFilter(schema, entry.schema, stream.asksOnlyForSelected === true);
  state.setCurrentlySyncing(stream.name);
  await writer.writeSchema(stream.name, schema, entry.key_properties ?? stream.keyProperties, replication.key ? [replication.key] : undefined);
  const streamProgress = progress.startStream(stream.name);
  const timeExtracted = new Date().toISOString();
  log.info(`${stream.name}: sync started`, { replication: replication.method });
  const outputs = stream.sync({
    config: options.config,
    client: options.client,
    state,
    log,
    signal,
    replication: { method: replication.method, ...(replication.key ? { key: replication.key } : {}) },
    schema: { full: entry.schema, selected: schema },
    audiences: options.audiences,
    progress: (label) => streamProgress.reading(label),
    problem: (text) => {
      log.warn(text);
      problems.push(text);
    },
  });
  try {
    for await (const output of outputs) {
      if (output.kind === 'records') {
        for (const record of output.records) await writer.writeRecord(stream.name, filter(record), timeExtracted);
        streamProgress.add(output.records.length);
      } else if (output.kind === 'bookmark') {
        state.advance(stream.name, output.bookmark, output.context);
        await writer.writeState(state.snapshot() as unknown as Record<string, unknown>);
      } else {
        state.clear(stream.name);
      }
      if (signal.aborted) break;
    }
  } catch (err) {
    // A stop request ends waits and requests with an error: the run then writes its last state.
    if (!signal.aborted) throw err;
    log.debug(`${stream.name}: stopped (${errorMessage(err)})`);
  }
  return streamProgress.finish();
}

export async function runMailchimpSync(options: MailchimpSyncOptions): Promise<MailchimpSyncSummary> {
  const { writer, log, signal } = options;
  const state = new StateStore(options.state);
  const summary: MailchimpSyncSummary = { streams: [], interrupted: false, problems: [] };
  const progress = new SyncProgress(log);
  for (const plan of await planStreams(options, state.currentlySyncing)) {
    if (signal.aborted) break;
    const streamSummary = await syncStream(plan, options, state, progress, summary.problems);
    summary.streams.push(streamSummary);
    summary.interrupted = signal.aborted;
    log.info(`${plan.stream.name}: ${summary.interrupted ? 'interrupted' : 'done'}`, {
      records: streamSummary.records,
      seconds: Number(streamSummary.seconds.toFixed(1)),
      records_per_second: recordsPerSecond(streamSummary.records, streamSummary.seconds),
    });
    if (summary.interrupted) break;
  }
  summary.interrupted = signal.aborted;
  if (!summary.interrupted) state.setCurrentlySyncing(null);
  await writer.writeState(state.snapshot() as unknown as Record<string, unknown>);
  await writer.flush();
  if (summary.streams.length > 0) progress.logSummary(summary.streams);
  log.info('Mailchimp calls', { total: options.client.calls, ...options.client.callsByKind });
  return summary;
}
