/**
 * Discovery: a deterministic catalog of every stream with the standard metadata. list_members
 * gets each audience's merge fields typed from their definitions (merge-field-types.ts) and its
 * interests (groups) as booleans named by their ids, as the best Singer taps type dynamic
 * fields; with several audiences, a tag typed differently in two of them accepts either.
 */
import { catalogEntry, type Catalog, type CatalogEntry } from '../../singer/catalog.js';
import type { JsonSchema } from '../../singer/messages.js';
import type { Logger } from '../../log/logger.js';
import { Audiences } from './audiences.js';
import type { MailchimpReader } from './client.js';
import { configuredListIds, type MailchimpTapConfig } from './config.js';
import { mergeFieldsObjectSchema } from './merge-field-types.js';
import type { RawList } from './raw.js';
import { MAILCHIMP_STREAMS } from './streams/index.js';

/** The catalog used when none is given: the built-in schemas, no calls to Mailchimp. */
export function defaultCatalog(): Catalog {
  return { streams: MAILCHIMP_STREAMS.map((stream) => catalogEntry(stream, stream.baseSchema())) };
}

/** Every interest (group) of the audiences as a boolean property named by its id. */
async function interestProperties(client: MailchimpReader, audiences: Audiences, lists: readonly RawList[]): Promise<Record<string, JsonSchema>> {
  const properties: Record<string, JsonSchema> = {};
  for (const list of lists) {
    for (const category of await audiences.interestCategories(list.id)) {
      for (const interest of await client.interests(list.id, category.id)) {
        properties[interest.id] = { type: ['null', 'boolean'], description: `${category.title ?? category.id}: ${interest.name ?? interest.id} (audience ${list.id})` };
      }
    }
  }
  return properties;
}

/** list_members with the audiences' merge fields and interests. */
export async function listMembersSchema(base: JsonSchema, client: MailchimpReader, audiences: Audiences): Promise<JsonSchema> {
  const lists = await audiences.lists();
  const fieldsByList = await Promise.all(lists.map((list) => audiences.mergeFields(list.id)));
  const interests = await interestProperties(client, audiences, lists);
  const properties = { ...base.properties };
  properties.merge_fields = { ...mergeFieldsObjectSchema(fieldsByList), description: properties.merge_fields?.description };
  properties.interests = { ...properties.interests, properties: Object.fromEntries(Object.entries(interests).sort(([a], [b]) => a.localeCompare(b))) };
  return { ...base, properties };
}

export async function discover(config: MailchimpTapConfig, options: { client: MailchimpReader; log: Logger }): Promise<Catalog> {
  const audiences = new Audiences(options.client, configuredListIds(config));
  const streams: CatalogEntry[] = [];
  for (const stream of MAILCHIMP_STREAMS) {
    let schema = stream.baseSchema();
    if (stream.name === 'list_members') schema = await listMembersSchema(schema, options.client, audiences);
    streams.push(catalogEntry(stream, schema));
  }
  const lists = await audiences.lists();
  options.log.info(`discovered ${streams.length} streams over ${lists.length} audiences`, { audiences: lists.map((l) => l.id).join(',') });
  return { streams };
}
