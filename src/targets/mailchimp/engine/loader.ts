/**
 * The loader: reads Singer messages, turns records of the configured streams into desired
 * members, and writes them in batches, several batches in flight at once.
 *
 * State: each STATE message is held until every batch holding records read before it has been
 * written (confirmed by Mailchimp, or rejected into the rejects file); then the latest such state
 * is printed. A batch that fails for good stops the run: no state after it is ever printed.
 *
 * Order: a batch is planned against the audience only after every earlier batch holding one of
 * its people has finished, so two records for the same person never race.
 *
 * Knowledge: before a batch is planned, AudienceKnowledge makes sure the audience is known for its
 * people (lookups, or a whole read). Until that choice is made the loader reads ahead, holding
 * closed batches, so a large input is counted before anyone is looked up: once the held people
 * would cost more lookups than reading the whole audience, it is read; when the input ends first
 * (or a held batch has waited flush_interval_seconds), the held batches are planned with lookups.
 */
import type { Logger } from '../../../log/logger.js';
import type { JsonObject, SingerMessage } from '../../../singer/messages.js';
import { readMessages, type MessageOrigin } from '../../../singer/reader.js';
import type { LineWriter } from '../../../singer/writer.js';
import { awaitedLater } from '../../../util/settle.js';
import type { MergeField } from '../api/api.js';
import type { Audience } from '../audience/audience.js';
import type { PlanningKnowledge } from '../audience/audience-knowledge.js';
import { CohortTagJob, COHORT_MEMBERS_STREAM, COHORTS_STREAM } from '../cohorts/cohort-tags.js';
import { configuredStreams, type TargetConfig } from '../config.js';
import type { Suppressions } from '../reports/files.js';
import { DEFAULT_EMAIL_PROPERTIES, findEmail, mailchimpAddress, normaliseEmail } from '../members/members.js';
import { desiredMergeFields, type MergeMapping } from '../members/merge-fields.js';
import { REASONS, rowKey, Tally, type RowOutcome, type RowSource } from '../reports/outcomes.js';
import { MappedPropertyCheck, mappedProperties } from './mapped-properties.js';
import { desiredMemberKey, planMemberWrites, type DesiredMember, type PlannedWrite } from '../writing/planner.js';
import { StreamPresence } from './stream-presence.js';
import { SchemaRegistry, validationOptions } from './records.js';
import { desiredTags, presentTagProperties, type TagRules } from '../members/tags.js';
import type { WriteContext } from '../writing/writer.js';
import { applyPlan, operationsOf } from '../writing/writer.js';

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

interface Batch {
  id: number;
  members: Map<string, DesiredMember>;
  /** Set when the batch was released by time: its records have waited flush_interval_seconds. */
  dueAt?: number;
}

const defaultTimer = (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

/** The default writer: applyPlan with the run's context. */
export function planWriter(ctx: WriteContext): (plan: readonly PlannedWrite[], dueAt?: number) => Promise<RowOutcome[]> {
  return (plan, dueAt) => applyPlan(plan, dueAt === undefined ? ctx : { ...ctx, dueAt });
}

export async function loadMembers(options: LoaderOptions): Promise<LoadResult> {
  const { config, output, log, signal, audience } = options;
  const streams = configuredStreams(config);
  // A stream name that matches nothing, or a property no SCHEMA has, must not pass in silence.
  const presence = new StreamPresence(streams);
  const mappedCheck = new MappedPropertyCheck(mappedProperties(config));
  const schemas = new SchemaRegistry(validationOptions(config));
  const tally = options.tally ?? new Tally();
  const dryPlan: PlannedWrite[] = [];
  const fieldsByTag = new Map(options.mergeFields.map((f) => [f.tag.toUpperCase(), f]));
  const setTimer = options.setTimer ?? defaultTimer;
  const flushMs = Math.max(0, config.flush_interval_seconds) * 1000;

  const record = (outcome: RowOutcome): void => {
    tally.add(outcome);
    options.onOutcome?.(outcome);
  };

  let nextBatchId = 1;
  let current = null as Batch | null;
  let timer = null as { cancel(): void } | null;
  /** Writes (operations) of the batches in flight that are on their way. */
  let writesInFlight = 0;
  /** Batches being written, by id. */
  const inFlight = new Map<number, Promise<void>>();
  /** Which in-flight batch holds a person (the latest one). */
  const inFlightKeys = new Map<string, Promise<void>>();
  const finished = new Set<number>();
  /** Every batch with an id at or below this has been written. */
  let doneUpTo = 0;
  let fatal = null as unknown;
  /** States received, each with the last batch it waits for. */
  const heldStates: Array<{ text: string; after: number }> = [];
  let releasing: Promise<void> = Promise.resolve();

  const releaseStates = (): void => {
    if (config.dry_run || presence.holdsStates) return;
    let latest: string | undefined;
    while (heldStates.length > 0 && (heldStates[0] as { after: number }).after <= doneUpTo) latest = heldStates.shift()?.text;
    if (latest === undefined) return;
    // The value as received: re-serialising could round a big integer bookmark.
    const line = latest + '\n';
    // A failed write (the reader closed the pipe) stops the run like a failed batch; left in the
    // chain, it would reject with nobody waiting until the end of the input and end the process.
    releasing = releasing
      .then(async () => {
        await output.writeLine(line);
        await output.flush();
        tally.statesEmitted++;
      })
      .catch((err: unknown) => {
        fatal ??= err;
      });
  };

  const finishBatch = (id: number): void => {
    finished.add(id);
    while (finished.has(doneUpTo + 1)) finished.delete(++doneUpTo);
    releaseStates();
  };

  /** `earlier`: the batches in flight that hold some of the same people (the plan must see their writes). */
  const runBatch = async (batch: Batch, earlier: ReadonlySet<Promise<void>>, promise: Promise<void>): Promise<void> => {
    // Until it is planned a batch counts one write per person: batches waiting for a refresh of
    // the audience (or for earlier batches) are writes to come, and reading on past them would
    // let dozens of batches plan at once (measured: 31,000 operations held against 10,000).
    let counted = batch.members.size;
    writesInFlight += counted;
    try {
      await planAndWrite(batch, earlier, promise, (weight) => {
        writesInFlight += weight - counted;
        counted = weight;
      });
    } finally {
      writesInFlight -= counted;
    }
  };

  /** `counted`: told the operations the plan sends, once it is known. */
  const planAndWrite = async (batch: Batch, earlier: ReadonlySet<Promise<void>>, promise: Promise<void>, counted: (weight: number) => void): Promise<void> => {
    if (earlier.size > 0) await Promise.all(earlier);
    if (fatal) return;
    const members = [...batch.members.values()];
    await options.knowledge.prepare(members.map((m) => m.hash));
    const plan = planMemberWrites(members, audience, {
      mode: config.mode,
      mergeFields: options.mergeFields,
      tagRules: options.tagRules,
      suppressions: options.suppressions,
    });
    if (config.dry_run) {
      for (const write of plan) {
        dryPlan.push(write);
        record(plannedOutcome(write));
        if (write.kind === 'create') audience.apply(write.member.hash, { status: config.status_if_new, mergeFields: write.member.mergeFields, tags: write.member.tags });
        if (write.kind === 'update') audience.apply(write.member.hash, { mergeFields: write.mergeFields, tags: write.member.tags });
      }
      return;
    }
    // What needs no call is accounted for now; while the writes wait for Mailchimp the batch holds
    // only the people written (at a million records, the others were a third of the memory held).
    const writes: PlannedWrite[] = [];
    for (const write of plan) {
      if (write.kind === 'create' || write.kind === 'update') writes.push(write);
      else {
        record(plannedOutcome(write));
        batch.members.delete(write.member.key);
        if (inFlightKeys.get(write.member.key) === promise) inFlightKeys.delete(write.member.key);
      }
    }
    plan.length = 0;
    members.length = 0;
    counted(writes.reduce((n, w) => n + operationsOf(w), 0));
    if (writes.length === 0) return;
    for (const outcome of await options.write(writes, batch.dueAt)) record(outcome);
  };

  // A cohort tag for someone a member batch of this run is still writing (creating, most often)
  // waits for that batch: sent before it, the tag would find nobody (404) and the person would be
  // reported as not in the audience although this very run adds them.
  const batchWaiters = new Map<number, { done: Promise<void>; settle: () => void }>();
  const batchWritten = (id: number): Promise<void> => {
    let waiter = batchWaiters.get(id);
    if (!waiter) {
      let settle = (): void => undefined;
      const done = new Promise<void>((resolve) => (settle = resolve));
      batchWaiters.set(id, (waiter = { done, settle }));
    }
    return waiter.done;
  };
  const settleWaiters = (id?: number): void => {
    for (const [waiting, waiter] of batchWaiters) {
      if (id !== undefined && waiting !== id) continue;
      waiter.settle();
      batchWaiters.delete(waiting);
    }
  };
  /** The write of the member batch of this run that holds the person with this key, if any. */
  const memberWriteOf = (key: string): Promise<void> | undefined => {
    if (current?.members.has(key)) {
      // Closed now rather than on size or time: a tag is waiting for it.
      const id = current.id;
      dispatch();
      return batchWritten(id);
    }
    for (let i = held.length - 1; i >= 0; i--) {
      const batch = held[i] as Batch;
      if (batch.members.has(key)) return batchWritten(batch.id);
    }
    return inFlightKeys.get(key);
  };

  const start = (batch: Batch): void => {
    // Kept for the report of a failure: the batch lets go of its people as they are accounted for.
    let firstLine = Number.POSITIVE_INFINITY;
    let lastLine = 0;
    for (const m of batch.members.values()) {
      firstLine = Math.min(firstLine, m.source.line);
      lastLine = Math.max(lastLine, m.source.line);
    }
    const people = batch.members.size;
    const earlier = new Set<Promise<void>>();
    for (const key of batch.members.keys()) {
      const p = inFlightKeys.get(key);
      if (p) earlier.add(p);
    }
    let settle = { ok: (): void => undefined, failed: (_err: unknown): void => undefined };
    const written = new Promise<void>((resolve, reject) => (settle = { ok: resolve, failed: reject }));
    // Settles once the batch is accounted for, whether it was written or failed (it never rejects).
    const promise = written.then(
      () => {
        inFlight.delete(batch.id);
        finishBatch(batch.id);
        settleWaiters(batch.id);
      },
      (err: unknown) => {
        inFlight.delete(batch.id);
        fatal ??= err;
        tally.failedBatch ??= { id: batch.id, what: 'members', firstLine, lastLine, people };
        log.error(`batch ${batch.id} failed: no state after it will be printed`, { members: people });
        settleWaiters(batch.id);
      },
    );
    inFlight.set(batch.id, promise);
    for (const key of batch.members.keys()) inFlightKeys.set(key, promise);
    void promise.then(() => {
      for (const key of batch.members.keys()) if (inFlightKeys.get(key) === promise) inFlightKeys.delete(key);
      batch.members.clear();
    });
    runBatch(batch, earlier, promise).then(settle.ok, settle.failed);
  };


  // Read-ahead until the knowledge mode is chosen: closed batches wait here, in order.
  let readingAhead = !options.knowledge.whole;
  const held: Batch[] = [];
  let heldTimer = null as { cancel(): void } | null;
  const heldPeople = (): number => held.reduce((n, b) => n + b.members.size, 0);
  const releaseHeld = (byTime = false): void => {
    heldTimer?.cancel();
    heldTimer = null;
    for (const batch of held.splice(0)) {
      if (byTime) batch.dueAt = Date.now();
      start(batch);
    }
  };

  const dispatch = (byTime = false): void => {
    timer?.cancel();
    timer = null;
    const batch = current;
    if (!batch || fatal) return;
    current = null;
    if (byTime) batch.dueAt = Date.now();
    if (!readingAhead) return start(batch);
    held.push(batch);
    // A held batch waits at most flush_interval_seconds, like a partial one.
    if (!heldTimer && flushMs > 0) heldTimer = setTimer(() => releaseHeld(true), flushMs);
  };

  /** Called between records: reads the whole audience once the held people make it cheaper. */
  const decideIfDue = async (): Promise<void> => {
    if (!readingAhead) return;
    // The batch still filling counts too: a small audience is cheaper to read than its first batch.
    if (!options.knowledge.wholeReadIsCheaper(heldPeople() + (current?.members.size ?? 0))) return;
    heldTimer?.cancel();
    heldTimer = null;
    // The read is work done for these records, not time they idle: the batch still filling must
    // not be released by its timer in the middle of it (it would be looked up, person by person).
    timer?.cancel();
    timer = null;
    log.info(`more people than ${options.knowledge.lookupLimit} to look up: reading the whole audience instead (${options.knowledge.pages} pages)`);
    await options.knowledge.readWholeAudience();
    readingAhead = false;
    releaseHeld();
    if (current) armBatchTimer();
  };

  /** The input ended (or the run stops): what is held is planned with lookups. */
  const stopReadingAhead = (): void => {
    readingAhead = false;
    releaseHeld();
  };

  /** A batch that waited flush_interval_seconds is written, and whatever was held before it. */
  const armBatchTimer = (): void => {
    if (flushMs > 0) timer = setTimer(() => (dispatch(true), releaseHeld(true)), flushMs);
  };

  const addMember = (member: DesiredMember): void => {
    if (!current) {
      current = { id: nextBatchId++, members: new Map() };
      armBatchTimer();
    }
    const previous = current.members.get(member.key);
    if (previous) {
      // The last record for a person wins; the earlier one is accounted for as superseded.
      current.members.delete(member.key);
      record({ outcome: 'skipped', source: previous.source, email: previous.email, reason: REASONS.superseded });
    }
    current.members.set(member.key, member);
    if (current.members.size >= config.batch_size) dispatch();
  };

  const toMember = (data: JsonObject, source: RowSource): DesiredMember | undefined => {
    const raw = normaliseEmail(findEmail(data, config.email_property));
    if (raw === undefined) {
      record({ outcome: 'rejected', source, reason: REASONS.noEmail, ...(config.email_property ? { field: config.email_property } : {}) });
      return undefined;
    }
    const address = mailchimpAddress(raw);
    if (!address.ok) {
      record({ outcome: 'rejected', source, email: raw, reason: address.reason, detail: address.detail });
      return undefined;
    }
    const email = address.email;
    const merge = desiredMergeFields(data, options.mergeMappings, fieldsByTag);
    return { ...desiredMemberKey(email), email, mergeFields: merge.values, mergeProblems: merge.problems, tags: desiredTags(data, options.tagRules), tagProperties: presentTagProperties(data, options.tagRules), source };
  };

  // Cohort records are written by the cohort job; their writes are grouped in units that take a
  // place in the same sequence as member batches, so a state waits for them like for a batch.
  let cohortUnit = null as { id: number; writes: Array<Promise<void>>; firstLine: number; lastLine: number } | null;
  const closeCohortUnit = (): void => {
    const unit = cohortUnit;
    if (!unit) return;
    cohortUnit = null;
    const promise = Promise.all(unit.writes).then(
      () => {
        inFlight.delete(unit.id);
        finishBatch(unit.id);
      },
      (err: unknown) => {
        inFlight.delete(unit.id);
        fatal ??= err;
        tally.failedBatch ??= { id: unit.id, what: 'cohort tags', firstLine: unit.firstLine, lastLine: unit.lastLine, people: unit.writes.length };
        log.error(`batch ${unit.id} (cohort tags) failed: no state after it will be printed`);
      },
    );
    inFlight.set(unit.id, promise);
  };
  const addCohortWrite = (write: Promise<void>, line: number): void => {
    cohortUnit ??= { id: nextBatchId++, writes: [], firstLine: line, lastLine: line };
    // Waited for when the unit closes; a failure before that must not go unobserved.
    cohortUnit.writes.push(awaitedLater(write));
    cohortUnit.lastLine = line;
    if (cohortUnit.writes.length >= config.batch_size) closeCohortUnit();
  };
  const cohortRow = (row: RowOutcome): void => record(row);

  // A stream whose schema has no email property would have every row rejected: say so at once.
  const warnedNoEmail = new Set<string>();
  const checkEmailProperty = (stream: string, properties: Record<string, unknown>, lineNumber: number): void => {
    const candidates = config.email_property ? [config.email_property] : DEFAULT_EMAIL_PROPERTIES;
    if (candidates.some((p) => p in properties) || warnedNoEmail.has(stream)) return;
    warnedNoEmail.add(stream);
    tally.streamsWithoutEmail.push(stream);
    log.warn(
      config.email_property
        ? `line ${lineNumber}: the SCHEMA of stream "${stream}" has no property "${config.email_property}" (email_property): every record of it will be rejected for having no email; its properties are ${Object.keys(properties).slice(0, 12).join(', ') || 'none'}`
        : `line ${lineNumber}: the SCHEMA of stream "${stream}" has none of the default email properties (${DEFAULT_EMAIL_PROPERTIES.join(', ')}): every record of it will be rejected for having no email unless you set email_property (its properties are ${Object.keys(properties).slice(0, 12).join(', ') || 'none'})`,
    );
  };

  const waitForRoom = async (): Promise<void> => {
    const full = (): boolean => inFlight.size >= options.maxBatchesInFlight || (inFlight.size > 0 && writesInFlight >= (options.maxWritesInFlight ?? Number.POSITIVE_INFINITY));
    while (full() && !fatal) {
      // Batches in flight may be waiting for operations still queued: send them when nothing else will free room.
      options.flushWrites?.();
      await Promise.race([...inFlight.values(), ...(options.writesIdle ? [options.writesIdle()] : [])]);
    }
  };

  const handleCohortMessage = async (message: SingerMessage, lineNumber: number, origin: MessageOrigin): Promise<void> => {
    const job = options.cohorts as CohortTagJob;
    if (message.type === 'SCHEMA') {
      schemas.register(message, lineNumber);
    } else if (message.type === 'RECORD') {
      const keyProperties = schemas.check(message.stream, message.record, origin);
      if (message.stream === COHORTS_STREAM) {
        job.cohort(message.record, message.version);
        return;
      }
      if (!job.chooses(message.record)) {
        tally.ignored++;
        return;
      }
      tally.read++;
      const source: RowSource = { line: lineNumber, ...(origin.batch ? { batch: origin.batch } : {}), stream: message.stream, key: rowKey(keyProperties, message.record), cohort: cohortLabel(message.record) };
      const pending = await job.member(message.record, source, cohortRow, memberWriteOf);
      if (pending) addCohortWrite(pending.written, lineNumber);
      await waitForRoom();
    } else if (message.type === 'ACTIVATE_VERSION') {
      closeCohortUnit();
      if (message.stream === COHORTS_STREAM) await job.cohortsComplete(message.version);
      else if (message.stream === COHORT_MEMBERS_STREAM) {
        const removals = await job.membersComplete(message.version);
        addCohortWrite(removals.written, lineNumber);
      }
      closeCohortUnit();
    }
  };

  /** What only the whole input tells: a configured stream it never had, a mapped property no record had. */
  const endOfInputChecks = (): void => {
    const presenceFound = presence.finish({ otherWorkDone: cohortInput });
    for (const note of presenceFound.notes) log.info(note);
    const warnings = [...presenceFound.warnings, ...mappedCheck.warnings(tally.read)];
    for (const warning of warnings) log.warn(warning);
    tally.warnings.push(...warnings);
    releaseStates();
  };

  /** Whether the input had cohort streams for the cohort job (work other than the configured streams). */
  let cohortInput = false;
  let inputError: unknown = null;
  try {
    for await (const { lineNumber, message, origin } of readMessages(options.input, {
      onUnknown: (type, line) => log.debug('ignoring message', { type, line }),
      readBatch: (stream) => streams.has(stream) || (options.cohorts !== undefined && CohortTagJob.handles(stream)),
    })) {
      if (signal.aborted) break;
      if ('stream' in message && streams.has(message.stream)) {
        const holding = presence.holdsStates;
        presence.seen(message.stream);
        // The states held while it was missing cover records that were not lost after all.
        if (holding) releaseStates();
      }
      if (options.cohorts && 'stream' in message && CohortTagJob.handles(message.stream)) {
        cohortInput = true;
        await handleCohortMessage(message, lineNumber, origin);
        if (fatal || signal.aborted) break;
        continue;
      }
      if (message.type === 'SCHEMA') {
        if (streams.has(message.stream)) {
          schemas.register(message, lineNumber);
          mappedCheck.schema(message.stream, message.schema.properties ?? {}, lineNumber);
          checkEmailProperty(message.stream, message.schema.properties ?? {}, lineNumber);
        }
      } else if (message.type === 'RECORD') {
        if (!streams.has(message.stream)) {
          tally.ignored++;
          presence.ignore(message.stream);
          continue;
        }
        const keyProperties = schemas.check(message.stream, message.record, origin);
        mappedCheck.record(message.record);
        tally.read++;
        const source: RowSource = { line: lineNumber, ...(origin.batch ? { batch: origin.batch } : {}), stream: message.stream, key: rowKey(keyProperties, message.record) };
        const member = toMember(message.record, source);
        if (member) addMember(member);
        await decideIfDue();
        await waitForRoom();
      } else if (message.type === 'STATE') {
        // An open cohort unit closes: the state needs its writes done, not more records.
        closeCohortUnit();
        heldStates.push({ text: message.text ?? JSON.stringify(message.value), after: current ? current.id : nextBatchId - 1 });
        releaseStates();
      } else if (message.type === 'BATCH' && !streams.has(message.stream)) {
        // Its files are not read (readBatch): a stream the target does not load.
        presence.ignore(message.stream, 'batch');
      }
      if (fatal || signal.aborted) break;
    }
    if (!signal.aborted && !fatal) endOfInputChecks();
  } catch (err) {
    // Stopping on a signal may end stdin abruptly; anything else is bad input (or a setting that
    // matches nothing in it).
    if (!signal.aborted) inputError = err;
  }
  if (presence.holdsStates && heldStates.length > 0 && inputError === null) {
    log.warn(`${heldStates.length} states not printed: "stream" names ${[...streams].map((s) => `"${s}"`).join(', ')}, not all of which the input had before it stopped`);
  }
  if (signal.aborted && !fatal) log.info('stopping: writing what was read, then printing the state that covers it');
  // Bad input stops the reading, not the writing: records read before the bad line are written
  // (and the states they cover printed); nothing of the bad line or after it is.
  if (!fatal) {
    dispatch();
    closeCohortUnit();
    stopReadingAhead();
  } else {
    // Cohort writes already started are waited for like the batches in flight.
    closeCohortUnit();
    timer?.cancel();
    heldTimer?.cancel();
    // Held batches were never started: the states after them stay unprinted.
    held.length = 0;
    // Nothing waits for batches that will never be written.
    settleWaiters();
  }
  options.finishWrites?.();
  // Finish what is in flight either way: its states are true, and half-written batches help nobody.
  while (inFlight.size > 0) await Promise.all([...inFlight.values()]);
  await releasing;
  if (inputError) throw inputError;
  if (fatal) throw fatal;
  return { tally, plan: dryPlan };
}

/** A cohort_members record's cohort for the rejects file: `Power users (12)`. */
function cohortLabel(record: JsonObject): string {
  const name = typeof record.cohort_name === 'string' ? record.cohort_name : null;
  return name === null ? `cohort ${String(record.cohort_id ?? '?')}` : `${name} (${String(record.cohort_id ?? '?')})`;
}

/** The outcome a planned write has when nothing is sent (all but create and update; any, in a dry run). */
function plannedOutcome(write: PlannedWrite): RowOutcome {
  const base = { source: write.member.source, email: write.member.email };
  switch (write.kind) {
    case 'create':
      return { ...base, outcome: 'created', mergeFields: write.member.mergeFields };
    case 'update':
      return { ...base, outcome: 'updated' };
    case 'unchanged':
      return { ...base, outcome: 'unchanged' };
    case 'skip':
      return { ...base, outcome: 'skipped', reason: write.reason };
    case 'reject':
      return { ...base, outcome: 'rejected', reason: write.reason, ...(write.field ? { field: write.field } : {}), ...(write.detail ? { detail: write.detail } : {}) };
  }
}
