/**
 * Singer messages: the types, and parsing with errors that name the line.
 * https://github.com/singer-io/getting-started/blob/master/docs/SPEC.md
 */
import { InputError } from '../errors/index.js';

/** A JSON Schema as Singer uses it; only the parts this project reads are typed. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  format?: string;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  description?: string;
  [keyword: string]: unknown;
}

export type JsonObject = Record<string, unknown>;

export interface SchemaMessage {
  type: 'SCHEMA';
  stream: string;
  schema: JsonSchema;
  key_properties: string[];
  bookmark_properties?: string[];
}

export interface RecordMessage {
  type: 'RECORD';
  stream: string;
  record: JsonObject;
  time_extracted?: string;
  version?: number;
}

export interface StateMessage {
  type: 'STATE';
  /** Any JSON value: Singer leaves its shape to the tap (usually {"bookmarks": ...}). */
  value: unknown;
}

export interface ActivateVersionMessage {
  type: 'ACTIVATE_VERSION';
  stream: string;
  version: number;
}

export type SingerMessage = SchemaMessage | RecordMessage | StateMessage | ActivateVersionMessage;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(lineNumber: number, problem: string): never {
  throw new InputError(`line ${lineNumber}: ${problem}`);
}

function requireStream(raw: JsonObject, lineNumber: number, type: string): string {
  if (typeof raw.stream !== 'string' || raw.stream === '') fail(lineNumber, `${type} message has no "stream" name`);
  return raw.stream;
}

/**
 * Parses one line of a Singer stream. Returns null for message types this project does not
 * handle (BATCH and future types), which callers skip; throws InputError naming the line for
 * anything malformed.
 */
export function parseMessage(line: string, lineNumber: number): SingerMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const preview = line.length > 80 ? `${line.slice(0, 77)}...` : line;
    fail(lineNumber, `not valid JSON (${reason}): ${preview}`);
  }
  if (!isObject(raw)) fail(lineNumber, 'a Singer message must be a JSON object');
  if (typeof raw.type !== 'string') fail(lineNumber, 'message has no "type"');

  switch (raw.type.toUpperCase()) {
    case 'SCHEMA': {
      const stream = requireStream(raw, lineNumber, 'SCHEMA');
      if (!isObject(raw.schema)) fail(lineNumber, `SCHEMA for "${stream}" has no "schema" object`);
      if (!isObject(raw.schema.properties)) {
        fail(lineNumber, `SCHEMA for "${stream}" has no "properties": a record schema must list its properties`);
      }
      const keys = raw.key_properties ?? [];
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
        fail(lineNumber, `SCHEMA for "${stream}": "key_properties" must be an array of property names`);
      }
      const message: SchemaMessage = { type: 'SCHEMA', stream, schema: raw.schema as JsonSchema, key_properties: keys };
      if (Array.isArray(raw.bookmark_properties)) message.bookmark_properties = raw.bookmark_properties as string[];
      return message;
    }
    case 'RECORD': {
      const stream = requireStream(raw, lineNumber, 'RECORD');
      if (!isObject(raw.record)) fail(lineNumber, `RECORD for "${stream}" has no "record" object`);
      const message: RecordMessage = { type: 'RECORD', stream, record: raw.record };
      if (typeof raw.time_extracted === 'string') message.time_extracted = raw.time_extracted;
      if (typeof raw.version === 'number') message.version = raw.version;
      return message;
    }
    case 'STATE':
      // Any JSON value is a state (null included); only a STATE without one is malformed.
      if (!('value' in raw)) fail(lineNumber, 'STATE message has no "value"');
      return { type: 'STATE', value: raw.value };
    case 'ACTIVATE_VERSION': {
      const stream = requireStream(raw, lineNumber, 'ACTIVATE_VERSION');
      if (typeof raw.version !== 'number') fail(lineNumber, `ACTIVATE_VERSION for "${stream}" has no numeric "version"`);
      return { type: 'ACTIVATE_VERSION', stream, version: raw.version };
    }
    default:
      return null;
  }
}

/** Serialises a message as one line (with its trailing newline). */
export function serializeMessage(message: SingerMessage): string {
  return JSON.stringify(message) + '\n';
}
