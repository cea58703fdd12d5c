/**
 * cohorts: full table from cohorts/list, with table versions.
 *
 * The list is read once per run and shared with cohort_members (ctx.shared), so the cohorts this
 * run sends are exactly the cohorts its cohort_members stream sweeps. The list comes whole in one
 * answer: every run that reads it sends its records with the run's version and then
 * ACTIVATE_VERSION, which tells a loader that these records are every cohort the project has now
 * (a cohort it knew that is missing has been deleted in Mixpanel).
 */
import type { JsonObject } from '../../../singer/messages.js';
import { loadSchema } from '../../../schemas/index.js';
import { wallClockToIso } from './dates.js';
import type { StreamDefinition, StreamOutput, SyncContext } from './types.js';

export interface RawCohort {
  id: number;
  name?: string;
  description?: string;
  count?: number;
  is_visible?: number | boolean;
  created?: string;
  project_id?: number;
}

async function readCohortList(ctx: SyncContext): Promise<readonly RawCohort[]> {
  const cohorts = await ctx.client.query.json<RawCohort[]>({
    method: 'POST',
    path: '/api/query/cohorts/list',
    query: { workspace_id: ctx.config.workspace_id },
  });
  return (Array.isArray(cohorts) ? cohorts : []).filter((c) => Number.isInteger(c.id)).sort((a, b) => a.id - b.id);
}

/**
 * Every cohort of the project, in id order (so a resumed cohort_members run walks them the same
 * way), read once per run whichever stream asks first.
 */
export function listCohorts(ctx: SyncContext): Promise<readonly RawCohort[]> {
  return ctx.shared.get('cohorts/list', () => readCohortList(ctx));
}

export function cohortRecord(raw: RawCohort, zone: string): JsonObject {
  const visible = raw.is_visible;
  return {
    id: raw.id,
    name: raw.name ?? null,
    description: raw.description ?? null,
    count: raw.count ?? null,
    // Mixpanel sends 0/1; keep that shape whatever arrives.
    is_visible: typeof visible === 'boolean' ? (visible ? 1 : 0) : (visible ?? null),
    created: wallClockToIso(raw.created, zone),
    project_id: raw.project_id ?? null,
  };
}

async function* syncCohorts(ctx: SyncContext): AsyncGenerator<StreamOutput> {
  const records = (await listCohorts(ctx)).map((c) => cohortRecord(c, ctx.time.zone));
  ctx.log.info('cohorts: read', { records: records.length });
  if (records.length > 0) yield { kind: 'records', records };
  // One answer holds the whole list: it is complete whenever it was read.
  yield { kind: 'complete', activateVersion: true };
}

export const cohortsStream: StreamDefinition = {
  name: 'cohorts',
  keyProperties: ['id'],
  replicationMethod: 'FULL_TABLE',
  forcedReplicationMethod: 'FULL_TABLE',
  selectedByDefault: true,
  dynamicProperties: false,
  versioned: true,
  baseSchema: () => loadSchema('streams/cohorts.json'),
  sync: syncCohorts,
};
