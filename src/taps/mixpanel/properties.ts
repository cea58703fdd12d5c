/**
 * The project's own properties, for discovery: profile properties with their types from
 * engage/properties, event property names from events/names + events/properties/top, and event
 * property types from a small export sample (the property endpoints give counts, not types).
 *
 * The Query API allows 60 calls an hour per project, shared with every other tool on it:
 * discovery spends at most 2 + DISCOVERY_MAX_EVENTS of them (the top events by volume), and one
 * export call for the sample. Names come back renamed ($x -> mp_reserved_x) like the records.
 */
import type { Logger } from '../../log/logger.js';
import { AppError, errorMessage } from '../../errors/index.js';
import type { JsonSchema } from '../../singer/messages.js';
import { LineSplitter } from '../../util/lines.js';
import type { MixpanelClient } from './client.js';
import { exportEventNames, type TapConfig } from './config.js';
import { addDays, type ProjectTime } from './time.js';
import { renameProperty } from './transform.js';

/** events/properties/top calls per discovery (one per event, most frequent events first). */
export const DISCOVERY_MAX_EVENTS = 10;
/** Property names asked per event. */
export const TOP_PROPERTIES_LIMIT = 100;
/** Events read from export to learn property types, over the last SAMPLE_DAYS days. */
export const SAMPLE_EVENTS = 2000;
export const SAMPLE_DAYS = 7;

export type PropertySchemas = Record<string, JsonSchema>;

/** A property whose type Mixpanel did not tell us: any JSON value. */
export const ANY_VALUE: JsonSchema = { type: ['null', 'boolean', 'number', 'string', 'array', 'object'] };

/** JSON Schema for a type name of engage/properties (string, number, boolean, datetime, list, object, unknown). */
export function schemaForMixpanelType(type: unknown): JsonSchema {
  switch (type) {
    case 'string':
      return { type: ['null', 'string'] };
    case 'number':
      return { type: ['null', 'number'] };
    case 'boolean':
      return { type: ['null', 'boolean'] };
    // Profile date-times become RFC 3339 in the records (transform.ts profileDateTime).
    case 'datetime':
      return { type: ['null', 'string'], format: 'date-time' };
    case 'list':
      return { type: ['null', 'array'], items: {} };
    case 'object':
      return { type: ['null', 'object'] };
    default:
      return ANY_VALUE;
  }
}

type JsonTypeName = 'boolean' | 'number' | 'string' | 'array' | 'object';

function jsonTypeOf(value: unknown): JsonTypeName | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  return t === 'boolean' || t === 'number' || t === 'string' || t === 'object' ? t : null;
}

/** Types seen per property over sample values; builds schemas that accept every value seen. */
export class TypeSampler {
  private readonly seen = new Map<string, Set<JsonTypeName>>();

  add(properties: Record<string, unknown>): void {
    for (const name in properties) {
      let types = this.seen.get(name);
      if (!types) this.seen.set(name, (types = new Set()));
      const type = jsonTypeOf(properties[name]);
      if (type) types.add(type);
    }
  }

  schemaFor(name: string): JsonSchema {
    const types = this.seen.get(name);
    if (!types || types.size === 0) return ANY_VALUE;
    const order: JsonTypeName[] = ['boolean', 'number', 'string', 'array', 'object'];
    const list = ['null', ...order.filter((t) => types.has(t))];
    return types.has('array') ? { type: list, items: {} } : { type: list };
  }
}

/** A failure that should not stop discovery: the stream keeps its built-in schema. */
function isRecoverable(err: unknown): boolean {
  if (!(err instanceof AppError && err.kind === 'config')) return true;
  // Credentials (401/403) stop discovery; a plan limit (402) or a refused sample range (400,
  // e.g. a project whose "today" is behind ours) only costs the sample.
  const status = (err as { status?: number }).status ?? (err.cause as { status?: number } | undefined)?.status;
  return status === 402 || status === 400;
}

async function recoverable<T>(log: Logger, what: string, call: () => Promise<T>, fallback: T, without = 'it'): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!isRecoverable(err)) throw err;
    log.warn(`discovery: ${what} failed; continuing without ${without}`, { error: errorMessage(err) });
    return fallback;
  }
}

/**
 * Profile properties of the project, typed by Mixpanel (one Query API call). The endpoint is
 * undocumented (absent from Mixpanel's current specification): when it fails (a 404 once it is
 * retired), engage keeps its built-in schema and, with select_properties_by_default, still
 * passes every profile property through.
 */
export async function discoverProfileProperties(client: MixpanelClient, log: Logger): Promise<PropertySchemas> {
  const answer = await recoverable(
    log,
    'engage/properties',
    () => client.query.json<{ results?: Record<string, { type?: string; count?: number }> }>({ path: '/api/2.0/engage/properties' }),
    { results: {} },
    "the project's profile properties (engage keeps its built-in schema)",
  );
  const out: PropertySchemas = {};
  for (const name of Object.keys(answer.results ?? {}).sort()) out[renameProperty(name)] = schemaForMixpanelType(answer.results?.[name]?.type);
  return out;
}

async function topEventNames(client: MixpanelClient, config: TapConfig): Promise<string[]> {
  const configured = exportEventNames(config);
  if (configured) return configured.slice(0, DISCOVERY_MAX_EVENTS);
  const names = await client.query.json<unknown>({ path: '/api/query/events/names', query: { type: 'general', limit: DISCOVERY_MAX_EVENTS } });
  if (!Array.isArray(names)) return [];
  return names.filter((n): n is string => typeof n === 'string').slice(0, DISCOVERY_MAX_EVENTS);
}

async function sampleEventTypes(client: MixpanelClient, config: TapConfig, time: ProjectTime, events: string[]): Promise<TypeSampler> {
  const sampler = new TypeSampler();
  const to = config.end_date ? minDay(time.configDay(config.end_date), time.today) : time.today;
  const from = addDays(to, 1 - SAMPLE_DAYS);
  const response = await client.export.stream({
    path: '/api/2.0/export',
    query: { from_date: from, to_date: to, event: events.length > 0 ? JSON.stringify(events) : undefined, limit: SAMPLE_EVENTS },
    gzip: true,
  });
  const splitter = new LineSplitter();
  const take = (lines: string[]) => {
    for (const line of lines) {
      if (line.charCodeAt(0) !== 123 /* { */) continue;
      const raw = JSON.parse(line) as { properties?: Record<string, unknown> };
      if (raw.properties) sampler.add(raw.properties);
    }
  };
  for await (const chunk of response.body) take(splitter.push(chunk as Buffer));
  const rest = splitter.end();
  if (rest) take([rest]);
  return sampler;
}

function minDay(a: string, b: string): string {
  return a < b ? a : b;
}

/** Event properties of the project's top events, typed from a sample of recent events. */
export async function discoverEventProperties(client: MixpanelClient, config: TapConfig, time: ProjectTime, log: Logger): Promise<PropertySchemas> {
  const events = await recoverable(log, 'events/names', () => topEventNames(client, config), []);
  const names = new Set<string>();
  // Sequential on purpose: the Query API allows 5 concurrent calls, shared with other tools.
  for (const event of events) {
    const top = await recoverable(
      log,
      `events/properties/top for ${JSON.stringify(event)}`,
      () => client.query.json<Record<string, unknown>>({ path: '/api/query/events/properties/top', query: { event, limit: TOP_PROPERTIES_LIMIT } }),
      {},
    );
    for (const name of Object.keys(top ?? {})) names.add(name);
  }
  if (names.size === 0) return {};
  const sampler = await recoverable(log, 'export sample for property types', () => sampleEventTypes(client, config, time, events), new TypeSampler());
  const out: PropertySchemas = {};
  for (const name of [...names].sort()) out[renameProperty(name)] = sampler.schemaFor(name);
  log.info('discovery: event properties', { events: events.length, properties: names.size });
  return out;
}
