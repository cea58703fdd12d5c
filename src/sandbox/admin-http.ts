/**
 * Request helpers every admin endpoint shares (admin.ts, admin-mailchimp.ts): JSON errors
 * `{"error": "..."}`, a JSON body with a generous size cap, and object checks.
 */
import type { RequestContext } from './context.js';
import { HttpError } from './http.js';

export const adminError = (status: number, message: string): HttpError => new HttpError(status, { error: message });

// Event injections for a benchmark can be large.
const ADMIN_BODY_LIMIT_BYTES = 256 * 1024 * 1024;

export async function readJsonBody(ctx: RequestContext): Promise<unknown> {
  const body = await ctx.body(ADMIN_BODY_LIMIT_BYTES);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw adminError(400, 'Body is not valid JSON');
  }
}

export function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw adminError(400, `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}
