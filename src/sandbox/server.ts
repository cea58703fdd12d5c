/**
 * One Node process serving an emulated Mixpanel and an emulated Mailchimp on 127.0.0.1.
 *
 * Requests are sorted into families by path; each family has its own hook chain (auth, limits,
 * latency, and later fault injection) and its own error style:
 *   export     GET  /api/2.0/export                      Mixpanel raw export
 *   query      /api/...                                  Mixpanel query API (route table in mixpanel/query.ts)
 *   mailchimp  /3.0/...                                  Mailchimp Marketing API v3
 *              /mailchimp-api-batch/...                  batch results downloads (pre-signed, no API key)
 *   admin      /__admin/...                              sandbox control (admin.ts), no auth, not logged
 *
 * Rate limits (rate-limit-hook.ts) and fault injection (fault-injection.ts) are hooks of this kind. A hook in a family's `hooks` list runs
 * for every request of that family, after authentication; it can answer at once (throw an
 * HttpError: 429 with Retry-After, a 5xx burst), wait (latency, stalls), or add stream stages
 * that streamed bodies (the export) pass through: ctx.bodyStages before compression (cut
 * mid-line, "terminated early" lines), ctx.wireStages after it (truncated gzip, cut after N
 * bytes). Hooks read their knobs from state.settings, which POST /__admin/settings changes at
 * run time.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../log/logger.js';
import { ADMIN_ROUTES, adminError } from './admin.js';
import type { SandboxCredentials } from './configs.js';
import { RequestContext, runHooks } from './context.js';
import type { Hook } from './context.js';
import { isNotifyFamily, type Family, type FamilyName } from './families.js';
import { injectFaults } from './fault-injection.js';
import { rateLimit } from './rate-limit-hook.js';
import { HttpError, RouteTable, delay, paramsObject, sendError, sendJson } from './http.js';
import { MAILCHIMP_ROUTES, RESULTS_ROUTES, loseAnswerIfAsked, s3NotFound } from './mailchimp/routes.js';
import { BatchRunner } from './mailchimp/batch-runner.js';
import { mailchimpErrorResponse, mailchimpMethodNotAllowed, mailchimpNotFound } from './mailchimp/problems.js';
import { connectionCap, mailchimpAuth, serverDate } from './mailchimp/request-hooks.js';
import { mixpanelAuth } from './mixpanel/auth.js';
import { mixpanelNotFound, mixpanelStatusError } from './mixpanel/errors.js';
import { handleExport } from './mixpanel/export.js';
import { QUERY_ROUTES } from './mixpanel/query.js';
import { resolveOptions } from './options.js';
import type { SandboxOptions } from './options.js';
import { SandboxState } from './state.js';
import { startSmtpSink, type SmtpSink } from './notify/smtp.js';
import { HOOK_ROUTES, hooksNotFound, hooksResponse, TWILIO_PREFIX, TWILIO_ROUTES, twilioNotFound, twilioResponse } from './notify/routes.js';

export type { SandboxOptions } from './options.js';
export type { SandboxCredentials } from './configs.js';

const log = createLogger('sandbox');

export interface Sandbox {
  /** e.g. http://127.0.0.1:40123 (no trailing slash). */
  url: string;
  port: number;
  /** What clients should use: Mixpanel project id and secrets, Mailchimp API key and list id. */
  credentials: SandboxCredentials;
  /** First and last day with generated events (YYYY-MM-DD, project time zone). */
  dataRange: { fromDate: string; toDate: string };
  projectTimezone: string;
  /** The notification sinks: SMTP (plain + STARTTLS, and implicit TLS), Twilio, webhooks (notify/). */
  notify: {
    smtp: Omit<SmtpSink, 'close'>;
    twilio: { baseUrl: string; accountSid: string; authToken: string; from: string };
    webhookBaseUrl: string;
  };
  /** Closes the server and every keep-alive socket. */
  close(): Promise<void>;
}

interface FamilyDefinition {
  name: FamilyName;
  matches(pathname: string): boolean;
  routes: RouteTable<RequestContext>;
  hooks: readonly Hook[];
  notFound(): HttpError;
  methodNotAllowed(allowed: readonly string[]): HttpError;
  /** Any error a hook or handler threw, as the response this service would send. */
  toResponse(err: unknown): HttpError;
}

/** Adds the family's configured latency (read per request, so /__admin/settings applies at once). */
function latency(family: Family): Hook {
  return async (ctx, next) => {
    await delay(ctx.state.settings.latencyMs[family], ctx.state.closing.signal);
    return next();
  };
}

function mixpanelResponse(err: unknown): HttpError {
  return err instanceof HttpError ? err : mixpanelStatusError(500, 'Internal server error');
}

function families(state: SandboxState): FamilyDefinition[] {
  const mixpanelMethodNotAllowed = (allowed: readonly string[]) =>
    mixpanelStatusError(405, 'Method Not Allowed', { Allow: [...new Set(allowed)].join(', ') });
  return [
    {
      name: 'export',
      matches: (p) => p === '/api/2.0/export',
      routes: new RouteTable([{ method: 'GET', path: '/api/2.0/export', handle: handleExport }]),
      hooks: [mixpanelAuth(state), rateLimit('export'), injectFaults('export'), latency('export')],
      notFound: mixpanelNotFound,
      methodNotAllowed: mixpanelMethodNotAllowed,
      toResponse: mixpanelResponse,
    },
    {
      name: 'query',
      matches: (p) => p.startsWith('/api/'),
      routes: new RouteTable(QUERY_ROUTES),
      hooks: [mixpanelAuth(state), rateLimit('query'), injectFaults('query'), latency('query')],
      notFound: mixpanelNotFound,
      methodNotAllowed: mixpanelMethodNotAllowed,
      toResponse: mixpanelResponse,
    },
    {
      name: 'mailchimp',
      matches: (p) => p === '/3.0' || p.startsWith('/3.0/'),
      routes: new RouteTable(MAILCHIMP_ROUTES),
      hooks: [serverDate(state), mailchimpAuth(state), connectionCap(state), injectFaults('mailchimp'), latency('mailchimp')],
      notFound: mailchimpNotFound,
      methodNotAllowed: mailchimpMethodNotAllowed,
      toResponse: mailchimpErrorResponse,
    },
    // Notification sinks (notify/routes.ts): Twilio's Messages API and a webhook receiver.
    {
      name: 'twilio',
      matches: (p) => p === TWILIO_PREFIX || p.startsWith(`${TWILIO_PREFIX}/`),
      routes: new RouteTable(TWILIO_ROUTES),
      hooks: [],
      notFound: twilioNotFound,
      methodNotAllowed: twilioNotFound,
      toResponse: twilioResponse,
    },
    {
      name: 'hooks',
      matches: (p) => p.startsWith('/hooks/'),
      routes: new RouteTable(HOOK_ROUTES),
      hooks: [],
      notFound: hooksNotFound,
      methodNotAllowed: hooksNotFound,
      toResponse: hooksResponse,
    },
    {
      // Batch results: Mailchimp hands out pre-signed S3 URLs, so no API key, cap or latency.
      name: 'mailchimp',
      matches: (p) => p.startsWith('/mailchimp-api-batch/'),
      routes: new RouteTable(RESULTS_ROUTES),
      hooks: [injectFaults('mailchimp')],
      notFound: s3NotFound,
      methodNotAllowed: () => s3NotFound(),
      toResponse: (err) => (err instanceof HttpError ? err : mailchimpErrorResponse(err)),
    },
    {
      name: 'admin',
      matches: (p) => p === '/__admin' || p.startsWith('/__admin/'),
      routes: new RouteTable(ADMIN_ROUTES),
      hooks: [],
      notFound: () => adminError(404, 'Unknown admin endpoint'),
      methodNotAllowed: (allowed) => adminError(405, `Allowed: ${[...new Set(allowed)].join(', ')}`),
      toResponse: (err) => (err instanceof HttpError ? err : adminError(500, err instanceof Error ? err.message : String(err))),
    },
  ];
}

async function handleRequest(state: SandboxState, all: readonly FamilyDefinition[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  // Clients differ on trailing slashes (/api/2.0/export/); the services accept both.
  const pathname = url.pathname.replace(/\/+$/, '') || '/';
  const family = all.find((f) => f.matches(pathname));
  if (!family) {
    sendJson(res, 404, { error: 'Not Found', served: ['/api/2.0/export', '/api/2.0/engage', '/api/query/...', '/api/app/me', '/3.0/...', '/__admin/...'] });
    return;
  }
  const logEntry =
    family.name === 'admin' || isNotifyFamily(family.name)
      ? null
      : state.requestLog.add({
          time: new Date(state.clock.now()).toISOString(),
          family: family.name,
          method: (req.method ?? 'GET').toUpperCase(),
          path: url.pathname,
          query: paramsObject(url.searchParams),
          status: null,
          duration_ms: null,
          request_bytes: Number(req.headers['content-length'] ?? 0) || 0,
          ...(req.headers['user-agent'] ? { user_agent: req.headers['user-agent'] } : {}),
        });
  const ctx = new RequestContext(req, res, state, family.name, logEntry);
  // Every answer is dated by the sandbox's clock, as a service's own Date header would be: clients
  // that take their watermark from it (the taps do) then agree with the data served at --now.
  res.setHeader('Date', new Date(state.clock.now()).toUTCString());
  if (logEntry) {
    // Counted when the answer is handed over ('finish'), before the client can have read it, so a
    // summary asked for right after a response counts it; 'close' without 'finish' is an abort.
    let counted = false;
    const count = (): void => {
      if (counted) return;
      counted = true;
      logEntry.status = res.statusCode;
      logEntry.duration_ms = Math.round((performance.now() - ctx.startedAt) * 1000) / 1000;
      if (!res.writableFinished) logEntry.aborted = true;
      state.requestLog.complete(logEntry);
    };
    res.once('finish', count);
    res.once('close', count);
  }
  const match = family.routes.match(ctx.method, pathname);
  if (match.kind === 'found') {
    ctx.route = match.route;
    if (logEntry) logEntry.route = match.route.path;
  }
  try {
    await runHooks(family.hooks, ctx, async () => {
      if (match.kind === 'not_found') throw family.notFound();
      if (match.kind === 'method_not_allowed') throw family.methodNotAllowed(match.allowed);
      await match.route.handle(ctx, match.params);
    });
  } catch (err) {
    const response = family.toResponse(err);
    // lose_answer: the request ran; its answer, even an error, never reaches the client.
    if (loseAnswerIfAsked(ctx, response.status)) return;
    if (response.status >= 500 && !logEntry?.fault) log.error('request failed', { method: ctx.method, path: url.pathname, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, response);
  }
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const config = resolveOptions(options);
  const state = new SandboxState(config, (s) => new BatchRunner(s));
  const routing = families(state);
  const server = createServer({ keepAlive: true }, (req, res) => {
    handleRequest(state, routing, req, res).catch((err: unknown) => {
      log.error('unhandled request error', { error: err instanceof Error ? err.message : String(err) });
      if (!res.destroyed) res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: the sandbox's secrets are public and its data is fake.
    server.listen(config.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  state.url = url;
  const smtp = await startSmtpSink(state.notify, state.closing.signal).catch(async (err: unknown) => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  });
  state.notify.endpoint = { port: smtp.port, tlsPort: smtp.tlsPort, certificatePem: smtp.certificatePem };
  log.debug('sandbox listening', { url, seed: config.seed, timezone: config.projectTimezone });

  let closed: Promise<void> | null = null;
  return {
    url,
    port,
    credentials: state.credentials(),
    dataRange: state.dataRange(),
    projectTimezone: config.projectTimezone,
    notify: {
      smtp: { host: smtp.host, port: smtp.port, tlsPort: smtp.tlsPort, username: smtp.username, password: smtp.password, certificatePem: smtp.certificatePem },
      twilio: { baseUrl: `${url}${TWILIO_PREFIX}`, ...config.notify.twilio },
      webhookBaseUrl: `${url}/hooks`,
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        state.closing.abort();
        const stopped = new Promise<void>((done) => server.close(() => done()));
        server.closeAllConnections();
        // Batch processing stops and its results archives (temporary files) go; the SMTP sink closes.
        void Promise.all([stopped, state.batchRunner.close(), smtp.close()]).then(() => resolve());
      });
      return closed;
    },
  };
}
