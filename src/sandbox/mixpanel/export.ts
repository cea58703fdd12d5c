/**
 * GET /api/2.0/export: events as JSON Lines, streamed day by day with backpressure, gzip when
 * the client accepts it. The same event stream feeds the admin ground truth.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';
import { formatDay, parseDay } from '../calendar.js';
import { LineChunker } from '../chunks.js';
import type { RequestContext } from '../context.js';
import { DayEvents } from '../data/events.js';
import { createLogger } from '../../log/logger.js';
import type { SandboxState } from '../state.js';
import { mixpanelRequestError } from './errors.js';
import { ExpressionError, parseExpression } from './expression.js';
import type { Expression } from './expression.js';

const log = createLogger('sandbox').child('export');

export const EXPORT_LIMIT_MAX = 100_000;

export interface EventQuery {
  fromDay: number;
  toDay: number;
  names: ReadonlySet<string> | null;
  where: Expression | null;
  limit: number | null;
  timeInMs: boolean;
  /** Events processed after this instant are not visible yet. */
  visibleAtMs: number;
}

/** Validates export parameters the way the real API does; throws the 400 to send. */
export function parseExportQuery(ctx: RequestContext, params: URLSearchParams, state: SandboxState): EventQuery {
  const fail = (message: string) => mixpanelRequestError(ctx, message);
  const fromDay = requiredDay(params, 'from_date', fail);
  const toDay = requiredDay(params, 'to_date', fail);
  if (fromDay > toDay) throw fail('from_date cannot be later than to_date');
  if (toDay > state.today()) throw fail('to_date cannot be later than today');
  return {
    fromDay,
    toDay,
    names: parseEventNames(params.get('event'), fail),
    where: parseWhere(params.get('where'), fail),
    limit: parseLimit(params.get('limit'), fail),
    timeInMs: parseFlag(params.get('time_in_ms'), 'time_in_ms', fail),
    visibleAtMs: state.clock.now(),
  };
}

export type Fail = (message: string) => Error;

export function requiredDay(params: URLSearchParams, name: string, fail: Fail): number {
  const value = params.get(name);
  if (value === null || value === '') throw fail(`${name} is a required parameter`);
  const day = parseDay(value);
  if (day === null) throw fail(`${name} must be a valid date in YYYY-MM-DD format, got "${value}"`);
  return day;
}

function parseEventNames(value: string | null, fail: Fail): ReadonlySet<string> | null {
  if (value === null || value === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw fail('event must be a JSON array of event names, e.g. ["Sign Up","Purchase"]');
  }
  if (typeof parsed === 'string') return new Set([parsed]);
  if (!Array.isArray(parsed) || !parsed.every((n) => typeof n === 'string')) {
    throw fail('event must be a JSON array of event names, e.g. ["Sign Up","Purchase"]');
  }
  return new Set(parsed as string[]);
}

export function parseWhere(value: string | null, fail: Fail): Expression | null {
  if (value === null || value.trim() === '') return null;
  try {
    return parseExpression(value);
  } catch (err) {
    if (err instanceof ExpressionError) throw fail(`Invalid where expression: ${err.message}`);
    throw err;
  }
}

function parseLimit(value: string | null, fail: Fail): number | null {
  if (value === null || value === '') return null;
  if (!/^\d+$/.test(value)) throw fail(`limit must be a positive integer, got "${value}"`);
  const limit = Number(value);
  if (limit > EXPORT_LIMIT_MAX) throw fail(`limit cannot be over ${EXPORT_LIMIT_MAX}`);
  return limit;
}

function parseFlag(value: string | null, name: string, fail: Fail): boolean {
  if (value === null || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw fail(`${name} must be true or false, got "${value}"`);
}

/**
 * The visible events of a range as chunks of JSON Lines. Days are generated one at a time and
 * nothing but the current chunk is held, so memory stays flat for any range.
 */
export function* eventChunks(state: SandboxState, query: EventQuery): Generator<Buffer> {
  const { config } = state;
  const limit = query.limit ?? Number.POSITIVE_INFINITY;
  if (limit === 0) return;
  const chunker = new LineChunker();
  let emitted = 0;
  for (let day = query.fromDay; day <= query.toDay && emitted < limit; day++) {
    const generated = day >= config.fromDay && day <= config.toDay && config.eventsPerDay > 0;
    // A day that starts after the visibility instant has nothing processed yet.
    if (generated && state.calendar.dayBounds(day).startMs <= query.visibleAtMs) {
      const events = new DayEvents(state.eventContext, day);
      for (let i = 0; i < events.count && emitted < limit; i++) {
        if (!events.select(i, query.names) || events.processedMs > query.visibleAtMs) continue;
        let line: string;
        if (query.where) {
          // `where` sees `time` in seconds, whatever time_in_ms asks for in the output.
          const event = events.toObject();
          if (!query.where.test(event.properties)) continue;
          if (query.timeInMs) event.properties.time = events.timeMs;
          line = JSON.stringify(event);
        } else {
          line = events.toJson(query.timeInMs);
        }
        emitted++;
        const full = chunker.push(line);
        if (full) yield full;
      }
    }
    for (const injected of state.injectedEvents.get(day) ?? []) {
      if (emitted >= limit) break;
      const { event } = injected;
      if (query.names && !query.names.has(event.event)) continue;
      if (Number(event.properties.mp_processing_time_ms) > query.visibleAtMs) continue;
      if (query.where && !query.where.test(event.properties)) continue;
      const out = query.timeInMs ? { event: event.event, properties: { ...event.properties, time: injected.timeMs } } : event;
      emitted++;
      const full = chunker.push(JSON.stringify(out));
      if (full) yield full;
    }
  }
  const rest = chunker.flush();
  if (rest) yield rest;
}

export function acceptsGzip(ctx: RequestContext): boolean {
  const header = ctx.req.headers['accept-encoding'];
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').some((part) => {
    const [coding, ...rest] = part.trim().toLowerCase().split(';');
    return coding === 'gzip' && !rest.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p));
  });
}

/**
 * gzip at level 1 (the sandbox must outrun its clients; ratio matters little on loopback), with
 * room for a megabyte of pending input so generation can run ahead of compression.
 */
const GZIP_OPTIONS: ZlibOptions & { highWaterMark: number } = {
  level: zlibConstants.Z_BEST_SPEED,
  chunkSize: 64 * 1024,
  highWaterMark: 1024 * 1024,
};

/**
 * Hands chunks over one per event-loop turn. Generation is synchronous; without the pause,
 * zlib's thread-pool completions and socket writes wait until backpressure stops the generator,
 * so compression alternates with generation instead of overlapping it (about 30% faster gzip).
 */
async function* interleaved(chunks: Iterable<Buffer>): AsyncGenerator<Buffer> {
  for (const chunk of chunks) {
    yield chunk;
    await nextMacrotask();
  }
}

/** Streams chunks to the client through the context's body stages and optional gzip, with backpressure. */
export async function streamLines(ctx: RequestContext, chunks: Iterable<Buffer>, gzip: boolean): Promise<void> {
  const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
  if (gzip) headers['Content-Encoding'] = 'gzip';
  ctx.res.writeHead(200, headers);
  try {
    const streams: Array<NodeJS.ReadableStream | NodeJS.ReadWriteStream | NodeJS.WritableStream> = [
      Readable.from(interleaved(chunks), { objectMode: false, highWaterMark: 1 }),
      ...ctx.bodyStages.map((make) => make()),
      ...(gzip ? [createGzip(GZIP_OPTIONS)] : []),
      ...ctx.wireStages.map((make) => make()),
      ctx.res,
    ];
    // A cut connection (fault injection): the body so far reaches the client, the response never ends.
    await pipeline(streams, { end: !ctx.cutConnection });
    if (ctx.cutConnection) ctx.res.socket?.end();
  } catch (err) {
    // The client went away (or a fault stage cut the body on purpose): nothing left to answer.
    log.debug('stream ended early', { path: ctx.url.pathname, error: err instanceof Error ? err.message : String(err) });
    if (!ctx.res.destroyed) ctx.res.destroy();
  }
}

export async function handleExport(ctx: RequestContext): Promise<void> {
  const query = parseExportQuery(ctx, await ctx.params(), ctx.state);
  log.debug('export', { from: formatDay(query.fromDay), to: formatDay(query.toDay) });
  await streamLines(ctx, eventChunks(ctx.state, query), acceptsGzip(ctx));
}
