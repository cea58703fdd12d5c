import { describe, expect, it } from '@jest/globals';
import { engageLastSeenFrom, engageWhere, mixpanelProfileDateTime } from '../../../../src/taps/mixpanel/streams/engage.js';
import { renderSummaryTable, SyncProgress } from '../../../../src/taps/mixpanel/progress.js';
import { ANY_VALUE, schemaForMixpanelType, TypeSampler } from '../../../../src/taps/mixpanel/properties.js';
import { withProjectProperties } from '../../../../src/taps/mixpanel/discover.js';
import { capturingLogger } from '../../helpers/capture-log.js';

describe('engage where', () => {
  it.each([
    [undefined, undefined, undefined],
    ['properties["plan"] == "pro"', undefined, 'properties["plan"] == "pro"'],
    [undefined, '2024-01-02T03:04:05.678Z', 'properties["$last_seen"] >= "2024-01-02T03:04:05"'],
    ['  a or b ', '2024-01-02T00:00:00+02:00', '(a or b) and properties["$last_seen"] >= "2024-01-01T22:00:00"'],
    ['   ', '2024-01-02T00:00:00Z', 'properties["$last_seen"] >= "2024-01-02T00:00:00"'],
  ])('user %p, since %p -> %p', (user, since, expected) => {
    expect(engageWhere(user, since)).toBe(expected);
  });

  it('starts from the bookmark; without one, no $last_seen bound at all (start_date is about events)', () => {
    expect(engageLastSeenFrom('2024-05-01T00:00:00.000Z')).toBe('2024-05-01T00:00:00.000Z');
    expect(engageLastSeenFrom(undefined)).toBeUndefined();
    expect(engageLastSeenFrom('garbage')).toBeUndefined();
    expect(engageWhere(undefined, engageLastSeenFrom(undefined))).toBeUndefined();
    expect(engageWhere('properties["plan"] == "pro"', engageLastSeenFrom(undefined))).toBe('properties["plan"] == "pro"');
    expect(mixpanelProfileDateTime('2024-06-11T09:00:00.000Z')).toBe('2024-06-11T09:00:00');
  });
});

describe('property schemas', () => {
  it.each([
    ['string', { type: ['null', 'string'] }],
    ['number', { type: ['null', 'number'] }],
    ['boolean', { type: ['null', 'boolean'] }],
    ['datetime', { type: ['null', 'string'], format: 'date-time' }],
    ['list', { type: ['null', 'array'], items: {} }],
    ['object', { type: ['null', 'object'] }],
    ['unknown', ANY_VALUE],
    [undefined, ANY_VALUE],
  ])('engage/properties type %p', (type, schema) => {
    expect(schemaForMixpanelType(type)).toEqual(schema);
  });

  it('sampled types accept every value seen; unseen properties accept anything', () => {
    const sampler = new TypeSampler();
    sampler.add({ a: 1, b: 'x', c: [1], d: null });
    sampler.add({ a: 2.5, b: 3, e: { k: 1 } });
    expect(sampler.schemaFor('a')).toEqual({ type: ['null', 'number'] });
    expect(sampler.schemaFor('b')).toEqual({ type: ['null', 'number', 'string'] });
    expect(sampler.schemaFor('c')).toEqual({ type: ['null', 'array'], items: {} });
    expect(sampler.schemaFor('d')).toEqual(ANY_VALUE);
    expect(sampler.schemaFor('e')).toEqual({ type: ['null', 'object'] });
    expect(sampler.schemaFor('never')).toEqual(ANY_VALUE);
  });

  it('built-in properties win over discovered ones; additionalProperties follows the setting', () => {
    const base = { type: 'object', properties: { distinct_id: { type: 'string' } } };
    const merged = withProjectProperties(base, { distinct_id: ANY_VALUE, plan: { type: ['null', 'string'] } }, false);
    expect(merged).toEqual({ type: 'object', additionalProperties: false, properties: { plan: { type: ['null', 'string'] }, distinct_id: { type: 'string' } } });
  });
});

describe('progress', () => {
  it('logs the window being read once, and progress at most every interval', () => {
    const log = capturingLogger();
    let now = 0;
    const progress = new SyncProgress(log, { intervalMs: 5000, now: () => now });
    const stream = progress.startStream('export');
    stream.reading('2024-01-01..2024-01-30');
    stream.reading('2024-01-01..2024-01-30');
    now = 1000;
    stream.add(100);
    now = 5000;
    stream.add(900);
    now = 6000;
    stream.add(10);
    now = 10_000;
    stream.add(4000);
    expect(log.lines.map((l) => [l.message, l.fields])).toEqual([
      ['export: reading 2024-01-01..2024-01-30', undefined],
      ['export: progress', { reading: '2024-01-01..2024-01-30', records: 1000, records_per_second: 200 }],
      ['export: progress', { reading: '2024-01-01..2024-01-30', records: 5010, records_per_second: 802 }],
    ]);
    expect(stream.finish()).toEqual({ stream: 'export', records: 5010, seconds: 10 });
  });

  it('renders an aligned summary table with a total row', () => {
    expect(renderSummaryTable([
      { stream: 'export', records: 12000, seconds: 4 },
      { stream: 'engage', records: 500, seconds: 0.5 },
    ])).toEqual([
      'stream  records  duration  records/s',
      '------  -------  --------  ---------',
      'export    12000     4.0 s       3000',
      'engage      500     0.5 s       1000',
      'total     12500     4.5 s       2778',
    ]);
  });

  it('adds a note column when a stream was skipped, and says why', () => {
    expect(renderSummaryTable([
      { stream: 'engage', records: 500, seconds: 0.5 },
      { stream: 'revenue', records: 0, seconds: 0.1, note: 'skipped: 404, endpoint retired' },
    ])).toEqual([
      'stream   records  duration  records/s  note',
      '-------  -------  --------  ---------  ------------------------------',
      'engage       500     0.5 s       1000',
      'revenue        0     0.1 s          0  skipped: 404, endpoint retired',
      'total        500     0.6 s        833',
    ]);
  });
});
