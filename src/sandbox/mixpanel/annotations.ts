/**
 * Annotations, in both of Mixpanel's shapes:
 *   current  GET /api/app/projects/{project_id}/annotations[?fromDate&toDate]
 *            {"status":"ok","results":[{"id","date":"YYYY-MM-DD HH:mm:ss","description","user":{...},"tags":[...]}]}
 *   legacy   GET /api/2.0/annotations?from_date&to_date
 *            {"annotations":[{"id","project_id","date","description"}],"error":false}
 * Dates are wall-clock times in the project's zone. The seeded annotations sit on days of the
 * data range (two on the same day and minute, as happens when a release and an incident share a day).
 */
import { formatDay, parseDay } from '../calendar.js';
import type { RequestContext } from '../context.js';
import { sendJson } from '../http.js';
import type { RouteParams } from '../http.js';
import type { SandboxConfig } from '../options.js';
import { mixpanelRequestError, mixpanelStatusError } from './errors.js';
import { parseRange } from './reports.js';

export interface SeededAnnotation {
  id: number;
  /** "YYYY-MM-DD HH:mm:ss", project zone. */
  date: string;
  description: string;
  user: { id: number; first_name: string; last_name: string };
  tags: Array<{ id: number; name: string }>;
}

const USERS = [
  { id: 4242, first_name: 'Ada', last_name: 'Lovelace' },
  { id: 5151, first_name: 'Zoë', last_name: 'Łukasiewicz' },
];
const TAGS = { release: { id: 31, name: 'release' }, incident: { id: 32, name: 'incident' }, campaign: { id: 33, name: 'campaign' } };

const SEEDS: ReadonlyArray<{ dayOffset: number; time: string; description: string; user: number; tags: Array<keyof typeof TAGS> }> = [
  { dayOffset: 0, time: '09:00:00', description: 'Tracking plan v2 goes live', user: 0, tags: ['release'] },
  { dayOffset: 2, time: '00:00:00', description: 'Spring campaign — emails sent 📧', user: 1, tags: ['campaign'] },
  { dayOffset: 4, time: '14:30:00', description: 'Release 3.4.0', user: 0, tags: ['release'] },
  { dayOffset: 4, time: '14:30:00', description: 'Checkout outage (payment provider)', user: 1, tags: ['incident'] },
  { dayOffset: 7, time: '18:05:12', description: 'Paywall A/B test starts', user: 0, tags: [] },
  { dayOffset: 12, time: '08:00:00', description: 'Nouvelle page d’accueil', user: 1, tags: ['release', 'campaign'] },
];

/** The seeded annotations, clamped into the data range. */
export function seededAnnotations(config: Pick<SandboxConfig, 'fromDay' | 'toDay'>): SeededAnnotation[] {
  return SEEDS.map((seed, n) => ({
    id: 801 + n,
    date: `${formatDay(Math.min(config.fromDay + seed.dayOffset, config.toDay))} ${seed.time}`,
    description: seed.description,
    user: USERS[seed.user] as SeededAnnotation['user'],
    tags: seed.tags.map((t) => TAGS[t]),
  }));
}

function inRange(annotation: SeededAnnotation, fromDay: number | null, toDay: number | null): boolean {
  const day = parseDay(annotation.date.slice(0, 10)) as number;
  return (fromDay === null || day >= fromDay) && (toDay === null || day <= toDay);
}

function optionalDay(ctx: RequestContext, name: string): number | null {
  const value = ctx.query.get(name);
  if (value === null || value === '') return null;
  const day = parseDay(value);
  if (day === null) throw mixpanelRequestError(ctx, `${name} must be a valid date in YYYY-MM-DD format, got "${value}"`);
  return day;
}

export function handleAppAnnotations(ctx: RequestContext, params: RouteParams): void {
  const { projectId } = ctx.state.config.mixpanel;
  const requested = params.project_id ?? '';
  if (!/^\d+$/.test(requested)) throw mixpanelStatusError(400, `project_id must be an integer, got "${requested}"`);
  if (Number(requested) !== projectId) {
    throw mixpanelStatusError(403, `${ctx.principal?.id ?? 'This account'} does not have access to project ${requested}`);
  }
  const fromDay = optionalDay(ctx, 'fromDate');
  const toDay = optionalDay(ctx, 'toDate');
  const results = seededAnnotations(ctx.state.config).filter((a) => inRange(a, fromDay, toDay));
  sendJson(ctx.res, 200, { status: 'ok', results });
}

export function handleLegacyAnnotations(ctx: RequestContext): void {
  const range = parseRange(ctx.query, ctx.state, (message) => mixpanelRequestError(ctx, message));
  const { projectId } = ctx.state.config.mixpanel;
  const annotations = seededAnnotations(ctx.state.config)
    .filter((a) => inRange(a, range.fromDay, range.toDay))
    .map((a) => ({ id: a.id, project_id: projectId, date: a.date, description: a.description }));
  sendJson(ctx.res, 200, { annotations, error: false });
}
