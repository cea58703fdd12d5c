/**
 * Small HTTP helpers shared by every family: errors that carry their response, JSON replies,
 * body reading with a size cap, route tables, and a cancellable delay.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const JSON_TYPE = 'application/json; charset=utf-8';

/** An error that already knows the response it should become. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly contentType: string = JSON_TYPE,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(typeof body === 'string' ? body : `HTTP ${status}`);
    this.name = 'HttpError';
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType: string = JSON_TYPE,
  headers: Readonly<Record<string, string>> = {},
): void {
  const payload = Buffer.from(JSON.stringify(body) ?? 'null');
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': payload.length });
  res.end(payload);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  if (typeof error.body === 'string') {
    const payload = Buffer.from(error.body);
    res.writeHead(error.status, { ...error.headers, 'Content-Type': error.contentType, 'Content-Length': payload.length });
    res.end(payload);
    return;
  }
  sendJson(res, error.status, error.body, error.contentType, error.headers);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/** Reads a request body whole; bodies here are JSON or form documents, capped in size. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limitBytes) {
      throw new HttpError(413, { error: `Request body larger than ${limitBytes} bytes` });
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Resolves after `ms`, or at once when the signal aborts (the sandbox is closing). */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Decoded `user:password` of a Basic Authorization header, or null. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
  const match = header ? /^Basic\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) return null;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { user: decoded, password: '' };
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function parseBearer(header: string | undefined): string | null {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match ? (match[1] as string) : null;
}

export type RouteParams = Readonly<Record<string, string>>;

export interface Route<C> {
  readonly method: string | readonly string[];
  /** Literal segments and {name} placeholders, e.g. /3.0/lists/{list_id}/members/{hash}. */
  readonly path: string;
  readonly handle: (ctx: C, params: RouteParams) => Promise<void> | void;
  /** Mixpanel only: the call needs `project_id` with service-account auth (default true). */
  readonly projectScoped?: boolean;
}

/** What a route table needs of a route: its methods and its path pattern. */
export interface RoutePattern {
  readonly method: string | readonly string[];
  readonly path: string;
}

interface CompiledRoute<R> {
  readonly route: R;
  readonly methods: readonly string[];
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

export type RouteMatch<C, R = Route<C>> =
  | { kind: 'found'; route: R; params: RouteParams }
  | { kind: 'method_not_allowed'; allowed: readonly string[] }
  | { kind: 'not_found' };

/**
 * Routes matched in order; a path that exists with another method is told apart from an unknown path.
 * `R` is the route type handed back (any RoutePattern; the server's routes by default).
 */
export class RouteTable<C, R extends RoutePattern = Route<C>> {
  private readonly compiled: ReadonlyArray<CompiledRoute<R>>;

  constructor(routes: ReadonlyArray<R>) {
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const source = route.path
        .split('/')
        .map((segment) => {
          const placeholder = /^\{(\w+)\}$/.exec(segment);
          if (!placeholder) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(placeholder[1] as string);
          return '([^/]+)';
        })
        .join('/');
      const methods = typeof route.method === 'string' ? [route.method] : [...route.method];
      return { route, methods, pattern: new RegExp(`^${source}$`), names };
    });
  }

  match(method: string, pathname: string): RouteMatch<C, R> {
    const allowed: string[] = [];
    for (const entry of this.compiled) {
      const m = entry.pattern.exec(pathname);
      if (!m) continue;
      if (!entry.methods.includes(method)) {
        allowed.push(...entry.methods);
        continue;
      }
      const params: Record<string, string> = {};
      entry.names.forEach((name, i) => {
        params[name] = safeDecode(m[i + 1] as string);
      });
      return { kind: 'found', route: entry.route, params };
    }
    return allowed.length > 0 ? { kind: 'method_not_allowed', allowed } : { kind: 'not_found' };
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Query parameters as a plain object; repeated keys become arrays. */
export function paramsObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[key] = [existing, value];
  }
  return out;
}
