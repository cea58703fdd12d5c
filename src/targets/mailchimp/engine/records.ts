/**
 * Per-stream schemas from SCHEMA messages, and record checks against the latest one.
 *
 * What is checked (validate_records, validate_all_properties): by default only the properties
 * the target reads - the key properties, the email, the properties mapped to merge fields, the
 * name properties the default FNAME/LNAME mapping reads, the tag properties. The rest of a record
 * is not the target's business: other taps describe fields in ways a validator may disagree with,
 * and a field that is never sent is no reason to stop a load. Key properties are always required
 * (Singer: a record without them cannot be identified), whatever the setting.
 */
import type { ValidateFunction } from 'ajv';
import { InputError } from '../../../errors/index.js';
import { describeRecordError, normaliseSchema, pickProperties, SchemaCompiler } from '../../../singer/json-schema.js';
import type { JsonObject, JsonSchema, SchemaMessage } from '../../../singer/messages.js';
import { describeOrigin, type MessageOrigin } from '../../../singer/reader.js';
import { listSetting, type TargetConfig } from '../config.js';
import { DEFAULT_EMAIL_PROPERTIES, DEFAULT_NAME_PROPERTIES } from '../members/members.js';
import { profileProperties, type ProfileConfig } from '../members/profile-settings.js';

/** used: the properties the target reads; all: whole records; none: no schema checks. */
export type ValidationScope = 'used' | 'all' | 'none';

export interface ValidationOptions {
  scope: ValidationScope;
  /** The record properties the target reads (checked in scope "used", with each stream's key properties). */
  properties: readonly string[];
}

/** Every record property the target reads with this config. */
export function propertiesUsedBy(config: Pick<TargetConfig, 'email_property' | 'merge_fields' | 'tag_properties'> & ProfileConfig): string[] {
  const used = new Set<string>(config.email_property ? [config.email_property] : DEFAULT_EMAIL_PROPERTIES);
  const merge = config.merge_fields ?? {};
  for (const property of Object.values(merge)) if (typeof property === 'string') used.add(property);
  // FNAME and LNAME fall back to the names unless the config maps both (to a property or to null).
  if (!('FNAME' in merge && 'LNAME' in merge)) {
    for (const names of Object.values(DEFAULT_NAME_PROPERTIES)) for (const name of names) used.add(name);
  }
  for (const property of listSetting(config.tag_properties)) used.add(property);
  for (const { property } of profileProperties(config)) used.add(property);
  return [...used];
}

/** The checks a config asks for. */
export function validationOptions(config: Pick<TargetConfig, 'email_property' | 'merge_fields' | 'tag_properties' | 'validate_records' | 'validate_all_properties'>): ValidationOptions {
  const scope: ValidationScope = config.validate_records === false ? 'none' : config.validate_all_properties === true ? 'all' : 'used';
  return { scope, properties: propertiesUsedBy(config) };
}

export interface StreamSchema {
  keyProperties: string[];
  /** null when records are not checked against the schema. */
  validate: ValidateFunction | null;
}

export class SchemaRegistry {
  private readonly compiler = new SchemaCompiler();
  private readonly streams = new Map<string, StreamSchema>();
  private readonly used: ReadonlySet<string>;

  /** Without options, whole records are checked. */
  constructor(private readonly options: ValidationOptions = { scope: 'all', properties: [] }) {
    this.used = new Set(options.properties);
  }

  register(message: SchemaMessage, lineNumber: number): void {
    const properties = (message.schema as { properties?: unknown }).properties;
    if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) {
      throw new InputError(`line ${lineNumber}: SCHEMA for "${message.stream}" has no "properties": the target needs them to find the email and merge field values`);
    }
    const invalid = (reason: string) => new InputError(`line ${lineNumber}: SCHEMA for "${message.stream}" is not a valid JSON Schema: ${reason}`);
    const schema = normaliseSchema(message.schema);
    // A broken schema is refused whatever is checked: it says the tap is broken.
    const problem = this.compiler.schemaProblem(schema);
    if (problem !== null) throw invalid(problem);
    let validate: ValidateFunction | null = null;
    if (this.options.scope !== 'none') {
      const checked: JsonSchema = this.options.scope === 'all' ? schema : pickProperties(schema, new Set([...this.used, ...message.key_properties]));
      try {
        validate = this.compiler.compile(checked);
      } catch (err) {
        throw invalid(err instanceof Error ? err.message : String(err));
      }
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
    if (schema.validate && !schema.validate(record)) {
      throw new InputError(`${where}: RECORD for "${stream}" does not match its schema: ${describeRecordError(schema.validate.errors?.[0])}`);
    }
    return schema.keyProperties;
  }
}
