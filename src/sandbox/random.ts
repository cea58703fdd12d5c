/**
 * Small, fast, deterministic randomness for the sandbox's generated data.
 *
 * Every generated thing (an event, a profile, an audience member) gets its own generator seeded
 * from a hash of (seed, kind, position), so any item can be produced on its own, in any order,
 * without producing the items before it: that is what lets the export stream a day at a time
 * and lets tests ask for item N directly.
 */

/** Final mix of MurmurHash3: spreads every input bit over the 32-bit result. */
export function mix32(value: number): number {
  let x = value | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hashes up to four integers into one 32-bit seed (numbers beyond 32 bits keep their high part). */
export function hashSeed(a: number, b = 0, c = 0, d = 0): number {
  let h = 0x9e3779b9;
  h = mix32(h ^ lowBits(a)) ^ highBits(a);
  h = mix32(h ^ lowBits(b)) ^ highBits(b);
  h = mix32(h ^ lowBits(c)) ^ highBits(c);
  h = mix32(h ^ lowBits(d)) ^ highBits(d);
  return mix32(h);
}

function lowBits(n: number): number {
  return n | 0;
}

function highBits(n: number): number {
  return Number.isSafeInteger(n) ? Math.floor(n / 4294967296) | 0 : 0;
}

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** mulberry32: one 32-bit state, a handful of integer operations per number. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [min, max], both inclusive. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** Float in [min, max) rounded to `decimals` places. */
  float(min: number, max: number, decimals = 2): number {
    const factor = 10 ** decimals;
    return Math.round((min + this.next() * (max - min)) * factor) / factor;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('Rng.pick needs a non-empty list');
    return item;
  }

  /** Picks from a table prepared by `weightedTable`. */
  weighted<T>(table: WeightedTable<T>): T {
    const r = this.next() * table.total;
    const { cumulative, items } = table;
    for (let i = 0; i < cumulative.length; i++) {
      if (r < (cumulative[i] as number)) return items[i] as T;
    }
    return items[items.length - 1] as T;
  }

  /** Letters and digits, like Mixpanel's generated insert ids (five characters per 32 random bits). */
  token(length: number): string {
    let out = '';
    while (out.length < length) {
      let bits = this.nextU32();
      for (let i = 0; i < 5 && out.length < length; i++) {
        out += ALPHANUMERIC[bits % 62];
        bits = Math.floor(bits / 62);
      }
    }
    return out;
  }

  /** Lower-case hex of the given length. */
  hex(length: number): string {
    let out = '';
    while (out.length < length) out += this.nextU32().toString(16).padStart(8, '0');
    return out.slice(0, length);
  }
}

export interface WeightedTable<T> {
  readonly items: readonly T[];
  readonly cumulative: readonly number[];
  readonly total: number;
}

export function weightedTable<T>(entries: ReadonlyArray<readonly [T, number]>): WeightedTable<T> {
  const items: T[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const [item, weight] of entries) {
    total += weight;
    items.push(item);
    cumulative.push(total);
  }
  return { items, cumulative, total };
}
