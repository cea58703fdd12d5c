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
  /**
   * The value's JSON text exactly as received (set by parseMessage), so a target can print it
   * unchanged: re-serialising would round integers beyond 2^53 (a bigint id bookmark) and could
   * move a bookmark past records never loaded.
   */
  text?: string;
}

export interface ActivateVersionMessage {
  type: 'ACTIVATE_VERSION';
  stream: string;
  version: number;
}

/** How the files of a BATCH message are encoded (Meltano SDK `BaseBatchFileEncoding`). */
export interface BatchEncoding {
  /** "jsonl" is the one this project reads; the SDK also writes "parquet". */
  format: string;
  /** "gzip", or "none" (also written as null or left out). */
  compression: string;
}

/**
 * A Meltano SDK BATCH message: the stream's records are in files, one JSON object a line.
 * https://sdk.meltano.com/en/latest/batch.html
 */
export interface BatchMessage {
  type: 'BATCH';
  stream: string;
  encoding: BatchEncoding;
  /** File URLs, read in order. */
  manifest: string[];
}

export type SingerMessage = SchemaMessage | RecordMessage | StateMessage | ActivateVersionMessage | BatchMessage;

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

function parseBatch(raw: JsonObject, lineNumber: number): BatchMessage {
  const stream = requireStream(raw, lineNumber, 'BATCH');
  const encoding = raw.encoding;
  if (!isObject(encoding) || typeof encoding.format !== 'string' || encoding.format === '') {
    fail(lineNumber, `BATCH for "${stream}" has no "encoding" with a "format" (such as {"format":"jsonl","compression":"gzip"})`);
  }
  const compression = encoding.compression ?? 'none';
  if (typeof compression !== 'string') fail(lineNumber, `BATCH for "${stream}": "encoding.compression" must be a string such as "gzip" or "none"`);
  const manifest = raw.manifest;
  if (!Array.isArray(manifest) || !manifest.every((url) => typeof url === 'string' && url !== '')) {
    fail(lineNumber, `BATCH for "${stream}" has no "manifest": it must be an array of file URLs`);
  }
  return { type: 'BATCH', stream, encoding: { format: encoding.format.toLowerCase(), compression: compression.toLowerCase() }, manifest };
}

/**
 * Parses one line of a Singer stream. Returns null for message types this project does not
 * handle (future types), which callers skip; throws InputError naming the line for anything
 * malformed.
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
      return { type: 'STATE', value: raw.value, text: memberText(line, 'value') ?? JSON.stringify(raw.value) };
    case 'ACTIVATE_VERSION': {
      const stream = requireStream(raw, lineNumber, 'ACTIVATE_VERSION');
      if (typeof raw.version !== 'number') fail(lineNumber, `ACTIVATE_VERSION for "${stream}" has no numeric "version"`);
      return { type: 'ACTIVATE_VERSION', stream, version: raw.version };
    }
    case 'BATCH':
      return parseBatch(raw, lineNumber);
    default:
      return null;
  }
}

/** Serialises a message as one line (with its trailing newline). */
export function serializeMessage(message: SingerMessage): string {
  if (message.type === 'STATE') return JSON.stringify({ type: 'STATE', value: message.value }) + '\n';
  return JSON.stringify(message) + '\n';
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

function skipWhitespace(text: string, at: number): number {
  let i = at;
  while (i < text.length && WHITESPACE.has(text.charAt(i))) i++;
  return i;
}

/** The index after the string that starts at `at` (a double quote). */
function endOfString(text: string, at: number): number {
  let i = at + 1;
  while (i < text.length && text.charAt(i) !== '"') i += text.charAt(i) === '\\' ? 2 : 1;
  return i + 1;
}

/** The index after the JSON value that starts at `at`. */
function endOfValue(text: string, at: number): number {
  const first = text.charAt(at);
  if (first === '"') return endOfString(text, at);
  if (first === '{' || first === '[') {
    let depth = 0;
    let i = at;
    while (i < text.length) {
      const c = text.charAt(i);
      if (c === '"') {
        i = endOfString(text, i);
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  let i = at;
  while (i < text.length && !WHITESPACE.has(text.charAt(i)) && !',}]'.includes(text.charAt(i))) i++;
  return i;
}

/**
 * The JSON text of a top-level member of an object, as written, in text already known to be valid
 * JSON (the last one wins when a name repeats, as with JSON.parse). undefined when absent.
 */
export function memberText(json: string, name: string): string | undefined {
  let i = skipWhitespace(json, 0);
  if (json.charAt(i) !== '{') return undefined;
  i = skipWhitespace(json, i + 1);
  let found: string | undefined;
  while (i < json.length && json.charAt(i) === '"') {
    const keyEnd = endOfString(json, i);
    const key = JSON.parse(json.slice(i, keyEnd)) as string;
    const valueStart = skipWhitespace(json, skipWhitespace(json, keyEnd) + 1);
    const valueEnd = endOfValue(json, valueStart);
    if (key === name) found = json.slice(valueStart, valueEnd);
    i = skipWhitespace(json, valueEnd);
    if (json.charAt(i) === ',') i = skipWhitespace(json, i + 1);
  }
  return found;
}
