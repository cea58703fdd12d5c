import { describe, expect, it } from '@jest/globals';
import { ExpressionError, parseExpression } from '../../src/sandbox/mixpanel/expression.js';

const props = {
  $browser: 'Chrome',
  $last_seen: '2024-03-05T10:00:00',
  time: 1_700_000_000,
  mp_processing_time_ms: 1_700_000_123_456,
  amount: 42.5,
  count: '7',
  tags: ['beta', 'vip'],
  nested: { level: 3, name: 'Zoë' },
  flag: true,
  nothing: null,
  title: 'Café visité',
};

describe('segmentation expressions', () => {
  const cases: Array<[string, boolean]> = [
    ['properties["$browser"] == "Chrome"', true],
    ["properties['$browser'] != 'Chrome'", false],
    ['properties["$last_seen"] >= "2024-01-01T00:00:00"', true],
    ['properties["$last_seen"] < "2024-03-05T09:59:59"', false],
    ['properties["$last_seen"] > "2024-03-05"', true],
    ['properties["$last_seen"] >= "2024-03-05T11:00:00+02:00"', true],
    ['properties["time"] >= 1700000000', true],
    ['properties["time"] > 1700000000', false],
    ['properties["mp_processing_time_ms"] > 1700000000000', true],
    ['properties["amount"] > 42 and properties["amount"] < 43', true],
    ['properties["count"] == 7', true],
    ['properties["count"] > 6', true],
    ['properties["flag"] == true', true],
    ['properties["flag"]', true],
    ['not properties["flag"]', false],
    ['defined(properties["$browser"])', true],
    ['defined(properties["missing"])', false],
    ['not defined(properties["missing"])', true],
    ['properties["nothing"] == null', true],
    ['properties["missing"] == undefined', true],
    ['"vip" in properties["tags"]', true],
    ['"gold" in properties["tags"]', false],
    ['"gold" not in properties["tags"]', true],
    ['properties["$browser"] in ["Chrome", "Safari"]', true],
    ['"Café" in properties["title"]', true],
    ['properties["nested"]["level"] == 3', true],
    ['properties["nested"]["name"] == "Zoë"', true],
    ['(properties["$browser"] == "Safari" or properties["amount"] >= 40) and not properties["flag"] == false', true],
    ['properties["amount"] * 2 == 85', true],
    ['properties["time"] % 2 == 0', true],
    ['-properties["amount"] < 0', true],
    ['properties["amount"] + 1 > 43', true],
    ['properties["$browser"] + "!" == "Chrome!"', true],
    ['number(properties["count"]) + 1 == 8', true],
    ['string(properties["time"]) == "1700000000"', true],
    ['boolean(properties["missing"]) == false', true],
    ['datetime(1700000000) == datetime("2023-11-14T22:13:20Z")', true],
    ['properties["$last_seen"] > datetime(1700000000)', true],
    ['properties["$browser"] > 5', false],
    ['properties["missing"] > 5', false],
    ['properties["$browser"] == "chrome"', false],
    ['TRUE AND properties["flag"]', true],
    ['user["$browser"] == "Chrome"', true],
    ['properties["title"] == "Caf\\u00e9 visit\\u00e9"', true],
  ];

  it.each(cases)('%s -> %s', (source, expected) => {
    expect(parseExpression(source).test(props)).toBe(expected);
  });

  const invalid = [
    '',
    'properties["a"] ==',
    'properties["a"] = 1',
    'properties[',
    '"unterminated',
    'unknownfn(1)',
    'properties["a"] == 1)',
    'properties',
    '1 2',
    'properties["a"] && true',
  ];

  it.each(invalid)('rejects %p with an ExpressionError', (source) => {
    expect(() => parseExpression(source)).toThrow(ExpressionError);
  });

  it('says where the problem is', () => {
    expect(() => parseExpression('properties["a"] == == 1')).toThrow(/position 19/);
  });
});
