/**
 * The one HTTP client over undici: keep-alive, connect/headers/body timeouts, the retry table,
 * Retry-After, a shared request budget, and errors that name method and URL without secrets.
 */
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ChunkCoalescer } from '../util/coalesce.js';
import { Agent, request, type Dispatcher } from 'undici';
import { createLogger, type Logger } from '../log/logger.js';
import { redactUrl, registerSecret } from '../log/redact.js';
import type { RequestBudget } from './budget.js';
import { interruptibleClock, systemClock, type Clock } from './clock.js';
import { readLimited } from './body.js';
import { HttpError, serviceMessageFrom } from './errors.js';
import { guardedCall } from './guarded-call.js';
import { DEFAULT_RETRY, parseRetryAfter, type RetryDecision, type RetryInfo, type RetryOptions } from './retry.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type QueryValue = string | number | boolean | undefined;

export type HttpAuth = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

export interface Timeouts {
  connectMs: number;
  /** Time to the response headers (the first byte). */
  headersMs: number;
  /** Longest silence while reading the body. */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 30_000, headersMs: 300_000, bodyMs: 300_000 };

export interface HttpClientOptions {
  /** For logs and budgets, e.g. "Mixpanel export". */
  name: string;
  baseUrl: string;
  auth?: HttpAuth;
  userAgent?: string;
  /** Query parameters sent with every request (project_id). */
  defaultQuery?: Record<string, QueryValue>;
  timeouts?: Partial<Timeouts>;
  retry?: Partial<RetryOptions>;
  budget?: RequestBudget;
  /** Tests pass a MockAgent; otherwise the client owns a keep-alive Agent. */
  dispatcher?: Dispatcher;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  /** The actionable sentence for a 401/403 (which credential, which host, what to check). */
  describeAuthFailure?: (status: number, url: URL) => string;
  /** The service's own reading of a final failure (e.g. 402 = plan limit), or undefined to keep the HttpError. */
  translateError?: (err: HttpError) => Error | undefined;
  /** Aborted when the run is stopping: waits end and requests in flight are cancelled. */
  signal?: AbortSignal;
  /** Told of every retry (see RetryCounter). */
  onRetry?: (info: RetryInfo) => void;
  /** The service's own retry reading where it differs from the table (Mailchimp's bare 403 throttle). */
  decide?: (err: unknown) => RetryDecision;
  /** Told of every answer's status and headers (a service's clock from its Date header, for one). */
  onResponse?: (status: number, headers: Record<string, string | string[] | undefined>) => void;
}

export interface HttpRequest {
  method?: HttpMethod;
  path: string;
  query?: Record<string, QueryValue>;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, QueryValue>;
  /** Sent as application/json. */
  json?: unknown;
  headers?: Record<string, string>;
  /** Ask for a gzip body and decompress it as it streams. */
  gzip?: boolean;
  /** False for requests the service does not count against its rate limit. */
  countsTowardRate?: boolean;
}

export interface StreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Decompressed body; the budget slot is held until it ends or is destroyed. */
  body: Readable;
  url: string;
}

/**
 * A whole body as text: its chunks joined once, then decoded once (undici's text() decodes as
 * it goes, which cost a tap reading members pages of 1.4 MB more CPU than parsing them).
 */
async function bodyText(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function encodeParams(params: Record<string, QueryValue> | undefined, into: URLSearchParams): void {
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value !== undefined) into.set(key, String(value));
  }
}

export class HttpClient {
  readonly name: string;
  private readonly options: HttpClientOptions;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly retry: RetryOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly headers: Record<string, string>;
  /** Attempts made (retries included), for summaries. */
  requestCount = 0;

  constructor(options: HttpClientOptions) {
    this.name = options.name;
    this.options = options;
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Agent({
        keepAliveTimeout: 30_000,
        connect: { timeout: timeouts.connectMs },
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.bodyMs,
      });
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.clock = interruptibleClock(options.clock ?? systemClock, options.signal);
    this.log = options.logger ?? createLogger('http');
    this.headers = { 'user-agent': options.userAgent ?? 'tap-mixpanel-target-mailchimp' };
    if (options.auth?.type === 'basic') {
      const token = Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64');
      registerSecret(options.auth.password);
      registerSecret(token);
      this.headers.authorization = `Basic ${token}`;
    } else if (options.auth?.type === 'bearer') {
      registerSecret(options.auth.token);
      this.headers.authorization = `Bearer ${options.auth.token}`;
    }
  }

  buildUrl(path: string, query?: Record<string, QueryValue>): URL {
    const base = this.options.baseUrl.replace(/\/+$/, '');
    const url = new URL(base + (path.startsWith('/') ? path : `/${path}`));
    encodeParams(this.options.defaultQuery, url.searchParams);
    encodeParams(query, url.searchParams);
    return url;
  }

  /** Sends a request and parses a JSON answer, retrying per the retry table. */
  async json<T>(req: HttpRequest): Promise<T> {
    return this.withRetry(req, async (url, method) => {
      const response = await this.send(req, url, method);
      const text = await bodyText(response.body);
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        throw new HttpError(
          { method, url: redactUrl(url), code: 'ERR_INVALID_JSON', serviceMessage: `answered with invalid JSON (${text.slice(0, 80)})` },
          { cause: err },
        );
      }
    });
  }

  /** Sends a request and returns the answer's text (for services whose answer is not JSON). */
  async text(req: HttpRequest): Promise<string> {
    return this.withRetry(req, async (url, method) => (await this.send(req, url, method)).body.text());
  }

  /**
   * Sends a request and returns the body as a stream once the status is known to be good.
   * Failures before the body (status, connect, first byte) are retried here; failures while
   * reading the body belong to the caller, who knows how to resume.
   */
  async stream(req: HttpRequest): Promise<StreamResponse> {
    return this.withRetry(req, async (url, method, release) => {
      const response = await this.send(req, url, method);
      const encoding = String(response.headers['content-encoding'] ?? '').toLowerCase();
      const raw = response.body;
      // Copied into blocks of our own first: a fast server would otherwise queue thousands of
      // socket slices, each pinning a 64 KiB buffer (see ChunkCoalescer).
      const body: Readable = encoding.includes('gzip')
        ? pipeline(raw, new ChunkCoalescer(), createGunzip(), () => undefined)
        : pipeline(raw, new ChunkCoalescer(), () => undefined);
      const done = () => release();
      body.once('close', done);
      body.once('end', done);
      body.once('error', done);
      return { status: response.statusCode, headers: response.headers, body, url: redactUrl(url) };
    }, { holdSlot: true });
  }

  private withRetry<T>(
    req: HttpRequest,
    attempt: (url: URL, method: HttpMethod, release: () => void) => Promise<T>,
    options: { holdSlot?: boolean } = {},
  ): Promise<T> {
    const url = this.buildUrl(req.path, req.query);
    const method = req.method ?? 'GET';
    return guardedCall(
      { method, path: url.pathname, countsTowardRate: req.countsTowardRate ?? true, holdSlot: options.holdSlot ?? false },
      {
        name: this.name,
        retry: this.retry,
        clock: this.clock,
        log: this.log,
        ...(this.options.budget ? { budget: this.options.budget } : {}),
        ...(this.options.random ? { random: this.options.random } : {}),
        describeAuthFailure: (status) =>
          this.options.describeAuthFailure?.(status, url) ?? `${this.name} rejected the credentials (${status}) for ${url.host}`,
        ...(this.options.translateError ? { translateError: this.options.translateError } : {}),
        ...(this.options.onRetry ? { onRetry: this.options.onRetry } : {}),
        ...(this.options.decide ? { decide: this.options.decide } : {}),
      },
      (release) => attempt(url, method, release),
      (err) => this.toHttpError(err, method, url),
    );
  }

  private async send(req: HttpRequest, url: URL, method: HttpMethod): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { ...this.headers, ...req.headers };
    let body: string | undefined;
    if (req.form) {
      const form = new URLSearchParams();
      encodeParams(req.form, form);
      body = form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] = 'application/json';
    }
    if (req.gzip) headers['accept-encoding'] = 'gzip';
    headers.accept ??= 'application/json, text/plain, */*';
    this.requestCount++;
    const started = this.clock.now();
    const response = await request(url, { method, headers, body, dispatcher: this.dispatcher, ...(this.options.signal ? { signal: this.options.signal } : {}) });
    this.log.debug(`${method} ${redactUrl(url)} -> ${response.statusCode}`, { ms: this.clock.now() - started });
    this.options.onResponse?.(response.statusCode, response.headers);
    if (response.statusCode >= 400) {
      const text = await readLimited(response.body);
      throw new HttpError({
        method,
        url: redactUrl(url),
        status: response.statusCode,
        serviceMessage: serviceMessageFrom(text),
        retryAfterMs: parseRetryAfter(response.headers['retry-after'], this.clock.now()),
      });
    }
    return response;
  }

  private toHttpError(err: unknown, method: HttpMethod, url: URL): unknown {
    if (err instanceof HttpError) return err;
    const code = (err as { code?: unknown } | null)?.code;
    return new HttpError(
      { method, url: redactUrl(url), code: typeof code === 'string' ? code : undefined, serviceMessage: err instanceof Error ? err.message : undefined },
      { cause: err },
    );
  }

  /** Waits on the client's clock; ends early (InterruptedError) when the run is stopping. */
  sleep(ms: number): Promise<void> {
    return this.clock.sleep(ms);
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.destroy();
  }
}
