/**
 * What an export window has already emitted, so a re-read after a broken transfer emits only
 * what is new. Mixpanel does not promise the order of an export body, so the re-read is matched
 * by key (event, distinct_id, time, insert_id), not by position.
 *
 * It is a multiset: export does not deduplicate, and an exact duplicate the first read emitted
 * twice must be skipped twice, while one it never reached must still come through. Each key is
 * kept as a 64-bit hash in one flat typed array (open addressing, at most 70% full): 8 bytes a
 * slot, plus one bit a slot for "seen by this read"; the rare keys seen more than once in a read
 * keep their counts in a small map. About 16 MB for a million events (24 MB while growing),
 * instead of ~80 MB for a Set of strings. Two distinct keys share a hash with probability
 * ~n^2 / 2^64 (5e-8 for a million events in one window); the cost of such a collision is one
 * event skipped on a re-read, never a duplicate.
 */

const MIN_CAPACITY = 1024;
const MAX_LOAD = 0.7;

interface Counts {
  /** Times all reads together emitted the key. */
  emitted: number;
  /** Times the current read has seen it. */
  seen: number;
}

export class EmittedKeys {
  /** Pairs (hi, lo); hi always has its top bit set, so an empty slot is (0, 0). */
  private table: Uint32Array;
  /** One bit a slot: the current read has seen this key (at least once). */
  private seenBits: Uint8Array;
  /** Keys emitted or seen more than once, by "hi:lo". */
  private readonly repeats = new Map<string, Counts>();
  private capacity: number;
  private used = 0;

  constructor(initialCapacity = MIN_CAPACITY) {
    this.capacity = Math.max(MIN_CAPACITY, 2 ** Math.ceil(Math.log2(initialCapacity)));
    this.table = new Uint32Array(this.capacity * 2);
    this.seenBits = new Uint8Array(this.capacity >>> 3);
  }

  /** Distinct keys held. */
  get size(): number {
    return this.used;
  }

  /** Bytes of the table (for logs and tests). */
  get bytes(): number {
    return this.table.byteLength + this.seenBits.byteLength;
  }

  /** A new read of the window starts: nothing of it has been seen yet. */
  beginRead(): void {
    this.seenBits.fill(0);
    for (const counts of this.repeats.values()) counts.seen = 0;
  }

  /**
   * Called for every event of the current read, in body order, with the parts of its key: true
   * when it must be emitted (this read has now seen the key more often than all reads together
   * emitted it). The parts are hashed in place, with a separator, without building a key string.
   */
  admit(...parts: string[]): boolean {
    hashParts(parts);
    return this.admitHash(H1, H2);
  }

  /** admit() for the four parts of an event key, without the rest-array. */
  admitEvent(event: string, distinctId: string, time: string, insertId: string): boolean {
    H1 = 0xdeadbeef;
    H2 = 0x41c6ce57;
    mix(event);
    mix(distinctId);
    mix(time);
    mix(insertId);
    finish();
    return this.admitHash(H1, H2);
  }

  private admitHash(h1: number, lo: number): boolean {
    const hi = (h1 | 0x80000000) >>> 0;
    const mask = this.capacity - 1;
    let slot = lo & mask;
    for (;;) {
      const at = slot * 2;
      const slotHi = this.table[at] as number;
      if (slotHi === 0) {
        // New key: emitted once, seen once by this read.
        this.table[at] = hi;
        this.table[at + 1] = lo;
        this.seenBits[slot >>> 3] = (this.seenBits[slot >>> 3] as number) | (1 << (slot & 7));
        if (++this.used > this.capacity * MAX_LOAD) this.grow();
        return true;
      }
      if (slotHi === hi && this.table[at + 1] === lo) return this.admitKnown(slot, hi, lo);
      slot = (slot + 1) & mask;
    }
  }

  private admitKnown(slot: number, hi: number, lo: number): boolean {
    const byte = slot >>> 3;
    const bit = 1 << (slot & 7);
    const seenBefore = ((this.seenBits[byte] as number) & bit) !== 0;
    const counts = this.repeats.get(`${hi}:${lo}`);
    if (!seenBefore) {
      // First sight in this read of a key some read emitted: skip it.
      this.seenBits[byte] = (this.seenBits[byte] as number) | bit;
      if (counts) counts.seen = 1;
      return false;
    }
    const c = counts ?? { emitted: 1, seen: 1 };
    if (!counts) this.repeats.set(`${hi}:${lo}`, c);
    c.seen++;
    if (c.seen <= c.emitted) return false;
    c.emitted = c.seen;
    return true;
  }

  private grow(): void {
    const old = this.table;
    const oldBits = this.seenBits;
    this.capacity *= 2;
    this.table = new Uint32Array(this.capacity * 2);
    this.seenBits = new Uint8Array(this.capacity >>> 3);
    const mask = this.capacity - 1;
    for (let from = 0; from < old.length >>> 1; from++) {
      const hi = old[from * 2] as number;
      if (hi === 0) continue;
      const lo = old[from * 2 + 1] as number;
      let slot = lo & mask;
      while (this.table[slot * 2] !== 0) slot = (slot + 1) & mask;
      this.table[slot * 2] = hi;
      this.table[slot * 2 + 1] = lo;
      if (((oldBits[from >>> 3] as number) & (1 << (from & 7))) !== 0) {
        this.seenBits[slot >>> 3] = (this.seenBits[slot >>> 3] as number) | (1 << (slot & 7));
      }
    }
  }
}

/*
 * Two independent 32-bit multiplicative hashes over the UTF-16 units (cyrb53's mixing, all 64
 * bits kept), in module state so the hot path allocates nothing.
 */
let H1 = 0;
let H2 = 0;

function mix(part: string): void {
  let h1 = H1;
  let h2 = H2;
  for (let i = 0; i < part.length; i++) {
    const ch = part.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  // The separator: ("ab", "c") and ("a", "bc") differ.
  H1 = Math.imul(h1 ^ 0xffff, 2654435761);
  H2 = Math.imul(h2 ^ 0xffff, 1597334677);
}

function finish(): void {
  let h1 = H1;
  let h2 = H2;
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  H1 = h1 >>> 0;
  H2 = h2 >>> 0;
}

function hashParts(parts: readonly string[]): void {
  H1 = 0xdeadbeef;
  H2 = 0x41c6ce57;
  for (const part of parts) mix(part);
  finish();
}
