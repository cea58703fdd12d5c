import { describe, expect, it } from '@jest/globals';
import { DateTime } from 'luxon';
import { parseState, StateStore } from '../../../../src/singer/state.js';
import type { TapConfig } from '../../../../src/taps/mixpanel/config.js';
import {
  exportSchema,
  makeEventTransform,
  planExport,
  planWindows,
  readExportBookmark,
  type ExportBookmark,
  type ExportPlan,
  type ExportWindow,
} from '../../../../src/taps/mixpanel/streams/export.js';
import { projectTime } from '../../../../src/taps/mixpanel/time.js';
import { derivedInsertId } from '../../../../src/taps/mixpanel/transform.js';
import { TAP_REQUEST_DEFAULTS } from '../../helpers/tap-config.js';

function tapConfig(overrides: Partial<TapConfig> = {}): TapConfig {
  return {
    api_secret: 'not-used-here',
    region: 'us',
    start_date: '2024-01-01T00:00:00Z',
    date_window_size: 30,
    attribution_window: 5,
    ingestion_settle_minutes: 15,
    project_timezone: 'UTC',
    time_semantics: 'utc',
    select_properties_by_default: true,
    denest_properties: true,
    request_timeout: 300,
    ...TAP_REQUEST_DEFAULTS,
    ...overrides,
  };
}

/** The run starts at noon UTC on 2024-02-15. */
const RUN_START = DateTime.fromISO('2024-02-15T12:00:00Z');
const UTC_TIME = projectTime(tapConfig(), RUN_START);
const WATERMARK = Date.parse('2024-02-11T09:45:00Z');

function w(fromDay: string, toDay: string, reread = false): ExportWindow {
  return { fromDay, toDay, reread };
}

describe('planWindows', () => {
  it.each<[string, [string, string, number, string | null], ExportWindow[]]>([
    ['whole windows and a short last one', ['2024-01-01', '2024-01-10', 4, null], [w('2024-01-01', '2024-01-04'), w('2024-01-05', '2024-01-08'), w('2024-01-09', '2024-01-10')]],
    ['one day per window', ['2024-01-01', '2024-01-03', 1, null], [w('2024-01-01', '2024-01-01'), w('2024-01-02', '2024-01-02'), w('2024-01-03', '2024-01-03')]],
    ['a single day', ['2024-01-01', '2024-01-01', 30, null], [w('2024-01-01', '2024-01-01')]],
    ['an empty range', ['2024-01-02', '2024-01-01', 30, null], []],
    [
      'a break at the first never-read day, re-read days flagged',
      ['2024-02-06', '2024-02-15', 30, '2024-02-11'],
      [w('2024-02-06', '2024-02-10', true), w('2024-02-11', '2024-02-15')],
    ],
    [
      'small windows on both sides of the break',
      ['2024-02-06', '2024-02-15', 3, '2024-02-11'],
      [w('2024-02-06', '2024-02-08', true), w('2024-02-09', '2024-02-10', true), w('2024-02-11', '2024-02-13'), w('2024-02-14', '2024-02-15')],
    ],
    ['a boundary after the range: everything is a re-read', ['2024-02-06', '2024-02-08', 30, '2024-02-20'], [w('2024-02-06', '2024-02-08', true)]],
    ['a boundary at the start: nothing is a re-read', ['2024-02-06', '2024-02-08', 30, '2024-02-06'], [w('2024-02-06', '2024-02-08')]],
    ['a window across the end of February', ['2024-02-27', '2024-03-02', 30, null], [w('2024-02-27', '2024-03-02')]],
  ])('%s', (_case, [from, to, size, boundary], windows) => {
    expect(planWindows(from, to, size, boundary)).toEqual(windows);
  });
});

describe('readExportBookmark', () => {
  it('has nothing to read without a bookmark', () => {
    expect(readExportBookmark(undefined, UTC_TIME)).toBeUndefined();
  });

  it('reads our own shape as it is, sweep included', () => {
    const bookmark: ExportBookmark = {
      replication_key: 'time',
      replication_key_value: '2024-02-11T00:00:00.000Z',
      last_day_read: '2024-02-10',
      processing_watermark_ms: WATERMARK,
      sweep: { from_day: '2024-02-06', through_day: '2024-02-08', processing_watermark_ms: WATERMARK + 1 },
    };
    expect(readExportBookmark(bookmark, UTC_TIME)).toEqual(bookmark);
  });

  it('reads a bare date-time bookmark of an older tap: its day was read up to its instant, which is the watermark', () => {
    const store = new StateStore(parseState({ bookmarks: { export: '2024-02-10T13:00:00Z' } }, 'state.json'));
    expect(readExportBookmark(store.get('export'), UTC_TIME)).toEqual({
      last_day_read: '2024-02-10',
      processing_watermark_ms: Date.parse('2024-02-10T13:00:00Z'),
      migrated: true,
    });
  });

  it('finds the day of a bare bookmark in the project zone', () => {
    const time = projectTime({ time_semantics: 'project_timezone', project_timezone: 'America/Los_Angeles' }, RUN_START);
    expect(readExportBookmark({ replication_key_value: '2024-02-10T03:00:00Z' }, time)?.last_day_read).toBe('2024-02-09');
  });

  it.each<[string, Record<string, unknown>]>([
    ['a value that is not a date', { replication_key_value: 'yesterday' }],
    ['a numeric value', { replication_key_value: 1707523200 }],
    ['our shape with the watermark missing', { last_day_read: '2024-02-10' }],
    ['an empty bookmark', {}],
  ])('ignores %s', (_case, raw) => {
    expect(readExportBookmark(raw, UTC_TIME)).toBeUndefined();
  });
});

describe('planExport', () => {
  it('reads from start_date to today in windows on the first run', () => {
    expect(planExport(tapConfig(), UTC_TIME, undefined)).toEqual({
      windows: [w('2024-01-01', '2024-01-30'), w('2024-01-31', '2024-02-15')],
      previousWatermarkMs: Number.NEGATIVE_INFINITY,
      previousLastDay: null,
      sweepFrom: '2024-01-01',
    } satisfies ExportPlan);
  });

  it('after a completed run, re-reads the attribution window (5 days, flagged) and then the new days', () => {
    const bookmark = { last_day_read: '2024-02-10', processing_watermark_ms: WATERMARK };
    expect(planExport(tapConfig(), UTC_TIME, bookmark)).toEqual({
      windows: [w('2024-02-06', '2024-02-10', true), w('2024-02-11', '2024-02-15')],
      previousWatermarkMs: WATERMARK,
      previousLastDay: '2024-02-10',
      sweepFrom: '2024-02-06',
    } satisfies ExportPlan);
  });

  it('re-reads nothing with an attribution window of 0', () => {
    const plan = planExport(tapConfig({ attribution_window: 0 }), UTC_TIME, { last_day_read: '2024-02-10', processing_watermark_ms: WATERMARK });
    expect(plan?.windows).toEqual([w('2024-02-11', '2024-02-15')]);
  });

  it('re-reads the day of a migrated bare date-time bookmark even with an attribution window of 0', () => {
    const plan = planExport(tapConfig({ attribution_window: 0 }), UTC_TIME, {
      last_day_read: '2024-02-10',
      processing_watermark_ms: WATERMARK,
      migrated: true,
    });
    expect(plan?.windows).toEqual([w('2024-02-10', '2024-02-10', true), w('2024-02-11', '2024-02-15')]);
  });

  it('never re-reads days before start_date', () => {
    const plan = planExport(tapConfig({ start_date: '2024-02-09' }), UTC_TIME, { last_day_read: '2024-02-10', processing_watermark_ms: WATERMARK });
    expect(plan?.windows).toEqual([w('2024-02-09', '2024-02-10', true), w('2024-02-11', '2024-02-15')]);
  });

  it('only re-reads when every day through today has been read', () => {
    const plan = planExport(tapConfig(), UTC_TIME, { last_day_read: '2024-02-15', processing_watermark_ms: WATERMARK });
    expect(plan?.windows).toEqual([w('2024-02-11', '2024-02-15', true)]);
  });

  it('resumes an interrupted sweep after its last finished window, keeping the sweep\'s watermark and start', () => {
    const bookmark = {
      last_day_read: '2024-02-10',
      processing_watermark_ms: WATERMARK,
      sweep: { from_day: '2024-02-06', through_day: '2024-02-07', processing_watermark_ms: WATERMARK + 86_400_000 },
    };
    expect(planExport(tapConfig({ date_window_size: 2 }), UTC_TIME, bookmark)).toEqual({
      windows: [w('2024-02-08', '2024-02-09', true), w('2024-02-10', '2024-02-10', true), w('2024-02-11', '2024-02-12'), w('2024-02-13', '2024-02-14'), w('2024-02-15', '2024-02-15')],
      previousWatermarkMs: WATERMARK,
      previousLastDay: '2024-02-10',
      resumeWatermarkMs: WATERMARK + 86_400_000,
      sweepFrom: '2024-02-06',
    } satisfies ExportPlan);
  });

  it('resumes a first-run sweep with no re-read days', () => {
    const bookmark = {
      last_day_read: '2023-12-31',
      processing_watermark_ms: 0,
      sweep: { from_day: '2024-01-01', through_day: '2024-01-30', processing_watermark_ms: WATERMARK },
    };
    expect(planExport(tapConfig(), UTC_TIME, bookmark)?.windows).toEqual([w('2024-01-31', '2024-02-15')]);
  });

  it('has no window left, but still a plan to commit, when the interrupted sweep had read everything', () => {
    const bookmark = {
      last_day_read: '2024-02-10',
      processing_watermark_ms: WATERMARK,
      sweep: { from_day: '2024-02-06', through_day: '2024-02-15', processing_watermark_ms: WATERMARK + 1 },
    };
    expect(planExport(tapConfig(), UTC_TIME, bookmark)).toMatchObject({ windows: [], resumeWatermarkMs: WATERMARK + 1 });
  });

  it('returns null when end_date is before the last day read (a backfill runs with its own state)', () => {
    const plan = planExport(tapConfig({ end_date: '2024-02-05T00:00:00Z' }), UTC_TIME, { last_day_read: '2024-02-10', processing_watermark_ms: WATERMARK });
    expect(plan).toBeNull();
  });

  it('returns null when start_date is after today', () => {
    expect(planExport(tapConfig({ start_date: '2024-03-01T00:00:00Z' }), UTC_TIME, undefined)).toBeNull();
  });

  it('stops at end_date', () => {
    expect(planExport(tapConfig({ end_date: '2024-01-10T00:00:00Z' }), UTC_TIME, undefined)?.windows).toEqual([w('2024-01-01', '2024-01-10')]);
  });

  it('never asks for a day after today, even with a later end_date', () => {
    expect(planExport(tapConfig({ end_date: '2024-12-31T00:00:00Z' }), UTC_TIME, undefined)?.windows.at(-1)?.toDay).toBe('2024-02-15');
  });

  it('uses today in the project zone: at 06:00 UTC a Los Angeles project is still on the day before', () => {
    const config = tapConfig({ time_semantics: 'project_timezone', project_timezone: 'America/Los_Angeles', start_date: '2024-03-01T12:00:00Z' });
    const time = projectTime(config, DateTime.fromISO('2024-03-10T06:00:00Z'));
    expect(planExport(config, time, undefined)?.windows).toEqual([w('2024-03-01', '2024-03-09')]);
  });

  it('reads a date-only start_date and end_date as project days, in a zone west of UTC too', () => {
    // "2024-01-31" names the project's day; midnight UTC is still 2024-01-30 in Los Angeles.
    const config = tapConfig({
      time_semantics: 'project_timezone',
      project_timezone: 'America/Los_Angeles',
      start_date: '2024-01-01',
      end_date: '2024-01-31',
      date_window_size: 31,
    });
    const time = projectTime(config, RUN_START);
    expect(planExport(config, time, undefined)?.windows).toEqual([w('2024-01-01', '2024-01-31')]);
  });
});

describe('makeEventTransform', () => {
  const properties = {
    time: 1700000000,
    distinct_id: 'u1',
    $insert_id: 'abc-123',
    mp_processing_time_ms: 1700000001234,
    $browser: 'Firefox',
    mp_country_code: 'FR',
    plan: 'pro',
  };

  it('lifts properties to the top level, renaming $x to mp_reserved_x', () => {
    const transform = makeEventTransform(tapConfig(), UTC_TIME);
    expect(transform({ event: 'Sign Up', properties })).toEqual({
      event: 'Sign Up',
      distinct_id: 'u1',
      time: '2023-11-14T22:13:20.000Z',
      mp_reserved_insert_id: 'abc-123',
      mp_processing_time_ms: 1700000001234,
      mp_reserved_browser: 'Firefox',
      mp_country_code: 'FR',
      plan: 'pro',
    });
  });

  it('keeps properties nested with denest_properties false, and the key fields at the top', () => {
    const transform = makeEventTransform(tapConfig({ denest_properties: false }), UTC_TIME);
    expect(transform({ event: 'Sign Up', properties })).toEqual({
      event: 'Sign Up',
      distinct_id: 'u1',
      time: '2023-11-14T22:13:20.000Z',
      mp_reserved_insert_id: 'abc-123',
      mp_processing_time_ms: 1700000001234,
      properties: {
        time: 1700000000,
        distinct_id: 'u1',
        mp_reserved_insert_id: 'abc-123',
        mp_processing_time_ms: 1700000001234,
        mp_reserved_browser: 'Firefox',
        mp_country_code: 'FR',
        plan: 'pro',
      },
    });
  });

  it.each<[string, unknown]>([
    ['missing', undefined],
    ['empty', ''],
    ['not a string', 42],
  ])('gives an event whose $insert_id is %s a stable derived id instead of failing', (_case, insertId) => {
    const { $insert_id: _dropped, ...rest } = properties;
    const props: Record<string, unknown> = insertId === undefined ? rest : { ...rest, $insert_id: insertId };
    const transform = makeEventTransform(tapConfig(), UTC_TIME);
    const first = transform({ event: 'Sign Up', properties: props });
    const again = transform({ event: 'Sign Up', properties: { ...props } });
    expect(first.mp_reserved_insert_id).toBe(derivedInsertId('Sign Up', props));
    expect(first.mp_reserved_insert_id).toMatch(/^derived-/);
    expect(again.mp_reserved_insert_id).toBe(first.mp_reserved_insert_id);
  });

  it('writes key fields of odd events in their schema types', () => {
    const transform = makeEventTransform(tapConfig(), UTC_TIME);
    const record = transform({ properties: { distinct_id: 12345, $insert_id: 'i1' } });
    // No time and no ingestion stamp: the key field still holds a date-time (the epoch), never null.
    expect(record).toMatchObject({ event: '', distinct_id: '12345', time: '1970-01-01T00:00:00.000Z', mp_reserved_insert_id: 'i1' });
    // No time but an ingestion stamp: the event is dated when Mixpanel received it.
    expect(transform({ event: 'x', properties: { mp_processing_time_ms: 1_707_570_000_500, $insert_id: 'i3' } }).time).toBe('2024-02-10T13:00:00.000Z');
    expect(transform({ event: 'x', properties: { distinct_id: null, time: 1, $insert_id: 'i2' } }).distinct_id).toBe('');
  });

  it('converts the local seconds of a pre-2023 project to UTC', () => {
    const config = tapConfig({ time_semantics: 'project_timezone', project_timezone: 'America/Los_Angeles' });
    const transform = makeEventTransform(config, projectTime(config, RUN_START));
    const localNoon = Date.parse('2024-01-15T12:00:00Z') / 1000;
    expect(transform({ event: 'e', properties: { time: localNoon, $insert_id: 'i' } }).time).toBe('2024-01-15T20:00:00.000Z');
  });
});

describe('exportSchema', () => {
  it('lists the denested properties by default', () => {
    expect(Object.keys(exportSchema(tapConfig()).properties ?? {})).toEqual(expect.arrayContaining(['event', 'mp_reserved_browser', 'mp_country_code']));
  });

  it('with denest_properties false, keeps the key fields and one properties object', () => {
    const schema = exportSchema(tapConfig({ denest_properties: false }));
    expect(Object.keys(schema.properties ?? {}).sort()).toEqual(['distinct_id', 'event', 'mp_processing_time_ms', 'mp_reserved_insert_id', 'properties', 'time']);
    expect(schema.properties?.properties).toEqual({ type: ['null', 'object'], additionalProperties: true });
  });
});
