/** Per-stream schemas from SCHEMA messages, and record validation against the latest one. */
import { Ajv, type ValidateFunction } from 'ajv';
import { InputError } from '../../errors/index.js';
import { isDateOrDateTime } from '../../singer/config.js';
import type { JsonObject, SchemaMessage } from '../../singer/messages.js';
import { describeOrigin, type MessageOrigin } from '../../singer/reader.js';

export interface StreamSchema {
  keyProperties: string[];
  validate: ValidateFunction;
}

export class SchemaRegistry {
  private readonly ajv = new Ajv({ allErrors: false, strict: false, validateSchema: true });
  private readonly streams = new Map<string, StreamSchema>();

  constructor() {
    this.ajv.addFormat('date-time', { type: 'string', validate: isDateOrDateTime });
    // The tap's funnels and revenue streams carry plain dates.
    this.ajv.addFormat('date', { type: 'string', validate: (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v) && isDateOrDateTime(v) });
  }

  register(message: SchemaMessage, lineNumber: number): void {
    const properties = (message.schema as { properties?: unknown }).properties;
    if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) {
      throw new InputError(`line ${lineNumber}: SCHEMA for "${message.stream}" has no "properties": the target needs them to find the email and merge field values`);
    }
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(message.schema);
    } catch (err) {
      throw new InputError(`line ${lineNumber}: SCHEMA for "${message.stream}" is not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.streams.set(message.stream, { keyProperties: message.key_properties, validate });
  }

  /**
   * Checks a record against its stream's latest schema; errors name where the record came from
   * (its line, or its BATCH file and line) and what is wrong. Returns the key properties.
   */
  check(stream: string, record: JsonObject, origin: MessageOrigin | number): string[] {
    const schema = this.streams.get(stream);
    const where = describeOrigin(origin);
    if (!schema) throw new InputError(`${where}: RECORD for "${stream}" arrived before its SCHEMA`);
    for (const key of schema.keyProperties) {
      if (record[key] === undefined || record[key] === null) {
        throw new InputError(`${where}: RECORD for "${stream}" is missing its key property "${key}"`);
      }
    }
    if (!schema.validate(record)) {
      const error = schema.validate.errors?.[0];
      const path = error?.instancePath ? error.instancePath.replace(/^\//, '').replace(/\//g, '.') : 'record';
      throw new InputError(`${where}: RECORD for "${stream}" does not match its schema: "${path}" ${error?.message ?? 'is invalid'}`);
    }
    return schema.keyProperties;
  }
}
