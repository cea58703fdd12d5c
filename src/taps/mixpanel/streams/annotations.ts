/**
 * annotations: full table. With a service account (and so a project_id) it reads the current
 * app API, GET /api/app/projects/{project_id}/annotations, which returns every annotation with
 * its author and tags (the API takes service accounts only); with a legacy project secret it
 * reads GET /api/2.0/annotations over start_date..today. Dates are project wall-clock times, emitted
 * as RFC 3339 UTC.
 */
import type { JsonObject } from '../../../singer/messages.js';
import { loadSchema } from '../../../schemas/index.js';
import { wallClockToIso } from './dates.js';
import type { StreamDefinition, StreamOutput, SyncContext } from './types.js';

export interface RawAnnotation {
  id?: number;
  project_id?: number;
  date?: string;
  description?: string;
  user?: Record<string, unknown>;
  tags?: unknown[];
}

export function annotationRecord(raw: RawAnnotation, zone: string, projectId: number | undefined): JsonObject {
  return {
    id: raw.id ?? null,
    date: wallClockToIso(raw.date, zone),
    description: raw.description ?? null,
    project_id: raw.project_id ?? projectId ?? null,
    user: (raw.user ?? null) as JsonObject | null,
    tags: (raw.tags ?? []) as JsonObject[],
  };
}

async function fetchAnnotations(ctx: SyncContext): Promise<RawAnnotation[]> {
  const { config, time } = ctx;
  if (config.service_account_username !== undefined && config.project_id !== undefined) {
    const response = await ctx.client.query.json<{ results?: RawAnnotation[] }>({
      path: `/api/app/projects/${encodeURIComponent(String(config.project_id))}/annotations`,
    });
    return response.results ?? [];
  }
  // Project secrets answer for their own project; project_id, if set, goes along as on every call.
  const response = await ctx.client.query.json<{ annotations?: RawAnnotation[] }>({
    path: '/api/2.0/annotations',
    query: { from_date: time.configDay(config.start_date), to_date: time.today },
  });
  return response.annotations ?? [];
}

async function* syncAnnotations(ctx: SyncContext): AsyncGenerator<StreamOutput> {
  const raw = await fetchAnnotations(ctx);
  const records = raw.filter((a) => a.id !== undefined && a.id !== null).map((a) => annotationRecord(a, ctx.time.zone, ctx.config.project_id));
  if (records.length < raw.length) ctx.log.warn(`annotations: ${raw.length - records.length} without an id were left out`);
  ctx.log.info('annotations: read', { records: records.length });
  if (records.length > 0) yield { kind: 'records', records };
  yield { kind: 'complete' };
}

export const annotationsStream: StreamDefinition = {
  name: 'annotations',
  keyProperties: ['id'],
  replicationMethod: 'FULL_TABLE',
  forcedReplicationMethod: 'FULL_TABLE',
  selectedByDefault: true,
  dynamicProperties: false,
  baseSchema: () => loadSchema('streams/annotations.json'),
  sync: syncAnnotations,
};
