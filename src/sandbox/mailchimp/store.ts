/**
 * Audience state: members keyed by subscriber hash (MD5 of the lower-cased address; the stored
 * address keeps the case it was created with), the list's merge fields and its tag registry.
 */
import { hash as digest } from 'node:crypto';
import type { MemberStatus, SeedMember } from '../data/audience.js';
import type { MergeFieldDefinition } from './validation.js';

export type { MemberStatus } from '../data/audience.js';

export interface MemberTag {
  id: number;
  name: string;
  date_added: string;
}

export interface MemberRecord {
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
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
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
}

export class Audience {
  readonly members = new Map<string, MemberRecord>();
  private readonly tagRegistry = new Map<string, { id: number; name: string }>();
  private nextTagId = 2_000_001;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly webId: number,
    readonly dateCreated: string,
    readonly mergeFields: readonly MergeFieldDefinition[],
  ) {}

  /** The member for a hash, forgotten ones included (callers decide what those mean). */
  get(hash: string): MemberRecord | undefined {
    return this.members.get(hash);
  }

  /** Members the API shows: everything but permanently deleted ones, in insertion order. */
  visibleMembers(): MemberRecord[] {
    const out: MemberRecord[] = [];
    for (const member of this.members.values()) if (!member.forgotten) out.push(member);
    return out;
  }

  /** The list-wide id of a tag name (tag names match case-insensitively); created on first use. */
  tag(name: string): { id: number; name: string } {
    const key = name.trim().toLowerCase();
    let entry = this.tagRegistry.get(key);
    if (!entry) {
      entry = { id: this.nextTagId++, name: name.trim() };
      this.tagRegistry.set(key, entry);
    }
    return entry;
  }

  create(fields: NewMemberFields): MemberRecord {
    const hash = subscriberHash(fields.email);
    const record: MemberRecord = {
      id: hash,
      email_address: fields.email,
      unique_email_id: hash.slice(0, 10),
      contact_id: digest('md5', `contact:${this.id}:${hash}`, 'hex'),
      web_id: 100_000_000 + (parseInt(hash.slice(0, 7), 16) % 900_000_000),
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
    this.members.set(hash, record);
    return record;
  }

  /** Adds or removes tags by name; other tags stay as they are. */
  setTag(member: MemberRecord, name: string, active: boolean, now: string): void {
    const tag = this.tag(name);
    const index = member.tags.findIndex((t) => t.id === tag.id);
    if (active && index < 0) member.tags.push({ id: tag.id, name: tag.name, date_added: now });
    if (!active && index >= 0) member.tags.splice(index, 1);
  }

  static fromSeed(
    listId: string,
    mergeFields: readonly MergeFieldDefinition[],
    seed: readonly SeedMember[],
    createdMs: number,
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
      });
      if (member.complianceLocked) record.unsubscribe_reason = 'Unsubscribed via link';
      for (const tag of member.tags) audience.setTag(record, tag, true, lastChanged);
    }
    return audience;
  }
}
