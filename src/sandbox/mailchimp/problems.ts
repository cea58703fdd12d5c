/**
 * Mailchimp's error documents (application/problem+json): every error a route, a batch
 * operation or a fault answers is one of these.
 */
import { randomUUID } from 'node:crypto';
import { HttpError } from '../http.js';
import { MemberRejection } from './members.js';

export const PROBLEM_TYPE = 'https://mailchimp.com/developer/marketing/docs/errors/';
const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function problem(status: number, title: string, detail: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, { type: PROBLEM_TYPE, title, status, detail, instance: randomUUID(), ...extra }, PROBLEM_CONTENT_TYPE, headers);
}

export const mailchimpNotFound = (): HttpError => problem(404, 'Resource Not Found', 'The requested resource could not be found.');

export const mailchimpMethodNotAllowed = (allowed: readonly string[]): HttpError =>
  problem(
    405,
    'Method Not Allowed',
    "The requested method and resource are not compatible. See the Allow header for this resource's available methods.",
    {},
    { Allow: [...new Set(allowed)].join(', ') },
  );

export const jsonParseProblem = (): HttpError => problem(400, 'JSON Parse Exception', 'We encountered an unspecified JSON parsing error.');

/** Member rejections become problem documents; everything else becomes a 500 problem. */
export function mailchimpErrorResponse(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof MemberRejection) {
    return problem(err.status, err.title, err.detail, err.errors ? { errors: err.errors.map((e) => ({ field: e.field, message: e.message })) } : {});
  }
  return problem(500, 'Internal Server Error', 'An unexpected internal error has occurred. Please contact Support for more information.');
}
