/**
 * Record transforms shared by the streams: Mixpanel's "$x" names become "mp_reserved_x"
 * (the naming of the existing Mixpanel taps), profile dates gain their zone, event times
 * become RFC 3339 UTC.
 */
import { createHash } from 'node:crypto';
import type { JsonObject } from '../../singer/messages.js';

// Renamed names are cached: every event carries the same few dozen reserved names, and reusing
// one string per name spares an allocation per property per event. Bounded for odd projects.
const RENAMED_CACHE_LIMIT = 10_000;
const renamed = new Map<string, string>();

export function renameProperty(name: string): string {
  if (name.charCodeAt(0) !== 36 /* $ */) return name;
  let out = renamed.get(name);
  if (out === undefined) {
    out = `mp_reserved_${name.slice(1)}`;
    if (renamed.size < RENAMED_CACHE_LIMIT) renamed.set(name, out);
  }
  return out;
}

/** Copies properties into `target` under their renamed keys. */
export function denestInto(target: JsonObject, properties: Record<string, unknown> | undefined): JsonObject {
  if (properties) {
    for (const key in properties) target[renameProperty(key)] = properties[key];
  }
  return target;
}

const NAIVE_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/;

/**
 * Mixpanel profile date-times come without a zone ("2024-01-02T03:04:05") and are UTC;
 * Singer wants RFC 3339 with a zone. Other values pass unchanged.
 */
export function profileDateTime(value: unknown): unknown {
  if (typeof value === 'string' && NAIVE_DATETIME.test(value)) return `${value}Z`;
  return value;
}

/** Epoch seconds (UTC) as RFC 3339. */
export function epochSecondsToIso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/**
 * A stable stand-in for a missing $insert_id: the same event always gets the same id, so keys
 * stay unique and re-reads deduplicate downstream. Prefixed so it is never mistaken for Mixpanel's.
 */
export function derivedInsertId(event: unknown, properties: Record<string, unknown>): string {
  const canonical = JSON.stringify([event, Object.keys(properties).sort().map((k) => [k, properties[k]])]);
  return `derived-${createHash('sha1').update(canonical).digest('hex').slice(0, 32)}`;
}
