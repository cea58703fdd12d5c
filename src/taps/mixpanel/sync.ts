/**
 * The sync engine: for each selected stream, SCHEMA, then the stream's records (pruned to the
 * selection), and a STATE after every bookmark the stream reports, never before its records.
 * Records of versioned streams carry the run's table version (its start, epoch milliseconds);
 * when such a stream reports that this run's records are its whole table, the engine writes
 * ACTIVATE_VERSION and then the STATE without the stream's bookmark.
 */
import { DateTime } from 'luxon';
import { catalogEntry, makeRecordFilter, StreamSelection, type Catalog, type CatalogEntry } from '../../singer/catalog.js';
import type { Logger } from '../../log/logger.js';
import { resolveReplication, type ResolvedReplication } from '../../singer/replication.js';
import { StateStore, type SingerState } from '../../singer/state.js';
import type { SingerWriter } from '../../singer/writer.js';
import type { MixpanelClient } from './client.js';
import type { TapConfig } from './config.js';
import { guardStream } from './errors.js';
import { recordsPerSecond, SyncProgress, type StreamSummary } from './progress.js';
import { RunMemo } from './run-memo.js';
import { STREAMS } from './streams/index.js';
import type { StreamDefinition } from './streams/types.js';
import { projectTime } from './time.js';

export interface SyncOptions {
  config: TapConfig;
  client: MixpanelClient;
  writer: SingerWriter;
  log: Logger;
  signal: AbortSignal;
  catalog?: Catalog;
  state?: SingerState;
  now?: DateTime;
}

export type { StreamSummary };

export interface SyncSummary {
  streams: StreamSummary[];
  interrupted: boolean;
}

/**
 * Streams in run order; an interrupted run's stream goes first so it finishes before others
 * start, preceded by the streams it declares it runs after (cohorts before cohort_members, so a
 * loader always has the run's cohort list before its members).
 */
export function orderStreams(currentlySyncing: string | null, streams: readonly StreamDefinition[] = STREAMS): StreamDefinition[] {
  const ordered = [...streams];
  const resumed = ordered.find((s) => s.name === currentlySyncing);
  if (!resumed) return ordered;
  const first = [...ordered.filter((s) => resumed.runsAfter?.includes(s.name)), resumed];
  return [...first, ...ordered.filter((s) => !first.includes(s))];
}

/** A selected stream of this run: its catalog entry and the replication it runs. */
export interface StreamPlan {
  stream: StreamDefinition;
  entry: CatalogEntry;
  selection: StreamSelection;
  replication: ResolvedReplication;
}

/**
 * The selected streams in run order. Replication settings are resolved here, for every stream
 * before the first is read, so a catalog asking for a method that does not exist fails the run
 * before it writes anything.
 */
export function planStreams(config: TapConfig, catalog: Catalog | undefined, currentlySyncing: string | null, log: Logger): StreamPlan[] {
  const plans: StreamPlan[] = [];
  for (const stream of orderStreams(currentlySyncing)) {
    const entry = catalog ? catalog.streams.find((e) => e.tap_stream_id === stream.name) : catalogEntry(stream, stream.baseSchema(config));
    if (!entry) continue;
    const selection = new StreamSelection(entry);
    if (!selection.streamSelected) {
      log.debug(`${stream.name}: not selected`);
      continue;
    }
    plans.push({ stream, entry, selection, replication: resolveReplication(stream, selection.replication()) });
  }
  return plans;
}

/** Whether this run's records of the stream carry the table version. */
export function isVersioned(stream: Pick<StreamDefinition, 'versioned'>, method: ResolvedReplication['method']): boolean {
  return typeof stream.versioned === 'function' ? stream.versioned(method) : stream.versioned === true;
}

export async function runSync(options: SyncOptions): Promise<SyncSummary> {
  const { config, writer, log, signal } = options;
  const state = new StateStore(options.state);
  const time = projectTime(config, options.now ?? DateTime.utc());
  const summary: SyncSummary = { streams: [], interrupted: false };
  const progress = new SyncProgress(log);
  const shared = new RunMemo();
  const runVersion = time.runStartedAt.toMillis();

  for (const { stream, entry, selection, replication } of planStreams(config, options.catalog, state.currentlySyncing, log)) {
    if (signal.aborted) {
      summary.interrupted = true;
      break;
    }
    const { method, key: replicationKey } = replication;
    if (replication.note) log[replication.note.level](`${stream.name}: ${replication.note.text}`);
    const schema = selection.selectedSchema();
    const keepUnknown = stream.dynamicProperties && config.select_properties_by_default && entry.schema.additionalProperties !== false;
    const filter = makeRecordFilter(schema, entry.schema, keepUnknown);

    state.setCurrentlySyncing(stream.name);
    await writer.writeSchema(stream.name, schema, entry.key_properties ?? stream.keyProperties, replicationKey ? [replicationKey] : undefined);
    const streamProgress = progress.startStream(stream.name);
    const timeExtracted = new Date().toISOString();
    const version = isVersioned(stream, method) ? runVersion : undefined;
    log.info(`${stream.name}: sync started`, { replication: method, ...(version === undefined ? {} : { table_version: version }) });

    for await (const output of guardStream(stream.name, signal, log, stream.sync({
      config,
      client: options.client,
      state,
      log,
      signal,
      time,
      replication: { method, ...(replicationKey ? { key: replicationKey } : {}) },
      progress: (label) => streamProgress.reading(label),
      selectedProperties: new Set(Object.keys(schema.properties ?? {})),
      ...(version === undefined ? {} : { tableVersion: version }),
      shared,
    }), (reason) => streamProgress.skip(reason))) {
      if (output.kind === 'records') {
        for (const record of output.records) await writer.writeRecord(stream.name, filter(record), timeExtracted, version);
        streamProgress.add(output.records.length);
      } else if (output.kind === 'bookmark') {
        state.advance(stream.name, output.bookmark, output.context);
        await writer.writeState(state.snapshot() as unknown as Record<string, unknown>);
      } else {
        state.clear(stream.name);
        if (output.activateVersion && version !== undefined) {
          await writer.writeActivateVersion(stream.name, version);
          await writer.writeState(state.snapshot() as unknown as Record<string, unknown>);
          log.info(`${stream.name}: table version ${version} activated (complete sweep)`);
        }
      }
      if (signal.aborted) {
        summary.interrupted = true;
        break;
      }
    }
    if (signal.aborted) summary.interrupted = true;
    const streamSummary = streamProgress.finish();
    summary.streams.push(streamSummary);
    log.info(`${stream.name}: ${summary.interrupted ? 'interrupted' : 'done'}`, {
      records: streamSummary.records,
      seconds: Number(streamSummary.seconds.toFixed(1)),
      records_per_second: recordsPerSecond(streamSummary.records, streamSummary.seconds),
    });
    if (summary.interrupted) break;
  }
  if (!summary.interrupted) state.setCurrentlySyncing(null);
  await writer.writeState(state.snapshot() as unknown as Record<string, unknown>);
  await writer.flush();
  if (summary.streams.length > 0) progress.logSummary(summary.streams);
  return summary;
}
