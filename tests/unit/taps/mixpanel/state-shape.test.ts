/**
 * Bookmarks the tap cannot resume from are refused before the run, naming the key: values of the
 * wrong shape, and streams it does not have (another tap's state, or a typo: "did you mean"). The
 * shapes it writes, and the bare date-times of other Mixpanel taps, are accepted.
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
    ['no bookmarks at all', { bookmarks: {} }],
    ['currently_syncing naming a stream of ours', { bookmarks: {}, currently_syncing: 'cohort_members' }],
    [
      'the states pipelinewise/singer tap-mixpanel writes',
      { bookmarks: { export: '2024-01-05T11:00:00.000000Z', engage: '2024-01-05T10:20:30.000000Z', funnels: '2024-01-04T00:00:00Z' }, currently_syncing: 'engage' },
    ],
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
    ['a funnel partition without funnel_id', { bookmarks: { funnels: { partitions: [{ context: { id: 7 }, replication_key_value: '2024-01-05T00:00:00Z' }] } } }, 'bookmarks.funnels.partitions[0].context.funnel_id must be a number, the id Mixpanel gives, as in {"funnel_id": 7} (got nothing)'],
    ['a cohort partition whose id is a string', { bookmarks: { cohort_members: { partitions: [{ context: { cohort_id: '12' }, done: true }] } } }, 'bookmarks.cohort_members.partitions[0].context.cohort_id must be a number, the id Mixpanel gives, as in {"cohort_id": 7} (got "12")'],
  ])('refuses %s, naming the key', (_case, raw, message) => {
    expect(problem(raw)).toBe(`state state.json: ${message}; fix or remove it to start that stream from start_date`);
  });

  const STREAM_LIST = 'export, engage, funnels, revenue, annotations, cohorts, cohort_members';
  const OTHER_TAP = `this looks like another tap's state: give tap-mixpanel the state its own runs left (the target's last state line), or use an empty state file to start every stream from start_date`;

  it.each<[string, unknown, string]>([
    [
      'a near miss of a stream name',
      { bookmarks: { engag: { replication_key: 'mp_reserved_last_seen', replication_key_value: '2024-01-01T00:00:00Z' } } },
      `bookmarks.engag (did you mean "engage"?): a stream this tap does not have (its streams: ${STREAM_LIST}); rename it in the state, or use an empty state file to start every stream from start_date`,
    ],
    [
      'near misses in another spelling',
      { bookmarks: { Cohort_Members: { partitions: [] }, 'funnel': '2024-01-01' } },
      `bookmarks.Cohort_Members (did you mean "cohort_members"?), bookmarks.funnel (did you mean "funnels"?): streams this tap does not have (its streams: ${STREAM_LIST}); rename them in the state, or use an empty state file to start every stream from start_date`,
    ],
    ["another tap's bookmarks", { bookmarks: { orders: { replication_key_value: 17 } } }, `bookmarks.orders: a stream this tap does not have (its streams: ${STREAM_LIST}); ${OTHER_TAP}`],
    [
      "another tap's bookmarks next to ours",
      { bookmarks: { export: '2024-01-01T00:00:00Z', customers: '2024-01-01', orders: '2024-01-01' } },
      `bookmarks.customers, bookmarks.orders: streams this tap does not have (its streams: ${STREAM_LIST}); ${OTHER_TAP}`,
    ],
    [
      'many streams of another tap',
      { bookmarks: Object.fromEntries(['a1', 'b2', 'c3', 'd4', 'e5', 'f6', 'g7'].map((n) => [n, '2024-01-01'])) },
      `bookmarks.a1, bookmarks.b2, bookmarks.c3, bookmarks.d4, bookmarks.e5 and 2 more: streams this tap does not have (its streams: ${STREAM_LIST}); ${OTHER_TAP}`,
    ],
    ["another tap's currently_syncing, before its first bookmark", { bookmarks: {}, currently_syncing: 'orders' }, `currently_syncing "orders": a stream this tap does not have (its streams: ${STREAM_LIST}); ${OTHER_TAP}`],
  ])('refuses %s, naming the key and saying what to do', (_case, raw, message) => {
    expect(problem(raw)).toBe(`state state.json: ${message}`);
  });
});
