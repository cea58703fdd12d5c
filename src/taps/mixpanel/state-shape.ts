/**
 * The bookmarks this tap resumes from, checked before the run starts: a bookmark it cannot read
 * is an InputError naming the key (exit 3), not a silent restart from start_date. The Singer
 * shape (objects, partitions) is checked by parseState; this checks the values of our streams.
 *
 * Every replication_key_value of ours is a date-time (export "time", engage "$last_seen", the
 * daily rows' "datetime"); bare date-time strings of other Mixpanel taps are accepted. Streams
 * this tap does not know are left alone (another tap may share the state file).
 */
import { InputError } from '../../errors/index.js';
import type { JsonObject } from '../../singer/messages.js';
import { showStateValue, type SingerState, type StreamState } from '../../singer/state.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME_EXAMPLE = '2024-01-31T00:00:00.000Z';

function isDateTime(value: unknown): boolean {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value));
}

type Fail = (key: string, must: string, value: unknown) => never;

function checkDateTimeValue(bookmark: JsonObject, at: string, fail: Fail): void {
  const value = bookmark.replication_key_value;
  if (value !== undefined && !isDateTime(value)) fail(`${at}.replication_key_value`, `a date-time such as ${DATE_TIME_EXAMPLE}`, value);
}

function checkDay(object: JsonObject, key: string, at: string, fail: Fail): void {
  const value = object[key];
  if (value !== undefined && !(typeof value === 'string' && DAY.test(value) && !Number.isNaN(Date.parse(value)))) {
    fail(`${at}.${key}`, 'a day such as 2024-01-31', value);
  }
}

function checkMilliseconds(object: JsonObject, key: string, at: string, fail: Fail): void {
  const value = object[key];
  if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
    fail(`${at}.${key}`, 'a number of milliseconds since 1970', value);
  }
}

function checkExport(bookmark: StreamState, fail: Fail): void {
  const at = 'bookmarks.export';
  checkDateTimeValue(bookmark, at, fail);
  checkDay(bookmark, 'last_day_read', at, fail);
  checkMilliseconds(bookmark, 'processing_watermark_ms', at, fail);
  const sweep = bookmark.sweep;
  if (sweep === undefined) return;
  if (typeof sweep !== 'object' || sweep === null || Array.isArray(sweep)) {
    fail(`${at}.sweep`, 'an object (from_day, through_day, processing_watermark_ms)', sweep);
  }
  const s = sweep as JsonObject;
  for (const key of ['from_day', 'through_day']) {
    if (s[key] === undefined) fail(`${at}.sweep.${key}`, 'a day such as 2024-01-31', s[key]);
    checkDay(s, key, `${at}.sweep`, fail);
  }
  if (s.processing_watermark_ms === undefined) fail(`${at}.sweep.processing_watermark_ms`, 'a number of milliseconds since 1970', undefined);
  checkMilliseconds(s, 'processing_watermark_ms', `${at}.sweep`, fail);
}

/** Streams whose stream-level and partition-level values are date-times. */
const DATE_TIME_STREAMS = ['engage', 'funnels', 'revenue'];

/** Throws an InputError naming the first bookmark key of ours that the tap cannot resume from. */
export function checkTapState(state: SingerState, source: string): void {
  const fail: Fail = (key, must, value) => {
    const got = value === undefined ? 'nothing' : showStateValue(value);
    throw new InputError(`state ${source}: ${key} must be ${must} (got ${got}); fix or remove it to start that stream from start_date`);
  };
  const bookmarks = state.bookmarks;
  if (bookmarks.export) checkExport(bookmarks.export, fail);
  for (const stream of DATE_TIME_STREAMS) {
    const bookmark = bookmarks[stream];
    if (!bookmark) continue;
    checkDateTimeValue(bookmark, `bookmarks.${stream}`, fail);
    bookmark.partitions?.forEach((partition, index) => checkDateTimeValue(partition, `bookmarks.${stream}.partitions[${index}]`, fail));
  }
}
