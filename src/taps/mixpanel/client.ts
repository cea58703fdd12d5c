/**
 * Mixpanel over the shared HTTP layer: one client per host family (export, query), each with
 * the budget Mixpanel documents for it, shared by every stream of the run.
 */
import type { Dispatcher } from 'undici';
import { RequestBudget, type RateWindow } from '../../http/budget.js';
import { interruptibleClock, systemClock, type Clock } from '../../http/clock.js';
import { HttpClient, type QueryValue, type StreamResponse } from '../../http/client.js';
import type { HttpError } from '../../http/errors.js';
import type { RetryInfo } from '../../http/retry.js';
import type { TapConfig } from './config.js';
import { translateMixpanelError } from './errors.js';
import { resolveCredentials, resolveHosts } from './hosts.js';

export interface MixpanelClientOptions {
  dispatcher?: Dispatcher;
  clock?: Clock;
  random?: () => number;
  userAgent: string;
  /** The run's stop signal (SIGTERM/SIGINT): budget waits and requests in flight end at once. */
  signal?: AbortSignal;
  /** Told of every retry on either host (the run's RetryCounter). */
  onRetry?: (info: RetryInfo) => void;
}

/** Documented limits (REFERENCE.md section 1). */
export const EXPORT_LIMITS = { maxConcurrent: 100, windows: [{ limit: 3, intervalMs: 1000 }, { limit: 60, intervalMs: 3_600_000 }] };
export const QUERY_LIMITS = { maxConcurrent: 5, windows: [{ limit: 60, intervalMs: 3_600_000 }] };

/**
 * Our windows are a little longer than Mixpanel's: a request is counted when we send it and
 * when Mixpanel receives it, and network delays differ between requests, so two requests one
 * window apart on our side may land inside one window on theirs.
 */
export function windowMargin(intervalMs: number): number {
  return Math.min(1000, Math.ceil(intervalMs * 0.1));
}

/** The budgets of a run, from the documented limits and the config's overrides. */
export function budgetLimits(config: TapConfig): { export: BudgetShape; query: BudgetShape } {
  const hourMs = config.rate_limit_hour_seconds * 1000;
  const window = (limit: number, intervalMs: number) => ({ limit, intervalMs, slackMs: windowMargin(intervalMs) });
  return {
    export: {
      maxConcurrent: EXPORT_LIMITS.maxConcurrent,
      windows: [window(config.export_max_requests_per_second, 1000), window(config.export_max_requests_per_hour, hourMs)],
    },
    query: { maxConcurrent: config.query_max_concurrent, windows: [window(config.query_max_requests_per_hour, hourMs)] },
  };
}

interface BudgetShape {
  maxConcurrent: number;
  windows: RateWindow[];
}

export interface EngageProfile {
  $distinct_id: string | number;
  $properties?: Record<string, unknown>;
}

export interface EngagePage {
  page: number;
  page_size: number;
  session_id?: string;
  status?: string;
  total?: number;
  results: EngageProfile[];
}

export interface EngageQuery {
  where?: string;
  filterByCohort?: number;
  outputProperties?: string[];
  page: number;
  sessionId?: string;
}

export class MixpanelClient {
  readonly export: HttpClient;
  readonly query: HttpClient;
  private readonly config: TapConfig;

  constructor(config: TapConfig, options: MixpanelClientOptions) {
    this.config = config;
    const hosts = resolveHosts(config);
    const credentials = resolveCredentials(config);
    const clock = interruptibleClock(options.clock ?? systemClock, options.signal);
    const limits = budgetLimits(config);
    const common = {
      auth: credentials.auth,
      userAgent: config.user_agent ?? options.userAgent,
      timeouts: {
        connectMs: config.connect_timeout * 1000,
        headersMs: config.request_timeout * 1000,
        bodyMs: (config.idle_timeout ?? config.request_timeout) * 1000,
      },
      retry: { maxAttempts: config.max_retries + 1, baseDelayMs: config.retry_base_delay_seconds * 1000 },
      clock,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
      translateError: (err: HttpError) =>
        translateMixpanelError(err, { timeSemantics: config.time_semantics, projectTimezone: config.project_timezone }),
      defaultQuery: { project_id: config.project_id } as Record<string, QueryValue>,
      describeAuthFailure: (status: number, url: URL) =>
        `Mixpanel refused the credentials (${status}) at ${url.host}: check ${credentials.describe}` +
        (status === 403 ? ', and that the region setting matches the project' : ''),
    };
    this.export = new HttpClient({
      ...common,
      name: 'Mixpanel export',
      baseUrl: hosts.exportBaseUrl,
      budget: new RequestBudget({ name: 'Mixpanel export API', ...limits.export, clock }),
    });
    this.query = new HttpClient({
      ...common,
      name: 'Mixpanel query',
      baseUrl: hosts.queryBaseUrl,
      budget: new RequestBudget({ name: 'Mixpanel query API', ...limits.query, clock }),
    });
  }

  /** Raw events of whole days [fromDate, toDate] (project days), as a decompressed JSON Lines stream. */
  exportEvents(params: { fromDate: string; toDate: string; events?: string[]; where?: string }): Promise<StreamResponse> {
    return this.export.stream({
      path: '/api/2.0/export',
      query: {
        from_date: params.fromDate,
        to_date: params.toDate,
        event: params.events ? JSON.stringify(params.events) : undefined,
        where: params.where,
      },
      gzip: true,
    });
  }

  /** One page of people profiles. Pages after the first reuse the session and do not count toward the hourly limit. */
  engagePage(query: EngageQuery): Promise<EngagePage> {
    return this.query.json<EngagePage>({
      method: 'POST',
      path: '/api/query/engage',
      query: { workspace_id: this.config.workspace_id },
      form: {
        where: query.where,
        filter_by_cohort: query.filterByCohort === undefined ? undefined : JSON.stringify({ id: query.filterByCohort }),
        output_properties: query.outputProperties ? JSON.stringify(query.outputProperties) : undefined,
        page: query.page > 0 ? query.page : undefined,
        session_id: query.sessionId,
      },
      countsTowardRate: query.page === 0,
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.export.close(), this.query.close()]);
  }
}
