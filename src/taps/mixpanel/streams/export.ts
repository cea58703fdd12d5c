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
 *
 * Broken transfers. A body that breaks (connection reset, truncated gzip, a partial last line,
 * "terminated early", a stall past idle_timeout) is read again; the events the window already
 * emitted are skipped by key (emitted-keys.ts: a bounded multiset of 64-bit hashes), because
 * Mixpanel does not promise the same order twice. A slice whose body breaks SLICE_ATTEMPTS times,
 * or whose request fails through all the HTTP client's retries (5xx, no first byte in time), is
 * split: a range of days into days, a day into hours (a `where` on `time`).
 */
import type { JsonObject, JsonSchema } from '../../../singer/messages.js';
import { LineSplitter } from '../../../util/lines.js';
import { errorMessage, RemoteError } from '../../../errors/index.js';
import { formatDuration } from '../../../http/budget.js';
import { HttpError } from '../../../http/errors.js';
import { backoffDelay, isRetryableNetworkCode } from '../../../http/retry.js';
import { EmittedKeys } from '../emitted-keys.js';
import { loadSchema } from '../../../schemas/index.js';
import { exportEventNames, type TapConfig } from '../config.js';
import { addDays, instantMs, type ProjectTime } from '../time.js';
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
    const ms = instantMs(value);
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

/** A part of a window read with one request: whole days, or one hour of one day (a `where` on `time`). */
export interface ExportSlice {
  fromDay: string;
  toDay: string;
  /** [start, end) in the units of the event `time` (seconds; local seconds for pre-2023 projects). */
  hour?: { startSeconds: number; endSeconds: number };
}

/** Reads of one slice before it is split into smaller ones (or, for an hour, the run fails). */
export const SLICE_ATTEMPTS = 3;

export function describeSlice(slice: ExportSlice): string {
  const days = slice.fromDay === slice.toDay ? slice.fromDay : `${slice.fromDay} to ${slice.toDay}`;
  if (!slice.hour) return days;
  const hour = (seconds: number) => new Date(seconds * 1000).toISOString().slice(11, 16);
  return `${days} ${hour(slice.hour.startSeconds)}-${hour(slice.hour.endSeconds)}`;
}

/**
 * Smaller slices covering the same events: a range of days becomes single days, a day becomes
 * its 24 hours (a `where` on `time`, which is in the project's day units, so day D's hours are
 * D 00:00 + k hours read as UTC seconds). Null for an hour: nothing smaller is worth it.
 */
export function splitSlice(slice: ExportSlice): ExportSlice[] | null {
  if (slice.hour) return null;
  if (slice.fromDay !== slice.toDay) {
    const days: ExportSlice[] = [];
    for (let day = slice.fromDay; day <= slice.toDay; day = addDays(day, 1)) days.push({ fromDay: day, toDay: day });
    return days;
  }
  const dayStart = Date.parse(`${slice.fromDay}T00:00:00Z`) / 1000;
  return Array.from({ length: 24 }, (_, h) => ({
    fromDay: slice.fromDay,
    toDay: slice.toDay,
    hour: { startSeconds: dayStart + h * 3600, endSeconds: dayStart + (h + 1) * 3600 },
  }));
}

/** The export `where` of a slice: the look-back's ingestion filter and the hour, joined with `and`. */
export function sliceWhere(slice: ExportSlice, ingestedAfterMs: number | undefined): string | undefined {
  const parts: string[] = [];
  if (ingestedAfterMs !== undefined) parts.push(`properties["mp_processing_time_ms"] > ${ingestedAfterMs}`);
  if (slice.hour) parts.push(`properties["time"] >= ${slice.hour.startSeconds} and properties["time"] < ${slice.hour.endSeconds}`);
  return parts.length > 0 ? parts.join(' and ') : undefined;
}

/** A response body that broke: reset, truncated gzip, a partial last line, "terminated early", a stall. */
export class ExportBodyError extends RemoteError {}

/** Worth reading the slice again: a broken body, or a request that failed with a retryable error. */
function isRecoverable(err: unknown): boolean {
  if (err instanceof ExportBodyError) return true;
  if (err instanceof HttpError) {
    if (err.status === undefined) return isRetryableNetworkCode(err.code) || err.code === 'ERR_INVALID_JSON';
    return err.status >= 500 || err.status === 408;
  }
  return false;
}

interface WindowRead {
  window: ExportWindow;
  /** Events ingested at or before this are not new on a re-read day. */
  low: number;
  emitted: EmittedKeys;
}

/** What every slice of one run shares: the plan, the transform, and the watermark once known. */
interface ExportRun {
  plan: ExportPlan;
  transform: ReturnType<typeof makeEventTransform>;
  events: string[] | undefined;
  settleMs: number;
  /** The run's ingestion watermark: set by the first answer (its Date header), or resumed. */
  watermark: number | undefined;
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
  const run: ExportRun = { plan, transform: makeEventTransform(config, time), events: exportEventNames(config), settleMs: config.ingestion_settle_minutes * 60_000, watermark: plan.resumeWatermarkMs };
  for (const window of plan.windows) {
    yield* readWindow(ctx, run, window);
    yield { kind: 'bookmark', bookmark: sweepBookmark(run, window, time) };
  }
  const lastWindow = plan.windows[plan.windows.length - 1] as ExportWindow;
  yield { kind: 'bookmark', bookmark: commitBookmark(plan, lastWindow.toDay, run.watermark as number, time) };
}

/** The bookmark after a window of a sweep: the sweep so far, the last committed day unchanged. */
function sweepBookmark(run: ExportRun, window: ExportWindow, time: ProjectTime): ExportBookmark {
  const { plan } = run;
  return {
    replication_key: 'time',
    replication_key_value: replicationKeyValue(plan.previousLastDay, time),
    last_day_read: plan.previousLastDay ?? addDays(plan.sweepFrom, -1),
    processing_watermark_ms: plan.previousWatermarkMs === Number.NEGATIVE_INFINITY ? 0 : plan.previousWatermarkMs,
    sweep: { from_day: plan.sweepFrom, through_day: window.toDay, processing_watermark_ms: run.watermark as number },
  };
}

/**
 * One window: its slices are read in turn; a slice whose body breaks is read again (events
 * already emitted are skipped by key), and one that keeps failing is split into days, then hours.
 */
async function* readWindow(ctx: SyncContext, run: ExportRun, window: ExportWindow): AsyncGenerator<StreamOutput> {
  const { config, log } = ctx;
  const read: WindowRead = { window, low: window.reread ? run.plan.previousWatermarkMs : Number.NEGATIVE_INFINITY, emitted: new EmittedKeys() };
  log.info(`export: reading ${window.fromDay} to ${window.toDay}${window.reread ? ' (look-back: events ingested since the last run)' : ''}`);
  const queue: ExportSlice[] = [{ fromDay: window.fromDay, toDay: window.toDay }];
  let emittedCount = 0;
  while (queue.length > 0) {
    const slice = queue.shift() as ExportSlice;
    for (let failures = 0; ; ) {
      try {
        for await (const output of readSlice(ctx, run, read, slice)) {
          if (output.kind === 'records') emittedCount += output.records.length;
          yield output;
        }
        break;
      } catch (err) {
        if (ctx.signal.aborted || !isRecoverable(err)) throw err;
        // A request that failed through all of the HTTP client's retries (5xx, timeouts before
        // the first byte) is not tried again as it is: a smaller window is the better bet.
        failures = err instanceof HttpError ? SLICE_ATTEMPTS : failures + 1;
        if (failures < SLICE_ATTEMPTS) {
          const waitMs = backoffDelay(failures, { baseDelayMs: config.retry_base_delay_seconds * 1000, maxDelayMs: 60_000 });
          log.warn(
            `export ${describeSlice(slice)}: ${errorMessage(err)}; reading it again in ${formatDuration(waitMs)} (attempt ${failures + 1} of ${SLICE_ATTEMPTS}; events already emitted are skipped by key)`,
          );
          await ctx.client.export.sleep(waitMs);
          continue;
        }
        const parts = splitSlice(slice);
        if (!parts) throw new RemoteError(`export ${describeSlice(slice)} still fails as a single hour: ${errorMessage(err)}`, { cause: err });
        log.warn(`export ${describeSlice(slice)}: ${errorMessage(err)}; splitting it into ${parts.length} smaller requests`);
        queue.unshift(...parts);
        break;
      }
    }
  }
  log.info(`export: ${window.fromDay} to ${window.toDay} done`, { records: emittedCount });
}

/** One request for one slice; every event the window has not emitted yet is yielded. */
async function* readSlice(ctx: SyncContext, run: ExportRun, read: WindowRead, slice: ExportSlice): AsyncGenerator<StreamOutput> {
  const { time, log } = ctx;
  const previousWatermarkMs = run.plan.previousWatermarkMs;
  const response = await ctx.client.exportEvents({
    fromDate: slice.fromDay,
    toDate: slice.toDay,
    ...(run.events ? { events: run.events } : {}),
    where: sliceWhere(slice, read.window.reread && Number.isFinite(previousWatermarkMs) ? previousWatermarkMs : undefined),
  });
  if (run.watermark === undefined) {
    const serverNow = Date.parse(String(response.headers.date ?? ''));
    const localNow = time.runStartedAt.toMillis();
    run.watermark = (Number.isNaN(serverNow) ? localNow : Math.min(localNow, serverNow)) - run.settleMs;
    log.debug('export: processing watermark', { watermark: new Date(run.watermark).toISOString() });
  }
  read.emitted.beginRead();
  const lines = new BodyLines(run, read, run.watermark);
  try {
    for await (const chunk of response.body) {
      const records: JsonObject[] = [];
      let broken: unknown;
      try {
        lines.push(chunk as Buffer, records);
      } catch (err) {
        broken = err;
      }
      // Records admitted before a bad line count as emitted: they must go out before the error.
      if (records.length > 0) yield { kind: 'records', records };
      if (broken !== undefined) throw broken;
    }
  } catch (err) {
    if (err instanceof ExportBodyError || ctx.signal.aborted) throw err;
    const code = (err as { code?: unknown } | null)?.code;
    throw new ExportBodyError(`the transfer broke after line ${lines.lineNumber} (${typeof code === 'string' ? `${code}: ` : ''}${errorMessage(err)})`, { cause: err });
  } finally {
    if (!response.body.destroyed) response.body.destroy();
  }
  lines.end();
}

/**
 * The lines of one export body: each is an event; those ingested in (low, high] and not yet
 * emitted by the window become records. A line that is not a JSON object, or a body that ends in
 * the middle of a line, is a broken transfer (ExportBodyError).
 */
class BodyLines {
  lineNumber = 0;
  private readonly splitter = new LineSplitter();

  constructor(
    private readonly run: ExportRun,
    private readonly read: WindowRead,
    private readonly high: number,
  ) {}

  push(chunk: Buffer, out: JsonObject[]): void {
    for (const line of this.splitter.push(chunk)) {
      this.lineNumber++;
      if (line === '') continue;
      if (line.charCodeAt(0) !== 123 /* { */) throw new ExportBodyError(`the response ended abnormally at line ${this.lineNumber} (${line.slice(0, 60)})`);
      let raw: RawEvent;
      try {
        raw = JSON.parse(line) as RawEvent;
      } catch (err) {
        throw new ExportBodyError(`line ${this.lineNumber} is not complete JSON (${line.slice(0, 60)})`, { cause: err });
      }
      const pt = processingTimeOf(raw);
      if (pt <= this.read.low || pt > this.high) continue;
      const record = this.run.transform(raw);
      if (this.read.emitted.admitEvent(record.event as string, record.distinct_id as string, record.time as string, record.mp_reserved_insert_id as string)) out.push(record);
    }
  }

  /** A body must end with a complete line: anything else is a broken transfer. */
  end(): void {
    const rest = this.splitter.end();
    if (rest !== null && rest.trim() !== '') throw new ExportBodyError(`the response ended in the middle of line ${this.lineNumber + 1}`);
  }
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
