/**
 * One request as the sandbox's hooks and handlers see it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import { readBody } from './http.js';
import type { Route } from './http.js';
import type { FamilyName } from './families.js';
import type { RequestLogEntry } from './request-log.js';
import type { SandboxState } from './state.js';

/** Who a request authenticated as. */
export interface Principal {
  kind: 'project_secret' | 'service_account' | 'mailchimp_key';
  id: string;
}

/** Bodies here are JSON or form documents; a 500-member batch is well under this. */
export const BODY_LIMIT_BYTES = 32 * 1024 * 1024;

export class RequestContext {
  readonly url: URL;
  readonly startedAt = performance.now();
  route: Route<RequestContext> | null = null;
  principal: Principal | null = null;
  /**
   * Stages a hook may add to a streamed body (the export), so fault injection slots in without
   * touching the handlers: bodyStages see the plain lines (cut mid-line, "terminated early"),
   * wireStages the bytes after compression (truncated gzip, cut after N bytes, stalls).
   */
  readonly bodyStages: Array<() => Transform> = [];
  readonly wireStages: Array<() => Transform> = [];
  /** Set by a fault: once the stages are done, close the connection without finishing the response. */
  cutConnection = false;
  /** Set by a fault (lose_answer): the request runs in full, then the connection is destroyed unanswered. */
  loseAnswer = false;
  private bodyPromise: Promise<Buffer> | null = null;
  private paramsPromise: Promise<URLSearchParams> | null = null;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly state: SandboxState,
    readonly family: FamilyName,
    readonly logEntry: RequestLogEntry | null,
  ) {
    this.url = new URL(req.url ?? '/', 'http://127.0.0.1');
  }

  get method(): string {
    return (this.req.method ?? 'GET').toUpperCase();
  }

  get query(): URLSearchParams {
    return this.url.searchParams;
  }

  /** The raw body, read once (the limit applies to the first call). */
  body(limitBytes: number = BODY_LIMIT_BYTES): Promise<Buffer> {
    this.bodyPromise ??= readBody(this.req, limitBytes).then((buffer) => {
      if (this.logEntry) this.logEntry.request_bytes = buffer.length;
      return buffer;
    });
    return this.bodyPromise;
  }

  /** Query parameters, with a form-encoded body's fields on top (Mixpanel's POST /engage). */
  params(): Promise<URLSearchParams> {
    this.paramsPromise ??= (async () => {
      const merged = new URLSearchParams(this.url.searchParams);
      const type = this.req.headers['content-type'] ?? '';
      if (this.method === 'POST' && type.includes('application/x-www-form-urlencoded')) {
        const form = new URLSearchParams((await this.body()).toString('utf8'));
        for (const key of new Set(form.keys())) {
          merged.delete(key);
          for (const value of form.getAll(key)) merged.append(key, value);
        }
      }
      return merged;
    })();
    return this.paramsPromise;
  }
}

export type Hook = (ctx: RequestContext, next: () => Promise<void>) => Promise<void>;

/** Runs hooks in order around a final handler (each hook decides whether to call next). */
export function runHooks(hooks: readonly Hook[], ctx: RequestContext, last: () => Promise<void>): Promise<void> {
  const step = (i: number): Promise<void> => {
    const hook = hooks[i];
    return hook ? hook(ctx, () => step(i + 1)) : last();
  };
  return step(0);
}
