/**
 * The loader: a short orchestration of the engine's parts. Messages are read by the dispatcher
 * (dispatcher.ts), one handler per message type; the records of the streams in `stream` go to the
 * member job (members/member-job.ts), which makes batches of them (batcher.ts) and writes them,
 * several at a time; cohort records go to the cohort job (cohorts/cohort-sink.ts). Every unit of
 * work takes a place in one state sequence (sequencer.ts): a state is printed (state-output.ts)
 * only after every unit read before it has finished, and never after one that failed
 * (in-flight.ts watches them). What the input is checked for besides its records (streams that
 * never come, properties nobody declares) is in input-checks.ts.
 *
 * A failure stops the reading, not the writing: what is in flight is finished (its states are
 * true, and half-written batches help nobody); bad input is treated the same way, so records
 * before a bad line are written and the states they cover printed.
 */
import type { Logger } from '../../../log/logger.js';
import type { LineWriter } from '../../../singer/writer.js';
import type { MergeField } from '../api/api.js';
import { ArchiveSink } from '../archive/archive-sink.js';
import type { ArchiveJob } from '../archive/archive-job.js';
import type { Audience } from '../audience/audience.js';
import type { PlanningKnowledge } from '../audience/audience-knowledge.js';
import { CohortSink } from '../cohorts/cohort-sink.js';
import { CohortTagJob } from '../cohorts/cohort-tags.js';
import { configuredStreams, type TargetConfig } from '../config.js';
import { MemberJob } from '../members/member-job.js';
import { MemberSink } from '../members/member-sink.js';
import type { MergeMapping } from '../members/merge-fields.js';
import type { TagRules } from '../members/tags.js';
import type { Suppressions } from '../reports/files.js';
import { Tally, type RowOutcome } from '../reports/outcomes.js';
import type { PlannedWrite } from '../writing/planner.js';
import { applyPlan, type WriteContext } from '../writing/writer.js';
import { defaultTimer } from './batcher.js';
import { dispatchMessages, type StreamSink } from './dispatcher.js';
import { WorkInFlight } from './in-flight.js';
import { InputChecks } from './input-checks.js';
import { SchemaRegistry, validationOptions } from './records.js';
import { StateSequencer } from './sequencer.js';
import { StateOutput } from './state-output.js';

export interface LoaderOptions {
  config: TargetConfig;
  input: AsyncIterable<Buffer | string>;
  output: LineWriter;
  log: Logger;
  signal: AbortSignal;
  audience: Audience;
  knowledge: PlanningKnowledge;
  mergeFields: readonly MergeField[];
  mergeMappings: readonly MergeMapping[];
  tagRules: TagRules;
  suppressions: Suppressions;
  /**
   * Writes a planned batch; the default carries it out against Mailchimp. `dueAt` is set when
   * the batch was closed by time (the input is slow): its writes go out without waiting again.
   */
  write: (plan: readonly PlannedWrite[], dueAt?: number) => Promise<RowOutcome[]>;
  /** Every row's outcome, as soon as it is known (rejects file, digest, logs). */
  onOutcome?: (outcome: RowOutcome) => void;
  /** Batches in flight at once; reading stdin pauses while this many are being written. */
  maxBatchesInFlight: number;
  /**
   * Writes on their way, at most (reading pauses above it), counted in operations: a changed
   * person's merge-field update and tag change are two, a new person one (two with tags). What a
   * run holds in memory follows the writes it waits for, whatever share of the input changed and
   * however many operations each person needs.
   */
  maxWritesInFlight?: number;
  /** Asks the writer to send what it holds if nothing it sent is still on its way (the loader waits for room). */
  flushWrites?: () => void;
  /** Settles the next time the writer has nothing on its way (so a stalled loader can flush again). */
  writesIdle?: () => Promise<void>;
  /** Tells the writer no more input will come: it sends what it holds, and later writes at once. */
  finishWrites?: () => void;
  /** The cohort-to-tag job, when cohort_tags is set: it takes the cohorts and cohort_members streams. */
  cohorts?: CohortTagJob;
  /** archive_missing: who left the configured stream's complete sweep is archived. */
  archive?: ArchiveJob;
  /** Counts outcomes; pass one in to keep the counts when the load fails. */
  tally?: Tally;
  /** For tests: the timer used for flush_interval_seconds. */
  setTimer?: (fn: () => void, ms: number) => { cancel(): void };
}

export interface LoadResult {
  tally: Tally;
  /** The plan of a dry run, in order (empty otherwise). */
  plan: PlannedWrite[];
}

/** The default writer: applyPlan with the run's context. */
export function planWriter(ctx: WriteContext): (plan: readonly PlannedWrite[], dueAt?: number) => Promise<RowOutcome[]> {
  return (plan, dueAt) => applyPlan(plan, dueAt === undefined ? ctx : { ...ctx, dueAt });
}

/** The parts of one load, wired together. */
interface Engine {
  sequencer: StateSequencer;
  output: StateOutput;
  work: WorkInFlight;
  checks: InputChecks;
  members: MemberJob;
  cohorts: CohortSink | undefined;
  sinkFor(stream: string): StreamSink | undefined;
}

function buildEngine(o: LoaderOptions, tally: Tally): Engine {
  const { config } = o;
  const streams = configuredStreams(config);
  const sequencer = new StateSequencer();
  const record = (outcome: RowOutcome): void => {
    tally.add(outcome);
    o.onOutcome?.(outcome);
    o.archive?.observe(outcome);
  };
  // Declared before use by the callbacks below, which run only once reading has started.
  const output: StateOutput = new StateOutput({ output: o.output, sequencer, tally, dryRun: config.dry_run, onError: (err) => work.failWith(err) });
  const work: WorkInFlight = new WorkInFlight({
    sequencer,
    tally,
    log: o.log,
    onSettled: () => output.release(),
    maxUnits: o.maxBatchesInFlight,
    ...(o.maxWritesInFlight !== undefined ? { maxWrites: o.maxWritesInFlight } : {}),
    ...(o.flushWrites ? { flushWrites: o.flushWrites } : {}),
    ...(o.writesIdle ? { writesIdle: o.writesIdle } : {}),
  });
  const checks = new InputChecks({ config, streams, tally, log: o.log, sequencer, released: () => output.release() });
  const schemas = new SchemaRegistry(validationOptions(config));
  const members = new MemberJob({ ...o, record, sequencer, work, setTimer: o.setTimer ?? defaultTimer });
  const memberSink = new MemberSink({ job: members, schemas, checks, tally });
  const peopleSink: StreamSink = o.archive
    ? new ArchiveSink({ inner: memberSink, job: o.archive, stream: [...streams][0] ?? '', sequencer, work, flushMembers: () => members.finish() })
    : memberSink;
  const cohorts = o.cohorts
    ? new CohortSink({ job: o.cohorts, schemas, tally, record, sequencer, work, memberWriteOf: (key) => members.writeOf(key), batchSize: config.batch_size })
    : undefined;
  const sinkFor = (stream: string): StreamSink | undefined => {
    // The cohort job takes its streams even when "stream" names them too.
    if (cohorts && CohortTagJob.handles(stream)) return cohorts;
    return streams.has(stream) ? peopleSink : undefined;
  };
  return { sequencer, output, work, checks, members, cohorts, sinkFor };
}

export async function loadMembers(options: LoaderOptions): Promise<LoadResult> {
  const { log, signal } = options;
  const tally = options.tally ?? new Tally();
  const e = buildEngine(options, tally);
  let inputError: unknown = null;
  try {
    await dispatchMessages({
      input: options.input,
      log,
      signal,
      sinkFor: e.sinkFor,
      ignored: (stream, kind) => e.checks.ignored(stream, kind),
      state: (message) => {
        // An open cohort unit closes: the state needs its writes done, not more records.
        e.cohorts?.closeUnit();
        e.sequencer.state(message.text ?? JSON.stringify(message.value));
        e.output.release();
      },
      afterRecord: () => e.work.waitForRoom(),
      stopped: () => e.work.fatal !== null,
    });
    if (!signal.aborted && e.work.fatal === null) e.checks.finish(e.cohorts?.fed === true);
  } catch (err) {
    // Stopping on a signal may end stdin abruptly; anything else is bad input (or a setting that
    // matches nothing in it).
    if (!signal.aborted) inputError = err;
  }
  if (inputError === null) e.checks.reportHeld();
  if (signal.aborted && e.work.fatal === null) log.info('stopping: writing what was read, then printing the state that covers it');
  // Cohort writes already started are waited for like the batches in flight, either way.
  e.cohorts?.closeUnit();
  if (e.work.fatal === null) e.members.finish();
  else e.members.abandon();
  options.finishWrites?.();
  await e.work.drain();
  await e.output.settled();
  if (inputError) throw inputError;
  if (e.work.fatal) throw e.work.fatal;
  return { tally, plan: e.members.dryPlan };
}
