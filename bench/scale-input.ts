/**
 * Singer input for the audience-scale bench (bench/target-scale.ts), written to files, and what a
 * correct target must make of it. People are the sandbox's generated members (`generatedMember(i)`
 * of the compiled sandbox, seed SEED); "changed" is a different FNAME (and, with plans, a different
 * plan value), "new" an address that is not in the audience.
 *
 *   engage          the stream the tap writes (distinct_id, mp_reserved_email, first and last
 *                   name; `plan` for the tag_properties row), RECORDs, one final STATE;
 *   cohort sweep    the tap's `cohorts` + `cohort_members` shape of docs/cohort-sweeps.md: every
 *                   record with the run's version, ACTIVATE_VERSION after the cohort list and after
 *                   the complete sweep, a STATE after each cohort and a last one without the
 *                   cohort_members bookmark.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const SEED = 42;

/** The part of the sandbox's GeneratedMember the bench reads. */
export interface Generated {
  index: number;
  email: string;
  category: 'subscribed' | 'unsubscribed' | 'unsubscribedCompliance' | 'cleaned' | 'pending' | 'archived';
  mergeFields: { FNAME: string; LNAME: string };
  tags: string[];
}

export type GeneratedMemberOf = (index: number) => Generated;

/** The compiled sandbox's generatedMember for SEED (the bench compiles apart from src/, so it loads dist/). */
export async function loadGeneratedMember(root: string): Promise<GeneratedMemberOf> {
  const data = (await import(pathToFileURL(join(root, 'dist', 'sandbox', 'data.js')).href)) as {
    generatedMember: (index: number, context: { seed: number; referenceMs: number }) => Generated;
  };
  // Addresses, categories, names and tags depend on the seed alone; timestamps are not used here.
  const context = { seed: SEED, referenceMs: Date.UTC(2024, 0, 1) };
  return (index) => data.generatedMember(index, context);
}

/** What a correct target reports for an input: the outcome of every record. */
export interface Expected {
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
}

/** Generated categories the target never writes to (so never tags). */
export const WITHDRAWN = new Set(['unsubscribed', 'unsubscribedCompliance', 'cleaned', 'archived']);

class LineFile {
  private readonly out;

  constructor(file: string) {
    this.out = createWriteStream(file);
  }

  async write(message: unknown): Promise<void> {
    if (!this.out.write(JSON.stringify(message) + '\n')) await new Promise<void>((resolve) => this.out.once('drain', () => resolve()));
  }

  close(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

export const ENGAGE_STATE = { bookmarks: { engage: { replication_key: 'mp_reserved_last_seen', replication_key_value: '2024-06-10T00:00:00.000Z' } } };

function engageSchema(withPlan: boolean): unknown {
  return {
    type: 'SCHEMA',
    stream: 'engage',
    key_properties: ['distinct_id'],
    schema: {
      type: 'object',
      properties: {
        distinct_id: { type: 'string' },
        mp_reserved_email: { type: ['null', 'string'] },
        mp_reserved_first_name: { type: ['null', 'string'] },
        mp_reserved_last_name: { type: ['null', 'string'] },
        ...(withPlan ? { plan: { type: ['null', 'string'] } } : {}),
      },
    },
  };
}

/** The plan value a member's tags say (plan:free / plan:pro), or null. */
function planOf(member: Generated): string | null {
  const tag = member.tags.find((t) => t.startsWith('plan:'));
  return tag === undefined ? null : tag.slice('plan:'.length);
}

function changedPlan(plan: string | null): string {
  return plan === 'pro' ? 'free' : 'pro';
}

export interface EngageInput {
  /** Generated members with a record, by index. */
  indices: Iterable<number>;
  /** Whether member i's record changes it (FNAME, and the plan with `plans`). */
  changed: (index: number) => boolean;
  /** New addresses: one after every `newEvery` records, `newCount` in all. */
  newCount: number;
  newEvery: number;
  /** Distinguishes new addresses between inputs (never in the audience before the run). */
  newPrefix: string;
  /** Records carry `plan` (tag_properties: ["plan"]). */
  plans: boolean;
  /** A complete FULL_TABLE sweep, as tap-mixpanel sends one: records carry this version, ACTIVATE_VERSION after the last. */
  version?: number;
}

/** Writes the engage stream; returns what a correct target makes of it. */
export async function writeEngageInput(file: string, memberOf: GeneratedMemberOf, input: EngageInput): Promise<Expected> {
  const out = new LineFile(file);
  const expected: Expected = { created: 0, updated: 0, unchanged: 0, skipped: 0 };
  await out.write(engageSchema(input.plans));
  let written = 0;
  let created = 0;
  const writeNew = async () => {
    const k = created++;
    const record: Record<string, unknown> = {
      distinct_id: `bench-${input.newPrefix}-${k}`,
      mp_reserved_email: `bench.${input.newPrefix}.${k}@example.org`,
      mp_reserved_first_name: 'New',
      mp_reserved_last_name: `Person${k}`,
    };
    if (input.plans) record.plan = 'free';
    await out.write({ type: 'RECORD', stream: 'engage', record, ...(input.version === undefined ? {} : { version: input.version }) });
    expected.created++;
  };
  for (const index of input.indices) {
    const member = memberOf(index);
    const changed = input.changed(index);
    const record: Record<string, unknown> = {
      distinct_id: `gen-${index}`,
      mp_reserved_email: member.email,
      mp_reserved_first_name: changed ? `${member.mergeFields.FNAME}-b` : member.mergeFields.FNAME,
      mp_reserved_last_name: member.mergeFields.LNAME,
    };
    if (input.plans) {
      const plan = planOf(member);
      record.plan = changed ? changedPlan(plan) : plan;
    }
    await out.write({ type: 'RECORD', stream: 'engage', record, ...(input.version === undefined ? {} : { version: input.version }) });
    if (WITHDRAWN.has(member.category)) expected.skipped++;
    else if (changed) expected.updated++;
    else expected.unchanged++;
    written++;
    if (created < input.newCount && written % input.newEvery === 0) await writeNew();
  }
  while (created < input.newCount) await writeNew();
  if (input.version !== undefined) await out.write({ type: 'ACTIVATE_VERSION', stream: 'engage', version: input.version });
  await out.write({ type: 'STATE', value: ENGAGE_STATE });
  await out.close();
  return expected;
}

/** The expected outcomes of running an input again after it was applied: nothing to write. */
export function afterApplied(first: Expected): Expected {
  return { created: 0, updated: 0, unchanged: first.created + first.updated + first.unchanged, skipped: first.skipped };
}

/** `count` indices spread evenly over an audience of `size` generated members. */
export function* spread(size: number, count: number): Iterable<number> {
  for (let k = 0; k < count; k++) yield Math.floor(((k + 0.5) * size) / count);
}

export function* range(size: number): Iterable<number> {
  for (let i = 0; i < size; i++) yield i;
}

export const COHORT_ID = 9001;
export const COHORT_NAME = 'Bench power users';

export interface CohortInput {
  /** Generated members in the cohort, by index. */
  members: Iterable<number>;
  /** The tap's run version (epoch ms of the run's start). */
  version: number;
}

/** Writes one complete sweep of one cohort, as tap-mixpanel sends it. */
export async function writeCohortSweep(file: string, memberOf: GeneratedMemberOf, input: CohortInput): Promise<number> {
  const out = new LineFile(file);
  const { version } = input;
  await out.write({
    type: 'SCHEMA',
    stream: 'cohorts',
    key_properties: ['id'],
    schema: {
      type: 'object',
      properties: {
        id: { type: 'integer' },
        name: { type: ['null', 'string'] },
        description: { type: ['null', 'string'] },
        count: { type: ['null', 'integer'] },
        is_visible: { type: ['null', 'integer'] },
        created: { type: ['null', 'string'], format: 'date-time' },
        project_id: { type: ['null', 'integer'] },
      },
    },
  });
  const members = [...input.members];
  await out.write({
    type: 'RECORD',
    stream: 'cohorts',
    version,
    record: { id: COHORT_ID, name: COHORT_NAME, description: 'bench', count: members.length, is_visible: 1, created: '2024-01-01T00:00:00Z', project_id: 1234567 },
  });
  await out.write({ type: 'ACTIVATE_VERSION', stream: 'cohorts', version });
  await out.write({ type: 'STATE', value: { bookmarks: { cohorts: { version } } } });
  await out.write({
    type: 'SCHEMA',
    stream: 'cohort_members',
    key_properties: ['cohort_id', 'distinct_id'],
    schema: {
      type: 'object',
      properties: {
        cohort_id: { type: 'integer' },
        distinct_id: { type: 'string' },
        cohort_name: { type: ['null', 'string'] },
        mp_reserved_email: { type: ['null', 'string'] },
        mp_reserved_first_name: { type: ['null', 'string'] },
        mp_reserved_last_name: { type: ['null', 'string'] },
        mp_reserved_name: { type: ['null', 'string'] },
      },
    },
  });
  for (const index of members) {
    const member = memberOf(index);
    await out.write({
      type: 'RECORD',
      stream: 'cohort_members',
      version,
      record: {
        cohort_id: COHORT_ID,
        distinct_id: `gen-${index}`,
        cohort_name: COHORT_NAME,
        mp_reserved_email: member.email,
        mp_reserved_first_name: member.mergeFields.FNAME,
        mp_reserved_last_name: member.mergeFields.LNAME,
        mp_reserved_name: `${member.mergeFields.FNAME} ${member.mergeFields.LNAME}`,
      },
    });
  }
  await out.write({
    type: 'STATE',
    value: { bookmarks: { cohorts: { version }, cohort_members: { partitions: [{ context: { cohort_id: COHORT_ID }, done: true, members: members.length, version }] } } },
  });
  await out.write({ type: 'ACTIVATE_VERSION', stream: 'cohort_members', version });
  await out.write({ type: 'STATE', value: cohortFinalState(version) });
  await out.close();
  return members.length;
}

export function cohortFinalState(version: number): unknown {
  return { bookmarks: { cohorts: { version } } };
}
