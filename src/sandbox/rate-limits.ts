/**
 * Mixpanel's rate limits, enforced per project the way the real service does (REFERENCE.md):
 *   export  3 requests per second, 60 per hour, 100 concurrent
 *   query   60 requests per hour, 5 concurrent; engage pages after the first (same session_id)
 *           do not count toward the hourly limit
 * A request over a limit answers 429 with Retry-After (whole seconds, when the oldest counted
 * request leaves the window) and Mixpanel's error text. Requests refused with 429 are not counted.
 *
 * Off by default (the demo and most tests make requests freely); switched on at start
 * (options.rateLimits) or at run time (POST /__admin/settings {"rate_limits": {...}}). The
 * length of the "hour" and the "second" is configurable, so a test can shrink an hour to seconds.
 * Windows are read on the sandbox clock, so advancing the clock by an hour empties them.
 *
 * This module is the limits and their bookkeeping (RateLimiter), below the sandbox state that
 * holds them; rate-limit-hook.ts applies them to requests.
 */
import type { Family } from './families.js';
import { mixpanelStatusError } from './mixpanel/errors.js';

export interface FamilyLimits {
  /** Requests per `secondMs`; 0 = no such limit. */
  perSecond: number;
  /** Requests per `hourMs`; 0 = no such limit. */
  perHour: number;
  /** Requests in flight at once; 0 = no limit. */
  concurrent: number;
}

export interface RateLimitSettings {
  enabled: boolean;
  hourMs: number;
  secondMs: number;
  export: FamilyLimits;
  query: FamilyLimits;
}

export const MIXPANEL_LIMITS: RateLimitSettings = {
  enabled: false,
  hourMs: 3_600_000,
  secondMs: 1000,
  export: { perSecond: 3, perHour: 60, concurrent: 100 },
  query: { perSecond: 0, perHour: 60, concurrent: 5 },
};

/** The options / admin shape: snake_case, every key optional. */
export interface RateLimitInput {
  enabled?: boolean;
  hour_ms?: number;
  second_ms?: number;
  export?: { per_second?: number; per_hour?: number; concurrent?: number };
  query?: { per_second?: number; per_hour?: number; concurrent?: number };
}

function nonNegative(value: unknown, name: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}`);
  return value;
}

function mergeFamily(base: FamilyLimits, input: unknown, name: string): FamilyLimits {
  if (input === undefined) return { ...base };
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new Error(`${name} must be an object`);
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['per_second', 'per_hour', 'concurrent'].includes(key)) throw new Error(`${name}.${key}: unknown setting (per_second, per_hour, concurrent)`);
  }
  return {
    perSecond: o.per_second === undefined ? base.perSecond : nonNegative(o.per_second, `${name}.per_second`),
    perHour: o.per_hour === undefined ? base.perHour : nonNegative(o.per_hour, `${name}.per_hour`),
    concurrent: o.concurrent === undefined ? base.concurrent : nonNegative(o.concurrent, `${name}.concurrent`),
  };
}

/** Applies a partial (snake_case) input on top of `base`; `true` means Mixpanel's limits, on. Throws on bad input. */
export function mergeRateLimits(base: RateLimitSettings, input: unknown, name = 'rate_limits'): RateLimitSettings {
  if (input === undefined) return { ...base, export: { ...base.export }, query: { ...base.query } };
  if (typeof input === 'boolean') return { ...base, export: { ...base.export }, query: { ...base.query }, enabled: input };
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new Error(`${name} must be an object or a boolean`);
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['enabled', 'hour_ms', 'second_ms', 'export', 'query'].includes(key)) throw new Error(`${name}.${key}: unknown setting`);
  }
  if (o.enabled !== undefined && typeof o.enabled !== 'boolean') throw new Error(`${name}.enabled must be true or false`);
  return {
    // Giving any limit switches enforcement on unless `enabled` says otherwise.
    enabled: o.enabled === undefined ? true : o.enabled,
    hourMs: o.hour_ms === undefined ? base.hourMs : nonNegative(o.hour_ms, `${name}.hour_ms`, 1),
    secondMs: o.second_ms === undefined ? base.secondMs : nonNegative(o.second_ms, `${name}.second_ms`, 1),
    export: mergeFamily(base.export, o.export, `${name}.export`),
    query: mergeFamily(base.query, o.query, `${name}.query`),
  };
}

export function describeRateLimits(s: RateLimitSettings): RateLimitInput & { enabled: boolean } {
  const family = (f: FamilyLimits) => ({ per_second: f.perSecond, per_hour: f.perHour, concurrent: f.concurrent });
  return { enabled: s.enabled, hour_ms: s.hourMs, second_ms: s.secondMs, export: family(s.export), query: family(s.query) };
}

/** Counted request starts and requests in flight, per family. */
export class RateLimiter {
  private starts: number[] = [];
  inFlight = 0;
  /** Requests answered 429 by the limiter (tests read it through the request log too). */
  refused = 0;

  clear(): void {
    this.starts = [];
    this.inFlight = 0;
    this.refused = 0;
  }

  /** Counted starts in (now - windowMs, now], and the oldest of them. */
  private window(now: number, windowMs: number): { count: number; oldest: number } {
    let count = 0;
    let oldest = now;
    for (let i = this.starts.length - 1; i >= 0; i--) {
      const t = this.starts[i] as number;
      if (t <= now - windowMs) break;
      count++;
      oldest = t;
    }
    return { count, oldest };
  }

  /** Null when the request may go ahead (and it is recorded), else the 429 to send. */
  admit(now: number, limits: FamilyLimits, settings: RateLimitSettings, family: Family, projectId: number, counts: boolean): Error | null {
    const api = family === 'export' ? 'Export' : 'Query';
    if (limits.concurrent > 0 && this.inFlight >= limits.concurrent) {
      return this.refuse(1, `${api} concurrent request limit exceeded: ${this.inFlight + 1}/${limits.concurrent} concurrent queries for project ${projectId}`);
    }
    if (counts) {
      const checks: Array<[number, number, string]> = [
        [limits.perSecond, settings.secondMs, 'second'],
        [limits.perHour, settings.hourMs, 'hour'],
      ];
      for (const [limit, windowMs, unit] of checks) {
        if (limit <= 0) continue;
        const { count, oldest } = this.window(now, windowMs);
        if (count >= limit) {
          const waitMs = oldest + windowMs - now;
          return this.refuse(
            Math.max(1, Math.ceil(waitMs / 1000)),
            `${api} rate limit exceeded: ${count + 1}/${limit} queries for project ${projectId} in the last ${unit}. Please retry after the time in the Retry-After header.`,
          );
        }
      }
      this.starts.push(now);
      // Keep only what the longest window can still see.
      const horizon = now - Math.max(settings.hourMs, settings.secondMs);
      let drop = 0;
      while (drop < this.starts.length && (this.starts[drop] as number) <= horizon) drop++;
      if (drop > 0) this.starts.splice(0, drop);
    }
    this.inFlight++;
    return null;
  }

  private refuse(retryAfterSeconds: number, message: string): Error {
    this.refused++;
    return mixpanelStatusError(429, message, { 'Retry-After': String(retryAfterSeconds) });
  }
}
