/**
 * Mixpanel's rate limits (rate-limits.ts) applied to requests: a hook per Mixpanel family that
 * refuses a request over a limit with the limiter's 429, or counts it while it runs.
 */
import type { Hook } from './context.js';

/** The hook for one Mixpanel family: refuse over the limit, else count the request while it runs. */
export function rateLimit(family: 'export' | 'query'): Hook {
  return async (ctx, next) => {
    const settings = ctx.state.settings.rateLimits;
    if (!settings.enabled || !ctx.route) return next();
    const limiter = ctx.state.limiters[family];
    // Engage pages after the first reuse the first page's session and are free (REFERENCE.md).
    const counts = !(family === 'query' && ((await ctx.params()).get('session_id') ?? '') !== '');
    const refusal = limiter.admit(ctx.state.clock.now(), settings[family], settings, family, ctx.state.config.mixpanel.projectId, counts);
    if (refusal) throw refusal;
    try {
      await next();
    } finally {
      limiter.inFlight = Math.max(0, limiter.inFlight - 1);
    }
  };
}
