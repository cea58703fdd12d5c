/**
 * The member job: records of the configured streams become people in the audience. Each record
 * becomes a desired member (address, merge fields, tags) or a rejected row; people go into
 * batches (engine/batcher.ts); a batch is planned against what is known of the audience and its
 * writes are sent (writing/). Several batches are in flight at once; a batch is planned only
 * after every earlier batch holding one of its people has finished, so two records for the same
 * person never race.
 */
import type { Logger } from '../../../log/logger.js';
import type { JsonObject } from '../../../singer/messages.js';
import type { MergeField } from '../api/api.js';
import type { Audience } from '../audience/audience.js';
import type { PlanningKnowledge } from '../audience/audience-knowledge.js';
import type { TargetConfig } from '../config.js';
import { MemberBatcher, type Batch, type SetTimer } from '../engine/batcher.js';
import type { WorkInFlight } from '../engine/in-flight.js';
import type { StateSequencer } from '../engine/sequencer.js';
import type { Suppressions } from '../reports/files.js';
import { REASONS, type RowOutcome, type RowSource } from '../reports/outcomes.js';
import { desiredMemberKey, planMemberWrites, type DesiredMember, type PlannedWrite } from '../writing/planner.js';
import { operationsOf } from '../writing/writer.js';
import { findEmail, mailchimpAddress, normaliseEmail } from './members.js';
import { desiredMergeFields, type MergeMapping } from './merge-fields.js';
import { desiredTags, presentTagProperties, type TagRules } from './tags.js';
import { desiredProfile } from './profile.js';

export interface MemberJobOptions {
  config: TargetConfig;
  log: Logger;
  audience: Audience;
  knowledge: PlanningKnowledge;
  mergeFields: readonly MergeField[];
  mergeMappings: readonly MergeMapping[];
  tagRules: TagRules;
  suppressions: Suppressions;
  /** Carries out a planned batch; `dueAt` when it was closed by time. */
  write: (plan: readonly PlannedWrite[], dueAt?: number) => Promise<RowOutcome[]>;
  /** Every row's outcome, as soon as it is known. */
  record: (outcome: RowOutcome) => void;
  sequencer: StateSequencer;
  work: WorkInFlight;
  setTimer: SetTimer;
}

export class MemberJob {
  /** The plan of a dry run, in order. */
  readonly dryPlan: PlannedWrite[] = [];
  private readonly batcher: MemberBatcher;
  private readonly fieldsByTag: ReadonlyMap<string, MergeField>;
  /** Which in-flight batch holds a person (the latest one). */
  private readonly inFlightKeys = new Map<string, Promise<void>>();
  /** Who waits for a batch not started yet (a cohort tag for someone it adds). */
  private readonly waiters = new Map<number, { done: Promise<void>; settle: () => void }>();

  constructor(private readonly o: MemberJobOptions) {
    this.fieldsByTag = new Map(o.mergeFields.map((f) => [f.tag.toUpperCase(), f]));
    this.batcher = new MemberBatcher({
      batchSize: o.config.batch_size,
      flushMs: Math.max(0, o.config.flush_interval_seconds) * 1000,
      setTimer: o.setTimer,
      knowledge: o.knowledge,
      log: o.log,
      openUnit: () => o.sequencer.open(),
      start: (batch) => this.start(batch),
      superseded: (earlier) => o.record({ outcome: 'skipped', source: earlier.source, email: earlier.email, reason: REASONS.superseded }),
      stopped: () => o.work.fatal !== null,
    });
  }

  /** A record of a configured stream. */
  async add(data: JsonObject, source: RowSource): Promise<void> {
    const member = this.toMember(data, source);
    if (member) this.batcher.add(member);
    await this.batcher.decideIfDue();
  }

  /** The end of the input (or a stop): the last batch closes and whatever is held starts. */
  finish(): void {
    this.batcher.finish();
  }

  /** The run failed: batches not started never will be, and nobody waits for them. */
  abandon(): void {
    this.batcher.abandon();
    this.settleWaiters();
  }

  /**
   * The write of this run's member batch that holds the person with this key, if any. A cohort
   * tag for someone a batch is still writing (creating, most often) waits for it: sent before it,
   * the tag would find nobody (404) and the person would be reported as not in the audience
   * although this very run adds them.
   */
  writeOf(key: string): Promise<void> | undefined {
    const unstarted = this.batcher.unstartedHolding(key);
    return unstarted === undefined ? this.inFlightKeys.get(key) : this.written(unstarted);
  }

  private toMember(data: JsonObject, source: RowSource): DesiredMember | undefined {
    const { config } = this.o;
    const raw = normaliseEmail(findEmail(data, config.email_property));
    if (raw === undefined) {
      this.o.record({ outcome: 'rejected', source, reason: REASONS.noEmail, ...(config.email_property ? { field: config.email_property } : {}) });
      return undefined;
    }
    const address = mailchimpAddress(raw);
    if (!address.ok) {
      this.o.record({ outcome: 'rejected', source, email: raw, reason: address.reason, detail: address.detail });
      return undefined;
    }
    const email = address.email;
    const merge = desiredMergeFields(data, this.o.mergeMappings, this.fieldsByTag);
    const tags = this.o.tagRules;
    // Profile values that do not fit reject the row like merge values (each problem names its reason).
    const rules = this.o.audience.profile?.rules;
    const profile = rules ? desiredProfile(data, rules) : undefined;
    const problems = profile ? [...merge.problems, ...profile.problems] : merge.problems;
    return {
      ...desiredMemberKey(email),
      email,
      mergeFields: merge.values,
      mergeProblems: problems,
      tags: desiredTags(data, tags),
      tagProperties: presentTagProperties(data, tags),
      ...(profile ? { profile: profile.values } : {}),
      source,
    };
  }

  /** A closed batch starts: it waits for earlier batches holding its people, then is planned and written. */
  private start(batch: Batch): void {
    // Kept for the report of a failure: the batch lets go of its people as they are accounted for.
    let firstLine = Number.POSITIVE_INFINITY;
    let lastLine = 0;
    const earlier = new Set<Promise<void>>();
    for (const m of batch.members.values()) {
      firstLine = Math.min(firstLine, m.source.line);
      lastLine = Math.max(lastLine, m.source.line);
      const previous = this.inFlightKeys.get(m.key);
      if (previous) earlier.add(previous);
    }
    const people = batch.members.size;
    let settle = { ok: (): void => undefined, failed: (_err: unknown): void => undefined };
    const written = new Promise<void>((resolve, reject) => (settle = { ok: resolve, failed: reject }));
    // Settles once the batch is accounted for, whether it was written or failed (it never rejects).
    const settled = this.o.work.track(batch.id, written, () => ({ what: 'members', firstLine, lastLine, people }));
    for (const key of batch.members.keys()) this.inFlightKeys.set(key, settled);
    void settled.then(() => {
      this.settleWaiters(batch.id);
      for (const key of batch.members.keys()) if (this.inFlightKeys.get(key) === settled) this.inFlightKeys.delete(key);
      batch.members.clear();
    });
    this.run(batch, earlier, settled).then(settle.ok, settle.failed);
  }

  /**
   * Until it is planned a batch counts one write per person: batches waiting for a refresh of
   * the audience (or for earlier batches) are writes to come, and reading on past them would let
   * dozens of batches plan at once (measured: 31,000 operations held against 10,000).
   */
  private async run(batch: Batch, earlier: ReadonlySet<Promise<void>>, settled: Promise<void>): Promise<void> {
    const work = this.o.work;
    let counted = batch.members.size;
    work.writes += counted;
    try {
      await this.planAndWrite(batch, earlier, settled, (weight) => {
        work.writes += weight - counted;
        counted = weight;
      });
    } finally {
      work.writes -= counted;
    }
  }

  /** `counted`: told the operations the plan sends, once it is known. */
  private async planAndWrite(batch: Batch, earlier: ReadonlySet<Promise<void>>, settled: Promise<void>, counted: (weight: number) => void): Promise<void> {
    if (earlier.size > 0) await Promise.all(earlier);
    if (this.o.work.fatal) return;
    const { config, audience } = this.o;
    const members = [...batch.members.values()];
    await this.o.knowledge.prepare(members.map((m) => m.hash));
    const plan = planMemberWrites(members, audience, { mode: config.mode, mergeFields: this.o.mergeFields, tagRules: this.o.tagRules, suppressions: this.o.suppressions });
    members.length = 0;
    if (config.dry_run) return this.planOnly(plan);
    // What needs no call is accounted for now; while the writes wait for Mailchimp the batch holds
    // only the people written (at a million records, the others were a third of the memory held).
    const writes: PlannedWrite[] = [];
    for (const write of plan) {
      if (write.kind === 'create' || write.kind === 'update') writes.push(write);
      else {
        this.o.record(plannedOutcome(write));
        batch.members.delete(write.member.key);
        if (this.inFlightKeys.get(write.member.key) === settled) this.inFlightKeys.delete(write.member.key);
      }
    }
    plan.length = 0;
    counted(writes.reduce((n, w) => n + operationsOf(w), 0));
    if (writes.length === 0) return;
    for (const outcome of await this.o.write(writes, batch.dueAt)) this.o.record(outcome);
  }

  /** A dry run: the plan is the outcome, and the audience as the writes would leave it. */
  private planOnly(plan: readonly PlannedWrite[]): void {
    const { audience, config } = this.o;
    for (const write of plan) {
      this.dryPlan.push(write);
      this.o.record(plannedOutcome(write));
      if (write.kind === 'create') audience.apply(write.member.hash, { status: config.status_if_new, mergeFields: write.member.mergeFields, tags: write.member.tags, ...(write.member.profile ? { profile: write.member.profile } : {}) });
      if (write.kind === 'update') audience.apply(write.member.hash, { mergeFields: write.mergeFields, tags: write.member.tags, ...(write.profile ? { profile: write.profile } : {}) });
    }
  }

  private written(id: number): Promise<void> {
    let waiter = this.waiters.get(id);
    if (!waiter) {
      let settle = (): void => undefined;
      const done = new Promise<void>((resolve) => (settle = resolve));
      this.waiters.set(id, (waiter = { done, settle }));
    }
    return waiter.done;
  }

  private settleWaiters(id?: number): void {
    for (const [waiting, waiter] of this.waiters) {
      if (id !== undefined && waiting !== id) continue;
      waiter.settle();
      this.waiters.delete(waiting);
    }
  }
}

/** The outcome a planned write has when nothing is sent (all but create and update; any, in a dry run). */
export function plannedOutcome(write: PlannedWrite): RowOutcome {
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
