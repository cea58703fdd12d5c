/**
 * The example Meltano project (meltano/meltano.yml) as Meltano would run it: the catalog from
 * --discover with the project's `select` and `metadata` applied (Meltano's catalog rules), the
 * tap run twice, the second time with the last state of the first (Meltano stores the last state
 * line). engage is INCREMENTAL there, so a bookmark is stored and the second run reads less.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { Catalog } from '../../src/singer/catalog.js';
import { lastState, parseSingerOutput, recordsOf, runBinary, tempDir, writeJson } from './harness.js';

interface ExtractorEntry {
  name: string;
  select?: string[];
  metadata?: Record<string, Record<string, unknown>>;
}

const project = parseDocument(readFileSync(new URL('../../meltano/meltano.yml', import.meta.url), 'utf8')).toJS() as {
  plugins: { extractors: ExtractorEntry[] };
};
const extractor = project.plugins.extractors.find((p) => p.name === 'tap-mixpanel') as ExtractorEntry;

/** Meltano's `select` patterns: `stream.property`, `*` as a wildcard (the only form the example uses). */
function matches(patterns: string[], stream: string, property: string): boolean {
  return patterns.some((pattern) => {
    const [s = '', p = ''] = pattern.split('.');
    const glob = (g: string, v: string) => new RegExp(`^${g.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(v);
    return glob(s, stream) && glob(p, property);
  });
}

/** What Meltano does to the discovered catalog before passing it with --catalog. */
function applyProjectRules(catalog: Catalog, entry: ExtractorEntry): Catalog {
  const select = entry.select ?? ['*.*'];
  for (const stream of catalog.streams) {
    for (const m of stream.metadata ?? []) {
      const property = m.breadcrumb.length === 0 ? undefined : m.breadcrumb[m.breadcrumb.length - 1];
      m.metadata.selected = property === undefined ? select.some((p) => matches([p], stream.tap_stream_id, '*') || p.startsWith(`${stream.tap_stream_id}.`)) : matches(select, stream.tap_stream_id, property);
      if (property === undefined) Object.assign(m.metadata, entry.metadata?.[stream.tap_stream_id] ?? {});
    }
  }
  return catalog;
}

let sandbox: Sandbox;
let dir: string;
let configPath: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 9, profiles: 120, eventsPerDay: 20, days: 5, engagePageSize: 25 });
  dir = tempDir('meltano-project-');
  // From long before the data: the first run reads every profile.
  configPath = writeJson(dir, 'tap.json', { ...sandboxClientConfigs(sandbox).tap, start_date: '2015-01-01T00:00:00Z', ingestion_settle_minutes: 0 });
});

afterAll(async () => {
  await sandbox.close();
});

describe('the example Meltano project', () => {
  it('selects only engage, INCREMENTAL: the state gets an engage bookmark and the next run reads only profiles seen since', async () => {
    const discovered = await runBinary('tap-mixpanel', ['--config', configPath, '--discover']);
    expect(discovered.code).toBe(0);
    const catalogPath = writeJson(dir, 'catalog.json', applyProjectRules(JSON.parse(discovered.stdout) as Catalog, extractor));

    const first = await runBinary('tap-mixpanel', ['--config', configPath, '--catalog', catalogPath]);
    expect(first.code).toBe(0);
    const firstMessages = parseSingerOutput(first.stdout);
    expect(new Set(firstMessages.filter((m) => m.type === 'RECORD').map((m) => (m as { stream: string }).stream))).toEqual(new Set(['engage']));
    const state = lastState(firstMessages) as { bookmarks: Record<string, { replication_key?: string; replication_key_value?: string }> };
    expect(state.bookmarks.engage?.replication_key).toBe('mp_reserved_last_seen');
    expect(typeof state.bookmarks.engage?.replication_key_value).toBe('string');

    const second = await runBinary('tap-mixpanel', ['--config', configPath, '--catalog', catalogPath, '--state', writeJson(dir, 'state.json', state)]);
    expect(second.code).toBe(0);
    const secondMessages = parseSingerOutput(second.stdout);
    const all = recordsOf(firstMessages, 'engage').length;
    const resumed = recordsOf(secondMessages, 'engage');
    expect(all).toBe(120);
    expect(resumed.length).toBeLessThan(all);
    for (const r of resumed) expect(Date.parse(String(r.mp_reserved_last_seen))).toBeGreaterThanOrEqual(Date.parse(String(state.bookmarks.engage?.replication_key_value)));
  });
});
