/**
 * Discovery: a deterministic catalog of every stream with the standard metadata. Export and
 * engage schemas gain the project's own properties (properties.ts); with
 * select_properties_by_default they also let through properties that appear later.
 */
import { DateTime } from 'luxon';
import type { Logger } from '../../log/logger.js';
import { catalogEntry, type Catalog, type CatalogEntry } from '../../singer/catalog.js';
import type { JsonSchema } from '../../singer/messages.js';
import type { MixpanelClient } from './client.js';
import type { TapConfig } from './config.js';
import { discoverEventProperties, discoverProfileProperties, type PropertySchemas } from './properties.js';
import { STREAMS } from './streams/index.js';
import { projectTime } from './time.js';

/** The catalog used when none is given: the built-in schemas, no calls to Mixpanel. */
export function defaultCatalog(config: TapConfig): Catalog {
  return { streams: STREAMS.map((stream) => catalogEntry(stream, stream.baseSchema(config))) };
}

export interface DiscoverOptions {
  client: MixpanelClient;
  log: Logger;
  now?: DateTime;
  /**
   * Streams to learn the project's properties for (`--select`); the others keep their built-in
   * schema. An engage-only catalog then costs no export request for an event sample.
   */
  only?: readonly string[];
}

type PropertySource = (config: TapConfig, options: DiscoverOptions) => Promise<PropertySchemas>;

/** Streams whose records carry the project's own properties, and where to learn them. */
const PROPERTY_SOURCES: Record<string, PropertySource> = {
  export: (config, { client, log, now }) =>
    // Nested properties stay one object: nothing to add at the top level.
    config.denest_properties ? discoverEventProperties(client, config, projectTime(config, now ?? DateTime.utc()), log) : Promise.resolve({}),
  engage: (_config, { client, log }) => discoverProfileProperties(client, log),
};

/** Built-in properties win: they carry the key and reserved fields' exact types. */
export function withProjectProperties(schema: JsonSchema, discovered: PropertySchemas, keepNew: boolean): JsonSchema {
  const properties = { ...discovered, ...schema.properties };
  return { ...schema, additionalProperties: keepNew, properties };
}

export async function discover(config: TapConfig, options: DiscoverOptions): Promise<Catalog> {
  const streams: CatalogEntry[] = [];
  for (const stream of STREAMS) {
    let schema = stream.baseSchema(config);
    const source = PROPERTY_SOURCES[stream.name];
    if (source && stream.dynamicProperties && (!options.only || options.only.includes(stream.name))) {
      schema = withProjectProperties(schema, await source(config, options), config.select_properties_by_default);
    }
    streams.push(catalogEntry(stream, schema));
  }
  return { streams };
}
