/**
 * What the target remembers about an audience's members, compactly enough for millions of them:
 * per member its subscriber hash (16 bytes), its status (1 byte), a 64-bit fingerprint of each
 * mapped merge field's value and the id of its set of managed tags. A 1,000,000-member audience
 * with two mapped merge fields takes about 45 MB; a Map of member objects took ten times that.
 *
 * Members live in dense columns (index 0..size-1); an open-addressing table maps a subscriber
 * hash to its index. Values that are not scalars (address merge fields) are kept as they are,
 * in a side map: they are compared field by field, and few audiences map one. The profile fields
 * (marketing permissions, interests, language, VIP; audience/profile-layout.ts) take a few bits
 * each, packed in `profileWords` 32-bit words per member (none when no such field is mapped).
 */

/** Statuses as one byte; the order is fixed because it is stored. */
export const STATUSES = ['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional', 'archived'] as const;
export type StoredStatus = (typeof STATUSES)[number];
const STATUS_CODE = new Map<string, number>(STATUSES.map((s, i) => [s, i]));

/** A 64-bit fingerprint as two 32-bit halves (FNV-1a and a multiplicative hash over UTF-16 units). */
export function fingerprint(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  return [a >>> 0, (b ^ (b >>> 16)) >>> 0];
}

/** A subscriber hash (32 hex digits) as four 32-bit words; undefined when it is not one. */
export function hashWords(hex: string): [number, number, number, number] | undefined {
  if (hex.length !== 32) return undefined;
  const w0 = Number.parseInt(hex.slice(0, 8), 16);
  const w1 = Number.parseInt(hex.slice(8, 16), 16);
  const w2 = Number.parseInt(hex.slice(16, 24), 16);
  const w3 = Number.parseInt(hex.slice(24, 32), 16);
  if ([w0, w1, w2, w3].some((w) => Number.isNaN(w)) || !/^[0-9a-f]{32}$/i.test(hex)) return undefined;
  return [w0, w1, w2, w3];
}

/** Interns tag sets: most members of an audience share one of a few sets of managed tags. */
class TagSets {
  private readonly ids = new Map<string, number>();
  private readonly sets: string[][] = [[]];

  constructor() {
    this.ids.set('', 0);
  }

  idOf(tags: readonly string[]): number {
    if (tags.length === 0) return 0;
    const sorted = [...tags].sort();
    const key = sorted.join('\u0000');
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.sets.length;
      this.sets.push(sorted);
      this.ids.set(key, id);
    }
    return id;
  }

  get(id: number): readonly string[] {
    return this.sets[id] ?? [];
  }
}

export interface StoredMember {
  status: StoredStatus;
  /** Fingerprints (or the whole value, for object fields) per mapped merge tag. */
  fields: ReadonlyMap<string, [number, number] | unknown>;
  tags: readonly string[];
  /** The profile words (profile-layout.ts), when the table keeps any. */
  profile?: readonly number[];
}

export class MemberTable {
  private capacity: number;
  private slots: Int32Array;
  private keys: Uint32Array;
  private statuses: Uint8Array;
  private tagSetIds: Uint32Array;
  /** Per scalar merge tag: two words per member; a member without the field holds the fingerprint of "". */
  private prints: Map<string, Uint32Array>;
  private profiles: Uint32Array;
  private readonly objects = new Map<string, Map<number, unknown>>();
  private readonly tagSets = new TagSets();
  private count = 0;

  /**
   * @param scalarTags merge tags stored as fingerprints
   * @param objectTags merge tags stored as values (address fields)
   * @param profileWords 32-bit words of profile fields per member
   */
  constructor(
    private readonly scalarTags: readonly string[],
    private readonly objectTags: readonly string[] = [],
    expected = 1024,
    private readonly profileWords = 0,
  ) {
    this.capacity = Math.max(16, expected);
    this.slots = new Int32Array(slotCount(this.capacity));
    this.keys = new Uint32Array(this.capacity * 4);
    this.statuses = new Uint8Array(this.capacity);
    this.tagSetIds = new Uint32Array(this.capacity);
    this.prints = new Map(scalarTags.map((t) => [t, new Uint32Array(this.capacity * 2)]));
    this.profiles = new Uint32Array(this.capacity * profileWords);
    for (const tag of objectTags) this.objects.set(tag, new Map());
  }

  get size(): number {
    return this.count;
  }

  /** Index of a member, or -1. */
  private find(w: readonly number[]): number {
    const mask = this.slots.length - 1;
    for (let slot = (w[0] as number) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot] as number;
      if (entry === 0) return -1;
      const i = entry - 1;
      const k = i * 4;
      if (this.keys[k] === w[0] && this.keys[k + 1] === w[1] && this.keys[k + 2] === w[2] && this.keys[k + 3] === w[3]) return i;
    }
  }

  private insertSlot(index: number): void {
    const mask = this.slots.length - 1;
    let slot = (this.keys[index * 4] as number) & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = index + 1;
  }

  /** Grows by half: an audience outgrows its first size by the people a run adds, rarely by double. */
  private grow(): void {
    const capacity = Math.ceil(this.capacity * 1.5);
    const widen = <T extends Uint8Array | Uint32Array>(old: T, make: (n: number) => T, per: number): T => {
      const next = make(capacity * per);
      next.set(old);
      return next;
    };
    this.keys = widen(this.keys, (n) => new Uint32Array(n), 4);
    this.statuses = widen(this.statuses, (n) => new Uint8Array(n), 1);
    this.tagSetIds = widen(this.tagSetIds, (n) => new Uint32Array(n), 1);
    for (const [tag, prints] of this.prints) this.prints.set(tag, widen(prints, (n) => new Uint32Array(n), 2));
    this.profiles = widen(this.profiles, (n) => new Uint32Array(n), this.profileWords);
    this.capacity = capacity;
    this.slots = new Int32Array(slotCount(capacity));
    for (let i = 0; i < this.count; i++) this.insertSlot(i);
  }

  has(hash: string): boolean {
    const w = hashWords(hash);
    return w !== undefined && this.find(w) >= 0;
  }

  get(hash: string): StoredMember | undefined {
    const w = hashWords(hash);
    const i = w ? this.find(w) : -1;
    if (i < 0) return undefined;
    const fields = new Map<string, [number, number] | unknown>();
    for (const [tag, prints] of this.prints) fields.set(tag, [prints[i * 2] as number, prints[i * 2 + 1] as number]);
    for (const [tag, values] of this.objects) fields.set(tag, values.get(i));
    const words = this.profileWords;
    return {
      status: STATUSES[this.statuses[i] as number] ?? 'subscribed',
      fields,
      tags: this.tagSets.get(this.tagSetIds[i] as number),
      ...(words > 0 ? { profile: Array.from(this.profiles.subarray(i * words, (i + 1) * words)) } : {}),
    };
  }

  /**
   * Stores a member. `fields` holds canonical text for scalar tags (see canonicalMergeValue) and
   * values for object tags; tags not given keep what was stored (a new member: empty).
   */
  set(hash: string, change: { status?: StoredStatus; fields?: Record<string, string | unknown>; tags?: readonly string[]; profile?: readonly number[] }): void {
    const w = hashWords(hash);
    if (!w) throw new Error(`not a subscriber hash: ${hash}`);
    let i = this.find(w);
    if (i < 0) {
      if (this.count >= this.capacity || (this.count + 1) * 4 > this.slots.length * 3) this.grow();
      i = this.count++;
      this.keys.set(w, i * 4);
      this.insertSlot(i);
      this.statuses[i] = 0;
      this.tagSetIds[i] = 0;
      this.profiles.fill(0, i * this.profileWords, (i + 1) * this.profileWords);
      const empty = fingerprint('');
      for (const prints of this.prints.values()) {
        prints[i * 2] = empty[0];
        prints[i * 2 + 1] = empty[1];
      }
    }
    if (change.status !== undefined) this.statuses[i] = STATUS_CODE.get(change.status) ?? 0;
    if (change.tags !== undefined) this.tagSetIds[i] = this.tagSets.idOf(change.tags);
    if (change.profile !== undefined) this.profiles.set(change.profile.slice(0, this.profileWords), i * this.profileWords);
    for (const [tag, value] of Object.entries(change.fields ?? {})) {
      const prints = this.prints.get(tag);
      if (prints) {
        const [a, b] = fingerprint(String(value));
        prints[i * 2] = a;
        prints[i * 2 + 1] = b;
      } else {
        this.objects.get(tag)?.set(i, value);
      }
    }
  }

  /** Bytes held by the columns (for logs and the bench). */
  get bytes(): number {
    let n = this.slots.byteLength + this.keys.byteLength + this.statuses.byteLength + this.tagSetIds.byteLength + this.profiles.byteLength;
    for (const p of this.prints.values()) n += p.byteLength;
    return n;
  }

  /** Whether a tag is stored as a fingerprint. */
  isScalar(tag: string): boolean {
    return this.prints.has(tag);
  }

  get mergeTags(): readonly string[] {
    return [...this.scalarTags, ...this.objectTags];
  }
}

/**
 * A power of two at least 4/3 of the capacity: the table stays at most three quarters full
 * (linear probing there still finds a member in about two probes; half full cost 8 MB more at 1M).
 */
function slotCount(capacity: number): number {
  let n = 16;
  while (n * 3 < capacity * 4) n *= 2;
  return n;
}
