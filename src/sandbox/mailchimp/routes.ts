/**
 * Every /3.0 route as the HTTP server serves it: the API handlers (member-routes.ts,
 * segment-routes.ts, batch-routes.ts) wrapped so a request becomes an ApiCall and the ApiAnswer
 * becomes the response (or, under a lose_answer fault, a destroyed connection).
 */
import type { RequestContext } from '../context.js';
import type { Route } from '../http.js';
import { sendEmpty, sendJson } from '../http.js';
import type { ApiAnswer, ApiCall, ApiRoute } from './api.js';
import { BATCH_API_ROUTES } from './batch-routes.js';
import { GROUP_API_ROUTES } from './group-routes.js';
import { MEMBER_API_ROUTES } from './member-routes.js';
import { jsonParseProblem } from './problems.js';
import { SEGMENT_API_ROUTES } from './segment-routes.js';

export { RESULTS_ROUTES, s3NotFound } from './batch-routes.js';

async function readJson(ctx: RequestContext): Promise<unknown> {
  const body = await ctx.body();
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw jsonParseProblem();
  }
}

function httpCall(ctx: RequestContext): ApiCall {
  return {
    state: ctx.state,
    method: ctx.method,
    query: ctx.query,
    json: () => readJson(ctx),
    countMembers: (n) => {
      if (ctx.logEntry) ctx.logEntry.members = n;
    },
    origin: {},
  };
}

/** Destroys the connection without an answer when a lose_answer fault took the request. */
export function loseAnswerIfAsked(ctx: RequestContext, status: number): boolean {
  if (!ctx.loseAnswer) return false;
  ctx.res.statusCode = status;
  ctx.req.socket.destroy();
  return true;
}

function send(ctx: RequestContext, answer: ApiAnswer): void {
  if (loseAnswerIfAsked(ctx, answer.status)) return;
  if (answer.body === undefined) sendEmpty(ctx.res, answer.status);
  else sendJson(ctx.res, answer.status, answer.body);
}

function toHttpRoute(route: ApiRoute): Route<RequestContext> {
  return {
    method: route.method,
    path: route.path,
    handle: async (ctx, params) => send(ctx, await route.handle(httpCall(ctx), params)),
  };
}

export const MAILCHIMP_API_ROUTES: readonly ApiRoute[] = [...MEMBER_API_ROUTES, ...GROUP_API_ROUTES, ...SEGMENT_API_ROUTES, ...BATCH_API_ROUTES];

export const MAILCHIMP_ROUTES: ReadonlyArray<Route<RequestContext>> = MAILCHIMP_API_ROUTES.map(toHttpRoute);
