/**
 * `tap-mailchimp --test`: GET /ping proves the key and the data center; one audience read (the
 * first of list_ids, or the account's first audience, count=1) proves the key may read them.
 * Nothing else is read. Retries are few: a test should answer quickly.
 */
import { checkLine, describeFailure, type CheckLine } from '../../cli/check-report.js';
import { HttpClient } from '../../http/client.js';
import { HttpError } from '../../http/errors.js';
import { mailchimpAuth, mailchimpBaseUrl } from '../../mailchimp/account.js';
import { configuredListIds, type MailchimpTapConfig } from './config.js';

const CHECK_RETRY = { maxAttempts: 2, baseDelayMs: 500, maxDelayMs: 2000, maxRetryAfterMs: 5000 };

interface ListAnswer {
  id?: string;
  name?: string;
  stats?: { member_count?: number; total_contacts?: number };
}

function audienceLine(list: ListAnswer, more: string): CheckLine {
  const members = list.stats?.member_count;
  return checkLine('ok', 'audience', `${list.id ?? '?'} is "${list.name ?? '?'}"${members === undefined ? '' : ` (${members} subscribed members)`}${more}`);
}

async function checkAudience(client: HttpClient, config: MailchimpTapConfig): Promise<CheckLine> {
  const ids = configuredListIds(config);
  const fields = 'id,name,stats.member_count';
  try {
    if (ids && ids[0] !== undefined) {
      const list = await client.json<ListAnswer>({ path: `/lists/${encodeURIComponent(ids[0])}`, query: { fields } });
      return audienceLine(list, ids.length > 1 ? ` (the first of ${ids.length} in list_ids)` : '');
    }
    const page = await client.json<{ lists?: ListAnswer[]; total_items?: number }>({ path: '/lists', query: { count: 1, fields: `lists.${fields.split(',').join(',lists.')},total_items` } });
    const first = page.lists?.[0];
    if (!first) return checkLine('warn', 'audience', 'the account has no audience: there is nothing to read');
    return audienceLine(first, ` (1 of the account's ${page.total_items ?? '?'} audiences)`);
  } catch (err) {
    if (err instanceof HttpError && err.status === 404 && ids?.[0]) {
      return checkLine('fail', 'audience', `list_ids names ${ids[0]}, which this Mailchimp account does not have: copy the Audience ID from Audience > Settings > Audience name and defaults`);
    }
    return checkLine('fail', 'audience', describeFailure(err));
  }
}

export async function checkMailchimpTapConnection(config: MailchimpTapConfig, userAgent: string): Promise<CheckLine[]> {
  const { auth, describe } = mailchimpAuth(config, 'tap-mailchimp');
  const timeoutMs = Math.min(config.request_timeout, 30) * 1000;
  const client = new HttpClient({
    name: 'Mailchimp',
    baseUrl: mailchimpBaseUrl(config),
    auth,
    userAgent: config.user_agent ?? userAgent,
    retry: CHECK_RETRY,
    timeouts: { connectMs: timeoutMs, headersMs: timeoutMs, bodyMs: timeoutMs },
    describeAuthFailure: (status, url) => `Mailchimp refused the credentials (${status}) at ${url.host}: check ${describe}`,
  });
  try {
    try {
      await client.json<unknown>({ path: '/ping' });
    } catch (err) {
      return [checkLine('fail', 'credentials', describeFailure(err))];
    }
    const credentials = checkLine('ok', 'credentials', `Mailchimp at ${new URL(client.buildUrl('/').origin).host} accepts the ${config.api_key ? 'API key' : 'access token'}`);
    return [credentials, await checkAudience(client, config)];
  } finally {
    await client.close();
  }
}
