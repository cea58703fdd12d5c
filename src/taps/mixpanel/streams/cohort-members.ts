/**
 * cohort_members: who is in each cohort, keyed by cohort_id + distinct_id.
 *
 * For every cohort (in id order) engage is queried with filter_by_cohort and paged with the
 * session_id of that cohort's page 0: paging starts from scratch for every cohort, so no page
 * number or session leaks from one cohort into the next (the bug that loses members in another
 * connector). A cohort ends when a page holds fewer than page_size members or the total is reached.
 *
 * State: after each cohort a partition {"cohort_id": N} records that the cohort is done in the
 * current sweep. A run started from an interrupted run's state skips the cohorts already done
 * and starts the one it was on again from page 0 (engage sessions expire, so a page number
 * alone cannot be resumed): its members may be emitted twice, never lost. When every cohort is
 * done the stream's state is cleared, so the next run is a new sweep.
 */
import { RemoteError } from '../../../errors/index.js';
import type { JsonObject } from '../../../singer/messages.js';
import { loadSchema } from '../../../schemas/index.js';
import { listCohorts } from './cohorts.js';
import type { StreamDefinition, StreamOutput, SyncContext } from './types.js';

const STREAM = 'cohort_members';

export function cohortDone(ctx: Pick<SyncContext, 'state'>, cohortId: number): boolean {
  return ctx.state.get(STREAM, { cohort_id: cohortId })?.done === true;
}

/** Every member of one cohort, page by page, with a fresh session. */
async function* cohortPages(ctx: SyncContext, cohortId: number): AsyncGenerator<JsonObject[]> {
  let page = 0;
  let sessionId: string | undefined;
  let seen = 0;
  for (;;) {
    const response = await ctx.client.engagePage({ filterByCohort: cohortId, page, ...(sessionId ? { sessionId } : {}) });
    const results = response.results ?? [];
    seen += results.length;
    if (results.length > 0) yield results.map((p) => ({ cohort_id: cohortId, distinct_id: String(p.$distinct_id) }));
    const total = typeof response.total === 'number' ? response.total : undefined;
    if (results.length === 0 || results.length < response.page_size || (total !== undefined && seen >= total)) return;
    if (!response.session_id) {
      throw new RemoteError(`cohort_members: cohort ${cohortId} page ${page} came without a session_id, so later pages cannot be read`);
    }
    sessionId = response.session_id;
    page++;
    if (ctx.signal.aborted) return;
  }
}

async function* syncCohortMembers(ctx: SyncContext): AsyncGenerator<StreamOutput> {
  const cohorts = await listCohorts(ctx);
  const todo = cohorts.filter((c) => !cohortDone(ctx, c.id));
  if (todo.length < cohorts.length) ctx.log.info(`cohort_members: resuming, ${cohorts.length - todo.length} of ${cohorts.length} cohorts already done`);
  for (const cohort of todo) {
    let members = 0;
    for await (const records of cohortPages(ctx, cohort.id)) {
      members += records.length;
      yield { kind: 'records', records };
      if (ctx.signal.aborted) return;
    }
    if (ctx.signal.aborted) return;
    ctx.log.info(`cohort_members: cohort ${cohort.id} done`, { members, expected: cohort.count });
    yield { kind: 'bookmark', bookmark: { done: true, members }, context: { cohort_id: cohort.id } };
  }
  yield { kind: 'complete' };
}

export const cohortMembersStream: StreamDefinition = {
  name: STREAM,
  keyProperties: ['cohort_id', 'distinct_id'],
  replicationMethod: 'FULL_TABLE',
  forcedReplicationMethod: 'FULL_TABLE',
  selectedByDefault: true,
  dynamicProperties: false,
  baseSchema: () => loadSchema('streams/cohort_members.json'),
  sync: syncCohortMembers,
};
