/**
 * Near misses: a name a user wrote that matches nothing, but is close to a name we know. Used to
 * turn typos into errors that say "did you mean ...?" (config keys, stream names, properties),
 * while names far from every known one stay what they are (another tool's key, say).
 *
 * Close means, in this order: the same name but for case, `-` / `_` / spaces and their absence
 * (`dryrun`, `Dry-Run` -> `dry_run`); the same but for a plural `s` (`streams` -> `stream`, `tag_property` -> `tag_properties`);
 * or a few typing slips apart (`date_windows_size` -> `date_window_size`, `engag` -> `engage`),
 * counted as insertions, deletions, substitutions and swaps of neighbours (Damerau-Levenshtein,
 * optimal string alignment), at most 1 for names of 4 to 7 characters and 2 from 8 on. Shorter
 * names get no edit distance: `id` and `ip` are different words, not typos of each other.
 */

/** Lower case, without `-`, `_`, spaces and dots: the spelling-insensitive form of a name. */
function squash(name: string): string {
  return name.toLowerCase().replace(/[-_\s.]+/g, '');
}

function singular(squashed: string): string {
  if (squashed.length > 4 && squashed.endsWith('ies')) return squashed.slice(0, -3) + 'y';
  return squashed.length > 3 && squashed.endsWith('s') ? squashed.slice(0, -1) : squashed;
}

/** Edit distance with swaps of neighbours (optimal string alignment), stopping early above `limit`. */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1).fill(0);
    row[0] = i;
    let best = row[0];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] as number) + 1);
      row[j] = d;
      best = Math.min(best, d);
    }
    if (best > limit) return limit + 1;
    before = previous;
    previous = row;
  }
  return previous[b.length] as number;
}

function allowedSlips(length: number): number {
  if (length >= 8) return 2;
  if (length >= 4) return 1;
  return 0;
}

/**
 * How far `name` is from `known` (0 when they differ only in spelling conventions), or undefined
 * when they are not close. `name === known` is not a near miss: the caller knows that one.
 */
export function nearMissDistance(name: string, known: string): number | undefined {
  if (name === known) return undefined;
  const a = squash(name);
  const b = squash(known);
  if (a === '' || b === '') return undefined;
  if (a === b || singular(a) === singular(b)) return 0;
  const limit = allowedSlips(Math.min(a.length, b.length));
  if (limit === 0) return undefined;
  const distance = editDistance(a, b, limit);
  return distance <= limit ? distance : undefined;
}

/** The known name closest to `name`, if one is close (ties: the first in `known`'s order). */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = nearMissDistance(name, candidate);
    if (distance !== undefined && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** `: did you mean "x"?` when a known name is close to `name`, else ''. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const closest = closestName(name, known);
  return closest === undefined ? '' : `: did you mean "${closest}"?`;
}
