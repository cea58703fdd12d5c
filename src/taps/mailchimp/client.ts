/**
 * Mailchimp, read side, over the shared HTTP layer: one client and one request budget for the
 * whole run (max_concurrency requests in flight, whatever stream or audience asks), the retry
 * table with Mailchimp's own readings, the calls counted by kind, and Mailchimp's clock (its Date
 * header) for the members window.
 */
import type { Dispatcher } from 'undici';
import { RequestBudget } from '../../http/budget.js';
import { interruptibleClock, systemClock, type Clock } from '../../http/clock.js';
import { HttpClient, type QueryValue } from '../../http/client.js';
import { HttpError } from '../../http/errors.js';
import { decideRetry, type RetryDecision, type RetryInfo } from '../../http/retry.js';
import { mailchimpAuth, mailchimpBaseUrl } from '../../mailchimp/account.js';
import type { MailchimpTapConfig } from './config.js';
import type { RawInterest, RawInterestCategory, RawList, RawMember, RawMergeField, RawTag } from './raw.js';

export interface MailchimpReaderOptions {
  userAgent: string;
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
  dispatcher?: Dispatcher;
  clock?: Clock;
  random?: () => number;
}

export interface MembersQuery {
  count: number;
  offset: number;
  fields?: readonly string[];
  /** ISO 8601 instants: last_changed strictly after / strictly before (as the sandbox reads them). */
  since?: string;
  before?: string;
  status?: 'archived';
  sortField?: 'last_changed';
  sortDir?: 'ASC' | 'DESC';
}

export interface MembersPage {
  members: RawMember[];
  total_items: number;
}

/**
 * Mailchimp's own reading of a failure where it differs from the table: a bare 403 without a
 * problem document is its throttle at high volume, not a credentials problem (retried like a
 * 429); a body that is not JSON (cut short on its way) is read again.
 */
export function decideMailchimpReadRetry(err: unknown): RetryDecision {
  if (err instanceof HttpError && err.status === 403 && err.serviceMessage === undefined) {
    return { retry: true, rateLimited: true, reason: '403 without an explanation (Mailchimp throttling)' };
  }
  if (err instanceof HttpError && err.code === 'ERR_INVALID_JSON') return { retry: true, reason: 'an answer that is not JSON (cut short?)' };
  return decideRetry(err);
}

/** A collection page: the items under `key` and total_items. */
type Collection<K extends string, T> = { [P in K]?: T[] } & { total_items?: number };

export class MailchimpReader {
  readonly http: HttpClient;
  readonly budget: RequestBudget;
  private readonly kinds: Record<string, number> = {};
  private readonly pageSize: number;
  /** Mailchimp's clock minus ours, from the last Date header (undefined until an answer came). */
  private serverOffsetMs: number | undefined;
  private readonly clock: Clock;

  constructor(config: MailchimpTapConfig, options: MailchimpReaderOptions) {
    const clock = interruptibleClock(options.clock ?? systemClock, options.signal);
    this.clock = clock;
    this.pageSize = config.page_size;
    const { auth, describe } = mailchimpAuth(config, 'tap-mailchimp');
    this.budget = new RequestBudget({ name: 'Mailchimp API', maxConcurrent: Math.min(10, config.max_concurrency), clock });
    this.http = new HttpClient({
      name: 'Mailchimp',
      baseUrl: mailchimpBaseUrl(config),
      auth,
      userAgent: config.user_agent ?? options.userAgent,
      timeouts: { connectMs: config.connect_timeout * 1000, headersMs: config.request_timeout * 1000, bodyMs: config.request_timeout * 1000 },
      retry: { maxAttempts: config.max_retries + 1, baseDelayMs: config.retry_base_delay_seconds * 1000 },
      budget: this.budget,
      clock,
      decide: decideMailchimpReadRetry,
      describeAuthFailure: (status, url) =>
        `Mailchimp refused the credentials (${status}) at ${url.host}: check ${describe}` + (status === 403 ? ', and that the key may read these audiences' : ''),
      onResponse: (_status, headers) => this.noteServerDate(headers.date),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      ...(options.random ? { random: options.random } : {}),
    });
  }

  /** Calls made so far by kind ("members page", "lists", ...), retries included. */
  get callsByKind(): Readonly<Record<string, number>> {
    return this.kinds;
  }

  get calls(): number {
    return this.http.requestCount;
  }

  private noteServerDate(value: string | string[] | undefined): void {
    const text = Array.isArray(value) ? value[0] : value;
    const ms = text === undefined ? NaN : Date.parse(text);
    if (!Number.isNaN(ms)) this.serverOffsetMs = ms - this.clock.now();
  }

  /**
   * Now, by the earlier of our clock and Mailchimp's (its Date header, whole seconds): a clock
   * of ours running ahead must not put the members window's end after Mailchimp's present.
   */
  serverNowMs(): number {
    const local = this.clock.now();
    return this.serverOffsetMs === undefined ? local : Math.min(local, local + this.serverOffsetMs);
  }

  private get<T>(kind: string, path: string, query: Record<string, QueryValue> = {}): Promise<T> {
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
    return this.http.json<T>({ path, query });
  }

  ping(): Promise<{ health_status?: string }> {
    return this.get('ping', '/ping');
  }

  /** Every item of a collection, page by page (offset paging: these collections are small and stable). */
  private async all<K extends string, T>(kind: string, path: string, key: K, query: Record<string, QueryValue> = {}): Promise<T[]> {
    const items: T[] = [];
    for (let offset = 0; ; offset += this.pageSize) {
      const page = await this.get<Collection<K, T>>(kind, path, { ...query, count: this.pageSize, offset });
      const got = page[key] ?? [];
      items.push(...got);
      if (got.length < this.pageSize || items.length >= (page.total_items ?? 0)) return items;
    }
  }

  lists(fields?: readonly string[]): Promise<RawList[]> {
    return this.all<'lists', RawList>('lists', '/lists', 'lists', { fields: fields ? [...fields.map((f) => `lists.${f}`), 'total_items'].join(',') : undefined });
  }

  list(listId: string, fields?: readonly string[]): Promise<RawList> {
    return this.get('list', `/lists/${encodeURIComponent(listId)}`, { fields: fields?.join(',') });
  }

  mergeFields(listId: string): Promise<RawMergeField[]> {
    return this.all<'merge_fields', RawMergeField>('merge fields', `/lists/${encodeURIComponent(listId)}/merge-fields`, 'merge_fields', { exclude_fields: 'merge_fields._links,_links' });
  }

  interestCategories(listId: string): Promise<RawInterestCategory[]> {
    return this.all<'categories', RawInterestCategory>('interest categories', `/lists/${encodeURIComponent(listId)}/interest-categories`, 'categories', {
      exclude_fields: 'categories._links,_links',
    });
  }

  interests(listId: string, categoryId: string): Promise<RawInterest[]> {
    const path = `/lists/${encodeURIComponent(listId)}/interest-categories/${encodeURIComponent(categoryId)}/interests`;
    return this.all<'interests', RawInterest>('interests', path, 'interests', { exclude_fields: 'interests._links,_links' });
  }

  /** The audience's tags: Mailchimp keeps them as static segments. */
  tags(listId: string): Promise<RawTag[]> {
    return this.all<'segments', RawTag>('tags', `/lists/${encodeURIComponent(listId)}/segments`, 'segments', { type: 'static', exclude_fields: 'segments._links,segments.options,_links' });
  }

  membersPage(listId: string, query: MembersQuery): Promise<MembersPage> {
    const kind = query.sortField !== undefined && query.count === 1 ? 'members probe' : 'members page';
    return this.get(kind, `/lists/${encodeURIComponent(listId)}/members`, {
      count: query.count,
      offset: query.offset,
      fields: query.fields?.join(','),
      since_last_changed: query.since,
      before_last_changed: query.before,
      status: query.status,
      sort_field: query.sortField,
      sort_dir: query.sortDir,
    });
  }

  /** Every tag of one member (a member document carries 50 at most). */
  memberTags(listId: string, subscriberHash: string): Promise<Array<{ id: number; name: string }>> {
    return this.all('member tags', `/lists/${encodeURIComponent(listId)}/members/${subscriberHash}/tags`, 'tags', { fields: 'tags.id,tags.name,total_items' });
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
