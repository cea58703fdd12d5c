/**
 * tags: each audience's tags (Mailchimp keeps them as static segments), with member_count
 * (subscribed and pending members) and when they were created and last changed. FULL_TABLE.
 */
import type { JsonObject } from '../../../singer/messages.js';
import { loadSchema } from '../../../schemas/index.js';
import { utcTimestamp } from '../members/records.js';
import type { RawTag } from '../raw.js';
import type { MailchimpStreamDefinition, StreamOutput } from './types.js';

export function tagRecord(listId: string, tag: RawTag): JsonObject {
  const record: JsonObject = { ...tag, list_id: listId };
  delete record.type;
  delete record.options;
  for (const name of ['created_at', 'updated_at']) if (name in record) record[name] = utcTimestamp(record[name]);
  return record;
}

export const tagsStream: MailchimpStreamDefinition = {
  name: 'tags',
  keyProperties: ['list_id', 'id'],
  replicationMethod: 'FULL_TABLE',
  forcedReplicationMethod: 'FULL_TABLE',
  selectedByDefault: true,
  baseSchema: () => loadSchema('streams/mailchimp/tags.json'),
  async *sync(ctx): AsyncGenerator<StreamOutput> {
    for (const list of await ctx.audiences.lists()) {
      ctx.progress?.(`audience ${list.id}`);
      const tags = await ctx.client.tags(list.id);
      if (tags.length > 0) yield { kind: 'records', records: tags.map((t) => tagRecord(list.id, t)) };
      if (ctx.signal.aborted) return;
    }
    yield { kind: 'complete' };
  },
};
