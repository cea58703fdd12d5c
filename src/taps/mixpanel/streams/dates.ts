/**
 * Dates of the report streams (funnels, revenue, annotations, cohorts).
 *
 * Daily rows are aggregates: a row's numbers change while late events arrive, so a run re-reads
 * the last `attribution_window` days before its bookmark and emits those rows again (a loader
 * keyed on the row replaces them). The bookmark is the last COMPLETE day read: never today,
 * whose numbers are still growing.
 */
import { DateTime } from 'luxon';
import type { TapConfig } from '../config.js';
import { addDays, type ProjectTime } from '../time.js';
import { planWindows } from './export.js';

export interface DayWindow {
  fromDay: string;
  toDay: string;
}

const DAY_PREFIX = /^(\d{4}-\d{2}-\d{2})/;

/** A day as the replication key value of a daily row: "2024-01-31T00:00:00.000Z" (the day label, as other Mixpanel taps write it). */
export function dayLabel(day: string): string {
  return `${day}T00:00:00.000Z`;
}

/** The day a bookmark names (ours, or another tap's date-time string); undefined when unusable. */
export function bookmarkDay(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return DAY_PREFIX.exec(value)?.[1];
}

/** The last day whose numbers are final: yesterday in the project zone. */
export function lastCompleteDay(time: ProjectTime): string {
  return addDays(time.today, -1);
}

/**
 * Windows to read: from the day after the bookmark, minus the look-back, through the end
 * (end_date or today); from start_date when there is no bookmark.
 */
export function planDailyWindows(config: TapConfig, time: ProjectTime, bookmark: string | undefined): DayWindow[] {
  const startDay = time.configDay(config.start_date);
  const endDay = config.end_date ? minDay(time.configDay(config.end_date), time.today) : time.today;
  const from = bookmark === undefined ? startDay : maxDay(startDay, addDays(bookmark, 1 - config.attribution_window));
  if (from > endDay) return [];
  return planWindows(from, endDay, config.date_window_size, null).map(({ fromDay, toDay }) => ({ fromDay, toDay }));
}

/** The bookmark after reading a window: its last day, unless that day is not complete yet. */
export function windowBookmarkDay(window: DayWindow, time: ProjectTime): string {
  return minDay(window.toDay, lastCompleteDay(time));
}

function minDay(a: string, b: string): string {
  return a < b ? a : b;
}

function maxDay(a: string, b: string): string {
  return a > b ? a : b;
}

const WALL_CLOCK = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/**
 * Mixpanel's "YYYY-MM-DD HH:mm:ss" (annotations, cohorts) is wall-clock time in the project
 * zone; Singer wants RFC 3339 UTC. Values that already carry a zone are converted; anything
 * unreadable becomes null rather than an invalid date-time.
 */
export function wallClockToIso(value: unknown, zone: string): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const text = value.trim();
  const parsed = WALL_CLOCK.test(text)
    ? DateTime.fromISO(text.replace(' ', 'T'), { zone })
    : DateTime.fromISO(text, { setZone: true });
  return parsed.isValid ? (parsed.toUTC().toISO() as string) : null;
}
