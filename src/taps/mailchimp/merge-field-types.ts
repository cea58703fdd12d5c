/**
 * An audience's merge fields as JSON Schema, and member values in the shape those schemas say.
 *
 * Mailchimp answers "" for a merge field a member has no value in, whatever its type; a number
 * or a date cannot be "", so empty values of typed fields become null. Text-like types keep ""
 * (what Mailchimp holds). Dates are sent as YYYY-MM-DD (format date) whichever date_format the
 * field displays with; a birthday has no year and stays MM/DD; an address is an object.
 *
 * | Mailchimp type                                   | JSON Schema                                         |
 * | number                                           | number (null when empty)                            |
 * | date                                             | string, format date (null when empty)               |
 * | birthday                                         | string MM/DD (null when empty)                      |
 * | address                                          | object addr1, addr2, city, state, zip, country      |
 * | text, phone, url, imageurl, radio, dropdown, zip | string                                              |
 * | anything else (a type added later)               | any JSON value, passed through                      |
 */
import type { JsonSchema } from '../../singer/messages.js';
import type { RawMergeField } from './raw.js';

const ADDRESS_PARTS = ['addr1', 'addr2', 'city', 'state', 'zip', 'country'] as const;
const TEXT_TYPES = new Set(['text', 'phone', 'url', 'imageurl', 'radio', 'dropdown', 'zip']);

function describe(field: RawMergeField): string {
  const format = field.options?.date_format ? `, shown as ${field.options.date_format}` : '';
  return `${field.name} (merge field ${field.tag}, ${field.type}${format})`;
}

/** The JSON Schema of one merge field's values. */
export function mergeFieldSchema(field: RawMergeField): JsonSchema {
  const description = describe(field);
  switch (field.type) {
    case 'number':
      return { type: ['null', 'number'], description };
    case 'date':
      return { type: ['null', 'string'], format: 'date', description };
    case 'birthday':
      return { type: ['null', 'string'], pattern: '^\\d{2}/\\d{2}$', description: `${description}: month/day, no year` };
    case 'address':
      return {
        type: ['null', 'object'],
        properties: Object.fromEntries(ADDRESS_PARTS.map((part) => [part, { type: ['null', 'string'] }])),
        description,
      };
    default:
      if (TEXT_TYPES.has(field.type)) return { type: ['null', 'string'], description };
      return { description: `${description}: a type this tap does not know, passed through as Mailchimp sends it` };
  }
}

function sameSchema(a: JsonSchema, b: JsonSchema): boolean {
  const strip = ({ description: _d, ...rest }: JsonSchema) => JSON.stringify(rest);
  return strip(a) === strip(b);
}

/**
 * The merge_fields object of list_members for several audiences: one property per tag. A tag
 * typed differently in two audiences accepts either (anyOf); fields added after discovery pass.
 */
export function mergeFieldsObjectSchema(fieldsByList: ReadonlyArray<readonly RawMergeField[]>): JsonSchema {
  const byTag = new Map<string, JsonSchema[]>();
  for (const fields of fieldsByList) {
    for (const field of fields) {
      const schema = mergeFieldSchema(field);
      const known = byTag.get(field.tag) ?? [];
      if (!known.some((s) => sameSchema(s, schema))) known.push(schema);
      byTag.set(field.tag, known);
    }
  }
  const properties: Record<string, JsonSchema> = {};
  for (const tag of [...byTag.keys()].sort()) {
    const schemas = byTag.get(tag) as JsonSchema[];
    properties[tag] = schemas.length === 1 ? (schemas[0] as JsonSchema) : { anyOf: schemas, description: `merge field ${tag}, typed differently in the audiences read` };
  }
  return { type: ['null', 'object'], properties, additionalProperties: true };
}

/** A date in a field's display format (MM/DD/YYYY, DD/MM/YYYY, YYYY-MM-DD, ...) or ISO, as YYYY-MM-DD. */
export function isoDate(value: string, dateFormat: string | undefined): string | undefined {
  const text = value.trim();
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$/.exec(text);
  let parts: { y: string; m: string; d: string } | undefined = iso ? { y: iso[1] as string, m: iso[2] as string, d: iso[3] as string } : undefined;
  if (!parts) {
    const numbers = /^(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})$/.exec(text);
    if (!numbers) return undefined;
    const [, a, b, c] = numbers as unknown as [string, string, string, string];
    const order = (dateFormat ?? 'MM/DD/YYYY').toUpperCase().replace(/[^DMY]/g, '');
    if (a.length === 4) parts = { y: a, m: b, d: c };
    else if (order.startsWith('DD')) parts = { y: c, m: b, d: a };
    else parts = { y: c, m: a, d: b };
  }
  const month = Number(parts.m);
  const day = Number(parts.d);
  if (parts.y.length !== 4 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const date = `${parts.y}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  // Date.parse rolls 2024-02-30 over into March: a real date reads back the same.
  const ms = Date.parse(`${date}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === date ? date : undefined;
}

export interface ValueProblem {
  tag: string;
  value: unknown;
}

/**
 * One merge field value as its schema says; `onProblem` hears of a value that cannot be read as
 * its type (it is then null: a number field holding text, say). Unknown types pass unchanged.
 */
export function mergeFieldValue(field: RawMergeField | undefined, value: unknown, onProblem: (problem: ValueProblem) => void): unknown {
  if (field === undefined) return value;
  if (value === '' || value === null || value === undefined) return TEXT_TYPES.has(field.type) ? (value ?? null) : null;
  switch (field.type) {
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.replace(/,/g, '')) : NaN;
      if (Number.isFinite(n)) return n;
      break;
    }
    case 'date': {
      const date = typeof value === 'string' ? isoDate(value, field.options?.date_format) : undefined;
      if (date) return date;
      break;
    }
    case 'birthday': {
      const m = typeof value === 'string' ? /^(\d{1,2})\/(\d{1,2})$/.exec(value.trim()) : null;
      if (m) return `${(m[1] as string).padStart(2, '0')}/${(m[2] as string).padStart(2, '0')}`;
      break;
    }
    case 'address':
      if (typeof value === 'object' && !Array.isArray(value)) {
        const address = value as Record<string, unknown>;
        return Object.fromEntries(ADDRESS_PARTS.map((part) => [part, address[part] === undefined || address[part] === null ? null : String(address[part])]));
      }
      break;
    default:
      return TEXT_TYPES.has(field.type) && typeof value !== 'string' ? String(value) : value;
  }
  onProblem({ tag: field.tag, value });
  return null;
}
