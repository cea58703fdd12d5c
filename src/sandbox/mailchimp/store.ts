/**
 * Audience state, compact enough for a million members.
 *
 * Every member has a position (0, 1, 2, ...: the API's stable order): the seeded members first,
 * then the generated ones (`mailchimp.audienceSize`), then members created while the sandbox
 * runs. Per position the store keeps a few typed arrays (status, last_changed in seconds, the
 * first 32 bits of the subscriber hash, flags) and an open-addressing hash index from subscriber
 * hash to position. Seeded and created members are full MemberRecords; a generated member is
 * computed from its index (data/generated-audience.ts) plus a small copy-on-write delta holding
 * only what the API changed. Tags are one registry for the list (they are its static segments):
 * each tag has a bitmap over positions.
 *
 * Writers change a MemberRecord (from `get` or `create`) and then call `save(record)`, which
 * brings the indexes, the tag bitmaps and a generated member's delta in line with it.
 */
import { hash as digest } from 'node:crypto';
import type { MemberStatus, SeedMember } from '../data/audience.js';
import { GENERATED_TAGS, generatedEmail, generatedMember } from '../data/generated-audience.js';
import type { GeneratedAudienceContext, GeneratedMember } from '../data/generated-audience.js';
import type { InterestCategoryDefinition, MarketingPermissionDefinition } from './group-definitions.js';
import type { MergeFieldDefinition } from './validation.js';

export type { MemberStatus } from '../data/audience.js';

export interface MemberTag {
  id: number;
  name: string;
  date_added: string;
}

export interface MemberRecord {
  /** The member's place in the audience's order (sandbox-only, never serialised). */
  readonly position: number;
  id: string;
  email_address: string;
  unique_email_id: string;
  contact_id: string;
  web_id: number;
  email_type: string;
  status: MemberStatus;
  merge_fields: Record<string, unknown>;
  tags: MemberTag[];
  language: string;
  vip: boolean;
  source: string;
  ip_signup: string;
  ip_opt: string;
  timestamp_signup: string;
  timestamp_opt: string;
  last_changed: string;
  unsubscribe_reason: string;
  /** Unsubscribed through a link, a complaint or a compliance review: the API cannot resubscribe it. */
  complianceLocked: boolean;
  /** Permanently deleted: invisible, and cannot be re-imported. */
  forgotten: boolean;
  /** Interest id -> member in it, where a write set it (others: groups.ts's default). */
  interests?: Record<string, boolean>;
  /** Marketing permission id -> enabled, where a write set it (others: groups.ts's default). */
  marketing_permissions?: Record<string, boolean>;
}

export function subscriberHash(email: string): string {
  return digest('md5', email.toLowerCase(), 'hex');
}

/** A path's member reference: a subscriber hash, or an address (which the real API also accepts). */
export function memberKey(reference: string): string {
  return reference.includes('@') ? subscriberHash(reference) : reference.toLowerCase();
}

/** Mailchimp's timestamp shape: 2024-05-01T12:34:56+00:00. */
export function mailchimpTime(ms: number): string {
  // Called several times for every member of every page read, where Date#toISOString was the
  // largest cost: years 1970..9999 are formatted by arithmetic (days to civil date, H. Hinnant).
  if (!(ms >= 0 && ms < 253_402_300_800_000)) return `${new Date(ms).toISOString().slice(0, 19)}+00:00`;
  const seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86_400);
  const secondOfDay = seconds - days * 86_400;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay % 3600) / 60);
  const second = secondOfDay % 60;
  return `${year}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}:${two(second)}+00:00`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export interface NewMemberFields {
  email: string;
  status: MemberStatus;
  mergeFields: Record<string, unknown>;
  source: string;
  emailType?: string;
  language?: string;
  vip?: boolean;
  complianceLocked?: boolean;
  forgotten?: boolean;
  timestampSignup?: string;
  timestampOpt?: string;
  lastChanged: string;
  /** Tag names, dated lastChanged. */
  tags?: readonly string[];
}

export const MEMBER_STATUSES: readonly MemberStatus[] = ['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional', 'archived'];
const STATUS_CODE: Readonly<Record<MemberStatus, number>> = { subscribed: 0, unsubscribed: 1, cleaned: 2, pending: 3, transactional: 4, archived: 5 };
const FORGOTTEN = 6;
const VACANT = 7;
const WRITTEN = 1;

export interface TagDefinition {
  readonly id: number;
  readonly name: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface TagEntry {
  id: number;
  name: string;
  key: string;
  createdAt: string;
  updatedAt: string;
  /** Bit p set when the member at position p carries the tag. */
  bits: Uint8Array;
}

/** Which members a listing wants; every condition given must hold. */
export interface MemberFilter {
  /** Statuses to include; default every status (forgotten members are never listed). */
  statuses?: ReadonlySet<MemberStatus>;
  /** last_changed strictly after this instant (epoch ms). */
  sinceMs?: number;
  /** last_changed strictly before this instant (epoch ms). */
  beforeMs?: number;
  tagId?: number;
  /** Only members the API (or the admin API) wrote since the sandbox started. */
  writtenOnly?: boolean;
  /** Permanently deleted members too (the admin view). */
  includeForgotten?: boolean;
}

/** The API's sort_field values; last_changed is kept in the arrays, the others need the records. */
export type MemberSortField = 'last_changed' | 'timestamp_opt' | 'timestamp_signup';

export interface MemberSort {
  field: MemberSortField;
  dir: 'ASC' | 'DESC';
}

/**
 * The generated part of an audience, computed once per process (reset copies it): per generated
 * member its hash prefix, status code, last_changed and generated tags.
 */
export interface GeneratedBase {
  readonly count: number;
  readonly context: GeneratedAudienceContext;
  readonly hash32: Uint32Array;
  readonly status: Uint8Array;
  readonly changedSec: Uint32Array;
  readonly tagMask: Uint8Array;
}

export function buildGeneratedBase(count: number, context: GeneratedAudienceContext): GeneratedBase {
  const hash32 = new Uint32Array(count);
  const status = new Uint8Array(count);
  const changedSec = new Uint32Array(count);
  const tagMask = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const member = generatedMember(i, context);
    hash32[i] = prefix32(digest('md5', member.email, 'hex'));
    status[i] = STATUS_CODE[member.status];
    changedSec[i] = member.lastChangedMs / 1000;
    tagMask[i] = member.tagMask;
  }
  return { count, context, hash32, status, changedSec, tagMask };
}

/** What the API changed on a generated member; absent keys keep the generated value. */
interface GeneratedDelta {
  status?: MemberStatus;
  unsubscribe_reason?: string;
  timestamp_opt?: string;
  merge_fields?: Record<string, unknown>;
  email_type?: string;
  language?: string;
  vip?: boolean;
  complianceLocked?: boolean;
  forgotten?: boolean;
  /** date_added of tags whose date differs from the member's generated date. */
  tagDates?: Record<number, string>;
  interests?: Record<string, boolean>;
  marketing_permissions?: Record<string, boolean>;
}

function prefix32(hexHash: string): number {
  return parseInt(hexHash.slice(0, 8), 16) >>> 0;
}

function secondsOf(timestamp: string): number {
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? 0 : Math.max(0, Math.floor(ms / 1000));
}

function contactIdFor(listId: string, hash: string): string {
  return digest('md5', `contact:${listId}:${hash}`, 'hex');
}

function webIdFor(hash: string): number {
  return 100_000_000 + (parseInt(hash.slice(0, 7), 16) % 900_000_000);
}

function unsubscribeReasonFor(status: MemberStatus, complianceLocked: boolean): string {
  if (status !== 'unsubscribed') return '';
  return complianceLocked ? 'Unsubscribed via link' : 'N/A (Unsubscribed by an admin)';
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

const INITIAL_CAPACITY = 64;

export class Audience {
  private size = 0;
  private capacity = INITIAL_CAPACITY;
  private statusCode = new Uint8Array(INITIAL_CAPACITY);
  private changedSec = new Uint32Array(INITIAL_CAPACITY);
  private hash32 = new Uint32Array(INITIAL_CAPACITY);
  private flags = new Uint8Array(INITIAL_CAPACITY);
  /** Open addressing: position + 1, 0 = empty. Positions are never removed, so no tombstones. */
  private slots = new Int32Array(INITIAL_CAPACITY * 2);
  private readonly records = new Map<number, MemberRecord>();
  /**
   * Per generated member (index = position - generatedStart): 0, or its delta as JSON text. Text
   * in a flat array costs a fraction of small objects in a Map when half a million members change.
   */
  private deltas: Array<string | 0> = [];
  private readonly bases = new WeakMap<MemberRecord, GeneratedMember>();
  private generatedStart = 0;
  private generatedCount = 0;
  private generatedContext: GeneratedAudienceContext = { seed: 0, referenceMs: 0 };
  private readonly tagsByKey = new Map<string, TagEntry>();
  private readonly tagsById = new Map<number, TagEntry>();
  private nextTagId = 2_000_001;
  private readonly statusCounts = new Int32Array(8);
  /** Set once seeding is done: from then on saves mark members as written. */
  private tracking = false;
  /** Bumped by every change of a member, so a sorted listing can be reused until one. */
  private version = 0;
  private sorted: { key: string; version: number; positions: Uint32Array } | null = null;
  /** The audience's groups and GDPR marketing permissions (group-definitions.ts). */
  interestCategories: InterestCategoryDefinition[] = [];
  marketingPermissions: MarketingPermissionDefinition[] = [];

  constructor(
    readonly id: string,
    readonly name: string,
    readonly webId: number,
    readonly dateCreated: string,
    readonly mergeFields: readonly MergeFieldDefinition[],
  ) {}

  // ---- lookups ----------------------------------------------------------------------------

  /** The member for a hash, forgotten ones included (callers decide what those mean). */
  get(hash: string): MemberRecord | undefined {
    const position = this.positionOf(hash);
    return position < 0 ? undefined : this.recordAt(position);
  }

  /** Members the API shows (everything but permanently deleted ones). */
  get visibleCount(): number {
    let n = 0;
    for (let code = 0; code < FORGOTTEN; code++) n += this.statusCounts[code] as number;
    return n;
  }

  /** Visible members per status. */
  countsByStatus(): Record<MemberStatus, number> {
    const out = {} as Record<MemberStatus, number>;
    for (const status of MEMBER_STATUSES) out[status] = this.statusCounts[STATUS_CODE[status]] as number;
    return out;
  }

  /** Members generated from the seed (`mailchimp.audienceSize`), and where they start. */
  get generated(): { start: number; count: number } {
    return { start: this.generatedStart, count: this.generatedCount };
  }

  /** Latest last_changed among visible members with this status, or ''. */
  lastChangedOf(status: MemberStatus): string {
    const code = STATUS_CODE[status];
    let latest = -1;
    for (let p = 0; p < this.size; p++) if (this.statusCode[p] === code && (this.changedSec[p] as number) > latest) latest = this.changedSec[p] as number;
    return latest < 0 ? '' : mailchimpTime(latest * 1000);
  }

  /** Positions of the members a filter selects, `offset` and `count` applied, and how many it selects in all. */
  select(filter: MemberFilter, offset: number, count: number): { total: number; positions: number[] } {
    const wanted = new Uint8Array(8);
    for (const status of filter.statuses ?? MEMBER_STATUSES) wanted[STATUS_CODE[status]] = 1;
    if (filter.includeForgotten) wanted[FORGOTTEN] = 1;
    const sinceSec = filter.sinceMs === undefined ? -1 : Math.floor(filter.sinceMs / 1000);
    const beforeSec = filter.beforeMs === undefined ? Infinity : Math.ceil(filter.beforeMs / 1000);
    const tagBits = filter.tagId === undefined ? null : (this.tagsById.get(filter.tagId)?.bits ?? new Uint8Array(0));
    const writtenOnly = filter.writtenOnly === true;
    const { statusCode, changedSec, flags } = this;
    const positions: number[] = [];
    const end = offset + count;
    let total = 0;
    for (let p = 0; p < this.size; p++) {
      if (tagBits !== null) {
        const byte = tagBits[p >> 3] ?? 0;
        if (byte === 0) {
          p |= 7; // skip the rest of this empty byte
          continue;
        }
        if (((byte >> (p & 7)) & 1) === 0) continue;
      }
      if (wanted[statusCode[p] as number] === 0) continue;
      const changed = changedSec[p] as number;
      if (changed <= sinceSec || changed >= beforeSec) continue;
      if (writtenOnly && ((flags[p] as number) & WRITTEN) === 0) continue;
      if (total >= offset && total < end) positions.push(p);
      total++;
    }
    return { total, positions };
  }

  /**
   * As select, in the order of a sort field (ties by position). The whole sorted listing is kept
   * until a member changes, so paging through it (or probing it at many offsets) sorts once.
   */
  selectSorted(filter: MemberFilter, sort: MemberSort, offset: number, count: number): { total: number; positions: number[] } {
    const key = JSON.stringify({ ...filter, statuses: filter.statuses ? [...filter.statuses] : undefined, sort });
    if (!this.sorted || this.sorted.key !== key || this.sorted.version !== this.version) {
      const all = Uint32Array.from(this.select(filter, 0, Number.MAX_SAFE_INTEGER).positions);
      this.sorted = { key, version: this.version, positions: this.sortPositions(all, sort) };
    }
    const { positions } = this.sorted;
    return { total: positions.length, positions: Array.from(positions.subarray(offset, offset + count)) };
  }

  private sortPositions(positions: Uint32Array, sort: MemberSort): Uint32Array {
    const sortKey = (p: number): number => {
      if (sort.field === 'last_changed') return this.changedSec[p] as number;
      const value = this.recordAt(p)?.[sort.field] ?? '';
      const ms = Date.parse(value);
      return Number.isNaN(ms) ? -1 : Math.floor(ms / 1000);
    };
    // One numeric key per member (seconds * 2^22 + position) sorts a million members in a blink.
    const keys = new Float64Array(positions.length);
    let packed = true;
    for (let i = 0; i < positions.length; i++) {
      const p = positions[i] as number;
      const k = sortKey(p);
      if (p >= 4_194_304 || k < 0 || k >= 2_147_483_648) packed = false;
      keys[i] = k * 4_194_304 + p;
    }
    let order: Uint32Array;
    if (packed) {
      keys.sort();
      order = Uint32Array.from(keys, (k) => k % 4_194_304);
    } else {
      order = Uint32Array.from(positions).sort((a, b) => sortKey(a) - sortKey(b) || a - b);
    }
    return sort.dir === 'DESC' ? order.reverse() : order;
  }

  /** Seeded members, created ones, and generated members the API or the admin API wrote. */
  *membersWithRecords(): Generator<MemberRecord> {
    for (let p = 0; p < this.size; p++) {
      if (this.statusCode[p] === VACANT) continue;
      if (this.records.has(p) || typeof this.deltas[p - this.generatedStart] === 'string') {
        const record = this.recordAt(p);
        if (record) yield record;
      }
    }
  }

  /** The member at a position (a fresh copy for generated members), or undefined for a vacant one. */
  recordAt(position: number): MemberRecord | undefined {
    if (position < 0 || position >= this.size || this.statusCode[position] === VACANT) return undefined;
    const explicit = this.records.get(position);
    if (explicit) return explicit;
    return this.materialise(position);
  }

  // ---- writes -----------------------------------------------------------------------------

  /**
   * Adds a member, or replaces the one with the same address in its place (the admin API's
   * direct seeding). The record is saved; callers that change it further save it again.
   */
  create(fields: NewMemberFields): MemberRecord {
    const hash = subscriberHash(fields.email);
    let position = this.positionOf(hash);
    if (position < 0) position = this.append(hash);
    else this.setDelta(position, undefined);
    const record: MemberRecord = {
      position,
      id: hash,
      email_address: fields.email,
      unique_email_id: hash.slice(0, 10),
      contact_id: contactIdFor(this.id, hash),
      web_id: webIdFor(hash),
      email_type: fields.emailType ?? 'html',
      status: fields.status,
      merge_fields: { ...fields.mergeFields },
      tags: [],
      language: fields.language ?? '',
      vip: fields.vip ?? false,
      source: fields.source,
      ip_signup: '',
      ip_opt: '',
      timestamp_signup: fields.timestampSignup ?? '',
      timestamp_opt: fields.timestampOpt ?? (fields.status === 'subscribed' ? fields.lastChanged : ''),
      last_changed: fields.lastChanged,
      unsubscribe_reason: fields.status === 'unsubscribed' ? 'N/A (Unsubscribed by an admin)' : '',
      complianceLocked: fields.complianceLocked ?? false,
      forgotten: fields.forgotten ?? false,
    };
    for (const tag of fields.tags ?? []) this.setTag(record, tag, true, fields.lastChanged);
    this.records.set(position, record);
    this.save(record);
    return record;
  }

  /** Brings the indexes, tag bitmaps and (for a generated member) its delta in line with the record. */
  save(record: MemberRecord): void {
    const p = record.position;
    if (p < 0 || p >= this.size) throw new Error(`save: no member at position ${p}`);
    this.version++;
    const code = record.forgotten ? FORGOTTEN : STATUS_CODE[record.status];
    this.setStatusCode(p, code);
    this.changedSec[p] = secondsOf(record.last_changed);
    // A permanently deleted member leaves every tag.
    this.syncTags(p, record.forgotten ? [] : record.tags);
    if (this.tracking) this.flags[p] = (this.flags[p] as number) | WRITTEN;
    if (!this.records.has(p)) this.saveDelta(record);
  }

  /** Adds or removes a tag by name on the record (saved with it); true when this changed anything. */
  setTag(member: MemberRecord, name: string, active: boolean, now: string): boolean {
    const tag = this.tag(name, now);
    const index = member.tags.findIndex((t) => t.id === tag.id);
    if (active && index < 0) {
      member.tags.push({ id: tag.id, name: tag.name, date_added: now });
      return true;
    }
    if (!active && index >= 0) {
      member.tags.splice(index, 1);
      return true;
    }
    return false;
  }

  /** Marks the seeding done: later saves mark their members as written (see MemberFilter.writtenOnly). */
  startTracking(): void {
    this.tracking = true;
  }

  /** Removes every member (the admin API's replace_all); tags stay defined, with no members. */
  clear(): void {
    this.version++;
    this.size = 0;
    this.statusCode.fill(0);
    this.flags.fill(0);
    this.slots.fill(0);
    this.records.clear();
    this.deltas = [];
    this.generatedStart = 0;
    this.generatedCount = 0;
    this.statusCounts.fill(0);
    for (const entry of this.tagsById.values()) entry.bits.fill(0);
  }

  // ---- tags (static segments) -----------------------------------------------------------

  /** The list-wide tag for a name (matched case-insensitively); created on first use. */
  tag(name: string, now: string = this.dateCreated): TagDefinition {
    const key = name.trim().toLowerCase();
    let entry = this.tagsByKey.get(key);
    if (!entry) {
      entry = { id: this.nextTagId++, name: name.trim(), key, createdAt: now, updatedAt: now, bits: new Uint8Array(this.capacity >> 3) };
      this.tagsByKey.set(key, entry);
      this.tagsById.set(entry.id, entry);
    }
    return entry;
  }

  findTag(name: string): TagDefinition | undefined {
    return this.tagsByKey.get(name.trim().toLowerCase());
  }

  tagById(id: number): TagDefinition | undefined {
    return this.tagsById.get(id);
  }

  /** Every tag, oldest first. */
  tags(): TagDefinition[] {
    return [...this.tagsById.values()];
  }

  /** Marks a tag as changed (its membership or name), for the segment's updated_at. */
  touchTag(id: number, now: string): void {
    const entry = this.tagsById.get(id);
    if (entry) entry.updatedAt = now;
  }

  renameTag(id: number, name: string, now: string): TagDefinition {
    const entry = this.tagsById.get(id);
    if (!entry) throw new Error(`renameTag: no tag ${id}`);
    const key = name.trim().toLowerCase();
    this.tagsByKey.delete(entry.key);
    entry.name = name.trim();
    entry.key = key;
    entry.updatedAt = now;
    this.tagsByKey.set(key, entry);
    // Members' stored tag names follow the rename.
    for (const p of this.tagPositions(id)) {
      const explicit = this.records.get(p);
      const tag = explicit?.tags.find((t) => t.id === id);
      if (tag) tag.name = entry.name;
    }
    return entry;
  }

  /** Deletes a tag: it leaves every member. */
  deleteTag(id: number): void {
    const entry = this.tagsById.get(id);
    if (!entry) return;
    this.version++;
    for (const p of this.tagPositions(id)) {
      const explicit = this.records.get(p);
      if (explicit) explicit.tags = explicit.tags.filter((t) => t.id !== id);
      const delta = this.deltaAt(p);
      if (delta?.tagDates?.[id] !== undefined) {
        delete delta.tagDates[id];
        this.setDelta(p, delta);
      }
    }
    this.tagsById.delete(id);
    this.tagsByKey.delete(entry.key);
  }

  private *tagPositions(id: number): Generator<number> {
    const bits = this.tagsById.get(id)?.bits;
    if (!bits) return;
    for (let byteIndex = 0; byteIndex < bits.length; byteIndex++) {
      const byte = bits[byteIndex] as number;
      if (byte === 0) continue;
      for (let bit = 0; bit < 8; bit++) if ((byte >> bit) & 1) yield (byteIndex << 3) + bit;
    }
  }

  // ---- seeding ----------------------------------------------------------------------------

  static fromSeed(
    listId: string,
    mergeFields: readonly MergeFieldDefinition[],
    seed: readonly SeedMember[],
    createdMs: number,
    generated?: GeneratedBase,
  ): Audience {
    const audience = new Audience(listId, 'Sandbox Audience', 200_000 + (createdMs % 800_000), mailchimpTime(createdMs), mergeFields);
    for (const member of seed) {
      const lastChanged = mailchimpTime(member.lastChangedMs);
      const record = audience.create({
        email: member.email,
        status: member.status,
        mergeFields: member.mergeFields,
        source: member.source,
        complianceLocked: member.complianceLocked,
        forgotten: member.forgotten,
        timestampSignup: mailchimpTime(member.timestampSignupMs),
        timestampOpt: member.timestampOptMs === undefined ? '' : mailchimpTime(member.timestampOptMs),
        lastChanged,
        tags: member.tags,
      });
      if (member.complianceLocked) record.unsubscribe_reason = 'Unsubscribed via link';
    }
    if (generated && generated.count > 0) audience.addGenerated(generated);
    audience.startTracking();
    return audience;
  }

  /** Appends the generated members (positions size .. size + count - 1). */
  private addGenerated(base: GeneratedBase): void {
    const start = this.size;
    this.ensureCapacity(start + base.count);
    this.generatedStart = start;
    this.generatedCount = base.count;
    this.generatedContext = base.context;
    this.deltas = new Array<string | 0>(base.count).fill(0);
    this.statusCode.set(base.status, start);
    this.changedSec.set(base.changedSec, start);
    this.hash32.set(base.hash32, start);
    for (let i = 0; i < base.count; i++) this.bumpStatus(base.status[i] as number, 1);
    this.size = start + base.count;
    for (let i = 0; i < base.count; i++) this.insertSlot(base.hash32[i] as number, start + i);
    const created = mailchimpTime(base.context.referenceMs);
    const entries = GENERATED_TAGS.map((name) => this.tagsById.get(this.tag(name, created).id) as TagEntry);
    for (let i = 0; i < base.count; i++) {
      const mask = base.tagMask[i] as number;
      if (mask === 0) continue;
      const p = start + i;
      entries.forEach((entry, bit) => {
        if (mask & (1 << bit)) this.setBit(entry, p, true);
      });
    }
  }

  // ---- internals --------------------------------------------------------------------------

  private positionOf(hash: string): number {
    if (!/^[0-9a-f]{32}$/.test(hash)) return -1;
    const key = prefix32(hash);
    const mask = this.slots.length - 1;
    for (let slot = key & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot] as number;
      if (entry === 0) return -1;
      const p = entry - 1;
      if (this.hash32[p] === key && this.statusCode[p] !== VACANT && this.fullHashAt(p) === hash) return p;
    }
  }

  private fullHashAt(p: number): string {
    const explicit = this.records.get(p);
    if (explicit) return explicit.id;
    return digest('md5', generatedEmail(p - this.generatedStart, this.generatedContext.seed), 'hex');
  }

  private append(hash: string): number {
    const p = this.size;
    this.ensureCapacity(p + 1);
    this.size = p + 1;
    this.hash32[p] = prefix32(hash);
    this.statusCode[p] = VACANT;
    this.bumpStatus(VACANT, 1);
    this.insertSlot(this.hash32[p] as number, p);
    return p;
  }

  private insertSlot(key: number, p: number): void {
    const mask = this.slots.length - 1;
    let slot = key & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = p + 1;
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.capacity) return;
    let capacity = this.capacity;
    while (capacity < needed) capacity *= 2;
    const grow = <T extends Uint8Array | Uint32Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.statusCode = grow(this.statusCode, (n) => new Uint8Array(n));
    this.changedSec = grow(this.changedSec, (n) => new Uint32Array(n));
    this.hash32 = grow(this.hash32, (n) => new Uint32Array(n));
    this.flags = grow(this.flags, (n) => new Uint8Array(n));
    this.capacity = capacity;
    // Keep the index at most half full: rebuild it from the hash prefixes.
    if (this.slots.length < capacity * 2) {
      this.slots = new Int32Array(capacity * 2);
      for (let p = 0; p < this.size; p++) this.insertSlot(this.hash32[p] as number, p);
    }
  }

  private setStatusCode(p: number, code: number): void {
    const old = this.statusCode[p] as number;
    if (old === code) return;
    this.bumpStatus(old, -1);
    this.bumpStatus(code, 1);
    this.statusCode[p] = code;
  }

  private bumpStatus(code: number, by: number): void {
    this.statusCounts[code] = (this.statusCounts[code] as number) + by;
  }

  private setBit(entry: TagEntry, p: number, on: boolean): void {
    const byteIndex = p >> 3;
    if (byteIndex >= entry.bits.length) {
      if (!on) return;
      const bits = new Uint8Array(Math.max(this.capacity >> 3, byteIndex + 1));
      bits.set(entry.bits);
      entry.bits = bits;
    }
    const mask = 1 << (p & 7);
    entry.bits[byteIndex] = on ? (entry.bits[byteIndex] as number) | mask : (entry.bits[byteIndex] as number) & ~mask;
  }

  private hasBit(entry: TagEntry, p: number): boolean {
    return (((entry.bits[p >> 3] ?? 0) >> (p & 7)) & 1) === 1;
  }

  private syncTags(p: number, tags: readonly MemberTag[]): void {
    const wanted = new Set<number>();
    for (const tag of tags) wanted.add(tag.id);
    for (const entry of this.tagsById.values()) {
      const want = wanted.has(entry.id);
      if (this.hasBit(entry, p) !== want) this.setBit(entry, p, want);
    }
  }

  private baseOf(record: MemberRecord): GeneratedMember {
    return this.bases.get(record) ?? generatedMember(record.position - this.generatedStart, this.generatedContext);
  }

  /** A generated member's record: its generated fields, then its delta. */
  private materialise(p: number): MemberRecord {
    const base = generatedMember(p - this.generatedStart, this.generatedContext);
    const delta = this.deltaAt(p);
    const hash = digest('md5', base.email, 'hex');
    const baseDate = mailchimpTime(base.lastChangedMs);
    const tags: MemberTag[] = [];
    for (const entry of this.tagsById.values()) {
      if (this.hasBit(entry, p)) tags.push({ id: entry.id, name: entry.name, date_added: delta?.tagDates?.[entry.id] ?? baseDate });
    }
    const complianceLocked = delta?.complianceLocked ?? base.complianceLocked;
    const record: MemberRecord = {
      position: p,
      id: hash,
      email_address: base.email,
      unique_email_id: hash.slice(0, 10),
      contact_id: contactIdFor(this.id, hash),
      web_id: webIdFor(hash),
      email_type: delta?.email_type ?? 'html',
      status: delta?.status ?? base.status,
      merge_fields: { ...base.mergeFields, ...delta?.merge_fields },
      tags,
      language: delta?.language ?? '',
      vip: delta?.vip ?? false,
      source: base.source,
      ip_signup: '',
      ip_opt: '',
      timestamp_signup: mailchimpTime(base.timestampSignupMs),
      timestamp_opt: delta?.timestamp_opt ?? (base.timestampOptMs === undefined ? '' : mailchimpTime(base.timestampOptMs)),
      last_changed: mailchimpTime((this.changedSec[p] as number) * 1000),
      unsubscribe_reason: delta?.unsubscribe_reason ?? unsubscribeReasonFor(base.status, base.complianceLocked),
      complianceLocked,
      forgotten: delta?.forgotten ?? false,
      ...(delta?.interests ? { interests: { ...delta.interests } } : {}),
      ...(delta?.marketing_permissions ? { marketing_permissions: { ...delta.marketing_permissions } } : {}),
    };
    this.bases.set(record, base);
    return record;
  }

  /** Keeps only what differs from the generated member (last_changed and tags live in the arrays). */
  private saveDelta(record: MemberRecord): void {
    const base = this.baseOf(record);
    const delta: GeneratedDelta = {};
    let changed = false;
    if (record.status !== base.status) {
      delta.status = record.status;
      changed = true;
    }
    if (record.unsubscribe_reason !== unsubscribeReasonFor(base.status, base.complianceLocked)) {
      delta.unsubscribe_reason = record.unsubscribe_reason;
      changed = true;
    }
    const baseOpt = base.timestampOptMs === undefined ? '' : mailchimpTime(base.timestampOptMs);
    if (record.timestamp_opt !== baseOpt) {
      delta.timestamp_opt = record.timestamp_opt;
      changed = true;
    }
    const baseFields: Record<string, unknown> = base.mergeFields;
    for (const [tag, value] of Object.entries(record.merge_fields)) {
      if (!sameValue(baseFields[tag], value)) {
        (delta.merge_fields ??= {})[tag] = value;
        changed = true;
      }
    }
    if (record.email_type !== 'html') {
      delta.email_type = record.email_type;
      changed = true;
    }
    if (record.language !== '') {
      delta.language = record.language;
      changed = true;
    }
    if (record.vip) {
      delta.vip = true;
      changed = true;
    }
    if (record.complianceLocked !== base.complianceLocked) {
      delta.complianceLocked = record.complianceLocked;
      changed = true;
    }
    if (record.forgotten) {
      delta.forgotten = true;
      changed = true;
    }
    if (record.interests && Object.keys(record.interests).length > 0) {
      delta.interests = { ...record.interests };
      changed = true;
    }
    if (record.marketing_permissions && Object.keys(record.marketing_permissions).length > 0) {
      delta.marketing_permissions = { ...record.marketing_permissions };
      changed = true;
    }
    const baseDate = mailchimpTime(base.lastChangedMs);
    for (const tag of record.tags) {
      if (tag.date_added !== baseDate) {
        (delta.tagDates ??= {})[tag.id] = tag.date_added;
        changed = true;
      }
    }
    this.setDelta(record.position, changed ? delta : undefined);
  }

  private deltaAt(p: number): GeneratedDelta | undefined {
    const text = this.deltas[p - this.generatedStart];
    return typeof text === 'string' ? (JSON.parse(text) as GeneratedDelta) : undefined;
  }

  private setDelta(p: number, delta: GeneratedDelta | undefined): void {
    const i = p - this.generatedStart;
    if (i < 0 || i >= this.generatedCount) return;
    this.deltas[i] = delta === undefined || Object.keys(delta).length === 0 ? 0 : JSON.stringify(delta);
  }
}
