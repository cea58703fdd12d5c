/**
 * Mixpanel's error bodies. Authentication failures answer {"error": ..., "status": "error"};
 * request validation (export, engage, ...) answers {"request": <path and query>, "error": ...},
 * the shape the 2.0 APIs use.
 */
import { HttpError } from '../http.js';

/** What a validation error quotes of the request (a RequestContext is one). */
export interface RequestedUrl {
  readonly url: URL;
}

export function mixpanelStatusError(status: number, message: string, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, { error: message, status: 'error' }, undefined, headers);
}

export function mixpanelRequestError(ctx: RequestedUrl, message: string, status = 400): HttpError {
  return new HttpError(status, { request: `${ctx.url.pathname}${ctx.url.search}`, error: message });
}

export const mixpanelNotFound = (): HttpError => mixpanelStatusError(404, 'Not Found');
