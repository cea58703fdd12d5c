/**
 * Bookmarks the tap cannot resume from are refused before the run, naming the key; the shapes
 * it writes, and the bare date-times of other Mixpanel taps, are accepted.
 */
import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../../src/errors/index.js';
import { parseState } from '../../../../src/singer/state.js';
import { checkTapState } from '../../../../src/taps/mixpanel/state-shape.js';

function problem(raw: unknown): string | undefined {
  try {
    checkTapState(parseState(raw, 'state.json'), 'state.json');
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).message;
  }
}

describe('checkTapState', () => {
  it.each<[string, unknown]>([
    [
      'the export bookmark it writes, with a sweep',
      {
        bookmarks: {
          export: {
            replication_key: 'time',
            replication_key_value: '2024-01-31T00:00:00.000Z',
            last_day_read: '2024-01-30',
            processing_watermark_ms: 1706600000000,
            sweep: { from_day: '2024-01-26', through_day: '2024-01-28', processing_watermark_ms: 1706700000000 },
          },
        },
      },
    ],
    ['bare date-time strings of other Mixpanel taps', { bookmarks: { export: '2024-01-01T00:00:00Z', engage: '2024-01-01T00:00:00', revenue: '2024-01-01' } }],
    ['funnel partitions', { bookmarks: { funnels: { partitions: [{ context: { funnel_id: 7 }, replication_key: 'datetime', replication_key_value: '2024-01-05T00:00:00.000Z' }] } } }],
    ['cohort partitions (no value, only done)', { bookmarks: { cohort_members: { partitions: [{ context: { cohort_id: 1 }, done: true }] } } }],
    ['streams of another tap sharing the file', { bookmarks: { orders: { replication_key_value: 17 } } }],
    ['no bookmarks at all', { bookmarks: {} }],
  ])('accepts %s', (_case, raw) => {
    expect(problem(raw)).toBeUndefined();
  });

  it.each<[string, unknown, string]>([
    ['an export value that is a number', { bookmarks: { export: { replication_key_value: 1706600000 } } }, 'bookmarks.export.replication_key_value must be a date-time such as 2024-01-31T00:00:00.000Z (got 1706600000)'],
    ['an export value that is no date', { bookmarks: { export: 'yesterday' } }, 'bookmarks.export.replication_key_value must be a date-time such as 2024-01-31T00:00:00.000Z (got "yesterday")'],
    ['an engage value that is no date', { bookmarks: { engage: { replication_key_value: '2024-13-45T00:00:00Z' } } }, 'bookmarks.engage.replication_key_value must be a date-time such as 2024-01-31T00:00:00.000Z (got "2024-13-45T00:00:00Z")'],
    ['a last_day_read that is a date-time', { bookmarks: { export: { last_day_read: '2024-01-30T00:00:00Z', processing_watermark_ms: 1 } } }, 'bookmarks.export.last_day_read must be a day such as 2024-01-31 (got "2024-01-30T00:00:00Z")'],
    ['a watermark that is a string', { bookmarks: { export: { last_day_read: '2024-01-30', processing_watermark_ms: '1706600000000' } } }, 'bookmarks.export.processing_watermark_ms must be a number of milliseconds since 1970 (got "1706600000000")'],
    ['a sweep that is a list', { bookmarks: { export: { sweep: [] } } }, 'bookmarks.export.sweep must be an object (from_day, through_day, processing_watermark_ms) (got [])'],
    ['a sweep without through_day', { bookmarks: { export: { sweep: { from_day: '2024-01-01', processing_watermark_ms: 1 } } } }, 'bookmarks.export.sweep.through_day must be a day such as 2024-01-31 (got nothing)'],
    ['a funnel partition value that is no date', { bookmarks: { funnels: { partitions: [{ context: { funnel_id: 1 }, replication_key_value: 'x' }] } } }, 'bookmarks.funnels.partitions[0].replication_key_value must be a date-time such as 2024-01-31T00:00:00.000Z (got "x")'],
  ])('refuses %s, naming the key', (_case, raw, message) => {
    expect(problem(raw)).toBe(`state state.json: ${message}; fix or remove it to start that stream from start_date`);
  });
});
