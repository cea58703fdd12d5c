/** merge_fields: each audience's merge fields (audience fields), keyed by list_id + merge_id. FULL_TABLE. */
import { loadSchema } from '../../../schemas/index.js';
import type { MailchimpStreamDefinition, StreamOutput } from './types.js';

export const mergeFieldsStream: MailchimpStreamDefinition = {
  name: 'merge_fields',
  keyProperties: ['list_id', 'merge_id'],
  replicationMethod: 'FULL_TABLE',
  forcedReplicationMethod: 'FULL_TABLE',
  selectedByDefault: true,
  baseSchema: () => loadSchema('streams/mailchimp/merge_fields.json'),
  async *sync(ctx): AsyncGenerator<StreamOutput> {
    for (const list of await ctx.audiences.lists()) {
      ctx.progress?.(`audience ${list.id}`);
      const fields = await ctx.audiences.mergeFields(list.id);
      if (fields.length > 0) yield { kind: 'records', records: fields.map((f) => ({ ...f, list_id: list.id })) };
      if (ctx.signal.aborted) return;
    }
    yield { kind: 'complete' };
  },
};
