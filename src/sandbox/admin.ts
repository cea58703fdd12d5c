/**
 * The admin API under /__admin (JSON, no auth): ground truth for tests, direct seeding, the
 * request log, the clock, run-time settings and reset. Not part of either emulated service.
 * Cohort changes have their own routes (mixpanel/cohort-admin.ts).
 */
import { AUDIENCE_ADMIN_ROUTES } from './admin-audiences.js';
import { formatDay, parseDay } from './calendar.js';
import { sandboxClientConfigs } from './configs.js';
import type { RequestContext } from './context.js';
import { describeSeed } from './data.js';
import type { MixpanelEvent } from './data/events.js';
import { adminError, asRecord, readJsonBody } from './admin-http.js';
import { MAILCHIMP_ADMIN_ROUTES, applyBatchSettings, batchSettingsState } from './admin-mailchimp.js';
import { sendEmpty, sendJson } from './http.js';
import type { Route } from './http.js';
import { parseFaultRules } from './fault-rules.js';
import { describeRateLimits, mergeRateLimits } from './rate-limits.js';
import { COHORT_ADMIN_ROUTES } from './mixpanel/cohort-admin.js';
import { eventChunks, parseWhere, streamLines } from './mixpanel/export.js';
import type { Family } from './families.js';
import { parseInstant } from './options.js';
import { NOTIFY_ADMIN_ROUTES } from './notify/routes.js';

type AdminRoute = Route<RequestContext>;

const FAMILIES: readonly Family[] = ['export', 'query', 'mailchimp'];

export { adminError } from './admin-http.js';

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  // rss_bytes / max_rss_bytes: what the sandbox process holds now and at most (benchmarks run it as its own process).
  { method: 'GET', path: '/__admin/health', handle: (ctx) => sendJson(ctx.res, 200, { status: 'ok', now: new Date(ctx.state.clock.now()).toISOString(), rss_bytes: process.memoryUsage().rss, max_rss_bytes: process.resourceUsage().maxRSS * 1024 }) },
  { method: 'GET', path: '/__admin/seed', handle: (ctx) => sendJson(ctx.res, 200, describeSeed(ctx.state.config)) },
  { method: 'GET', path: '/__admin/configs', handle: getConfigs },
  ...MAILCHIMP_ADMIN_ROUTES,
  ...AUDIENCE_ADMIN_ROUTES,
  { method: 'GET', path: '/__admin/requests', handle: getRequests },
  { method: 'GET', path: '/__admin/requests/summary', handle: getRequestSummary },
  { method: 'DELETE', path: '/__admin/requests', handle: deleteRequests },
  { method: 'GET', path: '/__admin/mixpanel/events', handle: getEvents },
  { method: 'POST', path: '/__admin/mixpanel/events', handle: postEvents },
  { method: 'GET', path: '/__admin/mixpanel/profiles', handle: getProfiles },
  { method: 'POST', path: '/__admin/mixpanel/profiles', handle: postProfiles },
  { method: 'GET', path: '/__admin/clock', handle: (ctx) => sendJson(ctx.res, 200, clockState(ctx)) },
  { method: 'POST', path: '/__admin/clock', handle: postClock },
  { method: 'GET', path: '/__admin/settings', handle: (ctx) => sendJson(ctx.res, 200, settingsState(ctx)) },
  { method: 'POST', path: '/__admin/settings', handle: postSettings },
  { method: 'POST', path: '/__admin/reset', handle: postReset },
  // Cohorts changed between runs: GET/POST mixpanel/cohorts, GET/POST/PATCH/DELETE mixpanel/cohorts/{id}.
  ...COHORT_ADMIN_ROUTES,
  // The notification sinks (notify/routes.ts): received emails, SMS and webhooks, their faults.
  ...NOTIFY_ADMIN_ROUTES,
];

function getConfigs(ctx: RequestContext): void {
  const sandbox = { url: ctx.state.url, credentials: ctx.state.credentials(), dataRange: ctx.state.dataRange() };
  const auth = ctx.query.get('auth') === 'api_secret' ? 'api_secret' : 'service_account';
  sendJson(ctx.res, 200, sandboxClientConfigs(sandbox, { auth }));
}

function getRequests(ctx: RequestContext): void {
  const family = ctx.query.get('family');
  if (family !== null && !(FAMILIES as readonly string[]).includes(family)) {
    throw adminError(400, `family must be one of ${FAMILIES.join(', ')}`);
  }
  sendJson(ctx.res, 200, { requests: ctx.state.requestLog.list((family as Family | null) ?? undefined) });
}

/** Counts by method and route template since the last clear (every request, not only those kept). */
async function getRequestSummary(ctx: RequestContext): Promise<void> {
  const family = ctx.query.get('family');
  if (family !== null && !(FAMILIES as readonly string[]).includes(family)) {
    throw adminError(400, `family must be one of ${FAMILIES.join(', ')}`);
  }
  await ctx.state.requestLog.settled();
  sendJson(ctx.res, 200, { ...ctx.state.requestLog.summary((family as Family | null) ?? undefined), mailchimp_peak_in_flight: ctx.state.peakInflight });
}

function deleteRequests(ctx: RequestContext): void {
  ctx.state.requestLog.clear();
  ctx.state.peakInflight = 0;
  sendEmpty(ctx.res, 204);
}

/** Ground truth: every event visible now in the range, no auth, no limits, plain JSON Lines. */
async function getEvents(ctx: RequestContext): Promise<void> {
  const { state } = ctx;
  const day = (name: string, fallback: number) => {
    const value = ctx.query.get(name);
    if (value === null || value === '') return fallback;
    const parsed = parseDay(value);
    if (parsed === null) throw adminError(400, `${name} must be YYYY-MM-DD`);
    return parsed;
  };
  const injectedDays = [...state.injectedEvents.keys()];
  const fromDay = day('from_date', Math.min(state.config.fromDay, ...injectedDays));
  const toDay = day('to_date', Math.max(state.config.toDay, ...injectedDays));
  const where = parseWhere(ctx.query.get('where'), (message) => adminError(400, message));
  const names = parseNames(ctx.query.get('event'));
  const query = { fromDay, toDay, names, where, limit: null, timeInMs: ctx.query.get('time_in_ms') === 'true', visibleAtMs: state.clock.now() };
  await streamLines(ctx, eventChunks(state, query), false);
}

function parseNames(value: string | null): Set<string> | null {
  if (!value) return null;
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed)) return new Set(parsed.map(String));
  } catch {
    // reported below
  }
  throw adminError(400, 'event must be a JSON array of event names');
}

async function postEvents(ctx: RequestContext): Promise<void> {
  const body = await readJsonBody(ctx);
  const list = Array.isArray(body) ? body : (asRecord(body, 'body').events as unknown);
  if (!Array.isArray(list)) throw adminError(400, 'Send an array of events, or {"events": [...]}');
  const events: MixpanelEvent[] = list.map((raw: unknown, i: number) => {
    const event = asRecord(raw, `events[${i}]`);
    const properties = asRecord(event.properties, `events[${i}].properties`);
    if (typeof event.event !== 'string') throw adminError(400, `events[${i}].event must be a string`);
    if (typeof properties.time !== 'number') throw adminError(400, `events[${i}].properties.time must be a number`);
    return { event: event.event, properties };
  });
  sendJson(ctx.res, 200, { injected: ctx.state.injectEvents(events) });
}

function getProfiles(ctx: RequestContext): void {
  const { state } = ctx;
  const profiles = [];
  for (let k = 0; k < state.config.profiles; k++) profiles.push(state.profile(k).record);
  sendJson(ctx.res, 200, profiles);
}

/** Sets properties on existing profiles: {"profiles": [{"distinct_id", "$set": {...}}]}. */
async function postProfiles(ctx: RequestContext): Promise<void> {
  const body = asRecord(await readJsonBody(ctx), 'body');
  if (!Array.isArray(body.profiles)) throw adminError(400, 'Send {"profiles": [{"distinct_id": "...", "$set": {...}}]}');
  const updates = body.profiles.map((raw: unknown, i: number) => {
    const update = asRecord(raw, `profiles[${i}]`);
    if (typeof update.distinct_id !== 'string') throw adminError(400, `profiles[${i}].distinct_id must be a string`);
    return { distinctId: update.distinct_id, set: asRecord(update.$set, `profiles[${i}].$set`) };
  });
  for (const { distinctId } of updates) {
    if (!ctx.state.eventContext.profileIds.includes(distinctId)) throw adminError(404, `No profile with distinct_id ${distinctId}`);
  }
  for (const { distinctId, set } of updates) ctx.state.updateProfile(distinctId, set);
  sendJson(ctx.res, 200, { updated: updates.length });
}

function clockState(ctx: RequestContext): Record<string, unknown> {
  const { state } = ctx;
  const now = state.clock.now();
  return { now: new Date(now).toISOString(), now_ms: now, today: formatDay(state.today()), project_timezone: state.config.projectTimezone };
}

async function postClock(ctx: RequestContext): Promise<void> {
  const body = asRecord(await readJsonBody(ctx), 'body');
  if (typeof body.now === 'string') {
    try {
      ctx.state.clock.set(parseInstant(body.now));
    } catch (err) {
      throw adminError(400, err instanceof Error ? err.message : String(err));
    }
  } else if (typeof body.advance_ms === 'number' && Number.isFinite(body.advance_ms)) {
    ctx.state.clock.advance(body.advance_ms);
  } else {
    throw adminError(400, 'Send {"now": "<ISO date-time>"} or {"advance_ms": <number>}');
  }
  sendJson(ctx.res, 200, clockState(ctx));
}

function settingsState(ctx: RequestContext): Record<string, unknown> {
  const { settings, limiters } = ctx.state;
  return {
    latency_ms: { ...settings.latencyMs },
    rate_limits: describeRateLimits(settings.rateLimits),
    rate_limited: { export: limiters.export.refused, query: limiters.query.refused },
    faults: settings.faults,
    faults_applied: { ...ctx.state.faultsApplied },
    mailchimp_batches: batchSettingsState(ctx.state),
  };
}

/** Runs a settings parser; its Error becomes a 400 naming the bad key. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw adminError(400, err instanceof Error ? err.message : String(err));
  }
}

async function postSettings(ctx: RequestContext): Promise<void> {
  const body = asRecord(await readJsonBody(ctx), 'body');
  if (body.latency_ms !== undefined) {
    const latency = asRecord(body.latency_ms, 'latency_ms');
    for (const [family, value] of Object.entries(latency)) {
      if (!(FAMILIES as readonly string[]).includes(family)) throw adminError(400, `latency_ms.${family}: unknown family`);
      if (typeof value !== 'number' || !(value >= 0)) throw adminError(400, `latency_ms.${family} must be a number >= 0`);
      ctx.state.settings.latencyMs[family as Family] = value;
    }
  }
  if (body.rate_limits !== undefined) {
    // New limits start with empty windows, so a test sees exactly the requests it makes.
    ctx.state.settings.rateLimits = parsed(() => mergeRateLimits(ctx.state.settings.rateLimits, body.rate_limits));
    ctx.state.limiters.export.clear();
    ctx.state.limiters.query.clear();
  }
  if (body.faults !== undefined) {
    ctx.state.settings.faults = parsed(() => parseFaultRules(body.faults));
    ctx.state.faultsApplied = {};
  }
  if (body.mailchimp_batches !== undefined) applyBatchSettings(ctx.state, body.mailchimp_batches);
  sendJson(ctx.res, 200, settingsState(ctx));
}

async function postReset(ctx: RequestContext): Promise<void> {
  await ctx.state.reset();
  sendJson(ctx.res, 200, { status: 'ok', ...clockState(ctx) });
}

