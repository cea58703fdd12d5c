import { describe, expect, it } from '@jest/globals';
import { closestName, didYouMean, editDistance, nearMissDistance } from '../../../src/util/near-miss.js';

describe('editDistance (insertions, deletions, substitutions, swaps of neighbours)', () => {
  it.each<[string, string, number]>([
    ['', '', 0],
    ['abc', 'abc', 0],
    ['abc', 'abd', 1],
    ['abc', 'ab', 1],
    ['abc', 'acb', 1],
    ['engage', 'engag', 1],
    ['plan', 'plna', 1],
    ['kitten', 'sitting', 3],
  ])('%j -> %j is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it('stops above its limit', () => {
    expect(editDistance('abcdefgh', 'zyxwvuts', 2)).toBe(3);
  });
});

describe('nearMissDistance: what counts as a typo of a known name', () => {
  it.each<[string, string, number | undefined]>([
    ['dryrun', 'dry_run', 0],
    ['DRY_RUN', 'dry_run', 0],
    ['dry-run', 'dry_run', 0],
    ['streams', 'stream', 0],
    ['tag_property', 'tag_properties', 0],
    ['date_windows_size', 'date_window_size', 1],
    ['date_windw_size', 'date_window_size', 1],
    ['engag', 'engage', 1],
    ['plna', 'plan', 1],
    ['cohort_tag', 'cohort_tags', 0],
    ['batch_size_rows', 'batch_size', undefined],
    ['id', 'ip', undefined],
    ['foo', 'mode', undefined],
    ['export', 'engage', undefined],
    ['dry_run', 'dry_run', undefined],
  ])('%j against %j: %p', (name, known, expected) => {
    expect(nearMissDistance(name, known)).toBe(expected);
  });
});

describe('closestName and didYouMean', () => {
  const KEYS = ['batch_size', 'bulk_batch_size', 'dry_run', 'stream', 'tags', 'tag_properties'];

  it('picks the closest known name', () => {
    expect(closestName('batchsize', KEYS)).toBe('batch_size');
    expect(closestName('bulk_batch_sise', KEYS)).toBe('bulk_batch_size');
    expect(closestName('tag', KEYS)).toBe('tags');
  });

  it('says nothing for a name far from all of them', () => {
    expect(closestName('user_agent', KEYS)).toBeUndefined();
    expect(didYouMean('user_agent', KEYS)).toBe('');
  });

  it('words the suggestion', () => {
    expect(didYouMean('dryrun', KEYS)).toBe(': did you mean "dry_run"?');
  });
});
