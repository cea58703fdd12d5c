/**
 * cohort_members: who is in each cohort, keyed by cohort_id + distinct_id, with what a loader
 * needs without a join: the cohort's name and the member's email and names.
 *
 * Records. The stream runs right after cohorts (also when a run resumes it first), so a loader
 * has the run's cohort list before the members. For every cohort of that list (read once per
 * run and shared by both streams; in id order) engage is queried with filter_by_cohort and
 * paged with the session_id of that cohort's page 0: paging starts from scratch for every
 * cohort, so no page number or session leaks from one cohort into the next (the bug that loses
 * members in another connector). A cohort ends when a page holds fewer than page_size members or
 * the total is reached; its records are contiguous. Each record holds `cohort_name` (from the list) and the profile's $email,
 * $first_name, $last_name and $name under the names the engage stream gives them
 * (mp_reserved_email, ...: the same transform, so one target mapping serves both streams).
 * engage is asked only for the selected ones (output_properties). A member without a profile
 * (an anonymous id Mixpanel counts in the cohort), or whose profile lacks a property, gets null.
 *
 * State: after each cohort a partition {"cohort_id": N} records that the cohort is done in the
 * current sweep. A run started from an interrupted run's state skips the cohorts already done
 * and starts the one it was on again from page 0 (engage sessions expire, so a page number
 * alone cannot be resumed): its members may be emitted twice, never lost. When every cohort is
 * done the stream's state is cleared, so the next run is a new sweep.
 *
 * Table versions. Every record carries `version`: the run's start in epoch milliseconds (the
 * convention of Singer's database taps). When this run has read every cohort of its list, from
 * the first to the last, the engine writes ACTIVATE_VERSION {stream: "cohort_members", version}
 * after the last record and before the STATE that clears the sweep. An interrupted run writes
 * none. A run resumed from an interrupted run's state writes none either, even when it finishes
 * the sweep: it reads only the cohorts the earlier run left, and ACTIVATE_VERSION means "the
 * records of this version are the whole table". Keeping the earlier run's version and
 * activating it would be right for a warehouse that kept the earlier run's rows, but a loader
 * that works from the stream it receives (the cohort-to-tag mode) would take the skipped cohorts
 * as emptied and remove everyone from them; and the tap cannot know that the earlier rows were
 * ever loaded. So a resumed sweep is never activated, and the next full sweep is: leavers show
 * up one run later, and nothing is removed that was not read. The rule is "no cohort of this
 * run's list was skipped": a resumed run whose list no longer holds any cohort the earlier run
 * had finished (deleted since) reads the whole list and does activate.
 */
import { RemoteError } from '../../../errors/index.js';
import type { JsonObject } from '../../../singer/messages.js';
import { loadSchema } from '../../../schemas/index.js';
import type { EngageProfile } from '../client.js';
import { renameProperty } from '../transform.js';
import { listCohorts, type RawCohort } from './cohorts.js';
import { transformProfile } from './engage.js';
import type { StreamDefinition, StreamOutput, SyncContext } from './types.js';

const STREAM = 'cohort_members';

/** The profile properties a cohort_members record carries, as Mixpanel names them. */
export const MEMBER_PROFILE_PROPERTIES = ['$email', '$first_name', '$last_name', '$name'] as const;

/** Record property -> Mixpanel property ("mp_reserved_email" -> "$email"), by the engage stream's rename rule. */
const PROFILE_COLUMNS: ReadonlyArray<readonly [string, string]> = MEMBER_PROFILE_PROPERTIES.map((name) => [renameProperty(name), name]);

export function cohortDone(ctx: Pick<SyncContext, 'state'>, cohortId: number): boolean {
  return ctx.state.get(STREAM, { cohort_id: cohortId })?.done === true;
}

/** The Mixpanel properties to ask engage for: those whose record properties the catalog selects. */
export function memberOutputProperties(selected: ReadonlySet<string>): string[] {
  return PROFILE_COLUMNS.filter(([column]) => selected.has(column)).map(([, name]) => name);
}

/** One member of one cohort; properties the profile lacks (or a member with no profile) are null. */
export function memberRecord(cohort: Pick<RawCohort, 'id' | 'name'>, profile: EngageProfile): JsonObject {
  const transformed = transformProfile(profile);
  const record: JsonObject = { cohort_id: cohort.id, distinct_id: transformed.distinct_id, cohort_name: cohort.name ?? null };
  for (const [column] of PROFILE_COLUMNS) record[column] = transformed[column] ?? null;
  return record;
}

/** Every member of one cohort, page by page, with a fresh session. */
async function* cohortPages(ctx: SyncContext, cohort: RawCohort, outputProperties: string[]): AsyncGenerator<JsonObject[]> {
  let page = 0;
  let sessionId: string | undefined;
  let seen = 0;
  for (;;) {
    const response = await ctx.client.engagePage({ filterByCohort: cohort.id, outputProperties, page, ...(sessionId ? { sessionId } : {}) });
    const results = response.results ?? [];
    seen += results.length;
    if (results.length > 0) yield results.map((p) => memberRecord(cohort, p));
    const total = typeof response.total === 'number' ? response.total : undefined;
    if (results.length === 0 || results.length < response.page_size || (total !== undefined && seen >= total)) return;
    if (!response.session_id) {
      throw new RemoteError(`cohort_members: cohort ${cohort.id} page ${page} came without a session_id, so later pages cannot be read`);
    }
    sessionId = response.session_id;
    page++;
    if (ctx.signal.aborted) return;
  }
}

async function* syncCohortMembers(ctx: SyncContext): AsyncGenerator<StreamOutput> {
  const cohorts = await listCohorts(ctx);
  const todo = cohorts.filter((c) => !cohortDone(ctx, c.id));
  const resumed = todo.length < cohorts.length;
  if (resumed) {
    ctx.log.info(
      `cohort_members: resuming, ${cohorts.length - todo.length} of ${cohorts.length} cohorts already done; ` +
        'this run reads only the others, so it does not activate its table version (the next full sweep does)',
    );
  }
  const outputProperties = memberOutputProperties(ctx.selectedProperties);
  for (const cohort of todo) {
    ctx.progress?.(`cohort ${cohort.id}`);
    let members = 0;
    for await (const records of cohortPages(ctx, cohort, outputProperties)) {
      members += records.length;
      yield { kind: 'records', records };
      if (ctx.signal.aborted) return;
    }
    if (ctx.signal.aborted) return;
    ctx.log.info(`cohort_members: cohort ${cohort.id} done`, { members, expected: cohort.count });
    const version = ctx.tableVersion === undefined ? {} : { version: ctx.tableVersion };
    yield { kind: 'bookmark', bookmark: { done: true, members, ...version }, context: { cohort_id: cohort.id } };
  }
  yield { kind: 'complete', activateVersion: !resumed };
}

export const cohortMembersStream: StreamDefinition = {
  name: STREAM,
  keyProperties: ['cohort_id', 'distinct_id'],
  replicationMethod: 'FULL_TABLE',
  forcedReplicationMethod: 'FULL_TABLE',
  selectedByDefault: true,
  dynamicProperties: false,
  versioned: true,
  // A loader gets this run's cohort list (and its activation) before the members.
  runsAfter: ['cohorts'],
  baseSchema: () => loadSchema('streams/cohort_members.json'),
  sync: syncCohortMembers,
};
