/** The members window and its slices, as tables. */
import { describe, expect, it } from '@jest/globals';
import {
  inRange,
  isEmptyRange,
  membersWindow,
  quantileOffsets,
  rangeQuery,
  slicesAt,
  splitRange,
  type TimeRange,
} from '../../../../src/taps/mailchimp/members/window.js';

const T = (iso: string) => Date.parse(iso);

describe('membersWindow', () => {
  it.each<[string, { bookmark?: string; startDate?: string }, string | undefined, string]>([
    ['first run: no lower bound, ends settle seconds before now (whole seconds)', {}, undefined, '2024-06-10T11:59:00.000Z'],
    ['from the bookmark', { bookmark: '2024-06-01T00:00:00Z' }, '2024-06-01T00:00:00.000Z', '2024-06-10T11:59:00.000Z'],
    ['a bookmark with milliseconds starts at its second (reads more, never less)', { bookmark: '2024-06-01T00:00:00.900Z' }, '2024-06-01T00:00:00.000Z', '2024-06-10T11:59:00.000Z'],
    ['a bookmark without a zone is UTC', { bookmark: '2024-06-01T08:00:00' }, '2024-06-01T08:00:00.000Z', '2024-06-10T11:59:00.000Z'],
    ['start_date on a first run', { startDate: '2024-01-01' }, '2024-01-01T00:00:00.000Z', '2024-06-10T11:59:00.000Z'],
    ['the bookmark wins over start_date', { bookmark: '2024-06-01T00:00:00Z', startDate: '2024-01-01' }, '2024-06-01T00:00:00.000Z', '2024-06-10T11:59:00.000Z'],
  ])('%s', (_name, given, from, to) => {
    const window = membersWindow({ ...given, nowMs: T('2024-06-10T12:00:00.750Z'), settleSeconds: 60 });
    expect(window.from === undefined ? undefined : new Date(window.from).toISOString()).toBe(from);
    expect(new Date(window.to).toISOString()).toBe(to);
  });

  it('is empty when the bookmark is at or after its end (a clock that went back, a larger settle)', () => {
    expect(isEmptyRange(membersWindow({ bookmark: '2024-06-10T11:59:00Z', nowMs: T('2024-06-10T12:00:00Z'), settleSeconds: 60 }))).toBe(true);
    expect(isEmptyRange(membersWindow({ bookmark: '2024-06-10T11:58:59Z', nowMs: T('2024-06-10T12:00:00Z'), settleSeconds: 60 }))).toBe(false);
  });
});

describe('rangeQuery and inRange: [from, to) whatever the API makes of its bounds', () => {
  const range: TimeRange = { from: T('2024-06-01T00:00:00Z'), to: T('2024-06-02T00:00:00Z') };

  it('asks for since = from - 1 s and before = to (strict bounds give [from, to) exactly)', () => {
    expect(rangeQuery(range)).toEqual({ since: '2024-05-31T23:59:59Z', before: '2024-06-02T00:00:00Z' });
    expect(rangeQuery({ to: range.to })).toEqual({ before: '2024-06-02T00:00:00Z' });
  });

  it.each([
    ['2024-05-31T23:59:59+00:00', false],
    ['2024-06-01T00:00:00+00:00', true],
    ['2024-06-01T23:59:59+00:00', true],
    ['2024-06-02T00:00:00+00:00', false],
    ['', true],
    [undefined, true],
  ])('last_changed %p in range: %p (unreadable: kept)', (value, expected) => {
    expect(inRange(range, value)).toBe(expected);
  });
});

describe('slices', () => {
  it('quantile offsets every size-th member', () => {
    expect(quantileOffsets(45, 20)).toEqual([20, 40]);
    expect(quantileOffsets(40, 20)).toEqual([20]);
    expect(quantileOffsets(20, 20)).toEqual([]);
  });

  it.each<[string, number[], Array<[number | undefined, number]>]>([
    ['cuts in order', [30, 10, 20], [[5, 10], [10, 20], [20, 30], [30, 100]]],
    ['repeats and values outside the window dropped', [10, 10, -5, 5, 100, 250], [[5, 10], [10, 100]]],
    ['milliseconds floored to the second', [10.9], [[5, 10], [10, 100]]],
    ['no cut: the whole window', [], [[5, 100]]],
  ])('%s', (_name, cuts, expected) => {
    const s = (n: number) => n * 1000;
    const slices = slicesAt({ from: s(5), to: s(100) }, cuts.map(s));
    expect(slices.map((r) => [r.from === undefined ? undefined : r.from / 1000, r.to / 1000])).toEqual(expected);
  });

  it('a window without a start: the first slice has none either', () => {
    expect(slicesAt({ to: 100_000 }, [-5000, 50_000])).toEqual([{ to: -5000 }, { from: -5000, to: 50_000 }, { from: 50_000, to: 100_000 }]);
  });

  it.each<[string, TimeRange, number | undefined, [TimeRange, TimeRange] | undefined]>([
    ['in halves at the second', { from: 0, to: 10_000 }, undefined, [{ from: 0, to: 5000 }, { from: 5000, to: 10_000 }]],
    ['an open start: halves between the earliest member seen and the end', { to: 10_000 }, 4000, [{ to: 7000 }, { from: 7000, to: 10_000 }]],
    ['an open start, nobody seen: the last second apart', { to: 10_000 }, undefined, [{ to: 9000 }, { from: 9000, to: 10_000 }]],
    ['two seconds: one each', { from: 0, to: 2000 }, undefined, [{ from: 0, to: 1000 }, { from: 1000, to: 2000 }]],
    ['one second cannot be cut', { from: 0, to: 1000 }, undefined, undefined],
  ])('splitRange: %s', (_name, range, lowest, expected) => {
    expect(splitRange(range, lowest)).toEqual(expected);
  });
});
