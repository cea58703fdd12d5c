/**
 * The loader: reads Singer messages, turns records of the configured streams into members, writes
 * them in batches, and prints each state only after every record before it has been written to
 * Mailchimp (or rejected).
 */
import type { Logger } from '../../log/logger.js';
import type { JsonObject } from '../../singer/messages.js';
import { readMessages } from '../../singer/reader.js';
import type { LineWriter } from '../../singer/writer.js';
import type { BatchMemberInput, MailchimpApi } from './api.js';
import { configuredStreams, type TargetConfig } from './config.js';
import { defaultMergeFields, emailKey, findEmail, isValidEmail, normaliseEmail } from './members.js';
import { SchemaRegistry } from './records.js';

export interface LoadSummary {
  read: number;
  ignored: number;
  created: number;
  skipped: Record<string, number>;
  rejected: Record<string, number>;
  statesEmitted: number;
  apiCalls: number;
}

export interface LoaderOptions {
  config: TargetConfig;
  api: MailchimpApi;
  input: AsyncIterable<Buffer | string>;
  output: LineWriter;
  log: Logger;
  signal: AbortSignal;
}

function bump(counts: Record<string, number>, reason: string, by = 1): void {
  counts[reason] = (counts[reason] ?? 0) + by;
}

/** Why Mailchimp turned a member down, as a skip (consent or presence) or a rejection. */
export function classifyMemberError(error: { error: string; error_code?: string }): { outcome: 'skipped' | 'rejected'; reason: string } {
  const text = error.error.toLowerCase();
  if (error.error_code === 'ERROR_CONTACT_EXISTS' || text.includes('already a list member')) return { outcome: 'skipped', reason: 'already in the audience' };
  if (text.includes('compliance state')) return { outcome: 'skipped', reason: 'in compliance state (unsubscribed, bounced or under review)' };
  if (text.includes('permanently deleted')) return { outcome: 'skipped', reason: 'permanently deleted' };
  if (text.includes('looks fake or invalid') || text.includes('valid email')) return { outcome: 'rejected', reason: 'email rejected by Mailchimp' };
  if (text.includes('merge fields were invalid')) return { outcome: 'rejected', reason: 'merge fields invalid' };
  return { outcome: 'rejected', reason: error.error.slice(0, 120) };
}

export async function loadMembers(options: LoaderOptions): Promise<LoadSummary> {
  const { config, api, output, log, signal } = options;
  const streams = configuredStreams(config);
  const schemas = new SchemaRegistry();
  const summary: LoadSummary = { read: 0, ignored: 0, created: 0, skipped: {}, rejected: {}, statesEmitted: 0, apiCalls: 0 };
  /** Members waiting to be written, by lower-cased email: the last record for a person wins. */
  let pending = new Map<string, BatchMemberInput>();
  let heldState: JsonObject | null = null;

  const flush = async (): Promise<void> => {
    if (pending.size > 0) {
      const members = [...pending.values()];
      pending = new Map();
      const result = await api.batchSubscribe(config.list_id, members, { updateExisting: false });
      summary.created += result.total_created ?? result.new_members?.length ?? 0;
      for (const error of result.errors ?? []) {
        const { outcome, reason } = classifyMemberError(error);
        bump(outcome === 'skipped' ? summary.skipped : summary.rejected, reason);
        if (outcome === 'rejected') log.debug('member rejected', { email: error.email_address, reason: error.error, field: error.field || undefined });
      }
    }
    if (heldState) {
      await output.writeLine(JSON.stringify(heldState) + '\n');
      await output.flush();
      summary.statesEmitted++;
      heldState = null;
    }
  };

  for await (const { lineNumber, message } of readMessages(options.input, {
    onUnknown: (type, line) => log.debug('ignoring message', { type, line }),
  })) {
    if (message.type === 'SCHEMA') {
      if (streams.has(message.stream)) schemas.register(message, lineNumber);
    } else if (message.type === 'RECORD') {
      if (!streams.has(message.stream)) {
        summary.ignored++;
        continue;
      }
      schemas.check(message.stream, message.record, lineNumber);
      summary.read++;
      const email = normaliseEmail(findEmail(message.record, config.email_property));
      if (email === undefined) {
        bump(summary.rejected, 'no email');
        continue;
      }
      if (!isValidEmail(email)) {
        bump(summary.rejected, 'invalid email');
        continue;
      }
      const key = emailKey(email);
      pending.delete(key);
      pending.set(key, { email_address: email, status: config.status_if_new, merge_fields: defaultMergeFields(message.record) });
      if (pending.size >= config.batch_size) await flush();
    } else if (message.type === 'STATE') {
      // Released as soon as the members read before it are written: taps send states between
      // windows and streams, not per record, so this costs few extra (smaller) batches.
      heldState = message.value;
      await flush();
    }
    if (signal.aborted) break;
  }
  await flush();
  summary.apiCalls = api.calls;
  return summary;
}
