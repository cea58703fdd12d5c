/**
 * Mailchimp behind a small interface of our own. The implementation wraps the official client
 * (@mailchimp/mailchimp_marketing) so that retries, the connection cap, Retry-After and
 * redaction live in one place. The official client's errors carry the request, Authorization
 * header included: they are turned into HttpError here and never logged or kept raw.
 */
import type { Readable } from 'node:stream';
import ApiClient from '@mailchimp/mailchimp_marketing/src/ApiClient.js';
import { RemoteError } from '../../../errors/index.js';
import { readLimited } from '../../../http/body.js';
import { RequestBudget } from '../../../http/budget.js';
import { Downloads } from '../../../http/download.js';
import { systemClock, type Clock } from '../../../http/clock.js';
import { HttpError, serviceMessageFrom } from '../../../http/errors.js';
import { guardedCall } from '../../../http/guarded-call.js';
import { decideRetry, DEFAULT_RETRY, parseRetryAfter, type RetryDecision, type RetryInfo, type RetryOptions } from '../../../http/retry.js';
import { createLogger, type Logger } from '../../../log/logger.js';
import { redact, redactUrl, registerSecret } from '../../../log/redact.js';
import { ArchiveError, readBatchResults, type BatchOperationResult } from './batch-archive.js';

export type MemberStatus = 'subscribed' | 'unsubscribed' | 'cleaned' | 'pending' | 'transactional' | 'archived';

export interface MemberInfo {
  id?: string;
  email_address: string;
  status: MemberStatus;
  merge_fields?: Record<string, unknown>;
  tags?: Array<{ id?: number; name: string }>;
  marketing_permissions?: Array<{ marketing_permission_id: string; text?: string; enabled?: boolean }>;
  interests?: Record<string, boolean>;
  language?: string;
  vip?: boolean;
}

/** A new member for batch subscribe (which takes no marketing_permissions) or POST /lists/{id}/members (which does). */
export interface BatchMemberInput {
  email_address: string;
  status: string;
  merge_fields?: Record<string, unknown>;
  interests?: Record<string, boolean>;
  language?: string;
  vip?: boolean;
}

export interface NewMemberInput extends BatchMemberInput {
  marketing_permissions?: Array<{ marketing_permission_id: string; enabled: boolean }>;
}

/** A member update (PATCH): never a status. */
export interface MemberUpdateBody {
  merge_fields?: Record<string, unknown>;
  marketing_permissions?: Array<{ marketing_permission_id: string; enabled: boolean }>;
  interests?: Record<string, boolean>;
  language?: string;
  vip?: boolean;
}

export interface BatchMemberError {
  email_address: string;
  error: string;
  error_code?: string;
  field?: string;
  field_message?: string;
}

export interface BatchResult {
  new_members: MemberInfo[];
  updated_members: MemberInfo[];
  errors: BatchMemberError[];
  total_created: number;
  total_updated: number;
  error_count: number;
}

export interface ListInfo {
  id: string;
  name: string;
  stats?: Record<string, unknown>;
  /** Whether the audience has GDPR fields (marketing permissions). */
  marketing_permissions?: boolean;
}

/** An interest category (group) of the audience, with its interests. */
export interface InterestCategory {
  id: string;
  title: string;
  type: string;
  interests: Array<{ id: string; name: string }>;
}

export interface MergeField {
  merge_id: number;
  tag: string;
  name: string;
  type: string;
  required: boolean;
  options?: Record<string, unknown>;
}

export interface MembersPage {
  members: MemberInfo[];
  total_items: number;
}

export interface MembersQuery {
  count: number;
  offset: number;
  fields?: string[];
  /** ISO 8601: only members whose last_changed is after it. */
  sinceLastChanged?: string;
  status?: MemberStatus;
}

/** One operation of a batch request (POST /batches): `body` is the JSON text of the call's body. */
export interface BatchOperation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** Query parameters of the operation (e.g. fields). */
  params?: Record<string, string>;
  body?: string;
  operation_id: string;
}

export type BatchState = 'pending' | 'preprocessing' | 'started' | 'finalizing' | 'finished';

export interface BatchStatus {
  id: string;
  status: BatchState;
  total_operations: number;
  finished_operations: number;
  errored_operations: number;
  submitted_at?: string;
  completed_at?: string;
  response_body_url?: string;
}

/** One operation's answer in a batch's results archive (the archive's reader defines it). */
export type { BatchOperationResult } from './batch-archive.js';

/** A tag of the audience (Mailchimp keeps tags as static segments). */
export interface TagInfo {
  id: number;
  name: string;
  member_count?: number;
}

export interface TagMembersPage {
  members: MemberInfo[];
  total_items: number;
}

/** What the target needs from Mailchimp. Tests and the sandbox stand behind it. */
export interface MailchimpApi {
  /** Calls made so far (retries included). */
  readonly calls: number;
  /** The same calls by kind ("members page", "member lookup", "batch submit", ...), for the summary and the report. */
  readonly callsByKind: Readonly<Record<string, number>>;
  ping(): Promise<void>;
  getList(listId: string): Promise<ListInfo>;
  getMergeFields(listId: string): Promise<MergeField[]>;
  listMembers(listId: string, query: MembersQuery): Promise<MembersPage>;
  /** One member as Mailchimp has it now, or undefined when the address is not in the audience (404). */
  getMember(listId: string, hash: string, fields?: string[]): Promise<MemberInfo | undefined>;
  /** POST /batches: Mailchimp queues the operations and answers at once. */
  startBatch(operations: BatchOperation[]): Promise<BatchStatus>;
  getBatch(batchId: string): Promise<BatchStatus>;
  /** The results of a finished batch, read from its gzipped tar archive as it downloads. */
  batchResults(url: string): AsyncIterable<BatchOperationResult>;
  batchSubscribe(listId: string, members: BatchMemberInput[], options: { updateExisting: boolean }): Promise<BatchResult>;
  /** PATCH: changes an existing member's merge fields and profile fields; never creates one, never sends a status. */
  updateMember(listId: string, hash: string, body: MemberUpdateBody): Promise<MemberInfo>;
  /** POST /lists/{id}/members: creates one member (refused when they exist); the call that takes marketing_permissions. */
  addMember(listId: string, body: NewMemberInput): Promise<MemberInfo>;
  /** The audience's interest categories with their interests. */
  getInterestCategories(listId: string): Promise<InterestCategory[]>;
  /** Adds/removes the named tags only, with is_syncing so tag automations do not fire (unless `automations`). */
  updateTags(listId: string, hash: string, tags: Array<{ name: string; status: 'active' | 'inactive' }>, options?: { automations?: boolean }): Promise<void>;
  /** Every tag of the audience (static segments), with its member count. */
  listTags(listId: string): Promise<TagInfo[]>;
  /** A page of a tag's members, whatever their status. */
  tagMembers(listId: string, tagId: number, page: { count: number; offset: number }): Promise<TagMembersPage>;
  /** Renames a tag in place: its members, and automations that use it, stay. */
  renameTag(listId: string, tagId: number, name: string): Promise<TagInfo>;
  /** Archives a member (DELETE), or deletes them permanently (actions/delete-permanent): archive_missing only. */
  removeMember(listId: string, hash: string, how: 'archive' | 'delete permanently'): Promise<void>;
}

export interface OfficialApiOptions {
  baseUrl: string;
  apiKey?: string;
  accessToken?: string;
  /** Simultaneous requests; Mailchimp allows 10 per key. */
  maxConcurrent: number;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  /** Told of every retry (the run's RetryCounter). */
  onRetry?: (info: RetryInfo) => void;
}

interface SuperagentError {
  status?: number;
  code?: string;
  timeout?: number;
  message?: string;
  response?: { status?: number; body?: unknown; text?: string; headers?: Record<string, string | undefined> };
}

export class OfficialMailchimpApi implements MailchimpApi {
  calls = 0;
  private readonly kinds: Record<string, number> = {};
  private readonly client: ApiClient;
  private readonly options: OfficialApiOptions;
  private readonly budget: RequestBudget;
  private readonly retry: RetryOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** For the results archives: plain HTTPS downloads (pre-signed URLs), no Mailchimp credentials. */
  private readonly downloads: Downloads;

  constructor(options: OfficialApiOptions) {
    this.options = options;
    registerSecret(options.apiKey);
    registerSecret(options.accessToken);
    // The client sends the key as HTTP Basic "user:<key>": its base64 form is a secret too.
    if (options.apiKey) registerSecret(Buffer.from(`user:${options.apiKey}`).toString('base64'));
    this.client = new ApiClient();
    this.client.basePath = options.baseUrl.replace(/\/+$/, '');
    this.client.timeout = options.timeoutMs ?? 120_000;
    // No "server": the client would substitute it into the first "server" of the URL; basePath is already complete.
    this.client.setConfig(options.apiKey ? { apiKey: options.apiKey } : { accessToken: options.accessToken ?? '' });
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? createLogger('mailchimp');
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.budget = new RequestBudget({ name: 'Mailchimp API', maxConcurrent: Math.min(10, options.maxConcurrent), clock: this.clock, logger: this.log });
    const timeout = options.timeoutMs ?? 120_000;
    this.downloads = new Downloads(timeout);
  }

  get callsByKind(): Readonly<Record<string, number>> {
    return this.kinds;
  }

  private guard(kind: string, method: string, path: string) {
    return {
      target: { method, path },
      options: {
        name: 'Mailchimp',
        budget: this.budget,
        retry: this.retry,
        clock: this.clock,
        log: this.log,
        decide: decideMailchimpRetry,
        ...(this.options.random ? { random: this.options.random } : {}),
        ...(this.options.onRetry ? { onRetry: this.options.onRetry } : {}),
        describeAuthFailure: (status: number) =>
          `Mailchimp refused the ${this.options.apiKey ? 'api_key' : 'access_token'} (${status}) at ${new URL(this.client.basePath).host}: check that the key is active and belongs to the account of list_id`,
      },
      count: () => {
        this.calls++;
        this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
      },
    };
  }

  private call<T>(kind: string, method: string, path: string, run: () => Promise<{ data: unknown }>): Promise<T> {
    const url = redactUrl(this.client.basePath + path);
    const guard = this.guard(kind, method, path);
    return guardedCall(
      guard.target,
      guard.options,
      async () => {
        guard.count();
        const { data } = await run();
        return data as T;
      },
      (err) => toHttpError(err, method, url),
    );
  }

  async ping(): Promise<void> {
    await this.call('ping', 'GET', '/ping', () => this.client.ping.getWithHttpInfo());
  }

  getList(listId: string): Promise<ListInfo> {
    return this.call('audience', 'GET', `/lists/${listId}`, () => this.client.lists.getListWithHttpInfo(listId, { fields: ['id', 'name', 'stats', 'marketing_permissions'] }));
  }

  async getMergeFields(listId: string): Promise<MergeField[]> {
    const page = await this.call<{ merge_fields: MergeField[] }>('merge fields', 'GET', `/lists/${listId}/merge-fields`, () =>
      this.client.lists.getListMergeFieldsWithHttpInfo(listId, { count: 1000 }),
    );
    return page.merge_fields ?? [];
  }

  listMembers(listId: string, query: MembersQuery): Promise<MembersPage> {
    const kind = query.sinceLastChanged ? 'changed members page' : 'members page';
    return this.call(kind, 'GET', `/lists/${listId}/members`, () =>
      this.client.lists.getListMembersInfoWithHttpInfo(listId, {
        count: query.count,
        offset: query.offset,
        ...(query.fields ? { fields: query.fields } : {}),
        ...(query.sinceLastChanged ? { since_last_changed: query.sinceLastChanged } : {}),
        ...(query.status ? { status: query.status } : {}),
      }),
    );
  }

  async getMember(listId: string, hash: string, fields?: string[]): Promise<MemberInfo | undefined> {
    try {
      return await this.call<MemberInfo>('member lookup', 'GET', `/lists/${listId}/members/${hash}`, () =>
        this.client.lists.getListMemberWithHttpInfo(listId, hash, fields ? { fields } : {}),
      );
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  batchSubscribe(listId: string, members: BatchMemberInput[], options: { updateExisting: boolean }): Promise<BatchResult> {
    return this.call('batch subscribe', 'POST', `/lists/${listId}`, () =>
      this.client.lists.batchListMembersWithHttpInfo(listId, { members, update_existing: options.updateExisting }),
    );
  }

  updateMember(listId: string, hash: string, body: MemberUpdateBody): Promise<MemberInfo> {
    return this.call('member update', 'PATCH', `/lists/${listId}/members/${hash}`, () => this.client.lists.updateListMemberWithHttpInfo(listId, hash, body));
  }

  addMember(listId: string, body: NewMemberInput): Promise<MemberInfo> {
    return this.call('member create', 'POST', `/lists/${listId}/members`, () => this.client.lists.addListMemberWithHttpInfo(listId, body));
  }

  async getInterestCategories(listId: string): Promise<InterestCategory[]> {
    const page = await this.call<{ categories?: Array<Omit<InterestCategory, 'interests'>> }>('interest categories', 'GET', `/lists/${listId}/interest-categories`, () =>
      this.client.lists.getListInterestCategoriesWithHttpInfo(listId, { count: 1000, fields: ['categories.id', 'categories.title', 'categories.type'] }),
    );
    const categories: InterestCategory[] = [];
    for (const category of page.categories ?? []) {
      const interests = await this.call<{ interests?: Array<{ id: string; name: string }> }>('interests', 'GET', `/lists/${listId}/interest-categories/${category.id}/interests`, () =>
        this.client.lists.listInterestCategoryInterestsWithHttpInfo(listId, category.id, { count: 1000, fields: ['interests.id', 'interests.name'] }),
      );
      categories.push({ id: category.id, title: category.title, type: category.type, interests: interests.interests ?? [] });
    }
    return categories;
  }

  async updateTags(listId: string, hash: string, tags: Array<{ name: string; status: 'active' | 'inactive' }>, options: { automations?: boolean } = {}): Promise<void> {
    await this.call('member tags', 'POST', `/lists/${listId}/members/${hash}/tags`, () =>
      this.client.lists.updateListMemberTagsWithHttpInfo(listId, hash, { tags, is_syncing: options.automations !== true }),
    );
  }

  async listTags(listId: string): Promise<TagInfo[]> {
    const tags: TagInfo[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await this.call<{ segments?: TagInfo[]; total_items?: number }>('tags', 'GET', `/lists/${listId}/segments`, () =>
        this.client.lists.listSegmentsWithHttpInfo(listId, { type: 'static', count: 1000, offset, fields: ['segments.id', 'segments.name', 'segments.member_count', 'total_items'] }),
      );
      const segments = page.segments ?? [];
      tags.push(...segments);
      if (segments.length < 1000 || tags.length >= (page.total_items ?? 0)) return tags;
    }
  }

  tagMembers(listId: string, tagId: number, page: { count: number; offset: number }): Promise<TagMembersPage> {
    return this.call('tag members page', 'GET', `/lists/${listId}/segments/${tagId}/members`, () =>
      this.client.lists.getSegmentMembersListWithHttpInfo(listId, String(tagId), {
        count: page.count,
        offset: page.offset,
        fields: ['members.id', 'members.email_address', 'members.status', 'total_items'],
        // Without these Mailchimp leaves out the tag's unsubscribed, cleaned and transactional members.
        include_unsubscribed: true,
        include_cleaned: true,
        include_transactional: true,
      }),
    );
  }

  renameTag(listId: string, tagId: number, name: string): Promise<TagInfo> {
    return this.call('tag rename', 'PATCH', `/lists/${listId}/segments/${tagId}`, () => this.client.lists.updateSegmentWithHttpInfo(listId, String(tagId), { name }));
  }

  async removeMember(listId: string, hash: string, how: 'archive' | 'delete permanently'): Promise<void> {
    const path = `/lists/${listId}/members/${hash}`;
    if (how === 'archive') await this.call('member archive', 'DELETE', path, () => this.client.lists.deleteListMemberWithHttpInfo(listId, hash));
    else await this.call('member permanent delete', 'POST', `${path}/actions/delete-permanent`, () => this.client.lists.deleteListMemberPermanentWithHttpInfo(listId, hash));
  }

  startBatch(operations: BatchOperation[]): Promise<BatchStatus> {
    return this.call('batch submit', 'POST', '/batches', () => this.client.batches.startWithHttpInfo({ operations }));
  }

  getBatch(batchId: string): Promise<BatchStatus> {
    return this.call('batch status', 'GET', `/batches/${batchId}`, () => this.client.batches.statusWithHttpInfo(batchId));
  }

  /**
   * Downloads a results archive. Retried like any call until the body starts; a download that
   * breaks half way is started again from the beginning by the caller (results are idempotent).
   */
  async *batchResults(url: string): AsyncIterable<BatchOperationResult> {
    const target = new URL(url);
    // Pre-signed URLs carry their signature in the query: shown without it (see redactUrl).
    const shown = redactUrl(target);
    const guard = this.guard('batch results', 'GET', target.pathname);
    const body = await guardedCall(
      guard.target,
      { ...guard.options, describeAuthFailure: (status: number) => `the results archive of a batch was refused (${status}): it may have expired` },
      async (): Promise<Readable> => {
        guard.count();
        const response = await this.downloads.get(target, { 'user-agent': 'target-mailchimp' });
        if (response.statusCode >= 400) {
          const text = await readLimited(response.body);
          throw new HttpError({ method: 'GET', url: shown, status: response.statusCode, serviceMessage: serviceMessageFrom(text) });
        }
        return response.body;
      },
      (err) => (err instanceof HttpError ? err : new HttpError({ method: 'GET', url: shown, code: (err as { code?: string }).code, serviceMessage: err instanceof Error ? redact(err.message) : undefined })),
    );
    try {
      yield* readBatchResults(body);
    } catch (err) {
      body.destroy();
      if (err instanceof ArchiveError) throw new RemoteError(`${err.message} (${shown})`, { cause: err });
      throw new HttpError({ method: 'GET', url: shown, code: (err as { code?: string }).code ?? 'ERR_STREAM_PREMATURE_CLOSE', serviceMessage: err instanceof Error ? redact(err.message) : undefined }, { cause: err });
    }
  }

  close(): Promise<void> {
    this.downloads.close();
    return Promise.resolve();
  }
}

/**
 * Mailchimp's own reading of a failure: a bare 403 without a problem document is its throttle at
 * high volume, not a credentials problem, so it is retried like a 429.
 */
export function decideMailchimpRetry(err: unknown): RetryDecision {
  if (err instanceof HttpError && err.status === 403 && err.code === BARE_403) {
    return { retry: true, rateLimited: true, reason: '403 without an explanation (Mailchimp throttling)' };
  }
  return decideRetry(err);
}

const BARE_403 = 'MAILCHIMP_BARE_403';

/** A superagent error as an HttpError with nothing but status, code and the service's message. */
export function toHttpError(err: unknown, method: string, url: string): HttpError {
  if (err instanceof HttpError) return err;
  const e = (err ?? {}) as SuperagentError;
  const status = e.status ?? e.response?.status;
  const body = e.response?.body;
  const text = body && typeof body === 'object' ? JSON.stringify(body) : (e.response?.text ?? '');
  const problem = serviceMessageFrom(text);
  const code = e.code ?? (e.timeout ? 'ETIMEDOUT' : status === 403 && !looksLikeProblem(body, text) ? BARE_403 : undefined);
  return new HttpError({
    method,
    url,
    ...(status !== undefined ? { status } : {}),
    ...(code ? { code } : {}),
    // A network error's message is free text from superagent and node: redacted like a body.
    serviceMessage: problem ?? (status === undefined && e.message ? redact(e.message) : undefined),
    retryAfterMs: parseRetryAfter(e.response?.headers?.['retry-after'], Date.now()),
  });
}

/** Whether an error answer is one of Mailchimp's problem documents (it names its type or title). */
function looksLikeProblem(body: unknown, text: string): boolean {
  if (body && typeof body === 'object') return 'title' in body || 'detail' in body || 'type' in body;
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null && ('title' in parsed || 'detail' in parsed);
  } catch {
    return false;
  }
}
