/**
 * How the target finds out what Mailchimp holds for the people of a run, at a cost that follows
 * the run's input rather than the audience's size:
 *
 *   lookups      GET /lists/{id}/members/{hash} for each person not yet known, max_concurrency
 *                at a time, just before their batch is planned: exact "now" answers, one call
 *                per person. Used while the input is small next to the audience.
 *   whole read   every page of the audience (1000 members a call, concurrently) into the compact
 *                member table, once, when the people to look up would outnumber
 *                PAGE_WEIGHT x pages. After that, before a batch is planned (at most every
 *                REFRESH_MS), members who became unsubscribed, cleaned or archived since the last
 *                read are fetched with since_last_changed and status filters: three small calls
 *                that keep consent decisions current without re-reading the audience.
 *
 * Whatever the mode, consent never depends on this knowledge being fresh: updates carry no
 * status and creates refuse people who exist (see writing/writer.ts). Knowledge decides only whether a
 * person is written at all and what changed.
 */
import pLimit from 'p-limit';
import type { Logger } from '../../../log/logger.js';
import type { MailchimpApi, MemberInfo, MemberStatus } from '../api/api.js';
import type { Audience } from './audience.js';

/** A page of 1000 members with their fields weighs about as much as this many lookups. */
export const PAGE_WEIGHT = 10;
export const PAGE_SIZE = 1000;
/** Longest time the knowledge of a whole read goes without a refresh before a batch is planned. */
export const REFRESH_MS = 10_000;
/** Changes are re-read from this long before the previous read started (clocks differ). */
const REFRESH_OVERLAP_MS = 60_000;
/** The statuses that make the target leave a member alone. */
const WITHDRAWN: readonly MemberStatus[] = ['unsubscribed', 'cleaned', 'archived'];


export interface KnowledgeOptions {
  api: MailchimpApi;
  listId: string;
  audience: Audience;
  /** Members in the audience (every status), from a one-member page's total_items. */
  total: number;
  concurrency: number;
  log: Logger;
  now?: () => number;
  /** Tests: a smaller page. */
  pageSize?: number;
}

export type KnowledgeMode = 'lookups' | 'whole';

/** What the loader asks of the knowledge. */
export interface PlanningKnowledge {
  /** True once the whole audience is known: there is nothing left to choose. */
  readonly whole: boolean;
  readonly pages: number;
  readonly lookupLimit: number;
  wholeReadIsCheaper(more: number): boolean;
  readWholeAudience(): Promise<void>;
  prepare(hashes: readonly string[]): Promise<void>;
}

export class AudienceKnowledge implements PlanningKnowledge {
  mode: KnowledgeMode = 'lookups';
  /** People looked up so far. */
  lookedUp = 0;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly now: () => number;
  private readonly pageSize: number;
  private readStartedAt = 0;
  private lastRefresh = 0;
  private refreshing: Promise<void> | null = null;
  /** What a lookup asks for, and a members page (see Audience.memberFields); set by askFor. */
  private memberFields: string[] = [];
  private pageFields: string[] = [];

  constructor(private readonly options: KnowledgeOptions) {
    this.limit = pLimit(Math.max(1, options.concurrency));
    this.now = options.now ?? Date.now;
    this.pageSize = options.pageSize ?? PAGE_SIZE;
    this.askFor(options.audience.memberFields());
  }

  private askFor(memberFields: string[]): void {
    this.memberFields = memberFields;
    this.pageFields = [...memberFields.map((f) => `members.${f}`), 'total_items'];
  }

  /** Counts the audience with a one-member page (the cheapest call that says so). */
  static async countMembers(api: MailchimpApi, listId: string): Promise<number> {
    const page = await api.listMembers(listId, { count: 1, offset: 0, fields: ['total_items'] });
    return page.total_items ?? 0;
  }

  get whole(): boolean {
    return this.mode === 'whole';
  }

  get pages(): number {
    return Math.ceil(this.options.total / this.pageSize);
  }

  /** Looking up more people than this costs more than reading the whole audience. */
  get lookupLimit(): number {
    return this.pages * PAGE_WEIGHT;
  }

  /** Whether `more` people still to look up would make reading the whole audience cheaper. */
  wholeReadIsCheaper(more: number): boolean {
    return this.mode === 'lookups' && this.lookedUp + more > this.lookupLimit;
  }

  /** Makes sure the plan of these people sees Mailchimp as it is now. */
  async prepare(hashes: readonly string[]): Promise<void> {
    if (this.mode === 'whole') return this.refreshIfDue();
    const { audience } = this.options;
    const unknown = [...new Set(hashes)].filter((h) => !audience.knows(h));
    this.lookedUp += unknown.length;
    await Promise.all(
      unknown.map((hash) =>
        this.limit(async () => {
          await this.lookUp(hash);
        }),
      ),
    );
  }

  /** Looks one person up (again, whatever is known: also for a create that found them existing). */
  async lookUp(hash: string): Promise<MemberInfo | undefined> {
    const { api, listId, audience } = this.options;
    let member = await api.getMember(listId, hash, this.memberFields);
    if (member && this.mergeFieldsIgnored([member])) {
      this.askForEveryMergeField();
      member = await api.getMember(listId, hash, this.memberFields);
    }
    if (member) audience.remember(member);
    else audience.rememberAbsent(hash);
    return member;
  }

  private askForEveryMergeField(): void {
    if (this.memberFields.includes('merge_fields')) return;
    this.options.log.warn('Mailchimp answered none of the merge fields asked for by name (fields=merge_fields.TAG): asking for every merge field instead');
    this.askFor(this.memberFields.filter((f) => !f.startsWith('merge_fields.')).concat('merge_fields'));
  }

  /** Reads every member, page by page, `concurrency` pages at a time. */
  async readWholeAudience(): Promise<void> {
    const { api, listId, audience, log } = this.options;
    this.readStartedAt = this.now();
    const started = this.readStartedAt;
    let first = await api.listMembers(listId, { count: this.pageSize, offset: 0, fields: this.pageFields });
    if (this.mergeFieldsIgnored(first.members)) {
      this.askForEveryMergeField();
      first = await api.listMembers(listId, { count: this.pageSize, offset: 0, fields: this.pageFields });
    }
    let sawArchived = false;
    const remember = (members: readonly MemberInfo[]): void => {
      for (const m of members) {
        if (m.status === 'archived') sawArchived = true;
        audience.remember(m);
      }
    };
    remember(first.members);
    const total = first.total_items ?? first.members.length;
    const offsets: number[] = [];
    for (let offset = this.pageSize; offset < total; offset += this.pageSize) offsets.push(offset);
    await Promise.all(
      offsets.map((offset) =>
        this.limit(async () => {
          const page = await api.listMembers(listId, { count: this.pageSize, offset, fields: this.pageFields });
          remember(page.members);
        }),
      ),
    );
    // Mailchimp's reference does not say whether a members list without a status filter holds
    // archived members. If none came, they are asked for by name: an archived person the table
    // did not hold would look new, and a create must never be what brings them back.
    if (!sawArchived) await this.readStatus('archived');
    audience.complete = true;
    this.mode = 'whole';
    this.lastRefresh = started;
    log.info(`read the whole audience: ${audience.size} members in ${offsets.length + 1} pages (${Math.round(audience.bytes / 1048576)} MB held), ${((this.now() - started) / 1000).toFixed(1)} s`);
  }

  /**
   * Whether a page came back without the merge fields asked for by dot notation: Mailchimp lists
   * every merge field of a member (empty ones as ""), so a page of members none of whom holds any
   * of them means the names were not honoured, and every person would look changed.
   */
  private mergeFieldsIgnored(members: readonly MemberInfo[]): boolean {
    const asked = this.memberFields.filter((f) => f.startsWith('merge_fields.')).map((f) => f.slice('merge_fields.'.length));
    if (asked.length === 0 || members.length === 0) return false;
    return members.every((m) => !m.merge_fields || asked.every((tag) => !(tag in (m.merge_fields as object))));
  }

  private refreshIfDue(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (this.now() - this.lastRefresh < REFRESH_MS) return Promise.resolve();
    this.refreshing = this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Members who withdrew (unsubscribed, cleaned, archived) since the last read. */
  private async refresh(): Promise<void> {
    const started = this.now();
    const since = new Date(this.lastRefresh - REFRESH_OVERLAP_MS).toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const counts = await Promise.all(WITHDRAWN.map((status) => this.limit(() => this.readStatus(status, since))));
    const changed = counts.reduce((a, b) => a + b, 0);
    this.lastRefresh = started;
    if (changed > 0) this.options.log.debug('audience refreshed', { withdrawn_since_last_read: changed });
  }

  /** Every member of one status (changed since `since`, when given), page by page; how many came. */
  private async readStatus(status: MemberStatus, since?: string): Promise<number> {
    const { api, listId, audience } = this.options;
    let read = 0;
    for (let offset = 0; ; offset += this.pageSize) {
      const page = await api.listMembers(listId, { count: this.pageSize, offset, fields: this.pageFields, ...(since === undefined ? {} : { sinceLastChanged: since }), status });
      for (const m of page.members) audience.remember(m);
      read += page.members.length;
      if (page.members.length < this.pageSize || offset + this.pageSize >= (page.total_items ?? 0)) return read;
    }
  }

  get startedAt(): number {
    return this.readStartedAt;
  }
}
