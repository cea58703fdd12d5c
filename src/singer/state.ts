/**
 * Singer state: bookmarks per stream and per partition, which only ever move forward.
 *
 * Shape written:
 *   {"bookmarks": {"export": {"replication_key": "time", "replication_key_value": "2024-01-31T00:00:00.000Z", ...},
 *                  "funnels": {"partitions": [{"context": {"funnel_id": 7}, "replication_key": "date", ...}]}},
 *    "currently_syncing": null}
 * Shapes read as well: the same; plain string bookmarks ({"bookmarks": {"export": "2024-01-01T00:00:00Z"}}) as
 * written by older Mixpanel taps; and a whole STATE message ({"type": "STATE", "value": {...}}).
 */
import { InputError } from '../errors/index.js';
import type { JsonObject } from './messages.js';

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
    const ta = Date.parse(a);
    const tb = Date.parse(b);
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

/** Parses a state file's content into the shape above; errors name the source. */
export function parseState(raw: unknown, source: string): SingerState {
  if (raw === null || raw === undefined) return { bookmarks: {} };
  if (!isObject(raw)) throw new InputError(`state ${source}: expected a JSON object`);
  const value = raw.type === 'STATE' && isObject(raw.value) ? raw.value : raw;
  const bookmarksRaw = value.bookmarks ?? {};
  if (!isObject(bookmarksRaw)) throw new InputError(`state ${source}: "bookmarks" must be an object`);
  const bookmarks: Record<string, StreamState> = {};
  for (const [stream, bookmark] of Object.entries(bookmarksRaw)) {
    if (typeof bookmark === 'string' || typeof bookmark === 'number') {
      bookmarks[stream] = { replication_key_value: bookmark };
    } else if (isObject(bookmark)) {
      if (bookmark.partitions !== undefined && !Array.isArray(bookmark.partitions)) {
        throw new InputError(`state ${source}: bookmarks.${stream}.partitions must be an array`);
      }
      bookmarks[stream] = structuredClone(bookmark) as StreamState;
    } else {
      throw new InputError(`state ${source}: bookmarks.${stream} must be an object or a string`);
    }
  }
  return { ...structuredClone(value), bookmarks, currently_syncing: typeof value.currently_syncing === 'string' ? value.currently_syncing : null };
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
