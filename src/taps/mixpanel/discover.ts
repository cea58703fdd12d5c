/** Discovery: a deterministic catalog of every stream with the standard metadata. */
import { buildMetadata, type Catalog, type CatalogEntry } from '../../singer/catalog.js';
import type { JsonSchema } from '../../singer/messages.js';
import type { TapConfig } from './config.js';
import { STREAMS } from './streams/index.js';
import type { StreamDefinition } from './streams/types.js';

function sortProperties(schema: JsonSchema): JsonSchema {
  if (!schema.properties) return schema;
  const sorted = Object.fromEntries(Object.keys(schema.properties).sort().map((k) => [k, schema.properties?.[k] as JsonSchema]));
  return { ...schema, properties: sorted };
}

export function catalogEntry(stream: StreamDefinition, schema: JsonSchema): CatalogEntry {
  const sorted = sortProperties(schema);
  return {
    tap_stream_id: stream.name,
    stream: stream.name,
    key_properties: stream.keyProperties,
    replication_method: stream.replicationMethod,
    ...(stream.replicationKey ? { replication_key: stream.replicationKey } : {}),
    schema: sorted,
    metadata: buildMetadata({
      schema: sorted,
      keyProperties: stream.keyProperties,
      replicationMethod: stream.replicationMethod,
      ...(stream.forcedReplicationMethod ? { forcedReplicationMethod: stream.forcedReplicationMethod } : {}),
      ...(stream.replicationKey ? { replicationKey: stream.replicationKey } : {}),
      ...(stream.validReplicationKeys ? { validReplicationKeys: stream.validReplicationKeys } : {}),
      selectedByDefault: stream.selectedByDefault,
    }),
  };
}

/** The catalog used when none is given: the built-in schemas, no calls to Mixpanel. */
export function defaultCatalog(config: TapConfig): Catalog {
  return { streams: STREAMS.map((stream) => catalogEntry(stream, stream.baseSchema(config))) };
}

export async function discover(config: TapConfig): Promise<Catalog> {
  return defaultCatalog(config);
}
