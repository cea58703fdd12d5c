/**
 * Days and time zones as Mixpanel sees them.
 *
 * A day is an integer: days since 1970-01-01. A project in UTC (created after 2023) has day
 * boundaries at UTC midnight and `time` in epoch seconds. An older project has day boundaries
 * at local midnight in its time zone and `time` in "local seconds": epoch seconds shifted by the
 * zone's offset at that instant, so the UTC calendar day of `time` is the local day.
 */
import { DateTime, IANAZone } from 'luxon';

export const DAY_MS = 86_400_000;

// January and July of two years: a zone with no offset at all four is UTC for our purposes.
const UTC_PROBES = [Date.UTC(2000, 0, 15), Date.UTC(2000, 6, 15), Date.UTC(2024, 0, 15), Date.UTC(2024, 6, 15)];

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses YYYY-MM-DD strictly (no overflowing days); returns the day number or null. */
export function parseDay(text: string): number | null {
  const match = ISO_DAY.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return Math.floor(ms / DAY_MS);
}

export function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/** Where one local day starts and ends in real time, and how to turn an instant into local seconds. */
export interface DayBounds {
  readonly day: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly offsetBeforeMs: number;
  readonly offsetAfterMs: number;
  /** First instant with `offsetAfterMs` (a DST change inside the day), or endMs when none. */
  readonly transitionMs: number;
}

export class ProjectCalendar {
  readonly zone: string;
  readonly isUtc: boolean;
  private readonly bounds = new Map<number, DayBounds>();

  constructor(zone: string) {
    if (!isValidTimeZone(zone)) throw new Error(`Unknown time zone: ${zone}`);
    this.zone = zone;
    // Zones that are UTC all year (UTC, Etc/UTC, GMT, ...) take the fast path with no offsets.
    this.isUtc = UTC_PROBES.every((instant) => offsetOf(zone, instant) === 0);
  }

  /** Zone offset (ms) at an instant. */
  offsetMs(instantMs: number): number {
    return this.isUtc ? 0 : offsetOf(this.zone, instantMs);
  }

  /** The project's day at an instant ("today" when given the sandbox clock). */
  dayAt(instantMs: number): number {
    return Math.floor((instantMs + this.offsetMs(instantMs)) / DAY_MS);
  }

  dayBounds(day: number): DayBounds {
    const cached = this.bounds.get(day);
    if (cached) return cached;
    const computed = this.isUtc ? utcBounds(day) : this.zonedBounds(day);
    if (this.bounds.size > 20_000) this.bounds.clear();
    this.bounds.set(day, computed);
    return computed;
  }

  /** `time` as Mixpanel reports it for this project (seconds, or local seconds for a zoned project). */
  localMs(instantMs: number, bounds: DayBounds): number {
    if (this.isUtc) return instantMs;
    return instantMs + (instantMs < bounds.transitionMs ? bounds.offsetBeforeMs : bounds.offsetAfterMs);
  }

  private zonedBounds(day: number): DayBounds {
    const date = new Date(day * DAY_MS);
    const start = DateTime.fromObject(
      { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() },
      { zone: this.zone },
    );
    const startMs = start.toMillis();
    const endMs = start.plus({ days: 1 }).toMillis();
    const offsetBeforeMs = offsetOf(this.zone, startMs);
    const offsetAfterMs = offsetOf(this.zone, endMs - 1);
    let transitionMs = endMs;
    if (offsetBeforeMs !== offsetAfterMs) {
      // Binary search for the first millisecond with the new offset; done once per DST day.
      let lo = startMs;
      let hi = endMs - 1;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if (offsetOf(this.zone, mid) === offsetBeforeMs) lo = mid + 1;
        else hi = mid;
      }
      transitionMs = lo;
    }
    return { day, startMs, endMs, offsetBeforeMs, offsetAfterMs, transitionMs };
  }
}

function utcBounds(day: number): DayBounds {
  const startMs = day * DAY_MS;
  return { day, startMs, endMs: startMs + DAY_MS, offsetBeforeMs: 0, offsetAfterMs: 0, transitionMs: startMs + DAY_MS };
}

function offsetOf(zone: string, instantMs: number): number {
  return DateTime.fromMillis(instantMs, { zone }).offset * 60_000;
}
