/**
 * The audience as it is now: every member's status, and the merge fields and tags this target
 * manages, read page by page (1000 per call, pages fetched concurrently) before anything is
 * written, so that the plan is exact. Kept up to date as the run writes.
 */
import pLimit from 'p-limit';
import type { Logger } from '../../log/logger.js';
import type { MailchimpApi, MemberInfo, MemberStatus } from './api.js';
import { emailKey } from './members.js';
import { isManagedTag, type TagRules } from './tags.js';

export interface AudienceMember {
  email: string;
  status: MemberStatus;
  /** Only the merge tags this run maps. */
  mergeFields: Record<string, unknown>;
  /** Only the tags this target manages. */
  tags: string[];
}

export interface AudienceLoadOptions {
  listId: string;
  concurrency: number;
  mergeTags: readonly string[];
  tagRules: TagRules;
  log: Logger;
  pageSize?: number;
}

const FIELDS = ['members.email_address', 'members.status', 'members.merge_fields', 'members.tags', 'total_items'];

export class Audience {
  private readonly members = new Map<string, AudienceMember>();

  constructor(private readonly mergeTags: readonly string[] = [], private readonly tagRules: TagRules = { staticTags: [], properties: [] }) {}

  static async load(api: MailchimpApi, options: AudienceLoadOptions): Promise<Audience> {
    const audience = new Audience(options.mergeTags, options.tagRules);
    const count = options.pageSize ?? 1000;
    const first = await api.listMembers(options.listId, { count, offset: 0, fields: FIELDS });
    audience.addAll(first.members);
    const total = first.total_items ?? first.members.length;
    const offsets: number[] = [];
    for (let offset = count; offset < total; offset += count) offsets.push(offset);
    const limit = pLimit(options.concurrency);
    await Promise.all(
      offsets.map((offset) =>
        limit(async () => {
          const page = await api.listMembers(options.listId, { count, offset, fields: FIELDS });
          audience.addAll(page.members);
        }),
      ),
    );
    options.log.info(`audience has ${audience.size} members`, { pages: offsets.length + 1 });
    return audience;
  }

  private addAll(members: readonly MemberInfo[]): void {
    for (const m of members) this.remember(m);
  }

  /** Records a member as Mailchimp describes it (listing, or the answer to a write). */
  remember(member: MemberInfo): void {
    const mergeFields: Record<string, unknown> = {};
    for (const tag of this.mergeTags) {
      if (member.merge_fields && tag in member.merge_fields) mergeFields[tag] = member.merge_fields[tag];
    }
    const tags = (member.tags ?? []).map((t) => t.name).filter((name) => isManagedTag(name, this.tagRules));
    this.members.set(emailKey(member.email_address), { email: member.email_address, status: member.status, mergeFields, tags });
  }

  /** Applies what this run wrote (so a later record for the same person compares against it). */
  apply(key: string, change: { email: string; status?: MemberStatus; mergeFields?: Record<string, unknown>; tags?: string[] }): void {
    const current = this.members.get(key);
    this.members.set(key, {
      email: current?.email ?? change.email,
      status: change.status ?? current?.status ?? 'subscribed',
      mergeFields: { ...current?.mergeFields, ...change.mergeFields },
      tags: change.tags ?? current?.tags ?? [],
    });
  }

  get(key: string): AudienceMember | undefined {
    return this.members.get(key);
  }

  get size(): number {
    return this.members.size;
  }
}
