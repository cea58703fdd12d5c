/**
 * What the target knows about the audience: for each member it has seen, the status, the merge
 * fields this run maps (as fingerprints) and the tags this target manages, kept in a compact
 * MemberTable so that a million members fit in tens of megabytes. Filled by a whole read, by
 * lookups or by the answers to writes (see audience-knowledge.ts for which and when), and kept up
 * to date as the run writes, so a later record for the same person is compared with what this
 * run wrote.
 *
 * `complete` says whether the whole audience was read: then a person the table lacks is not a
 * member. Otherwise only people looked up are known, present or absent.
 */
import { RemoteError } from '../../../errors/index.js';
import type { MemberInfo, MemberStatus, MergeField } from '../api/api.js';
import { canonicalMergeValue, sameMergeValue } from '../members/merge-fields.js';
import { MemberTable, fingerprint, type StoredStatus } from './member-table.js';
import { subscriberHash } from '../members/members.js';
import { isManagedTag, type TagRules } from '../members/tags.js';
import type { ProfileValues } from '../members/profile.js';
import type { ProfileLayout } from './profile-layout.js';

/** An existing member as the planner sees it. */
export interface ExistingMember {
  status: MemberStatus;
  /** Only the tags this target manages. */
  tags: readonly string[];
  /** Whether Mailchimp already holds this value for the merge tag. */
  hasMergeValue(tag: string, value: unknown): boolean;
  /** The profile fields the run manages (permissions, interests, language, VIP), when it manages any. */
  profile?: ProfileValues;
}

export interface MemberChange {
  status?: MemberStatus;
  mergeFields?: Record<string, unknown>;
  tags?: readonly string[];
  /** Profile values written (only the managed ones are kept). */
  profile?: ProfileValues;
}

/** The merge fields the run maps, with the type that decides how their values compare. */
export type MappedField = Pick<MergeField, 'tag' | 'type'>;

const OBJECT_TYPES = new Set(['address']);

export class Audience {
  private readonly table: MemberTable;
  private readonly types: Map<string, string>;
  /** Looked up and not a member (only needed while the audience is not read whole). */
  private readonly absent = new Set<string>();
  complete = false;

  /**
   * @param profile the layout of the profile fields the run manages (marketing permissions,
   *   interests, language, VIP), or undefined when it manages none
   */
  constructor(
    mapped: readonly MappedField[] = [],
    private readonly tagRules: TagRules = { staticTags: [], properties: [] },
    expected = 1024,
    readonly profile?: ProfileLayout,
  ) {
    this.types = new Map(mapped.map((f) => [f.tag, f.type]));
    const scalar = mapped.filter((f) => !OBJECT_TYPES.has(f.type)).map((f) => f.tag);
    const objects = mapped.filter((f) => OBJECT_TYPES.has(f.type)).map((f) => f.tag);
    this.table = new MemberTable(scalar, objects, expected, profile?.words ?? 0);
  }

  /** The hash Mailchimp uses as the member's id (its `id`, or the MD5 of the lower-cased address). */
  static hashOf(member: Pick<MemberInfo, 'id'> & { email_address?: string }): string {
    if (typeof member.id === 'string' && /^[0-9a-f]{32}$/.test(member.id)) return member.id;
    if (typeof member.email_address === 'string') return subscriberHash(member.email_address);
    throw new RemoteError('Mailchimp described a member without its id (subscriber hash) or email address');
  }

  /**
   * The member fields this knowledge needs, for Mailchimp's `fields` parameter: the id (the
   * subscriber hash), the status, only the merge fields the run maps (dot notation: an audience's
   * other merge fields, addresses among them, were most of a page) and the tags when tags are
   * managed. A members page of 1000 shrinks to a third or less.
   */
  memberFields(): string[] {
    const managesTags = this.tagRules.staticTags.length > 0 || this.tagRules.properties.length > 0;
    return ['id', 'status', ...[...this.types.keys()].map((tag) => `merge_fields.${tag}`), ...(managesTags ? ['tags'] : []), ...(this.profile?.memberFields() ?? [])];
  }

  /** Records a member as Mailchimp describes it (a page, a lookup, or the answer to a write). */
  remember(member: MemberInfo): void {
    const hash = Audience.hashOf(member);
    this.absent.delete(hash);
    const fields: Record<string, unknown> = {};
    for (const [tag, type] of this.types) fields[tag] = this.stored(member.merge_fields?.[tag], type);
    const tags = (member.tags ?? []).map((t) => t.name).filter((name) => isManagedTag(name, this.tagRules));
    this.table.set(hash, { status: member.status as StoredStatus, fields, tags, ...(this.profile ? { profile: this.profile.fromMember(member) } : {}) });
  }

  /** A lookup found nobody at this hash. */
  rememberAbsent(hash: string): void {
    if (!this.table.has(hash)) this.absent.add(hash);
  }

  /** Whether the plan may trust what this knowledge says about the person (present or absent). */
  knows(hash: string): boolean {
    return this.complete || this.absent.has(hash) || this.table.has(hash);
  }

  /** Applies what this run wrote (so a later record for the same person compares against it). */
  apply(hash: string, change: MemberChange): void {
    this.absent.delete(hash);
    const fields: Record<string, unknown> = {};
    for (const [tag, value] of Object.entries(change.mergeFields ?? {})) {
      const type = this.types.get(tag);
      if (type !== undefined) fields[tag] = this.stored(value, type);
    }
    const isNew = !this.table.has(hash);
    const profile = this.profile && change.profile ? this.profile.withValues(this.table.get(hash)?.profile, change.profile) : undefined;
    this.table.set(hash, {
      ...(change.status ? { status: change.status as StoredStatus } : isNew ? { status: 'subscribed' as const } : {}),
      fields,
      ...(change.tags ? { tags: change.tags } : {}),
      ...(profile ? { profile } : {}),
    });
  }

  get(hash: string): ExistingMember | undefined {
    const stored = this.table.get(hash);
    if (!stored) return undefined;
    return {
      status: stored.status,
      tags: stored.tags,
      ...(this.profile && stored.profile ? { profile: this.profile.read(stored.profile) } : {}),
      hasMergeValue: (tag, value) => {
        const type = this.types.get(tag);
        if (type === undefined) return false;
        const held = stored.fields.get(tag);
        if (OBJECT_TYPES.has(type)) return sameMergeValue(value, held);
        const [a, b] = fingerprint(canonicalMergeValue(value, type));
        const print = held as [number, number];
        return print[0] === a && print[1] === b;
      },
    };
  }

  private stored(value: unknown, type: string): unknown {
    return OBJECT_TYPES.has(type) ? value : canonicalMergeValue(value, type);
  }

  get size(): number {
    return this.table.size;
  }

  /** Bytes held by the member table. */
  get bytes(): number {
    return this.table.bytes;
  }
}
