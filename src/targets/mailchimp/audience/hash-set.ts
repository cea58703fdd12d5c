/**
 * A set of subscriber hashes in typed arrays: 16 bytes a member plus the table, so the members
 * of a million-person cohort take about 24 MB, not the ~100 MB of a Set of strings.
 */
import { hashWords } from './member-table.js';

export class HashSet {
  private keys: Uint32Array;
  private slots: Int32Array;
  private count = 0;

  constructor(expected = 1024) {
    let capacity = 16;
    while (capacity < expected) capacity *= 2;
    this.keys = new Uint32Array(capacity * 4);
    this.slots = new Int32Array(capacity * 2);
  }

  get size(): number {
    return this.count;
  }

  private find(w: readonly number[]): number {
    const mask = this.slots.length - 1;
    for (let slot = (w[0] as number) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot] as number;
      if (entry === 0) return -(slot + 1);
      const k = (entry - 1) * 4;
      if (this.keys[k] === w[0] && this.keys[k + 1] === w[1] && this.keys[k + 2] === w[2] && this.keys[k + 3] === w[3]) return entry - 1;
    }
  }

  has(hash: string): boolean {
    const w = hashWords(hash);
    return w !== undefined && this.find(w) >= 0;
  }

  /** Adds a hash; false when it was there already. */
  add(hash: string): boolean {
    const w = hashWords(hash);
    if (!w) throw new Error(`not a subscriber hash: ${hash}`);
    if (this.find(w) >= 0) return false;
    if ((this.count + 1) * 4 > this.keys.length || (this.count + 1) * 2 > this.slots.length) this.grow();
    const found = this.find(w);
    const index = this.count++;
    this.keys.set(w, index * 4);
    this.slots[-found - 1] = index + 1;
    return true;
  }

  private grow(): void {
    const keys = new Uint32Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
    this.slots = new Int32Array(this.slots.length * 2);
    const mask = this.slots.length - 1;
    for (let i = 0; i < this.count; i++) {
      let slot = (this.keys[i * 4] as number) & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = i + 1;
    }
  }

  *[Symbol.iterator](): IterableIterator<string> {
    for (let i = 0; i < this.count; i++) {
      let hex = '';
      for (let j = 0; j < 4; j++) hex += (this.keys[i * 4 + j] as number).toString(16).padStart(8, '0');
      yield hex;
    }
  }
}
