/**
 * What every Mailchimp client of this project derives from its connection settings, in one
 * place (target-mailchimp writes an audience, tap-mailchimp reads it): the data center of an API
 * key, the API root, the HTTP authentication, and a member's subscriber hash.
 * Pure functions; nothing here calls Mailchimp.
 */
import { hash } from 'node:crypto';
import type { HttpAuth } from '../http/client.js';

/** The connection keys both binaries' configs have. */
export interface MailchimpConnection {
  api_key?: string;
  access_token?: string;
  server?: string;
  api_base_url?: string;
}

/** The data center is the API key's suffix after its last '-' (…-us6 -> us6). */
export function dataCenterOf(apiKey: string): string | undefined {
  const match = /-([a-z]+\d+)$/.exec(apiKey.trim());
  return match?.[1];
}

/** The API root: the override (a proxy, the sandbox), or https://<dc>.api.mailchimp.com/3.0. */
export function mailchimpBaseUrl(connection: MailchimpConnection): string {
  if (connection.api_base_url) return connection.api_base_url.replace(/\/+$/, '');
  const dc = connection.server ?? (connection.api_key ? dataCenterOf(connection.api_key) : undefined);
  return `https://${dc}.api.mailchimp.com/3.0`;
}

/**
 * HTTP Basic with any user name and the key as password (Mailchimp's rule), or the OAuth token
 * as a Bearer; `describe` names the credential for an error message the user can act on.
 */
export function mailchimpAuth(connection: MailchimpConnection, username: string): { auth: HttpAuth; describe: string } {
  if (connection.api_key) {
    return { auth: { type: 'basic', username, password: connection.api_key }, describe: 'api_key (Account > Extras > API keys) and its -usN suffix' };
  }
  return { auth: { type: 'bearer', token: connection.access_token ?? '' }, describe: 'access_token and server' };
}

/** The credential problems of a config, one line each (none: the connection keys are usable). */
export function connectionProblems(connection: Record<string, unknown>): string[] {
  const apiKey = connection.api_key;
  if (typeof apiKey === 'string') {
    if (!dataCenterOf(apiKey) && typeof connection.server !== 'string' && typeof connection.api_base_url !== 'string') {
      return ['"api_key" does not end with a data center such as -us6: copy the whole key from Account > Extras > API keys'];
    }
    return [];
  }
  if (typeof connection.access_token === 'string') {
    if (typeof connection.server !== 'string' && typeof connection.api_base_url !== 'string') {
      return ['"server" is required with access_token: the data center such as us6 (from the OAuth metadata endpoint)'];
    }
    return [];
  }
  return ['credentials are missing: set "api_key" (Account > Extras > API keys), or "access_token" with "server"'];
}

/** Mailchimp's member id: MD5 of the lower-cased address. */
export function subscriberHash(email: string): string {
  return hash('md5', email.trim().toLowerCase(), 'hex');
}
