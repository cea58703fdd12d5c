/**
 * Shared checks of the conformance suite: the Singer message format as the spec and
 * singer-check-tap read it, and strict RFC 3339 date-times.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { JsonSchema } from '../../src/singer/messages.js';

/** RFC 3339 section 5.6 date-time: date, 'T', time, fraction optional, zone required. */
const RFC3339 = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

export function isRfc3339(value: string): boolean {
  return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}

/** An ajv that checks `format: date-time` strictly (RFC 3339) and ignores unknown keywords. */
export function strictAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('date-time', { type: 'string', validate: isRfc3339 });
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  return ajv;
}

/** The Singer messages a tap may write, as JSON Schema. */
const MESSAGE_SCHEMA = {
  type: 'object',
  required: ['type'],
  oneOf: [
    {
      properties: {
        type: { const: 'SCHEMA' },
        stream: { type: 'string', minLength: 1 },
        schema: { type: 'object', required: ['properties'], properties: { properties: { type: 'object' } } },
        key_properties: { type: 'array', items: { type: 'string' } },
        bookmark_properties: { type: 'array', items: { type: 'string' } },
      },
      required: ['type', 'stream', 'schema', 'key_properties'],
    },
    {
      properties: {
        type: { const: 'RECORD' },
        stream: { type: 'string', minLength: 1 },
        record: { type: 'object' },
        time_extracted: { type: 'string', format: 'date-time' },
        version: { type: 'integer' },
      },
      required: ['type', 'stream', 'record'],
    },
    { properties: { type: { const: 'STATE' }, value: { type: 'object' } }, required: ['type', 'value'] },
    {
      properties: { type: { const: 'ACTIVATE_VERSION' }, stream: { type: 'string', minLength: 1 }, version: { type: 'integer' } },
      required: ['type', 'stream', 'version'],
    },
  ],
};

let messageValidator: ValidateFunction | undefined;

/** Problems with one stdout line, or [] when it is a valid Singer message. */
export function singerLineProblems(line: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return [`not JSON: ${line.slice(0, 120)}`];
  }
  messageValidator ??= strictAjv().compile(MESSAGE_SCHEMA);
  if (messageValidator(parsed)) return [];
  return [`not a Singer message (${JSON.stringify(messageValidator.errors?.slice(0, 3))}): ${line.slice(0, 120)}`];
}

export function compileRecordSchema(schema: JsonSchema): ValidateFunction {
  return strictAjv().compile(schema);
}
