/**
 * Admin API for cohorts (/__admin/mixpanel/cohorts): ground truth and changes between runs, so
 * tests can show people entering and leaving a cohort, cohorts renamed, created and deleted.
 * Changes apply at once to cohorts/list and engage with filter_by_cohort; POST /__admin/reset
 * restores the seed. A profile's email is set through POST /__admin/mixpanel/profiles ($set).
 */
import type { RequestContext } from '../context.js';
import { HttpError, sendEmpty, sendJson } from '../http.js';
import type { Route, RouteParams } from '../http.js';
import { cohortWallClock, type CohortChange, type LiveCohort, type NewCohort } from './cohort-store.js';
import { cohortMemberIds } from './cohorts.js';

type AdminRoute = Route<RequestContext>;

export const COHORT_ADMIN_ROUTES: readonly AdminRoute[] = [
  { method: 'GET', path: '/__admin/mixpanel/cohorts', handle: getCohorts },
  { method: 'POST', path: '/__admin/mixpanel/cohorts', handle: postCohort },
  { method: 'GET', path: '/__admin/mixpanel/cohorts/{id}', handle: getCohort },
  { method: ['POST', 'PATCH'], path: '/__admin/mixpanel/cohorts/{id}', handle: changeCohort },
  { method: 'DELETE', path: '/__admin/mixpanel/cohorts/{id}', handle: deleteCohort },
];

const fail = (status: number, message: string): HttpError => new HttpError(status, { error: message });

const BODY_LIMIT_BYTES = 64 * 1024 * 1024;

async function readObject(ctx: RequestContext, allowed: readonly string[]): Promise<Record<string, unknown>> {
  const text = (await ctx.body(BODY_LIMIT_BYTES)).toString('utf8');
  let body: unknown = {};
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      throw fail(400, 'Body is not valid JSON');
    }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw fail(400, 'body must be a JSON object');
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw fail(400, `unknown key ${unknown.join(', ')}: send ${allowed.join(', ')}`);
  return body as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string, nonEmpty: boolean): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || (nonEmpty && value.trim() === '')) throw fail(400, `${key} must be a ${nonEmpty ? 'non-empty ' : ''}string`);
  return value;
}

function optionalBoolean(body: Record<string, unknown>, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw fail(400, `${key} must be true or false`);
  return value;
}

function distinctIds(body: Record<string, unknown>, key: string): string[] | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string' && id !== '')) {
    throw fail(400, `${key} must be an array of distinct_ids (non-empty strings)`);
  }
  return value as string[];
}

function cohortOf(ctx: RequestContext, params: RouteParams): LiveCohort {
  const id = Number(params.id);
  const cohort = Number.isInteger(id) ? ctx.state.cohorts.get(id) : undefined;
  if (!cohort) throw fail(404, `No cohort ${params.id}`);
  return cohort;
}

/** A cohort with every member's distinct_id, in the order engage returns them. */
function describeCohort(ctx: RequestContext, cohort: LiveCohort): Record<string, unknown> {
  const members = cohortMemberIds(ctx.state, cohort);
  return {
    id: cohort.id,
    name: cohort.name,
    description: cohort.description,
    created: cohort.created,
    is_visible: cohort.isVisible,
    count: members.length,
    members,
  };
}

function getCohorts(ctx: RequestContext): void {
  sendJson(ctx.res, 200, { cohorts: ctx.state.cohorts.list().map((c) => describeCohort(ctx, c)) });
}

function getCohort(ctx: RequestContext, params: RouteParams): void {
  sendJson(ctx.res, 200, describeCohort(ctx, cohortOf(ctx, params)));
}

/** {"name", "members"?: [distinct_id], "description"?, "is_visible"?, "id"?} creates a cohort. */
async function postCohort(ctx: RequestContext): Promise<void> {
  const body = await readObject(ctx, ['id', 'name', 'description', 'is_visible', 'members']);
  const name = optionalString(body, 'name', true);
  if (name === undefined) throw fail(400, 'name is required');
  if (body.id !== undefined && !(Number.isInteger(body.id) && (body.id as number) > 0)) throw fail(400, 'id must be a positive integer');
  const description = optionalString(body, 'description', false);
  const isVisible = optionalBoolean(body, 'is_visible');
  const members = distinctIds(body, 'members');
  const input: NewCohort = {
    name,
    ...(body.id !== undefined ? { id: body.id as number } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(isVisible !== undefined ? { isVisible } : {}),
    ...(members ? { members } : {}),
  };
  const { state } = ctx;
  if (input.id !== undefined && state.cohorts.get(input.id)) throw fail(409, `cohort ${input.id} exists already`);
  const cohort = state.cohorts.create(input, cohortWallClock(state.clock.now(), state.config.projectTimezone));
  sendJson(ctx.res, 200, describeCohort(ctx, cohort));
}

/** {"name"?, "description"?, "is_visible"?, "add"?: [distinct_id], "remove"?: [distinct_id]} changes a cohort. */
async function changeCohort(ctx: RequestContext, params: RouteParams): Promise<void> {
  const cohort = cohortOf(ctx, params);
  const body = await readObject(ctx, ['name', 'description', 'is_visible', 'add', 'remove']);
  const name = optionalString(body, 'name', true);
  const description = optionalString(body, 'description', false);
  const isVisible = optionalBoolean(body, 'is_visible');
  const add = distinctIds(body, 'add');
  const remove = distinctIds(body, 'remove');
  const change: CohortChange = {
    ...(name !== undefined ? { name } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(isVisible !== undefined ? { isVisible } : {}),
    ...(add ? { add } : {}),
    ...(remove ? { remove } : {}),
  };
  ctx.state.cohorts.update(cohort.id, change);
  sendJson(ctx.res, 200, describeCohort(ctx, cohort));
}

function deleteCohort(ctx: RequestContext, params: RouteParams): void {
  ctx.state.cohorts.delete(cohortOf(ctx, params).id);
  sendEmpty(ctx.res, 204);
}
