/**
 * The example Meltano project (meltano/meltano.yml) as Meltano would run it: the catalog from
 * --discover with the project's `select` and `metadata` applied (Meltano's catalog rules), the
 * tap run twice, the second time with the last state of the first (Meltano stores the last state
 * line). engage is INCREMENTAL there, so a bookmark is stored and the second run reads less.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { Catalog } from '../../src/singer/catalog.js';
import { lastState, parseSingerOutput, recordsOf, runBinary, tempDir, writeJson } from './harness.js';
import { applyProjectRules, extractor } from './meltano-rules.js';

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
  it('selects engage, INCREMENTAL, and the two cohort streams: the state gets an engage bookmark and the next run reads only profiles seen since', async () => {
    const discovered = await runBinary('tap-mixpanel', ['--config', configPath, '--discover']);
    expect(discovered.code).toBe(0);
    const catalogPath = writeJson(dir, 'catalog.json', applyProjectRules(JSON.parse(discovered.stdout) as Catalog, extractor));

    const first = await runBinary('tap-mixpanel', ['--config', configPath, '--catalog', catalogPath]);
    expect(first.code).toBe(0);
    const firstMessages = parseSingerOutput(first.stdout);
    expect(new Set(firstMessages.filter((m) => m.type === 'RECORD').map((m) => (m as { stream: string }).stream))).toEqual(new Set(['engage', 'cohorts', 'cohort_members']));
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
