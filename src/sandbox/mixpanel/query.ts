/**
 * The Mixpanel query family (mixpanel.com/api/...): a table of routes, one entry per endpoint
 * (reports.ts: funnels and revenue; annotations.ts; cohorts.ts: cohorts/list).
 * Every route answers at both the 2.0 path and the current /api/query path where both exist.
 */
import type { RequestContext } from '../context.js';
import { DayEvents, EVENT_NAMES } from '../data/events.js';
import type { Route } from '../http.js';
import { sendJson } from '../http.js';
import { dateTimeMs } from './expression.js';
import { handleAppAnnotations, handleLegacyAnnotations } from './annotations.js';
import { handleCohortsList } from './cohorts.js';
import { handleEngage } from './engage.js';
import { reportHandlers } from './reports.js';
import { mixpanelRequestError } from './errors.js';

type QueryRoute = Route<RequestContext>;

/** The same handler at /api/2.0/<path> and /api/query/<path>. */
function atBothPrefixes(method: QueryRoute['method'], path: string, handle: QueryRoute['handle']): QueryRoute[] {
  return [
    { method, path: `/api/2.0${path}`, handle },
    { method, path: `/api/query${path}`, handle },
  ];
}

export const QUERY_ROUTES: readonly QueryRoute[] = [
  ...atBothPrefixes(['GET', 'POST'], '/engage', handleEngage),
  ...atBothPrefixes('GET', '/engage/properties', handleEngageProperties),
  ...atBothPrefixes('GET', '/events/names', handleEventNames),
  ...atBothPrefixes('GET', '/events/properties/top', handleTopEventProperties),
  ...atBothPrefixes('GET', '/funnels/list', reportHandlers.handleFunnelsList),
  ...atBothPrefixes('GET', '/funnels', reportHandlers.handleFunnels),
  ...atBothPrefixes('GET', '/engage/revenue', reportHandlers.handleRevenue),
  ...atBothPrefixes(['GET', 'POST'], '/cohorts/list', handleCohortsList),
  { method: 'GET', path: '/api/2.0/annotations', handle: handleLegacyAnnotations },
  // The app API names the project in the path; the handler checks it (no project_id parameter needed).
  { method: 'GET', path: '/api/app/projects/{project_id}/annotations', handle: handleAppAnnotations, projectScoped: false },
  // The credentials check is per account, not per project: no project_id needed.
  { method: 'GET', path: '/api/app/me', handle: handleMe, projectScoped: false },
];

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'unknown';
  if (typeof value === 'string') return dateTimeMs(value) !== null ? 'datetime' : 'string';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

/** Undocumented: every profile property name with its type and how many profiles have it. */
function handleEngageProperties(ctx: RequestContext): void {
  const { state } = ctx;
  const results: Record<string, { count: number; type: string }> = {};
  for (let k = 0; k < state.config.profiles; k++) {
    for (const [name, value] of Object.entries(state.profile(k).record.$properties)) {
      const entry = (results[name] ??= { count: 0, type: typeOf(value) });
      entry.count++;
      if (entry.type === 'unknown') entry.type = typeOf(value);
    }
  }
  sendJson(ctx.res, 200, { results, status: 'ok' });
}

function parseLimit(ctx: RequestContext, fallback: number): number {
  const value = ctx.query.get('limit');
  if (value === null || value === '') return fallback;
  if (!/^\d+$/.test(value)) throw mixpanelRequestError(ctx, `limit must be a positive integer, got "${value}"`);
  return Number(value);
}

function handleEventNames(ctx: RequestContext): void {
  const type = ctx.query.get('type');
  if (type !== null && !['general', 'unique', 'average'].includes(type)) {
    throw mixpanelRequestError(ctx, `type must be one of general, unique, average; got "${type}"`);
  }
  sendJson(ctx.res, 200, EVENT_NAMES.slice(0, parseLimit(ctx, 255)));
}

// Counting over a sample of the last data day is enough for "top properties".
const TOP_PROPERTIES_SAMPLE = 5000;

function handleTopEventProperties(ctx: RequestContext): void {
  const event = ctx.query.get('event');
  if (!event) throw mixpanelRequestError(ctx, 'event is a required parameter');
  const limit = parseLimit(ctx, 10);
  const { state } = ctx;
  const counts = new Map<string, number>();
  const day = new DayEvents(state.eventContext, state.config.toDay);
  const sample = Math.min(day.count, TOP_PROPERTIES_SAMPLE);
  const names = new Set([event]);
  for (let i = 0; i < sample; i++) {
    const found = day.at(i, names);
    if (!found) continue;
    for (const name of Object.keys(found.properties)) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  // Scale the sample to the last 31 days (or the project's days, if fewer).
  const scale = (day.count / Math.max(sample, 1)) * Math.min(state.config.days, 31);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit);
  sendJson(ctx.res, 200, Object.fromEntries(top.map(([name, count]) => [name, { count: Math.round(count * scale) }])));
}

function handleMe(ctx: RequestContext): void {
  const { config } = ctx.state;
  const { projectId } = config.mixpanel;
  const isServiceAccount = ctx.principal?.kind === 'service_account';
  sendJson(ctx.res, 200, {
    status: 'ok',
    results: {
      user_id: 4242,
      user_name: isServiceAccount ? config.mixpanel.serviceAccountUsername : 'Sandbox Project Secret',
      user_email: isServiceAccount ? null : 'owner@acme.io',
      organizations: { '7654321': { id: 7654321, name: 'Sandbox Org', role: 'owner' } },
      projects: {
        [String(projectId)]: {
          id: projectId,
          name: 'Sandbox Project',
          organization_id: 7654321,
          timezone: config.projectTimezone,
          domain: 'mixpanel.com',
          cluster_name: 'us',
          has_workspaces: true,
          role: { name: 'Admin' },
        },
      },
      workspaces: {
        '3141592': { id: 3141592, name: 'All Project Data', project_id: projectId, is_global: true, is_default: true },
      },
    },
  });
}
