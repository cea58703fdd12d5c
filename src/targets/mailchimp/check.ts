/**
 * `target-mailchimp --test`: GET /ping proves the key and the data center, GET /lists/{list_id}
 * (a few fields) proves the audience exists in this account. Nothing is written. Self-contained
 * on purpose: it reads only the connection keys of the config.
 */
import { checkLine, describeFailure, type CheckLine } from '../../cli/check-report.js';
import { HttpClient } from '../../http/client.js';
import { mailchimpAuth, mailchimpBaseUrl } from '../../mailchimp/account.js';
import { HttpError } from '../../http/errors.js';

export interface TargetConnectionConfig {
  api_key?: string;
  access_token?: string;
  server?: string;
  list_id: string;
  api_base_url?: string;
  request_timeout?: number;
}

interface ListAnswer {
  id?: string;
  name?: string;
  stats?: { member_count?: number };
}

const CHECK_RETRY = { maxAttempts: 2, baseDelayMs: 500, maxDelayMs: 2000, maxRetryAfterMs: 5000 };

/** The API root: the override, or https://<dc>.api.mailchimp.com/3.0 (dc from server or the key's suffix). */
export function checkBaseUrl(config: TargetConnectionConfig): string {
  return mailchimpBaseUrl(config);
}

export async function checkTargetConnection(config: TargetConnectionConfig, userAgent: string): Promise<CheckLine[]> {
  const { auth, describe } = mailchimpAuth(config, 'target-mailchimp');
  const timeoutMs = Math.min(config.request_timeout ?? 30, 30) * 1000;
  const client = new HttpClient({
    name: 'Mailchimp',
    baseUrl: checkBaseUrl(config),
    auth,
    userAgent,
    retry: CHECK_RETRY,
    timeouts: { connectMs: timeoutMs, headersMs: timeoutMs, bodyMs: timeoutMs },
    describeAuthFailure: (status, url) => `Mailchimp refused the credentials (${status}) at ${url.host}: check ${describe}`,
  });
  const lines: CheckLine[] = [];
  try {
    try {
      await client.json<unknown>({ path: '/ping' });
      lines.push(checkLine('ok', 'credentials', `Mailchimp at ${new URL(client.buildUrl('/').origin).host} accepts the ${config.api_key ? 'API key' : 'access token'}`));
    } catch (err) {
      lines.push(checkLine('fail', 'credentials', describeFailure(err)));
      return lines;
    }
    try {
      const list = await client.json<ListAnswer>({ path: `/lists/${encodeURIComponent(config.list_id)}`, query: { fields: 'id,name,stats.member_count' } });
      const members = list.stats?.member_count;
      lines.push(checkLine('ok', 'audience', `list_id ${config.list_id} is "${list.name ?? '?'}"${members === undefined ? '' : ` (${members} subscribed members)`}`));
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) {
        lines.push(
          checkLine('fail', 'audience', `list_id ${config.list_id} does not exist in this Mailchimp account: copy the Audience ID from Audience > Settings > Audience name and defaults`),
        );
      } else {
        lines.push(checkLine('fail', 'audience', describeFailure(err)));
      }
    }
    return lines;
  } finally {
    await client.close();
  }
}
