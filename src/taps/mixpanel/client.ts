/**
 * Mixpanel over the shared HTTP layer: one client per host family (export, query), each with
 * the budget Mixpanel documents for it, shared by every stream of the run.
 */
import type { Dispatcher } from 'undici';
import { RequestBudget } from '../../http/budget.js';
import type { Clock } from '../../http/clock.js';
import { HttpClient, type QueryValue, type StreamResponse } from '../../http/client.js';
import type { TapConfig } from './config.js';
import { resolveCredentials, resolveHosts } from './hosts.js';

export interface MixpanelClientOptions {
  dispatcher?: Dispatcher;
  clock?: Clock;
  random?: () => number;
  userAgent: string;
}

/** Documented limits (REFERENCE.md section 1). */
export const EXPORT_LIMITS = { maxConcurrent: 100, windows: [{ limit: 3, intervalMs: 1000 }, { limit: 60, intervalMs: 3_600_000 }] };
export const QUERY_LIMITS = { maxConcurrent: 5, windows: [{ limit: 60, intervalMs: 3_600_000 }] };

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
    const timeoutMs = config.request_timeout * 1000;
    const common = {
      auth: credentials.auth,
      userAgent: config.user_agent ?? options.userAgent,
      timeouts: { headersMs: timeoutMs, bodyMs: timeoutMs },
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
      defaultQuery: { project_id: config.project_id } as Record<string, QueryValue>,
      describeAuthFailure: (status: number, url: URL) =>
        `Mixpanel refused the credentials (${status}) at ${url.host}: check ${credentials.describe}` +
        (status === 403 ? ', and that the region setting matches the project' : ''),
    };
    this.export = new HttpClient({
      ...common,
      name: 'Mixpanel export',
      baseUrl: hosts.exportBaseUrl,
      budget: new RequestBudget({ name: 'Mixpanel export API', ...EXPORT_LIMITS, ...(options.clock ? { clock: options.clock } : {}) }),
    });
    this.query = new HttpClient({
      ...common,
      name: 'Mixpanel query',
      baseUrl: hosts.queryBaseUrl,
      budget: new RequestBudget({ name: 'Mixpanel query API', ...QUERY_LIMITS, ...(options.clock ? { clock: options.clock } : {}) }),
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
