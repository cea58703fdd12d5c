/**
 * The optional digest of the people added in a run, POSTed as JSON to notify_webhook_url
 * (a chat workflow, an internal service). A failure here never fails the run: the people are
 * in the audience and the state has been released; it is logged as a warning.
 */
import { HttpClient } from '../../http/client.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../errors/index.js';
import { registerSecret } from '../../log/redact.js';

export const DIGEST_LIMIT = 1000;

export interface AddedPerson {
  email: string;
  merge_fields: Record<string, unknown>;
}

export class AddedDigest {
  readonly people: AddedPerson[] = [];
  total = 0;

  add(person: AddedPerson): void {
    this.total++;
    if (this.people.length < DIGEST_LIMIT) this.people.push(person);
  }
}

export async function sendDigest(url: string, body: { list_id: string; list_name: string; digest: AddedDigest; finished_at: string }, log: Logger): Promise<void> {
  const target = new URL(url);
  // Webhook URLs carry their secret in the path (Slack, Teams): log lines that name only the path must not show it.
  // The retry warnings name the path without the query, so the path is registered on its own too.
  registerSecret(target.pathname + target.search);
  if (target.pathname !== '/') registerSecret(target.pathname);
  const client = new HttpClient({ name: 'notify webhook', baseUrl: target.origin, retry: { maxAttempts: 3 } });
  try {
    await client.text({
      method: 'POST',
      path: target.pathname + target.search,
      json: {
        text: `${body.digest.total} new ${body.digest.total === 1 ? 'person' : 'people'} added to Mailchimp audience "${body.list_name}"`,
        list_id: body.list_id,
        list_name: body.list_name,
        finished_at: body.finished_at,
        added_count: body.digest.total,
        added: body.digest.people,
        truncated: body.digest.total > body.digest.people.length,
      },
    });
    log.info('sent the digest of added people', { added: body.digest.total });
  } catch (err) {
    log.warn(`could not send the digest to notify_webhook_url: ${errorMessage(err)}`);
  } finally {
    await client.close();
  }
}
