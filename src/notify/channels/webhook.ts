/**
 * A JSON POST to a webhook (Slack and Teams workflows show its `text`), over the project's
 * HttpClient with a few retries.
 */
import { HttpClient } from '../../http/client.js';
import type { Notification } from '../message.js';

export async function sendWebhook(url: string, message: Notification, signal: AbortSignal, userAgent: string): Promise<void> {
  const target = new URL(url);
  const client = new HttpClient({
    name: 'notify webhook',
    baseUrl: target.origin,
    userAgent,
    retry: { maxAttempts: 3 },
    timeouts: { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 },
    signal,
  });
  try {
    await client.text({ method: 'POST', path: target.pathname + target.search, json: message.webhook });
  } finally {
    await client.close();
  }
}
