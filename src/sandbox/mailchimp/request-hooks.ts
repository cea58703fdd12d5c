/**
 * The hooks every /3.0 call goes through (server.ts): Mailchimp's Date header, API key
 * authentication and the 10-simultaneous-connections cap.
 */
import type { Hook } from '../context.js';
import { parseBasicAuth, parseBearer } from '../http.js';
import type { SandboxState } from '../state.js';
import { problem } from './problems.js';

export const MAX_CONNECTIONS_PER_KEY = 10;

/** Mailchimp's Date header, by the sandbox clock (a pinned clock is the service's clock). */
export function serverDate(state: SandboxState): Hook {
  return async (ctx, next) => {
    ctx.res.setHeader('Date', new Date(state.clock.now()).toUTCString());
    return next();
  };
}

/** HTTP Basic with any user name and the key as password, or a Bearer token equal to the key. */
export function mailchimpAuth(state: SandboxState): Hook {
  return async (ctx, next) => {
    const header = ctx.req.headers.authorization;
    if (!header) throw problem(401, 'API Key Missing', 'Your request did not include an API key.');
    const basic = parseBasicAuth(header);
    const key = basic ? basic.password : parseBearer(header);
    if (key !== state.config.mailchimp.apiKey) {
      throw problem(401, 'API Key Invalid', "Your API key may be invalid, or you've attempted to access the wrong datacenter.");
    }
    ctx.principal = { kind: 'mailchimp_key', id: key };
    return next();
  };
}

/**
 * Counts requests in flight per key, from arrival until the response finishes or the client
 * goes away; the eleventh at once gets 429.
 */
export function connectionCap(state: SandboxState): Hook {
  return async (ctx, next) => {
    const key = ctx.principal?.id ?? '';
    const count = (state.inflight.get(key) ?? 0) + 1;
    state.inflight.set(key, count);
    // The most requests in flight at once since the request log was last cleared (tests assert on it).
    if (count > state.peakInflight) state.peakInflight = count;
    ctx.res.once('close', () => {
      const remaining = (state.inflight.get(key) ?? 1) - 1;
      if (remaining <= 0) state.inflight.delete(key);
      else state.inflight.set(key, remaining);
    });
    if (count > MAX_CONNECTIONS_PER_KEY) {
      throw problem(429, 'Too Many Requests', `You have exceeded the limit of ${MAX_CONNECTIONS_PER_KEY} simultaneous connections.`);
    }
    return next();
  };
}
