/**
 * What an export window has already emitted, so a re-read after a broken transfer emits only
 * what is new. Mixpanel does not promise the order of an export body, so the re-read is matched
 * by key (event, distinct_id, time, insert_id), not by position.
 *
 * It is a multiset: export does not deduplicate, and an exact duplicate the first read emitted
 * twice must be skipped twice, while one it never reached must still come through. Each key is
 * kept as a 64-bit hash in one flat typed array (open addressing), 16 bytes a slot at most half
 * full: about 32 MB for a million events, instead of ~80 MB for a Set of strings. Two distinct
 * keys share a hash with probability ~n^2 / 2^65 (3e-8 for a million events in one window); the
 * cost of such a collision is one event skipped on a re-read, never a duplicate.
 */

const SLOT = 4; // hi, lo, emitted, seen
const MIN_CAPACITY = 1024;

export class EmittedKeys {
  private table: Uint32Array;
  private capacity: number;
  private used = 0;

  constructor(initialCapacity = MIN_CAPACITY) {
    this.capacity = Math.max(MIN_CAPACITY, 2 ** Math.ceil(Math.log2(initialCapacity)));
    this.table = new Uint32Array(this.capacity * SLOT);
  }

  /** Distinct keys held. */
  get size(): number {
    return this.used;
  }

  /** Bytes of the table (for logs and tests). */
  get bytes(): number {
    return this.table.byteLength;
  }

  /** A new read of the window starts: nothing of it has been seen yet. */
  beginRead(): void {
    for (let i = 3; i < this.table.length; i += SLOT) this.table[i] = 0;
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

  private admitHash(hi: number, lo: number): boolean {
    const mask = this.capacity - 1;
    let slot = lo & mask;
    for (;;) {
      const at = slot * SLOT;
      const emitted = this.table[at + 2] as number;
      if (emitted === 0) {
        this.table[at] = hi;
        this.table[at + 1] = lo;
        this.table[at + 2] = 1;
        this.table[at + 3] = 1;
        if (++this.used * 2 > this.capacity) this.grow();
        return true;
      }
      if (this.table[at] === hi && this.table[at + 1] === lo) {
        const seen = (this.table[at + 3] as number) + 1;
        this.table[at + 3] = seen;
        if (seen <= emitted) return false;
        this.table[at + 2] = emitted + 1;
        return true;
      }
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.table;
    this.capacity *= 2;
    this.table = new Uint32Array(this.capacity * SLOT);
    const mask = this.capacity - 1;
    for (let at = 0; at < old.length; at += SLOT) {
      if (old[at + 2] === 0) continue;
      let slot = (old[at + 1] as number) & mask;
      while (this.table[slot * SLOT + 2] !== 0) slot = (slot + 1) & mask;
      const to = slot * SLOT;
      this.table[to] = old[at] as number;
      this.table[to + 1] = old[at + 1] as number;
      this.table[to + 2] = old[at + 2] as number;
      this.table[to + 3] = old[at + 3] as number;
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
