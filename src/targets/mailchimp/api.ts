/**
 * Mailchimp behind a small interface of our own. The implementation wraps the official client
 * (@mailchimp/mailchimp_marketing) so that retries, the connection cap, Retry-After and
 * redaction live in one place. The official client's errors carry the request, Authorization
 * header included: they are turned into HttpError here and never logged or kept raw.
 */
import ApiClient from '@mailchimp/mailchimp_marketing/src/ApiClient.js';
import { RequestBudget } from '../../http/budget.js';
import { systemClock, type Clock } from '../../http/clock.js';
import { HttpError, serviceMessageFrom } from '../../http/errors.js';
import { guardedCall } from '../../http/guarded-call.js';
import { DEFAULT_RETRY, parseRetryAfter, type RetryInfo, type RetryOptions } from '../../http/retry.js';
import { createLogger, type Logger } from '../../log/logger.js';
import { redact, redactUrl, registerSecret } from '../../log/redact.js';

export type MemberStatus = 'subscribed' | 'unsubscribed' | 'cleaned' | 'pending' | 'transactional' | 'archived';

export interface MemberInfo {
  id?: string;
  email_address: string;
  status: MemberStatus;
  merge_fields?: Record<string, unknown>;
  tags?: Array<{ id?: number; name: string }>;
}

export interface BatchMemberInput {
  email_address: string;
  status: string;
  merge_fields?: Record<string, unknown>;
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

/** What the target needs from Mailchimp. Tests and the sandbox stand behind it. */
export interface MailchimpApi {
  /** Calls made so far (retries included). */
  readonly calls: number;
  ping(): Promise<void>;
  getList(listId: string): Promise<ListInfo>;
  getMergeFields(listId: string): Promise<MergeField[]>;
  listMembers(listId: string, page: { count: number; offset: number; fields?: string[] }): Promise<MembersPage>;
  batchSubscribe(listId: string, members: BatchMemberInput[], options: { updateExisting: boolean }): Promise<BatchResult>;
  /** PATCH: changes an existing member's merge fields; never creates one, never sends a status. */
  updateMember(listId: string, hash: string, body: { merge_fields: Record<string, unknown> }): Promise<MemberInfo>;
  /** Adds/removes the named tags only, with is_syncing so tag automations do not fire. */
  updateTags(listId: string, hash: string, tags: Array<{ name: string; status: 'active' | 'inactive' }>): Promise<void>;
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
  private readonly client: ApiClient;
  private readonly options: OfficialApiOptions;
  private readonly budget: RequestBudget;
  private readonly retry: RetryOptions;
  private readonly clock: Clock;
  private readonly log: Logger;

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
  }

  private call<T>(method: string, path: string, run: () => Promise<{ data: unknown }>): Promise<T> {
    const url = redactUrl(this.client.basePath + path);
    return guardedCall(
      { method, path },
      {
        name: 'Mailchimp',
        budget: this.budget,
        retry: this.retry,
        clock: this.clock,
        log: this.log,
        ...(this.options.random ? { random: this.options.random } : {}),
        ...(this.options.onRetry ? { onRetry: this.options.onRetry } : {}),
        describeAuthFailure: (status) =>
          `Mailchimp refused the ${this.options.apiKey ? 'api_key' : 'access_token'} (${status}) at ${new URL(this.client.basePath).host}: check that the key is active and belongs to the account of list_id`,
      },
      async () => {
        this.calls++;
        const { data } = await run();
        return data as T;
      },
      (err) => toHttpError(err, method, url),
    );
  }

  async ping(): Promise<void> {
    await this.call('GET', '/ping', () => this.client.ping.getWithHttpInfo());
  }

  getList(listId: string): Promise<ListInfo> {
    return this.call('GET', `/lists/${listId}`, () => this.client.lists.getListWithHttpInfo(listId, { fields: ['id', 'name', 'stats'] }));
  }

  async getMergeFields(listId: string): Promise<MergeField[]> {
    const page = await this.call<{ merge_fields: MergeField[] }>('GET', `/lists/${listId}/merge-fields`, () =>
      this.client.lists.getListMergeFieldsWithHttpInfo(listId, { count: 1000 }),
    );
    return page.merge_fields ?? [];
  }

  listMembers(listId: string, page: { count: number; offset: number; fields?: string[] }): Promise<MembersPage> {
    return this.call('GET', `/lists/${listId}/members`, () =>
      this.client.lists.getListMembersInfoWithHttpInfo(listId, { count: page.count, offset: page.offset, ...(page.fields ? { fields: page.fields } : {}) }),
    );
  }

  batchSubscribe(listId: string, members: BatchMemberInput[], options: { updateExisting: boolean }): Promise<BatchResult> {
    return this.call('POST', `/lists/${listId}`, () =>
      this.client.lists.batchListMembersWithHttpInfo(listId, { members, update_existing: options.updateExisting }),
    );
  }

  updateMember(listId: string, hash: string, body: { merge_fields: Record<string, unknown> }): Promise<MemberInfo> {
    return this.call('PATCH', `/lists/${listId}/members/${hash}`, () => this.client.lists.updateListMemberWithHttpInfo(listId, hash, body));
  }

  async updateTags(listId: string, hash: string, tags: Array<{ name: string; status: 'active' | 'inactive' }>): Promise<void> {
    await this.call('POST', `/lists/${listId}/members/${hash}/tags`, () =>
      this.client.lists.updateListMemberTagsWithHttpInfo(listId, hash, { tags, is_syncing: true }),
    );
  }
}

/** A superagent error as an HttpError with nothing but status, code and the service's message. */
export function toHttpError(err: unknown, method: string, url: string): HttpError {
  if (err instanceof HttpError) return err;
  const e = (err ?? {}) as SuperagentError;
  const status = e.status ?? e.response?.status;
  const body = e.response?.body;
  const text = body && typeof body === 'object' ? JSON.stringify(body) : (e.response?.text ?? '');
  const code = e.code ?? (e.timeout ? 'ETIMEDOUT' : undefined);
  return new HttpError({
    method,
    url,
    ...(status !== undefined ? { status } : {}),
    ...(code ? { code } : {}),
    // A network error's message is free text from superagent and node: redacted like a body.
    serviceMessage: serviceMessageFrom(text) ?? (status === undefined && e.message ? redact(e.message) : undefined),
    retryAfterMs: parseRetryAfter(e.response?.headers?.['retry-after'], Date.now()),
  });
}
