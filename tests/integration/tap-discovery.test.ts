/**
 * tap-mixpanel --discover against the sandbox: a deterministic catalog with the project's own
 * properties typed, a bounded number of Query API calls, and selection applied by --catalog and
 * --properties.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import type { Catalog, CatalogEntry } from '../../src/singer/catalog.js';
import type { JsonSchema, SingerMessage } from '../../src/singer/messages.js';
import { DISCOVERY_MAX_EVENTS } from '../../src/taps/mixpanel/properties.js';
import { STREAMS } from '../../src/taps/mixpanel/streams/index.js';
import { getJson, parseSingerOutput, postJson, recordsOf, runBinary, tempDir, writeJson } from './harness.js';

let sandbox: Sandbox;
let dir: string;
let tapConfig: Record<string, unknown>;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 3, profiles: 60, eventsPerDay: 60, days: 3, now: '2024-06-10T12:00:00Z' });
  dir = tempDir();
  // The sandbox's clock says 2024-06-10: end_date keeps every export request within its today.
  tapConfig = { ...sandboxClientConfigs(sandbox).tap, end_date: '2024-06-10T00:00:00Z', ingestion_settle_minutes: 0 };
});

afterAll(async () => {
  await sandbox.close();
});

async function discoverWith(config: Record<string, unknown>): Promise<string> {
  const result = await runBinary('tap-mixpanel', ['--config', writeJson(dir, 'discover-config.json', config), '--discover']);
  if (result.code !== 0) throw new Error(`--discover exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

function entryOf(catalog: Catalog, stream: string): CatalogEntry {
  const entry = catalog.streams.find((e) => e.tap_stream_id === stream);
  if (!entry) throw new Error(`no ${stream} in the catalog`);
  return entry;
}

function setMetadata(entry: CatalogEntry, breadcrumb: string[], values: Record<string, unknown>): void {
  const item = entry.metadata?.find((m) => JSON.stringify(m.breadcrumb) === JSON.stringify(breadcrumb));
  if (!item) throw new Error(`${entry.tap_stream_id} has no metadata at ${breadcrumb.join('.')}`);
  Object.assign(item.metadata, values);
}

function validateAll(messages: SingerMessage[]): number {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  const validators = new Map<string, ReturnType<typeof ajv.compile>>();
  let checked = 0;
  for (const m of messages) {
    if (m.type === 'SCHEMA') validators.set(m.stream, ajv.compile(m.schema as JsonSchema));
    if (m.type === 'RECORD') {
      const validate = validators.get(m.stream);
      if (!validate?.(m.record)) throw new Error(`${m.stream} record invalid: ${JSON.stringify(validate?.errors)} ${JSON.stringify(m.record).slice(0, 300)}`);
      checked++;
    }
  }
  return checked;
}

describe('--discover', () => {
  let text: string;
  let catalog: Catalog;
  let queryCalls: number;
  let exportCalls: number;

  beforeAll(async () => {
    await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
    text = await discoverWith(tapConfig);
    catalog = JSON.parse(text) as Catalog;
    const log = await getJson<{ requests: Array<{ family: string }> }>(`${sandbox.url}/__admin/requests`);
    queryCalls = log.requests.filter((r) => r.family === 'query').length;
    exportCalls = log.requests.filter((r) => r.family === 'export').length;
  });

  it('lists every stream, in the engine order, and is byte-identical across runs', async () => {
    expect(catalog.streams.map((s) => s.tap_stream_id)).toEqual(STREAMS.map((s) => s.name));
    expect(await discoverWith(tapConfig)).toBe(text);
  });

  it('types the project own properties from the property endpoints, renamed like the records', () => {
    const engage = entryOf(catalog, 'engage').schema.properties ?? {};
    expect(engage.plan).toEqual({ type: ['null', 'string'] });
    expect(engage['Lifetime Value']).toEqual({ type: ['null', 'number'] });
    expect(engage.newsletter_opt_in).toEqual({ type: ['null', 'boolean'] });
    expect(engage.tags).toMatchObject({ type: ['null', 'array'] });
    expect(engage.mp_reserved_last_seen).toMatchObject({ format: 'date-time' });
    const events = entryOf(catalog, 'export').schema.properties ?? {};
    const custom = Object.keys(events).filter((name) => !name.startsWith('mp_') && !['event', 'distinct_id', 'time'].includes(name));
    expect(custom.length).toBeGreaterThan(5);
    expect(custom.some((name) => JSON.stringify(events[name]?.type) === JSON.stringify(['null', 'number']))).toBe(true);
    expect(custom.some((name) => JSON.stringify(events[name]?.type) === JSON.stringify(['null', 'boolean']))).toBe(true);
    for (const entry of catalog.streams) {
      expect(Object.keys(entry.schema.properties ?? {}).filter((name) => name.startsWith('$'))).toEqual([]);
      const names = Object.keys(entry.schema.properties ?? {});
      expect(names).toEqual([...names].sort());
    }
  });

  it('spends a bounded number of Query API calls (60 an hour per project) and one export call', () => {
    expect(queryCalls).toBeGreaterThan(2);
    expect(queryCalls).toBeLessThanOrEqual(DISCOVERY_MAX_EVENTS + 2);
    expect(exportCalls).toBeLessThanOrEqual(1);
  });
});

describe('selection and new properties', () => {
  let catalog: Catalog;

  beforeAll(async () => {
    catalog = JSON.parse(await discoverWith(tapConfig)) as Catalog;
  });

  async function sync(catalogToUse: Catalog, flag: '--catalog' | '--properties', config = tapConfig): Promise<SingerMessage[]> {
    const path = writeJson(dir, 'catalog.json', catalogToUse);
    const result = await runBinary('tap-mixpanel', ['--config', writeJson(dir, 'tap.json', config), flag, path]);
    if (result.code !== 0) throw new Error(`tap exited ${result.code}: ${result.stderr.slice(-2000)}`);
    return parseSingerOutput(result.stdout);
  }

  it('drops deselected properties from SCHEMA and RECORD, keeps automatic keys, and every record validates (--properties)', async () => {
    const chosen = structuredClone(catalog);
    const engage = entryOf(chosen, 'engage');
    const events = entryOf(chosen, 'export');
    setMetadata(engage, ['properties', 'plan'], { selected: false });
    setMetadata(engage, ['properties', 'distinct_id'], { selected: false });
    setMetadata(events, ['properties', 'mp_reserved_browser'], { selected: false });
    const messages = await sync(chosen, '--properties');
    const schemas = new Map(messages.flatMap((m) => (m.type === 'SCHEMA' ? [[m.stream, m.schema as JsonSchema] as const] : [])));
    expect(Object.keys(schemas.get('engage')?.properties ?? {})).not.toContain('plan');
    expect(Object.keys(schemas.get('engage')?.properties ?? {})).toContain('distinct_id');
    expect(Object.keys(schemas.get('export')?.properties ?? {})).not.toContain('mp_reserved_browser');
    const profiles = recordsOf(messages, 'engage');
    expect(profiles.length).toBe(60);
    expect(profiles.some((r) => 'plan' in r)).toBe(false);
    expect(profiles.every((r) => typeof r.distinct_id === 'string')).toBe(true);
    expect(recordsOf(messages, 'export').some((r) => 'mp_reserved_browser' in r)).toBe(false);
    expect(validateAll(messages)).toBeGreaterThan(100);
  });

  it('syncs only the selected streams (--catalog)', async () => {
    const chosen = structuredClone(catalog);
    setMetadata(entryOf(chosen, 'export'), [], { selected: false });
    for (const entry of chosen.streams) if (entry.tap_stream_id !== 'engage' && entry.tap_stream_id !== 'export') setMetadata(entry, [], { selected: false });
    const messages = await sync(chosen, '--catalog');
    expect([...new Set(messages.filter((m) => m.type === 'SCHEMA').map((m) => (m as { stream: string }).stream))]).toEqual(['engage']);
  });

  it('passes properties that appeared after discovery with select_properties_by_default, and drops them without', async () => {
    const someone = (await getJson<Array<{ $distinct_id: string }>>(`${sandbox.url}/__admin/mixpanel/profiles`))[4]?.$distinct_id as string;
    await postJson(`${sandbox.url}/__admin/mixpanel/profiles`, { profiles: [{ distinct_id: someone, $set: { favourite_colour: 'teal', $loyalty_tier: 'gold' } }] });
    const only = (c: Catalog) => {
      const chosen = structuredClone(c);
      for (const entry of chosen.streams) setMetadata(entry, [], { selected: entry.tap_stream_id === 'engage' });
      return chosen;
    };
    const withNew = recordsOf(await sync(only(catalog), '--catalog'), 'engage').find((r) => r.distinct_id === someone);
    expect(withNew).toMatchObject({ favourite_colour: 'teal', mp_reserved_loyalty_tier: 'gold' });

    const strictConfig = { ...tapConfig, select_properties_by_default: false };
    const strictCatalog = JSON.parse(await discoverWith(strictConfig)) as Catalog;
    // Discovered after the change: the new property is in this catalog; deselect it to see what "unknown" means.
    setMetadata(entryOf(strictCatalog, 'engage'), ['properties', 'favourite_colour'], { selected: false });
    const withoutNew = recordsOf(await sync(only(strictCatalog), '--catalog', strictConfig), 'engage').find((r) => r.distinct_id === someone);
    expect(withoutNew).toBeDefined();
    expect(withoutNew).not.toHaveProperty('favourite_colour');
    // Unknown to the strict catalog (discovered before the change): dropped.
    const older = structuredClone(catalog);
    entryOf(older, 'engage').schema.additionalProperties = false;
    const dropped = recordsOf(await sync(only(older), '--catalog', strictConfig), 'engage').find((r) => r.distinct_id === someone);
    expect(dropped).not.toHaveProperty('mp_reserved_loyalty_tier');
    expect(dropped).toHaveProperty('mp_reserved_email');
  });
});
