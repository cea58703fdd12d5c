/**
 * Mixpanel's aggregate reports, computed from the sandbox's own events so they agree with the
 * export: saved funnels (funnels/list, funnels) and revenue (engage/revenue, from the Purchase
 * events). Only events Mixpanel has processed by the sandbox clock count, so a late event changes
 * the numbers of its day once it arrives, as in the real service (the reason for a look-back).
 *
 *   GET funnels/list                        [{"funnel_id":7509,"name":"Signup funnel"}, ...]
 *   GET funnels?funnel_id&from_date&to_date[&unit=day|week|month][&interval=N]
 *       {"meta":{"dates":[...]},"data":{"2024-06-01":{"steps":[...],"analysis":{...}}, ...}}
 *   GET engage/revenue?from_date&to_date[&unit=day|week|month]
 *       {"computed_at":"...","results":{"2024-06-01":{"amount":..,"count":..,"paid_count":..},"$overall":{...}},"session_id":"...","status":"ok"}
 *
 * A funnel counts, per bucket, the users who did step 1 there and then each later step in order
 * within the same bucket; avg_time is the mean number of seconds from the previous step.
 */
import { DAY_MS, formatDay } from '../calendar.js';
import type { RequestContext } from '../context.js';
import { DayEvents } from '../data/events.js';
import { sendJson } from '../http.js';
import type { SandboxState } from '../state.js';
import { mixpanelRequestError } from './errors.js';
import { requiredDay, type Fail } from './export.js';

export interface FunnelDefinition {
  funnel_id: number;
  name: string;
  steps: readonly string[];
}

export const FUNNELS: readonly FunnelDefinition[] = [
  { funnel_id: 7509, name: 'Signup funnel', steps: ['Page View', 'Sign Up'] },
  { funnel_id: 9070, name: 'Checkout', steps: ['Page View', 'Add to Cart', 'Purchase'] },
  { funnel_id: 11318, name: 'Recherche → achat 🛒', steps: ['Search', 'Purchase'] },
];

export function findFunnel(id: number): FunnelDefinition | undefined {
  return FUNNELS.find((f) => f.funnel_id === id);
}

/** One event, reduced to what the reports read. `time` is Mixpanel's (seconds; local for a zoned project). */
export interface ReportEvent {
  event: string;
  distinctId: string;
  time: number;
  properties: Record<string, unknown>;
}

/** The processed events of one project day with one of `names`, in time order (generated, then injected). */
export function visibleEventsOfDay(state: SandboxState, day: number, names: ReadonlySet<string>): ReportEvent[] {
  const { config } = state;
  const now = state.clock.now();
  const out: ReportEvent[] = [];
  if (day >= config.fromDay && day <= config.toDay && config.eventsPerDay > 0 && state.calendar.dayBounds(day).startMs <= now) {
    const events = new DayEvents(state.eventContext, day);
    for (let i = 0; i < events.count; i++) {
      if (!events.select(i, names) || events.processedMs > now) continue;
      const { event, properties } = events.toObject();
      out.push({ event, distinctId: String(properties.distinct_id), time: Number(properties.time), properties });
    }
  }
  for (const { event } of state.injectedEvents.get(day) ?? []) {
    if (!names.has(event.event) || Number(event.properties.mp_processing_time_ms) > now) continue;
    out.push({ event: event.event, distinctId: String(event.properties.distinct_id ?? ''), time: Number(event.properties.time), properties: event.properties });
  }
  return out.sort((a, b) => a.time - b.time);
}

type Unit = 'day' | 'week' | 'month';

interface Range {
  fromDay: number;
  toDay: number;
}

/** from_date/to_date as the query API checks them (inclusive, not after today in the project zone). */
export function parseRange(params: URLSearchParams, state: SandboxState, fail: Fail): Range {
  const fromDay = requiredDay(params, 'from_date', fail);
  const toDay = requiredDay(params, 'to_date', fail);
  if (fromDay > toDay) throw fail('from_date cannot be later than to_date');
  if (toDay > state.today()) throw fail('to_date cannot be later than today');
  return { fromDay, toDay };
}

function parseUnit(params: URLSearchParams, fail: Fail): Unit {
  const unit = params.get('unit') ?? 'day';
  if (unit !== 'day' && unit !== 'week' && unit !== 'month') throw fail(`unit must be one of day, week, month; got "${unit}"`);
  return unit;
}

function parseInterval(params: URLSearchParams, fail: Fail): number {
  const value = params.get('interval');
  if (value === null || value === '') return 1;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw fail(`interval must be a positive integer, got "${value}"`);
  return Number(value);
}

/** The first day of the bucket holding `day`: N-day buckets from from_date, ISO weeks (Monday), calendar months. */
function bucketStart(day: number, range: Range, unit: Unit, interval: number): number {
  if (unit === 'week') return Math.max(range.fromDay, day - ((new Date(day * DAY_MS).getUTCDay() + 6) % 7));
  if (unit === 'month') {
    const date = new Date(day * DAY_MS);
    return Math.max(range.fromDay, Math.floor(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) / DAY_MS));
  }
  return day - ((day - range.fromDay) % interval);
}

function buckets(range: Range, unit: Unit, interval: number): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (let day = range.fromDay; day <= range.toDay; day++) {
    const start = bucketStart(day, range, unit, interval);
    const days = map.get(start) ?? [];
    days.push(day);
    map.set(start, days);
  }
  return map;
}

function handleFunnelsList(ctx: RequestContext): void {
  sendJson(
    ctx.res,
    200,
    FUNNELS.map((f) => ({ funnel_id: f.funnel_id, name: f.name })),
  );
}

interface StepTotals {
  count: number;
  secondsFromPrevious: number;
  secondsFromStart: number;
}

/** Users through each step, within one bucket. */
function funnelTotals(events: readonly ReportEvent[], steps: readonly string[]): StepTotals[] {
  const totals: StepTotals[] = steps.map(() => ({ count: 0, secondsFromPrevious: 0, secondsFromStart: 0 }));
  // Per user: the next step to reach, when the funnel started, when the previous step happened.
  const progress = new Map<string, { next: number; start: number; previous: number }>();
  for (const e of events) {
    const p = progress.get(e.distinctId);
    if (!p) {
      if (e.event !== steps[0]) continue;
      progress.set(e.distinctId, { next: 1, start: e.time, previous: e.time });
      (totals[0] as StepTotals).count++;
      continue;
    }
    if (p.next >= steps.length || e.event !== steps[p.next]) continue;
    const step = totals[p.next] as StepTotals;
    step.count++;
    step.secondsFromPrevious += e.time - p.previous;
    step.secondsFromStart += e.time - p.start;
    p.previous = e.time;
    p.next++;
  }
  return totals;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function funnelReport(totals: readonly StepTotals[], steps: readonly string[]): Record<string, unknown> {
  const first = totals[0]?.count ?? 0;
  let worst = 1;
  let worstRatio = 2;
  const stepReports = totals.map((t, i) => {
    const previous = i === 0 ? t.count : (totals[i - 1] as StepTotals).count;
    const stepRatio = i === 0 ? 1 : previous > 0 ? t.count / previous : 0;
    if (i > 0 && stepRatio < worstRatio) {
      worstRatio = stepRatio;
      worst = i;
    }
    const event = steps[i] as string;
    return {
      count: t.count,
      avg_time: i === 0 || t.count === 0 ? null : Math.round(t.secondsFromPrevious / t.count),
      avg_time_from_start: i === 0 || t.count === 0 ? null : Math.round(t.secondsFromStart / t.count),
      step_conv_ratio: round(stepRatio),
      goal: event,
      overall_conv_ratio: i === 0 ? 1 : round(first > 0 ? t.count / first : 0),
      event,
      step_label: event,
    };
  });
  return {
    steps: stepReports,
    analysis: { completion: totals[totals.length - 1]?.count ?? 0, starting_amount: first, steps: steps.length, worst },
  };
}

function handleFunnels(ctx: RequestContext): void {
  const params = ctx.query;
  const fail = (message: string) => mixpanelRequestError(ctx, message);
  const idText = params.get('funnel_id');
  if (idText === null || idText === '') throw fail('funnel_id is a required parameter');
  if (!/^\d+$/.test(idText)) throw fail(`funnel_id must be an integer, got "${idText}"`);
  const funnel = findFunnel(Number(idText));
  if (!funnel) throw fail(`Funnel ${idText} does not exist or you do not have access to it`);
  const range = parseRange(params, ctx.state, fail);
  const unit = parseUnit(params, fail);
  const interval = parseInterval(params, fail);
  const names = new Set(funnel.steps);
  const data: Record<string, unknown> = {};
  for (const [start, days] of buckets(range, unit, interval)) {
    const events = days.flatMap((day) => visibleEventsOfDay(ctx.state, day, names));
    data[formatDay(start)] = funnelReport(funnelTotals(events, funnel.steps), funnel.steps);
  }
  sendJson(ctx.res, 200, { meta: { dates: Object.keys(data) }, data });
}

const PURCHASE = new Set(['Purchase']);

interface RevenueTotals {
  amount: number;
  count: number;
  paid_count: number;
}

function revenueOf(events: readonly ReportEvent[]): RevenueTotals {
  let amount = 0;
  const payers = new Set<string>();
  for (const e of events) {
    amount += Number(e.properties.amount ?? 0);
    payers.add(e.distinctId);
  }
  return { amount: Math.round(amount * 100) / 100, count: events.length, paid_count: payers.size };
}

function handleRevenue(ctx: RequestContext): void {
  const params = ctx.query;
  const fail = (message: string) => mixpanelRequestError(ctx, message);
  const range = parseRange(params, ctx.state, fail);
  const unit = parseUnit(params, fail);
  const results: Record<string, RevenueTotals> = {};
  const all: ReportEvent[] = [];
  for (const [start, days] of buckets(range, unit, 1)) {
    const events = days.flatMap((day) => visibleEventsOfDay(ctx.state, day, PURCHASE));
    all.push(...events);
    results[formatDay(start)] = revenueOf(events);
  }
  sendJson(ctx.res, 200, {
    computed_at: new Date(ctx.state.clock.now()).toISOString().slice(0, 19),
    results: { ...results, $overall: revenueOf(all) },
    session_id: `${Math.floor(ctx.state.clock.now() / 1000)}-REVENUE`,
    status: 'ok',
  });
}

export const reportHandlers = { handleFunnelsList, handleFunnels, handleRevenue };
