/** lists: the audiences the run reads (list_ids, or every audience of the account). FULL_TABLE. */
import type { JsonObject } from '../../../singer/messages.js';
import { loadSchema } from '../../../schemas/index.js';
import { utcTimestamp } from '../members/records.js';
import type { RawList } from '../raw.js';
import type { MailchimpStreamDefinition, StreamOutput } from './types.js';

const STAT_TIMES = ['campaign_last_sent', 'last_sub_date', 'last_unsub_date'];

export function listRecord(list: RawList): JsonObject {
  const record: JsonObject = { ...list };
  delete record._links;
  if ('date_created' in record) record.date_created = utcTimestamp(record.date_created);
  if (record.stats && typeof record.stats === 'object') {
    const stats: JsonObject = { ...(record.stats as JsonObject) };
    for (const name of STAT_TIMES) if (name in stats) stats[name] = utcTimestamp(stats[name]);
    record.stats = stats;
  }
  return record;
}

export const listsStream: MailchimpStreamDefinition = {
  name: 'lists',
  keyProperties: ['id'],
  replicationMethod: 'FULL_TABLE',
  forcedReplicationMethod: 'FULL_TABLE',
  selectedByDefault: true,
  baseSchema: () => loadSchema('streams/mailchimp/lists.json'),
  async *sync(ctx): AsyncGenerator<StreamOutput> {
    const lists = await ctx.audiences.lists();
    if (lists.length > 0) yield { kind: 'records', records: lists.map(listRecord) };
    yield { kind: 'complete' };
  },
};
