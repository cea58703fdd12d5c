/**
 * An in-memory Mailchimp audience behind the MailchimpApi interface, for unit tests of the
 * target's jobs: members with status, merge fields and tags (tags are static segments, found
 * case-insensitively), batch subscribe that refuses existing people, tag writes that never touch
 * a status. Batch operations are not emulated here (the sandbox does that, over HTTP); the tests
 * using this fake send their operations directly. Every call is logged.
 */
import { HttpError } from '../../../src/http/errors.js';
import type {
  BatchMemberInput,
  BatchOperationResult,
  BatchResult,
  BatchStatus,
  ListInfo,
  MailchimpApi,
  MemberInfo,
  MembersPage,
  MembersQuery,
  MergeField,
  NewMemberInput,
  TagInfo,
  TagMembersPage,
} from '../../../src/targets/mailchimp/api/api.js';
import { subscriberHash } from '../../../src/targets/mailchimp/members/members.js';

export interface FakeMember {
  email: string;
  status: MemberInfo['status'];
  mergeFields: Record<string, unknown>;
  tags: Set<string>;
}

export interface LoggedCall {
  method: string;
  path: string;
  body?: unknown;
}

export class FakeMailchimp implements MailchimpApi {
  readonly members = new Map<string, FakeMember>();
  readonly tags = new Map<string, { id: number; name: string }>();
  readonly log: LoggedCall[] = [];
  private nextTagId = 100;

  constructor(readonly listId = 'L1') {}

  get calls(): number {
    return this.log.length;
  }

  get callsByKind(): Record<string, number> {
    const kinds: Record<string, number> = {};
    for (const c of this.log) kinds[c.method] = (kinds[c.method] ?? 0) + 1;
    return kinds;
  }

  /** Test setup: a member with tags. */
  add(email: string, status: MemberInfo['status'] = 'subscribed', tags: string[] = [], mergeFields: Record<string, unknown> = {}): void {
    this.members.set(subscriberHash(email), { email, status, mergeFields, tags: new Set() });
    for (const t of tags) this.tagMember(subscriberHash(email), t);
  }

  private tagOf(name: string): { id: number; name: string } {
    const key = name.trim().toLowerCase();
    let tag = this.tags.get(key);
    if (!tag) this.tags.set(key, (tag = { id: this.nextTagId++, name: name.trim() }));
    return tag;
  }

  private tagMember(hash: string, name: string): void {
    const member = this.members.get(hash);
    if (!member) return;
    member.tags.add(this.tagOf(name).name);
  }

  /** The tag names a member holds, sorted. */
  tagsOf(email: string): string[] {
    return [...(this.members.get(subscriberHash(email))?.tags ?? [])].sort();
  }

  /** Who holds a tag, sorted. */
  holders(tag: string): string[] {
    const key = tag.toLowerCase();
    return [...this.members.values()].filter((m) => [...m.tags].some((t) => t.toLowerCase() === key)).map((m) => m.email).sort();
  }

  private info(m: FakeMember): MemberInfo {
    return { id: subscriberHash(m.email), email_address: m.email, status: m.status, merge_fields: { ...m.mergeFields }, tags: [...m.tags].map((name) => ({ id: this.tagOf(name).id, name })) };
  }

  async ping(): Promise<void> {
    this.log.push({ method: 'ping', path: '/ping' });
  }

  async getList(listId: string): Promise<ListInfo> {
    this.log.push({ method: 'getList', path: `/lists/${listId}` });
    return { id: listId, name: 'Fake Audience' };
  }

  async getMergeFields(): Promise<MergeField[]> {
    this.log.push({ method: 'getMergeFields', path: `/lists/${this.listId}/merge-fields` });
    return [];
  }

  async listMembers(listId: string, query: MembersQuery): Promise<MembersPage> {
    this.log.push({ method: 'listMembers', path: `/lists/${listId}/members`, body: query });
    const all = [...this.members.values()].filter((m) => !query.status || m.status === query.status);
    return { members: all.slice(query.offset, query.offset + query.count).map((m) => this.info(m)), total_items: all.length };
  }

  async getMember(listId: string, hash: string): Promise<MemberInfo | undefined> {
    this.log.push({ method: 'getMember', path: `/lists/${listId}/members/${hash}` });
    const m = this.members.get(hash);
    return m ? this.info(m) : undefined;
  }

  async batchSubscribe(listId: string, members: BatchMemberInput[], options: { updateExisting: boolean }): Promise<BatchResult> {
    this.log.push({ method: 'batchSubscribe', path: `/lists/${listId}`, body: { members, update_existing: options.updateExisting } });
    const result: BatchResult = { new_members: [], updated_members: [], errors: [], total_created: 0, total_updated: 0, error_count: 0 };
    for (const input of members) {
      const hash = subscriberHash(input.email_address);
      if (this.members.has(hash)) {
        result.errors.push({ email_address: input.email_address, error: `${input.email_address} is already a list member.`, error_code: 'ERROR_CONTACT_EXISTS' });
        continue;
      }
      const m: FakeMember = { email: input.email_address, status: input.status as MemberInfo['status'], mergeFields: { ...input.merge_fields }, tags: new Set() };
      this.members.set(hash, m);
      result.new_members.push(this.info(m));
    }
    return result;
  }

  async addMember(listId: string, body: NewMemberInput): Promise<MemberInfo> {
    this.log.push({ method: 'addMember', path: `/lists/${listId}/members`, body });
    const hash = subscriberHash(body.email_address);
    if (this.members.has(hash)) throw new HttpError({ method: 'POST', url: `http://127.0.0.1/lists/${listId}/members`, status: 400, serviceMessage: `Member Exists: ${body.email_address} is already a list member.` });
    const m: FakeMember = { email: body.email_address, status: body.status as MemberInfo['status'], mergeFields: { ...body.merge_fields }, tags: new Set() };
    this.members.set(hash, m);
    return this.info(m);
  }

  getInterestCategories(): Promise<[]> {
    return Promise.resolve([]);
  }

  async updateMember(listId: string, hash: string, body: { merge_fields: Record<string, unknown> }): Promise<MemberInfo> {
    this.log.push({ method: 'updateMember', path: `/lists/${listId}/members/${hash}`, body });
    const m = this.members.get(hash);
    if (!m) throw new HttpError({ method: 'PATCH', url: `http://127.0.0.1/lists/${listId}/members/${hash}`, status: 404, serviceMessage: 'Resource Not Found' });
    Object.assign(m.mergeFields, body.merge_fields);
    return this.info(m);
  }

  async updateTags(listId: string, hash: string, tags: Array<{ name: string; status: 'active' | 'inactive' }>, options: { automations?: boolean } = {}): Promise<void> {
    this.log.push({ method: 'updateTags', path: `/lists/${listId}/members/${hash}/tags`, body: { tags, is_syncing: options.automations !== true } });
    const m = this.members.get(hash);
    if (!m) throw new HttpError({ method: 'POST', url: `http://127.0.0.1/lists/${listId}/members/${hash}/tags`, status: 404, serviceMessage: 'Resource Not Found' });
    for (const t of tags) {
      if (t.status === 'active') this.tagMember(hash, t.name);
      else for (const held of [...m.tags]) if (held.toLowerCase() === t.name.trim().toLowerCase()) m.tags.delete(held);
    }
  }

  async listTags(listId: string): Promise<TagInfo[]> {
    this.log.push({ method: 'listTags', path: `/lists/${listId}/segments` });
    return [...this.tags.values()].map((t) => ({ ...t, member_count: this.holders(t.name).length }));
  }

  async tagMembers(listId: string, tagId: number, page: { count: number; offset: number }): Promise<TagMembersPage> {
    this.log.push({ method: 'tagMembers', path: `/lists/${listId}/segments/${tagId}/members`, body: page });
    const tag = [...this.tags.values()].find((t) => t.id === tagId);
    const all = tag ? [...this.members.values()].filter((m) => m.tags.has(tag.name)) : [];
    return { members: all.slice(page.offset, page.offset + page.count).map((m) => this.info(m)), total_items: all.length };
  }

  async renameTag(listId: string, tagId: number, name: string): Promise<TagInfo> {
    this.log.push({ method: 'renameTag', path: `/lists/${listId}/segments/${tagId}`, body: { name } });
    const [key, tag] = [...this.tags.entries()].find(([, t]) => t.id === tagId) ?? [];
    if (!tag || key === undefined) throw new HttpError({ method: 'PATCH', url: 'http://127.0.0.1/x', status: 404 });
    const old = tag.name;
    this.tags.delete(key);
    tag.name = name;
    this.tags.set(name.toLowerCase(), tag);
    for (const m of this.members.values()) if (m.tags.delete(old)) m.tags.add(name);
    return tag;
  }

  async removeMember(listId: string, hash: string, how: 'archive' | 'delete permanently'): Promise<void> {
    this.log.push(how === 'archive' ? { method: 'DELETE', path: `/lists/${listId}/members/${hash}` } : { method: 'POST', path: `/lists/${listId}/members/${hash}/actions/delete-permanent` });
    const member = this.members.get(hash);
    if (!member) throw new HttpError({ method: 'DELETE', url: 'http://127.0.0.1/x', status: 404 });
    if (how === 'archive') member.status = 'archived';
    else this.members.delete(hash);
  }

  startBatch(): Promise<BatchStatus> {
    throw new Error('the fake does not emulate batch operations');
  }
  getBatch(): Promise<BatchStatus> {
    throw new Error('the fake does not emulate batch operations');
  }
  batchResults(): AsyncIterable<BatchOperationResult> {
    throw new Error('the fake does not emulate batch operations');
  }
}
