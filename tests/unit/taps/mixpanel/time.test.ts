import { describe, expect, it } from '@jest/globals';
import { DateTime } from 'luxon';
import { addDays, daysBetween, instantMs, projectTime } from '../../../../src/taps/mixpanel/time.js';
import { inMachineZone } from '../../helpers/in-zone.js';

/** Seconds since epoch of a wall-clock time read as if it were UTC: Mixpanel's "local seconds". */
function localSeconds(wallClock: string): number {
  return Date.parse(`${wallClock}Z`) / 1000;
}

const LOS_ANGELES = { time_semantics: 'project_timezone' as const, project_timezone: 'America/Los_Angeles' };
const UTC = { time_semantics: 'utc' as const, project_timezone: 'America/Los_Angeles' };

describe('addDays and daysBetween', () => {
  it.each<[string, number, string]>([
    ['2024-01-01', 1, '2024-01-02'],
    ['2024-01-31', 1, '2024-02-01'],
    ['2024-02-28', 1, '2024-02-29'],
    ['2023-02-28', 1, '2023-03-01'],
    ['2024-12-31', 1, '2025-01-01'],
    ['2024-03-01', -1, '2024-02-29'],
    ['2024-01-10', 0, '2024-01-10'],
    ['2024-03-09', 2, '2024-03-11'],
  ])('%s %+d days -> %s', (day, days, expected) => {
    expect(addDays(day, days)).toBe(expected);
  });

  it.each<[string, string, number]>([
    ['2024-01-01', '2024-01-01', 0],
    ['2024-01-01', '2024-01-31', 30],
    ['2024-01-31', '2024-01-01', -30],
    ['2024-03-09', '2024-03-11', 2],
    ['2023-01-01', '2024-01-01', 365],
  ])('from %s to %s is %d days', (from, to, days) => {
    expect(daysBetween(from, to)).toBe(days);
  });
});

describe('projectTime in UTC', () => {
  const now = DateTime.fromISO('2024-03-10T06:00:00Z', { setZone: true });
  const time = projectTime(UTC, now);

  it('uses UTC whatever the project time zone when time_semantics is utc', () => {
    expect(time.zone).toBe('UTC');
    expect(time.today).toBe('2024-03-10');
  });

  it('reads event time as UTC seconds', () => {
    expect(time.eventTimeToIso(1700000000)).toBe('2023-11-14T22:13:20.000Z');
  });

  it('finds the day of an instant and the start of a day in UTC', () => {
    expect(time.dayOf('2024-03-10T23:59:59Z')).toBe('2024-03-10');
    expect(time.dayOf('2024-03-10T23:59:59-01:00')).toBe('2024-03-11');
    expect(time.startOfDay('2024-03-10')).toBe('2024-03-10T00:00:00.000Z');
  });

  it('keeps the run start', () => {
    expect(time.runStartedAt.toMillis()).toBe(now.toMillis());
  });
});

describe('projectTime in America/Los_Angeles (pre-2023 projects)', () => {
  it('computes today in the project zone: 06:00 UTC is still the day before in Los Angeles', () => {
    expect(projectTime(LOS_ANGELES, DateTime.fromISO('2024-03-10T06:00:00Z')).today).toBe('2024-03-09');
    expect(projectTime(LOS_ANGELES, DateTime.fromISO('2024-03-10T08:00:00Z')).today).toBe('2024-03-10');
  });

  it.each<[string, string, string]>([
    ['in winter (PST, UTC-8)', '2024-01-15T12:00:00', '2024-01-15T20:00:00.000Z'],
    ['in summer (PDT, UTC-7)', '2024-07-15T12:00:00', '2024-07-15T19:00:00.000Z'],
    ['the last minute before the spring change', '2024-03-10T01:59:00', '2024-03-10T09:59:00.000Z'],
    ['the first hour after the spring change', '2024-03-10T03:00:00', '2024-03-10T10:00:00.000Z'],
    ['late on the day of the spring change', '2024-03-10T23:30:00', '2024-03-11T06:30:00.000Z'],
    ['the hour before the autumn change', '2024-11-03T00:30:00', '2024-11-03T07:30:00.000Z'],
    ['after the autumn change', '2024-11-03T03:00:00', '2024-11-03T11:00:00.000Z'],
  ])('converts local seconds to UTC %s', (_case, wallClock, utc) => {
    const time = projectTime(LOS_ANGELES, DateTime.fromISO('2024-12-01T00:00:00Z'));
    expect(time.eventTimeToIso(localSeconds(wallClock))).toBe(utc);
  });

  it('gives the same answer for the same hour when asked again (the per-hour offset cache)', () => {
    const time = projectTime(LOS_ANGELES, DateTime.fromISO('2024-12-01T00:00:00Z'));
    const winter = localSeconds('2024-01-15T12:00:00');
    const summer = localSeconds('2024-07-15T12:00:00');
    expect([time.eventTimeToIso(winter), time.eventTimeToIso(summer), time.eventTimeToIso(winter + 59)]).toEqual([
      '2024-01-15T20:00:00.000Z',
      '2024-07-15T19:00:00.000Z',
      '2024-01-15T20:00:59.000Z',
    ]);
  });

  it('finds the project day of an instant', () => {
    const time = projectTime(LOS_ANGELES, DateTime.fromISO('2024-12-01T00:00:00Z'));
    expect(time.dayOf('2024-03-10T07:59:59Z')).toBe('2024-03-09');
    expect(time.dayOf('2024-03-10T08:00:00Z')).toBe('2024-03-10');
  });

  it('gives the start of a project day as a UTC instant, following the offset of that day', () => {
    const time = projectTime(LOS_ANGELES, DateTime.fromISO('2024-12-01T00:00:00Z'));
    expect(time.startOfDay('2024-03-10')).toBe('2024-03-10T08:00:00.000Z');
    expect(time.startOfDay('2024-03-11')).toBe('2024-03-11T07:00:00.000Z');
  });
});

describe('configDay: the project day a config date names', () => {
  const la = projectTime(LOS_ANGELES, DateTime.fromISO('2024-12-01T00:00:00Z'));
  const utc = projectTime(UTC, DateTime.fromISO('2024-12-01T00:00:00Z'));
  it.each<[string, string, string]>([
    ['a date', '2024-01-31', '2024-01-31'],
    ['midnight UTC written with Z', '2024-01-31T00:00:00Z', '2024-01-31'],
    ['midnight UTC with milliseconds and +00:00', '2024-01-31T00:00:00.000+00:00', '2024-01-31'],
    ['an afternoon instant (still the 31st in Los Angeles)', '2024-01-31T20:00:00Z', '2024-01-31'],
    ['an early-morning UTC instant (the 30th in Los Angeles)', '2024-01-31T05:00:00Z', '2024-01-30'],
    ['an instant with its own offset', '2024-01-31T23:00:00-08:00', '2024-01-31'],
  ])('in Los Angeles, %s', (_case, value, day) => {
    expect(la.configDay(value)).toBe(day);
  });

  it('in UTC every form of the 31st is the 31st', () => {
    expect(['2024-01-31', '2024-01-31T00:00:00Z', '2024-01-31T05:00:00Z', '2024-01-31T23:59:59Z'].map(utc.configDay)).toEqual(Array(4).fill('2024-01-31'));
  });
});

describe('date-times without a zone are UTC, whatever the machine zone', () => {
  it.each<[string, number]>([
    ['2024-06-10T12:00:00', Date.UTC(2024, 5, 10, 12)],
    ['2024-06-10T12:00', Date.UTC(2024, 5, 10, 12)],
    ['2024-06-10T12:00:00.250', Date.UTC(2024, 5, 10, 12, 0, 0, 250)],
    ['2024-06-10', Date.UTC(2024, 5, 10)],
    ['2024-06-10T12:00:00Z', Date.UTC(2024, 5, 10, 12)],
    ['2024-06-10T14:00:00+02:00', Date.UTC(2024, 5, 10, 12)],
  ])('instantMs(%s)', (text, ms) => {
    expect(instantMs(text)).toBe(ms);
  });

  it('instantMs of a text that is no date-time is NaN', () => {
    expect(instantMs('last tuesday')).toBeNaN();
  });

  // The machine's zone is read per process: each zone runs the compiled tap in a child process.
  it.each(['America/Los_Angeles', 'Pacific/Chatham', 'Europe/Berlin'])(
    'in %s: the engage where, the engage bookmark and a bare export bookmark of another tap mean the UTC instant',
    (zone) => {
      const seen = inMachineZone<{ where: string; lastSeen: number; watermark: number; day: string }>(
        zone,
        `const { engageWhere } = await load('taps/mixpanel/streams/engage.js');
         const { readExportBookmark } = await load('taps/mixpanel/streams/export.js');
         const { projectTime, instantMs } = await load('taps/mixpanel/time.js');
         const time = projectTime({ time_semantics: 'utc', project_timezone: 'UTC' });
         const bookmark = readExportBookmark({ replication_key_value: '2024-02-10T23:30:00' }, time);
         return {
           where: engageWhere(undefined, '2024-01-02T03:04:05'),
           lastSeen: instantMs('2024-01-02T03:04:05'),
           watermark: bookmark.processing_watermark_ms,
           day: bookmark.last_day_read,
         };`,
      );
      expect(seen).toEqual({
        where: 'properties["$last_seen"] >= "2024-01-02T03:04:05"',
        lastSeen: Date.UTC(2024, 0, 2, 3, 4, 5),
        watermark: Date.UTC(2024, 1, 10, 23, 30),
        day: '2024-02-10',
      });
    },
  );
});
