/**
 * The bookmarks this tap resumes from, checked before the run starts: a bookmark it cannot read
 * is an InputError naming the key (exit 3), not a silent restart from start_date. The Singer
 * shape (objects, partitions) is checked by parseState; this checks the values of our streams.
 *
 * Every replication_key_value of ours is a date-time (export "time", engage "$last_seen", the
 * daily rows' "datetime"); bare date-time strings of other Mixpanel taps are accepted. A bookmark
 * (or currently_syncing) naming a stream this tap does not have is refused too: it is another
 * tap's state, or a typo, and either way the streams of ours would silently start over. A name
 * close to one of ours gets "did you mean".
 */
import { InputError } from '../../errors/index.js';
import type { JsonObject } from '../../singer/messages.js';
import { showStateValue, type SingerState, type StreamState } from '../../singer/state.js';
import { closestName } from '../../util/near-miss.js';
import { STREAMS } from './streams/index.js';

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

/** The context key each partitioned stream names its partitions by (a number, as Mixpanel gives it). */
const PARTITION_KEYS: Record<string, string> = { funnels: 'funnel_id', cohort_members: 'cohort_id' };

function checkPartitionContexts(stream: string, bookmark: StreamState, fail: Fail): void {
  const key = PARTITION_KEYS[stream];
  if (!key) return;
  bookmark.partitions?.forEach((partition, index) => {
    const value = partition.context[key];
    if (typeof value !== 'number') fail(`bookmarks.${stream}.partitions[${index}].context.${key}`, `a number, the id Mixpanel gives, as in {"${key}": 7}`, value);
  });
}

/**
 * The message for bookmarks (or currently_syncing) of streams this tap does not have: each name,
 * with the stream of ours it is close to, and what to do.
 */
function unknownStreamsProblem(names: string[], known: string[], label: (name: string) => string): string {
  const guesses = names.map((name) => [name, closestName(name, known)] as const);
  const short = (name: string) => (name.length > 40 ? `${name.slice(0, 37)}...` : name);
  const listed =
    guesses
      .slice(0, 5)
      .map(([name, guess]) => `${label(short(name))}${guess ? ` (did you mean "${guess}"?)` : ''}`)
      .join(', ') + (names.length > 5 ? ` and ${names.length - 5} more` : '');
  const allTypos = guesses.every(([, guess]) => guess !== undefined);
  const what = names.length === 1 ? 'a stream this tap does not have' : 'streams this tap does not have';
  const fix = allTypos
    ? `rename ${names.length === 1 ? 'it' : 'them'} in the state`
    : "this looks like another tap's state: give tap-mixpanel the state its own runs left (the target's last state line)";
  return `${listed}: ${what} (its streams: ${known.join(', ')}); ${fix}, or use an empty state file to start every stream from start_date`;
}

function checkStreamNames(state: SingerState, source: string): void {
  const known = STREAMS.map((s) => s.name);
  const unknown = Object.keys(state.bookmarks).filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new InputError(`state ${source}: ${unknownStreamsProblem(unknown, known, (name) => `bookmarks.${name}`)}`);
  const current = state.currently_syncing;
  if (typeof current === 'string' && !known.includes(current)) {
    throw new InputError(`state ${source}: ${unknownStreamsProblem([current], known, (name) => `currently_syncing ${JSON.stringify(name)}`)}`);
  }
}

/**
 * Throws an InputError naming the first key the tap cannot resume from: a stream it does not
 * have, or a bookmark of ours whose value it cannot read.
 */
export function checkTapState(state: SingerState, source: string): void {
  const fail: Fail = (key, must, value) => {
    const got = value === undefined ? 'nothing' : showStateValue(value);
    throw new InputError(`state ${source}: ${key} must be ${must} (got ${got}); fix or remove it to start that stream from start_date`);
  };
  checkStreamNames(state, source);
  const bookmarks = state.bookmarks;
  if (bookmarks.export) checkExport(bookmarks.export, fail);
  for (const stream of DATE_TIME_STREAMS) {
    const bookmark = bookmarks[stream];
    if (!bookmark) continue;
    checkDateTimeValue(bookmark, `bookmarks.${stream}`, fail);
    bookmark.partitions?.forEach((partition, index) => checkDateTimeValue(partition, `bookmarks.${stream}.partitions[${index}]`, fail));
  }
  for (const [stream, bookmark] of Object.entries(bookmarks)) checkPartitionContexts(stream, bookmark, fail);
}
