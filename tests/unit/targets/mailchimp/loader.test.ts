import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../../../../src/log/logger.js';
import { LineWriter } from '../../../../src/singer/writer.js';
import type { MergeField } from '../../../../src/targets/mailchimp/api/api.js';
import { Audience } from '../../../../src/targets/mailchimp/audience/audience.js';
import type { CohortTagJob } from '../../../../src/targets/mailchimp/cohorts/cohort-tags.js';
import type { TargetConfig } from '../../../../src/targets/mailchimp/config.js';
import { Suppressions } from '../../../../src/targets/mailchimp/reports/files.js';
import { loadMembers, type LoaderOptions } from '../../../../src/targets/mailchimp/engine/loader.js';
import { subscriberHash } from '../../../../src/targets/mailchimp/members/members.js';
import { buildMergeMappings } from '../../../../src/targets/mailchimp/members/merge-fields.js';
import { REASONS, type RowOutcome } from '../../../../src/targets/mailchimp/reports/outcomes.js';
import type { PlannedWrite } from '../../../../src/targets/mailchimp/writing/planner.js';
import { capturingLogger } from '../../helpers/capture-log.js';

const FIELDS: MergeField[] = [
  { merge_id: 1, tag: 'FNAME', name: 'First Name', type: 'text', required: false },
  { merge_id: 2, tag: 'LNAME', name: 'Last Name', type: 'text', required: false },
];

/** Knowledge of an audience the test filled in: nothing to look up or read. */
const known = (audience: Audience) => {
  audience.complete = true;
  return { whole: true, pages: 1, lookupLimit: Number.POSITIVE_INFINITY, wholeReadIsCheaper: () => false, readWholeAudience: async () => undefined, prepare: async () => undefined };
};

const CONFIG: TargetConfig = {
  api_key: 'k-us6',
  list_id: 'L1',
  status_if_new: 'pending',
  stream: ['engage'],
  merge_fields: {},
  tags: [],
  tag_properties: [],
  mode: 'upsert',
  cohort_tags: [],
  cohort_tag_prefix: 'Mixpanel: ',
  cohort_tag_names: {},
  cohort_add_missing: false,
  cohort_tag_automations: false,
  cohort_clear_deleted: false,
  max_concurrency: 5,
  batch_size: 2,
  bulk_threshold: 10,
  bulk_batch_size: 5000,
  flush_interval_seconds: 0,
  dry_run: false,
  request_timeout: 120,
};

const SCHEMA = { type: 'SCHEMA', stream: 'engage', key_properties: ['distinct_id'], schema: { type: 'object', properties: { distinct_id: { type: 'string' } } } };
const rec = (id: string, email: string | null, first = 'Ada') => ({ type: 'RECORD', stream: 'engage', record: { distinct_id: id, mp_reserved_email: email, mp_reserved_first_name: first } });
const state = (n: number) => ({ type: 'STATE', value: { n } });

/** A stdin the test feeds line by line, and can leave open. */
class Feed implements AsyncIterable<string> {
  private queue: Array<string | null> = [];
  private wake: (() => void) | null = null;

  push(...messages: unknown[]): void {
    for (const m of messages) this.queue.push(JSON.stringify(m) + '\n');
    this.wake?.();
  }

  end(): void {
    this.queue.push(null);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      const next = this.queue.shift();
      if (next === null) return;
      if (next !== undefined) yield next;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/** Collects stdout lines; `waitFor(n)` resolves once n lines were printed. */
class Stdout {
  lines: string[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  readonly writer = new LineWriter(
    new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line !== '') this.lines.push(line);
        this.waiters = this.waiters.filter((w) => (this.lines.length >= w.n ? (w.resolve(), false) : true));
        done();
      },
    }),
  );

  waitFor(n: number): Promise<void> {
    return this.lines.length >= n ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}

/** A writer whose batches finish when the test says so. */
class ControlledWriter {
  batches: Array<{ plan: readonly PlannedWrite[]; dueAt?: number; finish: (fail?: Error) => void }> = [];
  private arrived: Array<() => void> = [];

  readonly write = (plan: readonly PlannedWrite[], dueAt?: number): Promise<RowOutcome[]> =>
    new Promise((resolve, reject) => {
      this.batches.push({
        plan,
        ...(dueAt === undefined ? {} : { dueAt }),
        finish: (fail) => (fail ? reject(fail) : resolve(plan.map((w) => ({ outcome: w.kind === 'create' ? 'created' : 'unchanged', source: w.member.source, email: w.member.email })))),
      });
      for (const wake of this.arrived.splice(0)) wake();
    });

  async batch(i: number): Promise<{ plan: readonly PlannedWrite[]; dueAt?: number; finish: (fail?: Error) => void }> {
    while (this.batches.length <= i) await new Promise<void>((resolve) => this.arrived.push(resolve));
    return this.batches[i] as { plan: readonly PlannedWrite[]; dueAt?: number; finish: (fail?: Error) => void };
  }
}

function options(input: AsyncIterable<string>, stdout: Stdout, write: LoaderOptions['write'], extra: Partial<Omit<LoaderOptions, 'config'>> & { config?: Partial<TargetConfig> } = {}): LoaderOptions {
  const { config: overrides, ...rest } = extra;
  const config = { ...CONFIG, ...overrides };
  const { mappings } = buildMergeMappings(config, FIELDS);
  const audience = rest.audience ?? new Audience(FIELDS);
  return {
    input,
    output: stdout.writer,
    log: createLogger('test'),
    signal: new AbortController().signal,
    audience,
    knowledge: known(audience),
    mergeFields: FIELDS,
    mergeMappings: mappings,
    tagRules: { staticTags: [], properties: [] },
    suppressions: new Suppressions(),
    write,
    maxBatchesInFlight: 3,
    ...rest,
    config,
  };
}

describe('loadMembers: states wait for the writes before them', () => {
  it('holds a state until every batch read before it is written, even when a later batch finishes first', async () => {
    const feed = new Feed();
    const stdout = new Stdout();
    const writer = new ControlledWriter();
    const run = loadMembers(options(feed, stdout, writer.write));
    feed.push(SCHEMA, rec('1', 'a@acme.io'), rec('2', 'b@acme.io'), state(1), rec('3', 'c@acme.io'), rec('4', 'd@acme.io'), state(2));
    const first = await writer.batch(0);
    const second = await writer.batch(1);
    second.finish();
    // Batch 2 is done but batch 1 is not: nothing may be printed yet. End the input so the run
    // drains; if a state were printed early it would be in stdout before batch 1 finishes.
    feed.end();
    await new Promise((resolve) => setImmediate(resolve));
    expect(stdout.lines).toEqual([]);
    first.finish();
    const { tally } = await run;
    // Only the latest state that is covered is printed.
    expect(stdout.lines).toEqual([JSON.stringify({ n: 2 })]);
    expect(tally.created).toBe(4);
  });

  it('prints a state at once when nothing is pending, and never one it did not receive', async () => {
    const feed = new Feed();
    const stdout = new Stdout();
    const writer = new ControlledWriter();
    const run = loadMembers(options(feed, stdout, writer.write));
    feed.push(SCHEMA, state(1));
    await stdout.waitFor(1);
    expect(stdout.lines).toEqual([JSON.stringify({ n: 1 })]);
    feed.push(rec('1', 'a@acme.io'));
    feed.end();
    (await writer.batch(0)).finish();
    await run;
    expect(stdout.lines).toEqual([JSON.stringify({ n: 1 })]);
  });

  it('a failed batch stops the run and no state after it is printed', async () => {
    const feed = new Feed();
    const stdout = new Stdout();
    const writer = new ControlledWriter();
    const run = loadMembers(options(feed, stdout, writer.write));
    feed.push(SCHEMA, rec('1', 'a@acme.io'), rec('2', 'b@acme.io'), state(1), rec('3', 'c@acme.io'), rec('4', 'd@acme.io'), state(2));
    feed.end();
    (await writer.batch(1)).finish();
    (await writer.batch(0)).finish(new Error('Mailchimp is down'));
    await expect(run).rejects.toThrow('Mailchimp is down');
    expect(stdout.lines).toEqual([]);
  });

  it('flushes a partial batch after flush_interval_seconds so a quiet input still releases its state', async () => {
    const feed = new Feed();
    const stdout = new Stdout();
    const writer = new ControlledWriter();
    let fire: (() => void) | undefined;
    const run = loadMembers(
      options(feed, stdout, writer.write, {
        config: { batch_size: 500, flush_interval_seconds: 10 },
        setTimer: (fn) => {
          fire = fn;
          return { cancel: () => (fire = undefined) };
        },
      }),
    );
    feed.push(SCHEMA, rec('1', 'a@acme.io'), state(7));
    while (!fire) await new Promise((resolve) => setImmediate(resolve));
    const before = Date.now();
    fire();
    const batch = await writer.batch(0);
    // Released by time: its writes are due now, not held again to fill a Mailchimp call.
    expect(batch.dueAt).toBeGreaterThanOrEqual(before);
    expect(batch.dueAt).toBeLessThanOrEqual(Date.now());
    batch.finish();
    await stdout.waitFor(1);
    expect(stdout.lines).toEqual([JSON.stringify({ n: 7 })]);
    feed.end();
    await run;
  });

  it('a batch closed by its size carries no deadline: its writes may wait to fill a call', async () => {
    const feed = new Feed();
    const stdout = new Stdout();
    const writer = new ControlledWriter();
    const run = loadMembers(options(feed, stdout, writer.write, { config: { batch_size: 2, flush_interval_seconds: 10 }, setTimer: () => ({ cancel: () => undefined }) }));
    feed.push(SCHEMA, rec('1', 'a@acme.io'), rec('2', 'b@acme.io'));
    const batch = await writer.batch(0);
    expect(batch.plan).toHaveLength(2);
    expect(batch.dueAt).toBeUndefined();
    batch.finish();
    feed.end();
    await run;
  });

  it('on a stop signal it writes what was read, prints the covering state and returns', async () => {
    const feed = new Feed();
    const stdout = new Stdout();
    const writer = new ControlledWriter();
    const controller = new AbortController();
    const run = loadMembers(options(feed, stdout, writer.write, { signal: controller.signal, config: { batch_size: 500 } }));
    feed.push(SCHEMA, rec('1', 'a@acme.io'), state(3));
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    feed.push(rec('2', 'late@acme.io'));
    (await writer.batch(0)).finish();
    const { tally } = await run;
    expect(writer.batches).toHaveLength(1);
    expect(writer.batches[0]?.plan.map((w) => w.member.email)).toEqual(['a@acme.io']);
    expect(stdout.lines).toEqual([JSON.stringify({ n: 3 })]);
    expect(tally.read).toBe(tally.accounted);
  });
});

describe('loadMembers: every record gets one outcome', () => {
  it('last record for a person wins within a batch; the earlier one is counted as superseded', async () => {
    const feed = new Feed();
    const stdout = new Stdout();
    const writer = new ControlledWriter();
    const outcomes: RowOutcome[] = [];
    const run = loadMembers(options(feed, stdout, writer.write, { config: { batch_size: 10 }, onOutcome: (o) => outcomes.push(o) }));
    feed.push(SCHEMA, rec('1', 'Ana@Acme.io', 'Old'), rec('2', ' ana@acme.io ', 'New'), rec('3', null), rec('4', 'not-an-email'));
    feed.end();
    (await writer.batch(0)).finish();
    const { tally } = await run;
    expect(writer.batches[0]?.plan.map((w) => [w.member.email, w.member.mergeFields.FNAME])).toEqual([['ana@acme.io', 'New']]);
    expect(tally.read).toBe(4);
    expect(tally.accounted).toBe(4);
    expect(tally.skipped).toEqual({ [REASONS.superseded]: 1 });
    expect(tally.rejected).toEqual({ [REASONS.noEmail]: 1, [REASONS.invalidEmail]: 1 });
    expect(outcomes.find((o) => o.reason === REASONS.superseded)?.source.line).toBe(2);
  });

  it('a person in two batches: the second is planned only after the first is written', async () => {
    const feed = new Feed();
    const stdout = new Stdout();
    const writer = new ControlledWriter();
    const audience = new Audience(FIELDS);
    const write = async (plan: readonly PlannedWrite[]): Promise<RowOutcome[]> => {
      const outcomes = await writer.write(plan);
      for (const w of plan) if (w.kind === 'create') audience.apply(w.member.hash, { status: 'pending', mergeFields: w.member.mergeFields });
      return outcomes;
    };
    const outcomes: RowOutcome[] = [];
    const run = loadMembers(options(feed, stdout, write, { audience, onOutcome: (o) => outcomes.push(o) }));
    feed.push(SCHEMA, rec('1', 'a@acme.io'), rec('2', 'b@acme.io'), rec('3', 'a@acme.io'), rec('4', 'c@acme.io'));
    feed.end();
    const first = await writer.batch(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.batches).toHaveLength(1);
    expect(outcomes).toEqual([]);
    first.finish();
    const second = await writer.batch(1);
    // Planned after the first batch's create: a@ is unchanged now, accounted for without a write.
    expect(second.plan.map((w) => [w.member.email, w.kind])).toEqual([['c@acme.io', 'create']]);
    expect(outcomes.filter((o) => o.source.line === 4).map((o) => [o.email, o.outcome])).toEqual([['a@acme.io', 'unchanged']]);
    second.finish();
    await run;
  });

  it('dry run: plans against the audience, writes nothing, prints no state', async () => {
    const feed = new Feed();
    const stdout = new Stdout();
    const audience = new Audience(FIELDS);
    audience.apply(subscriberHash('gone@acme.io'), { status: 'unsubscribed', mergeFields: { FNAME: 'Ada' } });
    audience.apply(subscriberHash('same@acme.io'), { status: 'subscribed', mergeFields: { FNAME: 'Ada' } });
    audience.apply(subscriberHash('moved@acme.io'), { status: 'subscribed', mergeFields: { FNAME: 'Bob' } });
    const write = (): Promise<RowOutcome[]> => Promise.reject(new Error('a dry run must not write'));
    feed.push(SCHEMA, rec('1', 'new@acme.io'), rec('2', 'gone@acme.io'), rec('3', 'same@acme.io'), rec('4', 'moved@acme.io'), state(1));
    feed.end();
    const { tally, plan } = await loadMembers(options(feed, stdout, write, { audience, config: { dry_run: true } }));
    expect(plan.map((w) => w.kind)).toEqual(['create', 'skip', 'unchanged', 'update']);
    expect(tally).toMatchObject({ read: 4, created: 1, updated: 1, unchanged: 1, skipped: { [REASONS.unsubscribed]: 1 } });
    expect(stdout.lines).toEqual([]);
  });
});

describe('loadMembers: a stream without an email property', () => {
  const noEmailSchema = { type: 'SCHEMA', stream: 'engage', key_properties: ['distinct_id'], schema: { type: 'object', properties: { distinct_id: { type: 'string' }, name: { type: 'string' } } } };

  it.each<[string, Partial<TargetConfig>, RegExp]>([
    ['the default properties', {}, /none of the default email properties \(mp_reserved_email, \$email, email\).*set email_property/],
    ['email_property', { email_property: 'work_email' }, /no property "work_email" \(email_property\)/],
  ])('is named at its first SCHEMA (%s) and counted, not left to reject every row in silence', async (_what, config, warning) => {
    const feed = new Feed();
    const stdout = new Stdout();
    const log = capturingLogger();
    const writer = new ControlledWriter();
    feed.push(noEmailSchema, noEmailSchema, { type: 'RECORD', stream: 'engage', record: { distinct_id: 'u1', name: 'Ada' } });
    feed.end();
    const { tally } = await loadMembers(options(feed, stdout, writer.write, { log, config }));
    const warnings = log.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/^line 1: the SCHEMA of stream "engage"/);
    expect(warnings[0]?.message).toMatch(warning);
    expect(tally.streamsWithoutEmail).toEqual(['engage']);
    expect(tally.rejected).toEqual({ [REASONS.noEmail]: 1 });
  });

  it('says nothing when the schema has the property', async () => {
    const feed = new Feed();
    const log = capturingLogger();
    feed.push({ ...SCHEMA, schema: { type: 'object', properties: { distinct_id: { type: 'string' }, mp_reserved_email: { type: 'string' } } } });
    feed.end();
    const { tally } = await loadMembers(options(feed, new Stdout(), new ControlledWriter().write, { log }));
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(tally.streamsWithoutEmail).toEqual([]);
  });
});

describe('loadMembers: reading ahead until the knowledge is chosen', () => {
  /** Knowledge that counts what it is asked: a whole read is cheaper past `limit` people. */
  function countingKnowledge(limit: number) {
    const calls: string[] = [];
    let whole = false;
    return {
      calls,
      knowledge: {
        get whole() {
          return whole;
        },
        pages: 1,
        lookupLimit: limit,
        wholeReadIsCheaper: (more: number) => !whole && more > limit,
        readWholeAudience: async () => {
          calls.push('whole read');
          whole = true;
        },
        prepare: async (hashes: readonly string[]) => {
          calls.push(whole ? 'plan (whole)' : `lookups ${hashes.length}`);
        },
      },
    };
  }

  it('people of the batch still filling count: past the limit the audience is read whole before anyone is looked up', async () => {
    const feed = new Feed();
    const { calls, knowledge } = countingKnowledge(2);
    const writer = new ControlledWriter();
    const run = loadMembers(options(feed, new Stdout(), writer.write, { knowledge, config: { batch_size: 10 } }));
    feed.push(SCHEMA, rec('1', 'a@acme.io'), rec('2', 'b@acme.io'), rec('3', 'c@acme.io'));
    feed.end();
    (await writer.batch(0)).finish();
    await run;
    expect(calls).toEqual(['whole read', 'plan (whole)']);
  });

  it('the batch still filling is not released by its timer while the whole audience is being read', async () => {
    const feed = new Feed();
    const { calls, knowledge } = countingKnowledge(2);
    let readDone = (): void => undefined;
    const reading = new Promise<void>((resolve) => (readDone = resolve));
    let readStarted = (): void => undefined;
    const started = new Promise<void>((resolve) => (readStarted = resolve));
    const slowRead = {
      ...knowledge,
      get whole() {
        return knowledge.whole;
      },
      readWholeAudience: async () => {
        readStarted();
        await reading;
        await knowledge.readWholeAudience();
      },
    };
    const timers = new Set<() => void>();
    const writer = new ControlledWriter();
    const run = loadMembers(
      options(feed, new Stdout(), writer.write, {
        knowledge: slowRead,
        config: { batch_size: 10, flush_interval_seconds: 10 },
        setTimer: (fn) => {
          timers.add(fn);
          return { cancel: () => timers.delete(fn) };
        },
      }),
    );
    feed.push(SCHEMA, rec('1', 'a@acme.io'), rec('2', 'b@acme.io'), rec('3', 'c@acme.io'));
    await started;
    // Every timer still armed fires now, as if the read took longer than flush_interval_seconds.
    for (const fire of [...timers]) fire();
    expect(calls).toEqual([]);
    readDone();
    feed.end();
    (await writer.batch(0)).finish();
    await run;
    expect(calls).toEqual(['whole read', 'plan (whole)']);
  });

  it('a small input that ends first is looked up', async () => {
    const feed = new Feed();
    const { calls, knowledge } = countingKnowledge(5);
    const writer = new ControlledWriter();
    const run = loadMembers(options(feed, new Stdout(), writer.write, { knowledge, config: { batch_size: 2 } }));
    feed.push(SCHEMA, rec('1', 'a@acme.io'), rec('2', 'b@acme.io'), rec('3', 'c@acme.io'));
    feed.end();
    (await writer.batch(0)).finish();
    (await writer.batch(1)).finish();
    await run;
    expect(calls).toEqual(['lookups 2', 'lookups 1']);
  });
});

describe('loadMembers: writes on their way are counted in operations', () => {
  const TAGGED = { staticTags: [], properties: ['plan'] };
  const planned = (id: string, plan: string) => ({ type: 'RECORD', stream: 'engage', record: { distinct_id: id, mp_reserved_email: `p${id}@acme.io`, mp_reserved_first_name: `New ${id}`, plan } });

  /** An audience where p1..p6 exist with another first name and plan:free. */
  function audienceOfSix(): Audience {
    const audience = new Audience(FIELDS, TAGGED);
    for (let i = 1; i <= 6; i++) audience.remember({ email_address: `p${i}@acme.io`, status: 'subscribed', merge_fields: { FNAME: 'Old' }, tags: [{ name: 'plan:free' }] });
    return audience;
  }

  async function batchesOutAtOnce(plan: string): Promise<number> {
    const feed = new Feed();
    const stdout = new Stdout();
    const writer = new ControlledWriter();
    const run = loadMembers(options(feed, stdout, writer.write, { audience: audienceOfSix(), tagRules: TAGGED, maxBatchesInFlight: 10, maxWritesInFlight: 4, config: { tag_properties: ['plan'] } }));
    feed.push(SCHEMA, ...[1, 2, 3, 4, 5, 6].map((i) => planned(String(i), plan)));
    feed.end();
    const first = await writer.batch(0);
    // Let the loader read on as far as the limit allows.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    const out = writer.batches.length;
    first.finish();
    for (let i = 1; i < 3; i++) (await writer.batch(i)).finish();
    await run;
    return out;
  }

  it('two people whose name and plan changed are four operations: the next batch waits for them', async () => {
    expect(await batchesOutAtOnce('pro')).toBe(1);
  });

  it('two people whose name alone changed are two operations: the next batch goes out beside them', async () => {
    expect(await batchesOutAtOnce('free')).toBe(2);
  });
});

describe('loadMembers: batches still waiting to be planned count as writes to come', () => {
  it('while the knowledge is being refreshed, reading stops at the limit instead of starting every batch it may hold', async () => {
    const feed = new Feed();
    const stdout = new Stdout();
    const writer = new ControlledWriter();
    const audience = new Audience(FIELDS);
    let prepared = 0;
    let release = (): void => undefined;
    const refreshed = new Promise<void>((resolve) => (release = resolve));
    const knowledge = { ...known(audience), prepare: async () => { prepared++; await refreshed; } };
    const run = loadMembers(options(feed, stdout, writer.write, { audience, knowledge, maxBatchesInFlight: 50, maxWritesInFlight: 4 }));
    feed.push(SCHEMA, ...Array.from({ length: 20 }, (_, i) => rec(String(i), `p${i}@acme.io`)));
    feed.end();
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    // Two batches of two people are four writes to come: the third is not read into a batch yet.
    expect(prepared).toBe(2);
    release();
    for (let i = 0; i < 10; i++) (await writer.batch(i)).finish();
    const { tally } = await run;
    expect(tally.created).toBe(20);
  });
});

// A failure the loader is told of later than it happens must still be observed when it happens:
// jest fails the running test on any unhandled rejection (its own process listener), as a real
// run would end on one (exit 1, no summary, no alert).
describe('loadMembers: failures nobody waits for yet', () => {
  const written = async (plan: readonly PlannedWrite[]): Promise<RowOutcome[]> => plan.map((w) => ({ outcome: 'created', source: w.member.source, email: w.member.email }));

  it('the program reading stdout goes away: the run stops with that error', async () => {
    const feed = new Feed();
    const gone = new Writable({ write: (_chunk, _enc, done) => done() });
    const output = new LineWriter(gone);
    gone.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await new Promise((resolve) => setImmediate(resolve));
    const run = loadMembers({ ...options(feed, new Stdout(), written), output });
    feed.push(SCHEMA, state(1));
    // The state's write has failed by now; more input comes only later.
    await new Promise((resolve) => setImmediate(resolve));
    feed.push(rec('1', 'a@acme.io'), rec('2', 'b@acme.io'), state(2));
    feed.end();
    await expect(run).rejects.toThrow('the program reading our output closed the pipe');
  });

  /** A cohort job whose tag writes fail when the test says so; the loader sees only what it asks for. */
  function failingCohortJob(): { job: CohortTagJob; fail: (err: Error) => void } {
    let fail = (_err: Error): void => undefined;
    const failed = new Promise<void>((_resolve, reject) => (fail = reject));
    const job = {
      cohort: () => undefined,
      chooses: () => true,
      member: async () => ({ written: failed }),
      cohortsComplete: async () => undefined,
      membersComplete: async () => ({ written: Promise.resolve() }),
    } as unknown as CohortTagJob;
    return { job, fail };
  }
  const MEMBERS_SCHEMA = { type: 'SCHEMA', stream: 'cohort_members', key_properties: ['cohort_id', 'distinct_id'], schema: { type: 'object', properties: { cohort_id: { type: 'integer' }, distinct_id: { type: 'string' } } } };
  const cohortMember = (id: string) => ({ type: 'RECORD', stream: 'cohort_members', record: { cohort_id: 1, distinct_id: id, mp_reserved_email: `${id}@acme.io` } });

  it('a cohort tag write fails before its group of writes is closed: the run stops with it, and no state after it is printed', async () => {
    const feed = new Feed();
    const stdout = new Stdout();
    const { job, fail } = failingCohortJob();
    const run = loadMembers(options(feed, stdout, written, { cohorts: job, config: { batch_size: 10 } }));
    feed.push(MEMBERS_SCHEMA, state(1), cohortMember('c1'));
    await stdout.waitFor(1);
    fail(new Error('tag write failed for good'));
    await new Promise((resolve) => setImmediate(resolve));
    feed.push(state(2));
    feed.end();
    await expect(run).rejects.toThrow('tag write failed for good');
    expect(stdout.lines).toEqual([JSON.stringify({ n: 1 })]);
  });

  it('a member batch fails while cohort tag writes are on their way: those are waited for too', async () => {
    const feed = new Feed();
    const stdout = new Stdout();
    const writer = new ControlledWriter();
    const { job, fail } = failingCohortJob();
    const run = loadMembers(options(feed, stdout, writer.write, { cohorts: job }));
    // The cohort write's group stays open (batch_size 2) while the member batch fails.
    feed.push(SCHEMA, MEMBERS_SCHEMA, cohortMember('c1'), rec('1', 'a@acme.io'), rec('2', 'b@acme.io'));
    (await writer.batch(0)).finish(new Error('Mailchimp is down'));
    feed.push(rec('3', 'c@acme.io'));
    feed.end();
    let ended = false;
    void run.catch(() => undefined).finally(() => (ended = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    fail(new Error('tag write failed for good'));
    await expect(run).rejects.toThrow('Mailchimp is down');
  });
});
