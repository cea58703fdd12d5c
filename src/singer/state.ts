/**
 * Singer state: bookmarks per stream and per partition, which only ever move forward.
 *
 * Shape written:
 *   {"bookmarks": {"export": {"replication_key": "time", "replication_key_value": "2024-01-31T00:00:00.000Z", ...},
 *                  "funnels": {"partitions": [{"context": {"funnel_id": 7}, "replication_key": "date", ...}]}},
 *    "currently_syncing": null}
 * Shapes read as well: the same; plain string bookmarks ({"bookmarks": {"export": "2024-01-01T00:00:00Z"}}) as
 * written by older Mixpanel taps; {"currently_syncing": "export"} with no bookmarks yet (singer-python
 * writes that before a stream's first bookmark); a whole STATE message ({"type": "STATE", "value":
 * {...}}); and Meltano's envelope {"singer_state": {...}}, what `meltano state get` prints.
 *
 * State files (`--state FILE`) hold what targets leave behind: one JSON document (pretty-printed
 * or not), or several state lines as `target > state.json` captures them, of which the last one
 * wins (the Singer convention, and what Meltano keeps). A BOM, CRLF line ends and blank lines are
 * fine. A file with no state in it (empty, blank, `null` or `{}`) means "no bookmarks yet"; the
 * caller says so in a warning. Singer lets a state be any JSON value, but this tap can only resume
 * from an object with "bookmarks": any other value (a number, a string, a list, an object with
 * other keys such as another program's file) is refused with exit 3 rather than silently starting
 * over from start_date.
 */
import { InputError } from '../errors/index.js';
import { JsonSyntaxError, parseJsonText, stripBom } from './json-file.js';
import type { JsonObject } from './messages.js';
import { instantMs } from '../util/instant.js';

export type BookmarkValue = string | number;

export interface Bookmark {
  replication_key?: string;
  replication_key_value?: BookmarkValue;
  [extra: string]: unknown;
}

export interface PartitionBookmark extends Bookmark {
  context: JsonObject;
}

export interface StreamState extends Bookmark {
  partitions?: PartitionBookmark[];
}

export interface SingerState {
  bookmarks: Record<string, StreamState>;
  currently_syncing?: string | null;
  [extra: string]: unknown;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;

/** Orders two bookmark values: numbers numerically, date-times by instant, other strings lexically. */
export function compareBookmarkValues(a: BookmarkValue, b: BookmarkValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string' && ISO_DATE.test(a) && ISO_DATE.test(b)) {
    const ta = instantMs(a);
    const tb = instantMs(b);
    if (!Number.isNaN(ta) && !Number.isNaN(tb)) return ta - tb;
  }
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameContext(a: JsonObject, b: JsonObject): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** A state value in a message: short, because a state is not secret but can be long. */
export function showStateValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Throws an InputError with the problem; never returns. */
type Fail = (problem: string) => never;

/** Checks the Singer fields of one bookmark (stream or partition level); `at` names it, e.g. bookmarks.export. */
function checkBookmark(bookmark: JsonObject, at: string, fail: Fail): void {
  if (bookmark.replication_key !== undefined && typeof bookmark.replication_key !== 'string') {
    fail(`${at}.replication_key must be a string, the name of the replication key (got ${showStateValue(bookmark.replication_key)})`);
  }
  // Some taps write null for "no value yet": the same as no bookmark.
  if (bookmark.replication_key_value === null) delete bookmark.replication_key_value;
  const value = bookmark.replication_key_value;
  if (value !== undefined && typeof value !== 'string' && typeof value !== 'number') {
    fail(`${at}.replication_key_value must be a string or a number (got ${kindOf(value)})`);
  }
}

/** Top-level keys a state may have without "bookmarks": singer-python writes currently_syncing first. */
const KEYS_WITHOUT_BOOKMARKS = ['currently_syncing'];

/** Some of an object's keys, quoted and short, for a message. */
function showKeys(keys: string[]): string {
  const shown = keys.slice(0, 5).map((k) => JSON.stringify(k.length > 40 ? `${k.slice(0, 37)}...` : k));
  return `${shown.join(', ')}${keys.length > 5 ? ` and ${keys.length - 5} more` : ''}`;
}

/**
 * The state object inside what a user hands over: the object itself, a STATE message's value, or
 * Meltano's {"singer_state": ...}. Undefined when it holds no state (null, {}, or either of them
 * wrapped). Anything else without "bookmarks" is refused, naming its keys: resuming from another
 * program's file as if it were empty would silently start over from start_date.
 */
function unwrapState(raw: unknown, fail: Fail): JsonObject | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (!isObject(raw)) {
    return fail(`expected a JSON object with "bookmarks", as this tap writes (got ${kindOf(raw)}); remove the file to start from start_date`);
  }
  if ('bookmarks' in raw) return raw;
  const keys = Object.keys(raw);
  if (raw.type === 'STATE') {
    if (!isObject(raw.value) && raw.value !== null) fail(`the STATE message's "value" must be an object with "bookmarks" (got ${kindOf(raw.value)})`);
    return unwrapState(raw.value, fail);
  }
  if (keys.includes('singer_state')) {
    const others = keys.filter((k) => k !== 'singer_state');
    if (others.length > 0) fail(`"singer_state" (Meltano's envelope) next to other keys (${showKeys(others)}): give the tap the object inside "singer_state"`);
    return unwrapState(raw.singer_state, fail);
  }
  if (keys.includes('completed') || keys.includes('partial')) {
    fail('is a Meltano state backend file ({"completed": ..., "partial": ...}), not a state: give the tap what `meltano state get <state_id>` prints, or the object under completed.singer_state');
  }
  const unexpected = keys.filter((k) => !KEYS_WITHOUT_BOOKMARKS.includes(k));
  if (unexpected.length > 0) {
    fail(
      `has no "bookmarks" (its keys: ${showKeys(unexpected)}), so it is not a state this tap wrote ({"bookmarks": {...}}): give the last state line the target printed, or an empty file to start from start_date`,
    );
  }
  return keys.length === 0 ? undefined : raw;
}

/** The bookmarks of a state object (unwrapped), checked for the Singer shape. */
function readBookmarks(value: JsonObject, fail: Fail): Record<string, StreamState> {
  const bookmarksRaw = value.bookmarks ?? {};
  if (!isObject(bookmarksRaw)) fail(`"bookmarks" must be an object (got ${kindOf(bookmarksRaw)})`);
  const bookmarks: Record<string, StreamState> = {};
  for (const [stream, bookmark] of Object.entries(bookmarksRaw as JsonObject)) {
    if (typeof bookmark === 'string' || typeof bookmark === 'number') {
      bookmarks[stream] = { replication_key_value: bookmark };
    } else if (isObject(bookmark)) {
      const copy = structuredClone(bookmark);
      checkBookmark(copy, `bookmarks.${stream}`, fail);
      if (copy.partitions !== undefined) {
        if (!Array.isArray(copy.partitions)) fail(`bookmarks.${stream}.partitions must be an array (got ${kindOf(copy.partitions)})`);
        (copy.partitions as unknown[]).forEach((partition, index) => {
          const at = `bookmarks.${stream}.partitions[${index}]`;
          if (!isObject(partition)) return fail(`${at} must be an object with a "context" (got ${kindOf(partition)})`);
          if (!isObject(partition.context)) fail(`${at}.context must be an object naming the partition, e.g. {"funnel_id": 7} (got ${kindOf(partition.context)})`);
          checkBookmark(partition, at, fail);
        });
      }
      bookmarks[stream] = copy as StreamState;
    } else {
      fail(`bookmarks.${stream} must be an object or a string (got ${kindOf(bookmark)})`);
    }
  }
  return bookmarks;
}

function stateFrom(value: JsonObject, fail: Fail): SingerState {
  const bookmarks = readBookmarks(value, fail);
  return { ...structuredClone(value), bookmarks, currently_syncing: typeof value.currently_syncing === 'string' ? value.currently_syncing : null };
}

function failingFor(source: string): Fail {
  return (problem: string): never => {
    throw new InputError(`state ${source}: ${problem}`);
  };
}

/** Parses a state value (already JSON-decoded) into the shape above; errors name the source and the key. */
export function parseState(raw: unknown, source: string): SingerState {
  const fail = failingFor(source);
  const value = unwrapState(raw, fail);
  return value ? stateFrom(value, fail) : { bookmarks: {} };
}

export type StateFileContent =
  | { state: SingerState; empty: false; lines: number }
  /** Nothing to resume from: `reason` says why ("is empty", "holds null"). */
  | { state: undefined; empty: true; reason: string };

/**
 * A state file's text: one JSON document, or one state per line (the last wins). A line that is
 * not JSON is named by line and column, never quoted. Returns `empty` when the file holds no state.
 */
export function parseStateText(text: string, source: string): StateFileContent {
  const body = stripBom(text);
  if (body.trim() === '') return { state: undefined, empty: true, reason: 'is empty' };
  const fail = (err: unknown): never => {
    if (err instanceof JsonSyntaxError) throw new InputError(`state file ${source} is not valid JSON: ${err.message}`);
    throw err;
  };
  let values: Array<{ value: unknown; line: number }>;
  try {
    values = [{ value: JSON.parse(body) as unknown, line: 1 }];
  } catch {
    // Not one document: one state per line (as `target > state.json` writes them), unless the
    // first line is not JSON on its own, in which case the whole file is one broken document.
    const lines = body.split('\n').map((line) => line.replace(/\r$/, ''));
    const first = lines.findIndex((line) => line.trim() !== '');
    try {
      parseJsonText(lines[first] ?? '');
    } catch {
      try {
        parseJsonText(body);
      } catch (err) {
        fail(err);
      }
    }
    values = [];
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      try {
        values.push({ value: parseJsonText(line, index + 1), line: index + 1 });
      } catch (err) {
        fail(err);
      }
    });
  }
  const last = values[values.length - 1] as { value: unknown; line: number };
  const where = values.length > 1 ? `${source} line ${last.line}` : source;
  if (isObject(last.value) && typeof last.value.type === 'string' && last.value.type !== 'STATE') {
    throw new InputError(`state ${where}: is a ${last.value.type} message, not a state (give the target's output, or the tap's STATE lines)`);
  }
  const failAt = failingFor(where);
  const value = unwrapState(last.value, failAt);
  if (!value) {
    const shown = last.value === null ? 'a null state' : showStateValue(last.value);
    return { state: undefined, empty: true, reason: values.length > 1 ? `ends with ${shown} (line ${last.line})` : `holds ${last.value === null ? 'null' : shown}` };
  }
  return { state: stateFrom(value, failAt), empty: false, lines: values.length };
}

export class StateStore {
  private readonly state: SingerState;

  constructor(initial?: SingerState) {
    this.state = initial ? structuredClone(initial) : { bookmarks: {} };
    this.state.currently_syncing ??= null;
  }

  get(stream: string, context?: JsonObject): Bookmark | undefined {
    const streamState = this.state.bookmarks[stream];
    if (!streamState) return undefined;
    if (!context) return streamState;
    return streamState.partitions?.find((p) => sameContext(p.context, context));
  }

  /**
   * Moves a bookmark forward. A bookmark whose replication_key_value is behind the stored one
   * is ignored (returns false): state never goes backwards, whatever a stream reports.
   */
  advance(stream: string, bookmark: Bookmark, context?: JsonObject): boolean {
    const current = this.get(stream, context);
    const next = bookmark.replication_key_value;
    const prev = current?.replication_key_value;
    if (next !== undefined && prev !== undefined && compareBookmarkValues(next, prev) < 0) return false;
    const streamState = (this.state.bookmarks[stream] ??= {});
    if (!context) {
      const partitions = streamState.partitions;
      this.state.bookmarks[stream] = { ...structuredClone(bookmark), ...(partitions ? { partitions } : {}) };
      return true;
    }
    const partitions = (streamState.partitions ??= []);
    const entry: PartitionBookmark = { context: structuredClone(context), ...structuredClone(bookmark) };
    const index = partitions.findIndex((p) => sameContext(p.context, context));
    if (index >= 0) partitions[index] = entry;
    else partitions.push(entry);
    return true;
  }

  /** Forgets a stream's bookmark (a full-table stream starts over next run). */
  clear(stream: string): void {
    delete this.state.bookmarks[stream];
  }

  setCurrentlySyncing(stream: string | null): void {
    this.state.currently_syncing = stream;
  }

  get currentlySyncing(): string | null {
    return this.state.currently_syncing ?? null;
  }

  /** A copy safe to serialise while the store keeps changing. */
  snapshot(): SingerState {
    return structuredClone(this.state);
  }
}
