/**
 * interest_categories (groups' titles and types) and interests (the groups), keyed by list_id +
 * id (interests: + category_id). FULL_TABLE. A member's `interests` maps these ids to booleans.
 */
import type { JsonObject } from '../../../singer/messages.js';
import { loadSchema } from '../../../schemas/index.js';
import type { RawInterest } from '../raw.js';
import type { MailchimpStreamDefinition, StreamOutput } from './types.js';

/** Mailchimp sends subscriber_count as a string ("12"): as the integer it is. */
export function interestRecord(listId: string, categoryId: string, interest: RawInterest): JsonObject {
  const count = interest.subscriber_count;
  const n = typeof count === 'string' && /^\d+$/.test(count.trim()) ? Number(count) : typeof count === 'number' ? count : null;
  return { ...interest, list_id: listId, category_id: interest.category_id ?? categoryId, subscriber_count: n };
}

export const interestCategoriesStream: MailchimpStreamDefinition = {
  name: 'interest_categories',
  keyProperties: ['list_id', 'id'],
  replicationMethod: 'FULL_TABLE',
  forcedReplicationMethod: 'FULL_TABLE',
  selectedByDefault: true,
  baseSchema: () => loadSchema('streams/mailchimp/interest_categories.json'),
  async *sync(ctx): AsyncGenerator<StreamOutput> {
    for (const list of await ctx.audiences.lists()) {
      ctx.progress?.(`audience ${list.id}`);
      const categories = await ctx.audiences.interestCategories(list.id);
      if (categories.length > 0) yield { kind: 'records', records: categories.map((c) => ({ ...c, list_id: list.id })) };
      if (ctx.signal.aborted) return;
    }
    yield { kind: 'complete' };
  },
};

export const interestsStream: MailchimpStreamDefinition = {
  name: 'interests',
  keyProperties: ['list_id', 'category_id', 'id'],
  replicationMethod: 'FULL_TABLE',
  forcedReplicationMethod: 'FULL_TABLE',
  selectedByDefault: true,
  baseSchema: () => loadSchema('streams/mailchimp/interests.json'),
  async *sync(ctx): AsyncGenerator<StreamOutput> {
    for (const list of await ctx.audiences.lists()) {
      ctx.progress?.(`audience ${list.id}`);
      for (const category of await ctx.audiences.interestCategories(list.id)) {
        const interests = await ctx.client.interests(list.id, category.id);
        if (interests.length > 0) yield { kind: 'records', records: interests.map((i) => interestRecord(list.id, category.id, i)) };
        if (ctx.signal.aborted) return;
      }
    }
    yield { kind: 'complete' };
  },
};
