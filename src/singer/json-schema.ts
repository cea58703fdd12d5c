/**
 * Checking records against the JSON Schemas other programs write, without rejecting valid data:
 *
 * - `multipleOf` compared in decimal. singer-python and PipelineWise taps declare numbers with
 *   `"multipleOf": 1e-20`, tap-postgres-style taps `1e-38` or `10^-scale`; a float check
 *   (`13 / 1e-20` against its integer part) fails for ordinary values, Ajv's own included.
 * - Formats as taps write them: `date-time` with any fraction (`.000000Z`), `+00:00` offsets or
 *   none; `date`; `time`; `uri`. Unknown formats (`x-singer.decimal`, `uuid`, ...) are ignored.
 *   `email` is not checked here: the target checks every address itself and rejects a bad one
 *   into the rejects file, a row at a time, instead of stopping the run.
 * - Older drafts: `$schema` of any draft (the Meltano SDK writes 2020-12), draft-04 boolean
 *   `exclusiveMinimum`/`exclusiveMaximum`, draft-03 boolean `required` inside a property (the
 *   Python tap-mixpanel writes `"required": false`).
 */
import { Ajv, type ErrorObject, type SchemaValidateFunction, type ValidateFunction } from 'ajv';
import type { JsonObject, JsonSchema } from './messages.js';

interface Decimal {
  /** The digits, without sign or point. */
  digits: bigint;
  /** value = digits * 10^exponent */
  exponent: number;
}

/** A finite number as an exact decimal, from its shortest round-trip text (what a tap wrote). */
function toDecimal(value: number): Decimal {
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(Math.abs(value)));
  if (!match) throw new Error(`not a finite number: ${value}`);
  const [, whole = '', fraction = '', exponent = '0'] = match;
  return { digits: BigInt(whole + fraction), exponent: Number(exponent) - fraction.length };
}

/**
 * Whether `value` is an integer multiple of `multiple`, compared as the decimals the two numbers
 * are written as: 13 and 0.3 are multiples of 1e-20 and 0.1; 0.35 is not a multiple of 0.1.
 */
export function isMultipleOf(value: number, multiple: number): boolean {
  if (!Number.isFinite(value) || !Number.isFinite(multiple) || multiple <= 0) return false;
  if (value === 0) return true;
  const v = toDecimal(value);
  const m = toDecimal(multiple);
  // value / multiple = (v.digits / m.digits) * 10^(v.exponent - m.exponent)
  const shift = v.exponent - m.exponent;
  if (shift >= 0) return (v.digits * 10n ** BigInt(shift)) % m.digits === 0n;
  return v.digits % (m.digits * 10n ** BigInt(-shift)) === 0n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})/;
const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(?:[Zz]|[+-](\d{2})(?::?(\d{2}))?)?$/;

function validDatePart(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** HH:MM[:SS[.fraction]] with an optional zone (Z, +HH:MM, +HHMM, +HH). */
export function isTime(text: string): boolean {
  const match = TIME.exec(text);
  if (!match) return false;
  const [, hh, mm, ss, zh, zm] = match;
  return Number(hh) <= 23 && Number(mm) <= 59 && (ss === undefined || Number(ss) <= 60) && (zh === undefined || Number(zh) <= 23) && (zm === undefined || Number(zm) <= 59);
}

/**
 * A date, or a date and a time joined by T or a space, with any fraction and an optional zone:
 * 2024-01-01, 2024-01-01T00:00:00.000000Z, 2024-01-01T00:00:00+00:00, 2024-01-01 00:00:00.
 */
export function isDateTime(text: string): boolean {
  if (!validDatePart(text)) return false;
  if (text.length === 10) return true;
  const separator = text.charAt(10);
  return (separator === 'T' || separator === 't' || separator === ' ') && isTime(text.slice(11));
}

/** A calendar date; a date-time is accepted too (taps differ in what they put in a date field). */
export function isDate(text: string): boolean {
  return isDateTime(text);
}

/** An absolute URI with a scheme. */
export function isUri(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(text) && URL.canParse(text);
}

const DRAFT_04_BOUNDS = [
  ['exclusiveMinimum', 'minimum'],
  ['exclusiveMaximum', 'maximum'],
] as const;

/**
 * A copy of a schema that Ajv (draft-07) reads as the tap meant it: `$schema`/`$id` of the root
 * dropped (any draft, and no clash when a stream's SCHEMA is sent again), draft-04 boolean
 * exclusive bounds turned into numbers, draft-03 boolean `required` dropped.
 */
export function normaliseSchema(schema: JsonSchema): JsonSchema {
  const copy = structuredClone(schema);
  delete copy.$schema;
  delete copy.$id;
  if (typeof copy.id === 'string') delete copy.id;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const s = node as JsonObject;
    for (const [exclusive, bound] of DRAFT_04_BOUNDS) {
      if (typeof s[exclusive] === 'boolean') {
        if (s[exclusive] === true && typeof s[bound] === 'number') {
          s[exclusive] = s[bound];
          delete s[bound];
        } else {
          delete s[exclusive];
        }
      }
    }
    if (typeof s.required === 'boolean') delete s.required;
    // `properties`, `definitions` and the like are maps of schemas: visit their values.
    for (const value of Object.values(s)) visit(value);
  };
  visit(copy);
  return copy;
}

/** Root keywords about the record as a whole, dropped when only some properties are checked. */
const WHOLE_RECORD_KEYWORDS = [
  'additionalProperties',
  'patternProperties',
  'propertyNames',
  'unevaluatedProperties',
  'minProperties',
  'maxProperties',
  'dependencies',
  'dependentRequired',
  'dependentSchemas',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
];

/**
 * The part of a record schema that speaks about `properties`: those properties (whole, nested
 * parts included), `required` limited to them, and `definitions` for their references.
 */
export function pickProperties(schema: JsonSchema, properties: ReadonlySet<string>): JsonSchema {
  const picked: JsonSchema = { ...schema };
  for (const keyword of WHOLE_RECORD_KEYWORDS) delete picked[keyword];
  picked.properties = Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([name]) => properties.has(name)));
  if (Array.isArray(schema.required)) picked.required = schema.required.filter((name) => properties.has(name));
  return picked;
}

const multipleOfCheck: SchemaValidateFunction = (multiple: number, value: number) => {
  if (isMultipleOf(value, multiple)) return true;
  multipleOfCheck.errors = [{ keyword: 'multipleOf', message: `must be a multiple of ${multiple}`, params: { multipleOf: multiple } }];
  return false;
};

/** An Ajv instance with the decimal-safe multipleOf and the lenient formats. */
export function createRecordAjv(): Ajv {
  const ajv = new Ajv({ allErrors: false, strict: false, validateSchema: true, logger: false });
  ajv.removeKeyword('multipleOf');
  ajv.addKeyword({
    keyword: 'multipleOf',
    type: 'number',
    schemaType: 'number',
    metaSchema: { type: 'number', exclusiveMinimum: 0 },
    errors: true,
    validate: multipleOfCheck,
  });
  ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
  ajv.addFormat('date', { type: 'string', validate: isDate });
  ajv.addFormat('time', { type: 'string', validate: isTime });
  ajv.addFormat('uri', { type: 'string', validate: isUri });
  ajv.addFormat('email', { type: 'string', validate: () => true });
  return ajv;
}

/** Compiles a normalised schema; the cache keeps repeated SCHEMA messages from compiling again. */
export class SchemaCompiler {
  private readonly ajv = createRecordAjv();
  private readonly compiled = new Map<string, ValidateFunction>();

  /** Throws an Error whose message says what is wrong with the schema. */
  compile(schema: JsonSchema): ValidateFunction {
    const key = JSON.stringify(schema);
    const known = this.compiled.get(key);
    if (known) return known;
    const validate = this.ajv.compile(schema);
    this.compiled.set(key, validate);
    return validate;
  }

  /** The meta-schema problems of a schema, or null when it is a valid JSON Schema. */
  schemaProblem(schema: JsonSchema): string | null {
    if (this.ajv.validateSchema(schema)) return null;
    return this.ajv.errorsText(this.ajv.errors, { dataVar: 'schema' });
  }
}

/** One readable phrase for the first problem Ajv found: `"address.city" must be string`. */
export function describeRecordError(error: ErrorObject | undefined): string {
  const where = error?.instancePath ? error.instancePath.replace(/^\//, '').replace(/\//g, '.').replace(/~1/g, '/').replace(/~0/g, '~') : 'record';
  return `"${where}" ${error?.message ?? 'is invalid'}`;
}
