/**
 * Project time. Mixpanel reads from_date/to_date (and, for projects created before 2023, event
 * `time`) in one zone: UTC, or the project's time zone. "Today" is computed in that zone so the
 * tap never asks for a to_date Mixpanel considers in the future.
 */
import { DateTime } from 'luxon';
import type { TapConfig } from './config.js';

export interface ProjectTime {
  /** IANA zone Mixpanel uses for dates of this project. */
  zone: string;
  /** When this run started. */
  runStartedAt: DateTime;
  /** Today's date (YYYY-MM-DD) in the project zone at run start. */
  today: string;
  /** Converts an export event `time` (seconds) to RFC 3339 UTC. */
  eventTimeToIso(seconds: number): string;
  /** The date (YYYY-MM-DD, project zone) of an instant given as ISO text. */
  dayOf(iso: string): string;
  /**
   * The project day a config date names. A date (2024-01-31), or a date-time at midnight UTC
   * (2024-01-31T00:00:00Z, how Singer configs write dates), names that day; any other date-time
   * is an instant, and its day is taken in the project zone.
   */
  configDay(value: string): string;
  /** Start of a project day as an RFC 3339 UTC instant. */
  startOfDay(day: string): string;
}

const MIDNIGHT_UTC = /^\d{4}-\d{2}-\d{2}(T00:00(:00(\.0+)?)?(Z|[+-]00:?00)?)?$/;

/** Zone-less date-times are UTC (see util/instant.ts); configDay and dayOf read them the same way. */
export { instantMs } from '../../util/instant.js';

export function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

export function projectTime(config: Pick<TapConfig, 'time_semantics' | 'project_timezone'>, now: DateTime = DateTime.utc()): ProjectTime {
  const zone = config.time_semantics === 'project_timezone' ? config.project_timezone : 'UTC';
  const local = now.setZone(zone);
  const today = local.toISODate() as string;

  // Pre-2023 projects store `time` as local wall-clock seconds. The zone offset changes at most
  // twice a year, so it is computed once per local hour and reused.
  const offsetByHour = new Map<number, number>();
  const localSecondsToUtc = (seconds: number): number => {
    const hour = Math.floor(seconds / 3600);
    let offsetMinutes = offsetByHour.get(hour);
    if (offsetMinutes === undefined) {
      offsetMinutes = DateTime.fromSeconds(hour * 3600, { zone: 'utc' }).setZone(zone, { keepLocalTime: true }).offset;
      offsetByHour.set(hour, offsetMinutes);
    }
    return seconds - offsetMinutes * 60;
  };

  return {
    zone,
    runStartedAt: now,
    today,
    eventTimeToIso:
      zone === 'UTC'
        ? (seconds) => new Date(seconds * 1000).toISOString()
        : (seconds) => new Date(localSecondsToUtc(seconds) * 1000).toISOString(),
    dayOf: (iso) => DateTime.fromISO(iso, { zone: 'utc' }).setZone(zone).toISODate() as string,
    configDay: (value) =>
      MIDNIGHT_UTC.test(value) ? value.slice(0, 10) : (DateTime.fromISO(value, { zone: 'utc' }).setZone(zone).toISODate() as string),
    startOfDay: (day) => DateTime.fromISO(day, { zone }).startOf('day').toUTC().toISO() as string,
  };
}
