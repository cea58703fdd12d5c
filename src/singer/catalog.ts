/**
 * Catalogs: building them in discovery with the standard metadata, reading the user's
 * choices back (selection and replication settings), and pruning schemas and records to
 * what is selected.
 *
 * Selection follows the Singer/Meltano rules (REFERENCE.md section 3):
 *   an entry with no metadata at all  -> selected
 *   parent unselected                 -> unselected
 *   inclusion "unsupported"           -> unselected
 *   inclusion "automatic"             -> selected
 *   otherwise "selected", else "selected-by-default", else the parent's value
 *   (a stream has no parent: with neither flag it is unselected)
 * PipelineWise selects whole streams only, so properties without a flag follow their stream.
 */
import { InputError } from '../errors/index.js';
import { JsonSyntaxError, parseJsonText, stripBom } from './json-file.js';
import type { JsonObject, JsonSchema } from './messages.js';

export type Breadcrumb = string[];

export interface MetadataEntry {
  breadcrumb: Breadcrumb;
  metadata: Record<string, unknown>;
}

export interface CatalogEntry {
  tap_stream_id: string;
  stream: string;
  schema: JsonSchema;
  key_properties?: string[];
  metadata?: MetadataEntry[];
  replication_method?: string;
  replication_key?: string;
  [extra: string]: unknown;
}

export interface Catalog {
  streams: CatalogEntry[];
}

export type ReplicationMethod = 'FULL_TABLE' | 'INCREMENTAL';

/** A catalog's replication settings for one stream, before the tap decides (replication.ts). */
export interface ReplicationRequest {
  /** Upper-cased, `_` for `-`: FULL_TABLE, INCREMENTAL, LOG_BASED (PipelineWise's default), or whatever else was written. */
  method?: string;
  key?: string;
}

export interface StreamMetadataSpec {
  schema: JsonSchema;
  keyProperties: string[];
  replicationMethod: ReplicationMethod;
  /** When the tap supports only one method for this stream. */
  forcedReplicationMethod?: ReplicationMethod;
  replicationKey?: string;
  validReplicationKeys?: string[];
  selectedByDefault: boolean;
}

/** Discovery metadata: stream-level entry plus one entry per top-level property. */
export function buildMetadata(spec: StreamMetadataSpec): MetadataEntry[] {
  const root: Record<string, unknown> = {
    inclusion: 'available',
    'selected-by-default': spec.selectedByDefault,
    'table-key-properties': spec.keyProperties,
  };
  if (spec.forcedReplicationMethod) root['forced-replication-method'] = spec.forcedReplicationMethod;
  if (spec.validReplicationKeys && spec.validReplicationKeys.length > 0) root['valid-replication-keys'] = spec.validReplicationKeys;
  const automatic = new Set([...spec.keyProperties, ...(spec.replicationKey ? [spec.replicationKey] : [])]);
  const entries: MetadataEntry[] = [{ breadcrumb: [], metadata: root }];
  for (const name of Object.keys(spec.schema.properties ?? {}).sort()) {
    entries.push({
      breadcrumb: ['properties', name],
      metadata: automatic.has(name)
        ? { inclusion: 'automatic', 'selected-by-default': true }
        : { inclusion: 'available', 'selected-by-default': true },
    });
  }
  return entries;
}

/** What a tap declares of a stream that its catalog entry shows. */
export interface CatalogStreamDeclaration {
  name: string;
  keyProperties: string[];
  replicationMethod: ReplicationMethod;
  forcedReplicationMethod?: ReplicationMethod;
  replicationKey?: string;
  validReplicationKeys?: string[];
  selectedByDefault: boolean;
}

function sortProperties(schema: JsonSchema): JsonSchema {
  if (!schema.properties) return schema;
  const sorted = Object.fromEntries(Object.keys(schema.properties).sort().map((k) => [k, schema.properties?.[k] as JsonSchema]));
  return { ...schema, properties: sorted };
}

/** A stream's catalog entry with the standard metadata, its properties in name order (a deterministic catalog). */
export function catalogEntry(stream: CatalogStreamDeclaration, schema: JsonSchema): CatalogEntry {
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

function breadcrumbKey(breadcrumb: Breadcrumb): string {
  return breadcrumb.join('\u0000');
}

/** The selection decisions of one catalog entry, resolved once. */
export class StreamSelection {
  private readonly byBreadcrumb = new Map<string, Record<string, unknown>>();
  private readonly cache = new Map<string, boolean>();
  private readonly hasMetadata: boolean;

  constructor(readonly entry: CatalogEntry) {
    const metadata = entry.metadata ?? [];
    this.hasMetadata = metadata.length > 0;
    for (const item of metadata) this.byBreadcrumb.set(breadcrumbKey(item.breadcrumb), item.metadata ?? {});
  }

  get streamSelected(): boolean {
    return this.isSelected([]);
  }

  isSelected(breadcrumb: Breadcrumb): boolean {
    const key = breadcrumbKey(breadcrumb);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const value = this.resolve(breadcrumb);
    this.cache.set(key, value);
    return value;
  }

  private resolve(breadcrumb: Breadcrumb): boolean {
    if (!this.hasMetadata) return true;
    const parent: boolean | undefined = breadcrumb.length > 0 ? this.isSelected(breadcrumb.slice(0, -2)) : undefined;
    if (parent === false) return false;
    const md = this.byBreadcrumb.get(breadcrumbKey(breadcrumb));
    if (md === undefined) return parent ?? false;
    if (md.inclusion === 'unsupported') return false;
    if (md.inclusion === 'automatic') return true;
    if (typeof md.selected === 'boolean') return md.selected;
    if (typeof md['selected-by-default'] === 'boolean') return md['selected-by-default'];
    return parent ?? false;
  }

  /** Stream-level metadata value (e.g. "replication-method"). */
  streamMetadata(key: string): unknown {
    return this.byBreadcrumb.get('')?.[key];
  }

  /**
   * What the catalog asks for: stream metadata first (PipelineWise, Meltano's `metadata`), then
   * the top-level keys (older catalogs). The method is upper-cased with `_` for `-` and otherwise
   * as written (LOG_BASED, or a typo); resolveReplication decides what the stream runs.
   */
  replication(): ReplicationRequest {
    const method = methodName(this.streamMetadata('replication-method')) ?? methodName(this.entry.replication_method);
    const key = this.streamMetadata('replication-key') ?? this.entry.replication_key;
    return { ...(method ? { method } : {}), ...(typeof key === 'string' && key !== '' ? { key } : {}) };
  }

  /** The schema with unselected properties removed (recursively for nested objects). */
  selectedSchema(schema: JsonSchema = this.entry.schema): JsonSchema {
    return pruneSchema(schema, [], this);
  }

  /** Top-level property names that are selected. */
  selectedProperties(schema: JsonSchema = this.entry.schema): string[] {
    return Object.keys(schema.properties ?? {}).filter((name) => this.isSelected(['properties', name]));
  }
}

function pruneSchema(schema: JsonSchema, at: Breadcrumb, selection: StreamSelection): JsonSchema {
  if (!schema.properties) return schema;
  const properties: Record<string, JsonSchema> = {};
  for (const [name, child] of Object.entries(schema.properties)) {
    const breadcrumb = [...at, 'properties', name];
    if (selection.isSelected(breadcrumb)) properties[name] = pruneSchema(child, breadcrumb, selection);
  }
  return { ...schema, properties };
}

function methodName(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  return value.trim().toUpperCase().replace(/-/g, '_');
}

/**
 * Removes from a record the top-level properties the selected schema does not list.
 * `keepUnknown` lets through properties the schema has never heard of (new properties that
 * appeared after discovery, when the user asked for them with select_properties_by_default).
 */
export function makeRecordFilter(
  selected: JsonSchema,
  fullSchema: JsonSchema,
  keepUnknown: boolean,
): (record: JsonObject) => JsonObject {
  const keep = new Set(Object.keys(selected.properties ?? {}));
  const known = new Set(Object.keys(fullSchema.properties ?? {}));
  if (keep.size === known.size && keepUnknown) return (record) => record;
  return (record) => {
    const out: JsonObject = {};
    for (const key in record) {
      if (keep.has(key) || (keepUnknown && !known.has(key))) out[key] = record[key];
    }
    return out;
  };
}

/** Validates the shape of a catalog read from a file; errors name the file and the entry. */
export function parseCatalog(raw: unknown, source: string): Catalog {
  const fail = (problem: string): never => {
    throw new InputError(`catalog ${source}: ${problem}`);
  };
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { streams?: unknown }).streams)) {
    fail('expected an object with a "streams" array (the output of --discover)');
  }
  const streams = (raw as { streams: unknown[] }).streams;
  streams.forEach((entry, index) => {
    if (typeof entry !== 'object' || entry === null) fail(`streams[${index}] is not an object`);
    const e = entry as Partial<CatalogEntry>;
    if (typeof e.tap_stream_id !== 'string' && typeof e.stream !== 'string') fail(`streams[${index}] has no "tap_stream_id"`);
    if (typeof e.schema !== 'object' || e.schema === null) fail(`streams[${index}] (${e.tap_stream_id ?? e.stream}) has no "schema"`);
    if (e.metadata !== undefined && !Array.isArray(e.metadata)) fail(`streams[${index}] "metadata" must be an array`);
    for (const m of e.metadata ?? []) {
      if (!Array.isArray(m?.breadcrumb)) fail(`streams[${index}] has a metadata entry without a "breadcrumb" array`);
    }
    e.tap_stream_id ??= e.stream as string;
    e.stream ??= e.tap_stream_id;
  });
  return raw as Catalog;
}

/** A catalog file's text (a BOM is fine); a syntax error is named by line and column, never quoted. */
export function parseCatalogText(text: string, source: string): Catalog {
  let raw: unknown;
  try {
    raw = parseJsonText(stripBom(text));
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new InputError(`catalog file ${source} is not valid JSON: ${err.message}`);
    throw err;
  }
  return parseCatalog(raw, source);
}

/**
 * What a catalog selects that a tap cannot sync: stream ids it selects but the tap does not
 * have, and whether it selects any stream the tap has. A catalog written for another tap (or
 * with a typo) would otherwise sync nothing without a word.
 */
export function catalogSelectionReport(catalog: Catalog, knownStreams: readonly string[]): { unknownSelected: string[]; knownSelected: string[] } {
  const known = new Set(knownStreams);
  const unknownSelected: string[] = [];
  const knownSelected: string[] = [];
  for (const entry of catalog.streams) {
    if (!new StreamSelection(entry).streamSelected) continue;
    (known.has(entry.tap_stream_id) ? knownSelected : unknownSelected).push(entry.tap_stream_id);
  }
  return { unknownSelected, knownSelected };
}

/**
 * A copy of the catalog with exactly `streams` selected at stream level (the others explicitly
 * unselected); property selections are left as they are. What `--select` writes.
 */
export function selectStreams(catalog: Catalog, streams: readonly string[]): Catalog {
  const wanted = new Set(streams);
  return {
    ...catalog,
    streams: catalog.streams.map((entry) => {
      const metadata = structuredClone(entry.metadata ?? []);
      let root = metadata.find((m) => m.breadcrumb.length === 0);
      if (!root) metadata.unshift((root = { breadcrumb: [], metadata: {} }));
      root.metadata.selected = wanted.has(entry.tap_stream_id);
      return { ...entry, metadata };
    }),
  };
}
