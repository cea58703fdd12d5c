/**
 * export: raw events, read in windows of whole project days and streamed record by record.
 *
 * Late events and the look-back. Mixpanel stamps every event with mp_processing_time_ms, the
 * moment it ingested it. The bookmark holds two watermarks:
 *   last_day_read            every project day up to this one has been read ...
 *   processing_watermark_ms  ... and every event on those days ingested at or before this has been emitted.
 * A run re-reads the last `attribution_window` days plus every new day, and emits an event when
 *   it is on a day read before and was ingested after the old watermark and at or before the new one, or
 *   it is on a day never read before and was ingested at or before the new watermark.
 * The new watermark is the run's start minus `ingestion_settle_minutes` (taken from the earlier of
 * our clock and Mixpanel's Date header), so an event still on its way into the export API is
 * left for the next run rather than missed. Each event is therefore emitted by exactly one run.
 *
 * Within a run, after each window the state records the sweep in progress (its days and its
 * watermark); a run started from that state carries on where it stopped, with the same watermark.
 */
import type { JsonObject, JsonSchema } from '../../../singer/messages.js';
import { LineSplitter } from '../../../util/lines.js';
import { RemoteError } from '../../../errors/index.js';
import { loadSchema } from '../../../schemas/index.js';
import { exportEventNames, type TapConfig } from '../config.js';
import { addDays, type ProjectTime } from '../time.js';
import { denestInto, derivedInsertId, renameProperty } from '../transform.js';
import type { StreamDefinition, StreamOutput, SyncContext } from './types.js';

export interface ExportSweep {
  from_day: string;
  through_day: string;
  processing_watermark_ms: number;
}

export interface ExportBookmark {
  /** Set when the bookmark came from another tap's bare date-time: its day was only partly read. */
  migrated?: boolean;
  replication_key: 'time';
  replication_key_value: string;
  last_day_read: string;
  processing_watermark_ms: number;
  sweep?: ExportSweep;
  [extra: string]: unknown;
}

export interface ExportWindow {
  fromDay: string;
  toDay: string;
  /** Days read by an earlier run: only events ingested after the old watermark are new. */
  reread: boolean;
}

export interface ExportPlan {
  windows: ExportWindow[];
  /** Watermark of days read before (events at or below it were emitted). */
  previousWatermarkMs: number;
  previousLastDay: string | null;
  /** Set when resuming a sweep: its watermark is kept. */
  resumeWatermarkMs?: number;
  sweepFrom: string;
}

interface RawEvent {
  event?: unknown;
  properties?: Record<string, unknown>;
}

function maxDay(a: string, b: string): string {
  return a > b ? a : b;
}

/** Splits [from, to] into windows of `size` days, breaking at `boundary` (the first never-read day). */
export function planWindows(from: string, to: string, size: number, boundary: string | null): ExportWindow[] {
  const windows: ExportWindow[] = [];
  let day = from;
  while (day <= to) {
    let end = addDays(day, size - 1);
    if (end > to) end = to;
    const reread = boundary !== null && day < boundary;
    if (reread && end >= boundary) end = addDays(boundary, -1);
    windows.push({ fromDay: day, toDay: end, reread });
    day = addDays(end, 1);
  }
  return windows;
}

/** Reads a bookmark in any shape we have written, or older taps wrote (a bare date-time). */
export function readExportBookmark(raw: Record<string, unknown> | undefined, time: ProjectTime): Partial<ExportBookmark> | undefined {
  if (!raw) return undefined;
  if (typeof raw.last_day_read === 'string' && typeof raw.processing_watermark_ms === 'number') return raw as Partial<ExportBookmark>;
  if (typeof raw.replication_key_value === 'string') {
    // A date-time bookmark from another Mixpanel tap: days through that day were read, and the
    // bookmark's instant is the best estimate of what had been ingested.
    const value = raw.replication_key_value;
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return { last_day_read: time.dayOf(value), processing_watermark_ms: ms, migrated: true };
  }
  return undefined;
}

export function planExport(config: TapConfig, time: ProjectTime, bookmark: Partial<ExportBookmark> | undefined): ExportPlan | null {
  const startDay = time.configDay(config.start_date);
  const endDay = config.end_date ? minDay(time.configDay(config.end_date), time.today) : time.today;
  const lastDay = bookmark?.last_day_read ?? null;
  const previousWatermarkMs = bookmark?.processing_watermark_ms ?? Number.NEGATIVE_INFINITY;
  const boundary = lastDay === null ? null : addDays(lastDay, 1);

  if (bookmark?.sweep) {
    const sweep = bookmark.sweep;
    const from = addDays(sweep.through_day, 1);
    return {
      windows: from > endDay ? [] : planWindows(from, endDay, config.date_window_size, boundary),
      previousWatermarkMs,
      previousLastDay: lastDay,
      resumeWatermarkMs: sweep.processing_watermark_ms,
      sweepFrom: sweep.from_day,
    };
  }
  // An end_date before the days already read would mix two watermarks in one range: a backfill
  // of older days runs with its own state file instead (README: parallel date partitions).
  if (lastDay !== null && endDay < lastDay) return null;
  // A migrated bookmark's own day was read only up to the bookmark: re-read it whatever the window.
  const lookBack = bookmark?.migrated ? Math.max(1, config.attribution_window) : config.attribution_window;
  const from = lastDay === null ? startDay : maxDay(startDay, addDays(lastDay, 1 - lookBack));
  if (from > endDay) return null;
  return {
    windows: planWindows(from, endDay, config.date_window_size, boundary),
    previousWatermarkMs,
    previousLastDay: lastDay,
    sweepFrom: from,
  };
}

function minDay(a: string, b: string): string {
  return a < b ? a : b;
}

export function exportSchema(config: TapConfig): JsonSchema {
  const schema = loadSchema('streams/export.json');
  if (!config.denest_properties) {
    schema.properties = {
      ...Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([name]) => EXPORT_TOP_LEVEL.has(name))),
      properties: { type: ['null', 'object'], additionalProperties: true },
    };
  }
  return schema;
}

const EXPORT_TOP_LEVEL = new Set(['event', 'distinct_id', 'time', 'mp_reserved_insert_id', 'mp_processing_time_ms']);

/** Turns one export line into a record; the event keeps its key fields even when properties stay nested. */
export function makeEventTransform(config: TapConfig, time: ProjectTime): (raw: RawEvent) => JsonObject {
  const denest = config.denest_properties;
  return (raw) => {
    const properties = raw.properties ?? {};
    const seconds = eventSeconds(properties);
    const insertId = properties.$insert_id;
    const record: JsonObject = {
      event: typeof raw.event === 'string' ? raw.event : String(raw.event ?? ''),
      distinct_id: properties.distinct_id === undefined || properties.distinct_id === null ? '' : String(properties.distinct_id),
      time: time.eventTimeToIso(seconds),
      mp_reserved_insert_id: typeof insertId === 'string' && insertId !== '' ? insertId : derivedInsertId(raw.event, properties),
    };
    if (denest) {
      for (const key in properties) {
        if (key === 'time' || key === 'distinct_id' || key === '$insert_id') continue;
        record[renameProperty(key)] = properties[key];
      }
    } else {
      record.mp_processing_time_ms = properties.mp_processing_time_ms;
      const nested: JsonObject = {};
      denestInto(nested, properties);
      record.properties = nested;
    }
    return record;
  };
}

/** Event time in seconds; an event without a usable `time` falls back to when Mixpanel ingested it. */
function eventSeconds(properties: Record<string, unknown>): number {
  const t = properties.time;
  if (typeof t === 'number' && Number.isFinite(t)) return t;
  if (typeof t === 'string' && t.trim() !== '' && Number.isFinite(Number(t))) return Number(t);
  const pt = properties.mp_processing_time_ms;
  return typeof pt === 'number' ? Math.floor(pt / 1000) : 0;
}

function processingTimeOf(raw: RawEvent): number {
  const p = raw.properties ?? {};
  const ms = p.mp_processing_time_ms;
  if (typeof ms === 'number') return ms;
  // Old data without an ingestion stamp: its event time is the best estimate.
  return typeof p.time === 'number' ? p.time * 1000 : 0;
}

async function* syncExport(ctx: SyncContext): AsyncGenerator<StreamOutput> {
  const { config, time, log } = ctx;
  const bookmark = readExportBookmark(ctx.state.get('export'), time);
  const plan = planExport(config, time, bookmark);
  if (plan && plan.windows.length === 0 && plan.resumeWatermarkMs !== undefined && bookmark?.sweep) {
    // An interrupted sweep had read everything: only its commit is missing.
    yield { kind: 'bookmark', bookmark: commitBookmark(plan, bookmark.sweep.through_day, plan.resumeWatermarkMs, time) };
    return;
  }
  if (!plan || plan.windows.length === 0) {
    log.info('export: nothing to read', { last_day_read: bookmark?.last_day_read, today: time.today });
    return;
  }
  const transform = makeEventTransform(config, time);
  const events = exportEventNames(config);
  let watermark = plan.resumeWatermarkMs;
  const settleMs = config.ingestion_settle_minutes * 60_000;

  for (const window of plan.windows) {
    const response = await ctx.client.exportEvents({
      fromDate: window.fromDay,
      toDate: window.toDay,
      ...(events ? { events } : {}),
      ...(window.reread && Number.isFinite(plan.previousWatermarkMs)
        ? { where: `properties["mp_processing_time_ms"] > ${plan.previousWatermarkMs}` }
        : {}),
    });
    if (watermark === undefined) {
      const serverNow = Date.parse(String(response.headers.date ?? ''));
      const localNow = time.runStartedAt.toMillis();
      watermark = (Number.isNaN(serverNow) ? localNow : Math.min(localNow, serverNow)) - settleMs;
      log.debug('export: processing watermark', { watermark: new Date(watermark).toISOString() });
    }
    const low = window.reread ? plan.previousWatermarkMs : Number.NEGATIVE_INFINITY;
    const high = watermark;
    log.info(`export: reading ${window.fromDay} to ${window.toDay}${window.reread ? ' (look-back: events ingested since the last run)' : ''}`);

    const splitter = new LineSplitter();
    let lineNumber = 0;
    let emitted = 0;
    const handle = (lines: string[], out: JsonObject[]) => {
      for (const line of lines) {
        lineNumber++;
        if (line === '') continue;
        if (line.charCodeAt(0) !== 123 /* { */) {
          throw new RemoteError(`export ${window.fromDay}..${window.toDay}: the response ended abnormally at line ${lineNumber} (${line.slice(0, 60)})`);
        }
        const raw = JSON.parse(line) as RawEvent;
        const pt = processingTimeOf(raw);
        if (pt > low && pt <= high) out.push(transform(raw));
      }
    };
    for await (const chunk of response.body) {
      const records: JsonObject[] = [];
      handle(splitter.push(chunk as Buffer), records);
      if (records.length > 0) {
        emitted += records.length;
        yield { kind: 'records', records };
      }
    }
    const rest = splitter.end();
    if (rest !== null && rest.trim() !== '') {
      // A body must end with a complete line: anything else is a broken transfer.
      throw new RemoteError(`export ${window.fromDay}..${window.toDay}: the response ended in the middle of line ${lineNumber + 1}`);
    }
    log.info(`export: ${window.fromDay} to ${window.toDay} done`, { records: emitted });
    yield {
      kind: 'bookmark',
      bookmark: {
        replication_key: 'time',
        replication_key_value: replicationKeyValue(plan.previousLastDay, time),
        last_day_read: plan.previousLastDay ?? addDays(plan.sweepFrom, -1),
        processing_watermark_ms: plan.previousWatermarkMs === Number.NEGATIVE_INFINITY ? 0 : plan.previousWatermarkMs,
        sweep: { from_day: plan.sweepFrom, through_day: window.toDay, processing_watermark_ms: watermark },
      },
    };
  }

  const lastWindow = plan.windows[plan.windows.length - 1] as ExportWindow;
  yield { kind: 'bookmark', bookmark: commitBookmark(plan, lastWindow.toDay, watermark as number, time) };
}

/** The state at the end of a sweep: every day through the last one read is covered to the new watermark. */
function commitBookmark(plan: ExportPlan, throughDay: string, watermarkMs: number, time: ProjectTime): ExportBookmark {
  // planExport never reads less than the days already read, so throughDay >= previousLastDay.
  const lastDay = throughDay;
  return {
    replication_key: 'time',
    replication_key_value: replicationKeyValue(lastDay, time),
    last_day_read: lastDay,
    processing_watermark_ms: watermarkMs,
  };
}

/** The instant up to which event times are covered: the end of the last day read, capped at the run start. */
function replicationKeyValue(lastDay: string | null, time: ProjectTime): string {
  if (lastDay === null) return '1970-01-01T00:00:00.000Z';
  const end = time.startOfDay(addDays(lastDay, 1));
  const runStart = time.runStartedAt.toUTC().toISO() as string;
  return Date.parse(end) < Date.parse(runStart) ? new Date(Date.parse(end)).toISOString() : new Date(Date.parse(runStart)).toISOString();
}

export const exportStream: StreamDefinition = {
  name: 'export',
  keyProperties: ['event', 'distinct_id', 'time', 'mp_reserved_insert_id'],
  replicationMethod: 'INCREMENTAL',
  forcedReplicationMethod: 'INCREMENTAL',
  replicationKey: 'time',
  validReplicationKeys: ['time'],
  selectedByDefault: true,
  dynamicProperties: true,
  baseSchema: exportSchema,
  sync: syncExport,
};
