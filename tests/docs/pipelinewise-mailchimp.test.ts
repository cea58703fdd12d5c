/**
 * pipelinewise/README.md's "Mailchimp audiences with PipelineWise" and
 * pipelinewise/tap-mailchimp/tap_mailchimp.yml as PipelineWise runs them once the README's two
 * additions are made (tests/integration/pipelinewise-rules.ts: TAP_TYPES['tap-mailchimp'] is that
 * entry; TAP_TYPE_ENUM is the schema's list without it). The README's link block runs as written;
 * then `import` and two `run_tap` runs against the sandbox, members changed between them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { Catalog } from '../../src/singer/catalog.js';
import { getJson, postJson } from '../integration/harness.js';
import { connectorBin, initialSyncRequired, PipelineWiseHome, pipelinewiseHome, readTapYaml, TAP_TYPE_ENUM, TAP_TYPES, type TapYaml } from '../integration/pipelinewise-rules.js';
import { blockById, errorLines, fencedBlocks, REPO_ROOT, TARGET_POSTGRES_STANDIN, Workspace } from './blocks.js';

const README = 'pipelinewise/README.md';
const SECTION = `${README} > Mailchimp audiences with PipelineWise`;
const TRANSFORM_FIELD_STANDIN = '#!/bin/sh\nexit 0\n';

let sandbox: Sandbox;
let ws: Workspace;
let ppw: PipelineWiseHome;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, now: '2024-06-10T12:00:00Z', days: 1, eventsPerDay: 5, profiles: 40, mailchimp: { audienceSize: 80 } });
  ws = new Workspace('doc-ppw-mailchimp-', { PIPELINEWISE_HOME: undefined });
  const home = pipelinewiseHome({ HOME: ws.home });
  ppw = new PipelineWiseHome(home, join(ws.home, '.pipelinewise'), { ...process.env, PIPELINEWISE_HOME: home, HOME: ws.home, LOG_LEVEL: 'info' });
  for (const [type, script] of [['target-postgres', TARGET_POSTGRES_STANDIN], ['transform-field', TRANSFORM_FIELD_STANDIN]] as const) {
    mkdirSync(join(home, '.virtualenvs', type, 'bin'), { recursive: true });
    writeFileSync(connectorBin(home, type), script, { mode: 0o755 });
  }
});

afterAll(async () => {
  await sandbox?.close();
});

function tapYaml(): TapYaml {
  const tap = readTapYaml(join(REPO_ROOT, 'pipelinewise/tap-mailchimp/tap_mailchimp.yml'));
  tap.db_conn = { ...tap.db_conn, api_key: sandbox.credentials.mailchimp.apiKey, api_base_url: `${sandbox.url}/3.0`, list_ids: [sandbox.credentials.mailchimp.listId] };
  return tap;
}

async function runTap(tap: TapYaml): Promise<Map<string, Array<Record<string, unknown>>>> {
  const warehouse = ws.path('warehouse.jsonl');
  writeFileSync(warehouse, '');
  const target = ws.write('target.json', JSON.stringify({ path: warehouse }));
  const result = await ppw.runTap(tap, { type: 'target-postgres', config: target });
  expect({ code: result.code, errors: errorLines(result.output) }).toEqual({ code: 0, errors: [] });
  const records = new Map<string, Array<Record<string, unknown>>>();
  for (const line of readFileSync(warehouse, 'utf8').split('\n').filter((l) => l !== '')) {
    const { stream, record } = JSON.parse(line) as { stream: string; record: Record<string, unknown> };
    records.set(stream, [...(records.get(stream) ?? []), record]);
  }
  return records;
}

describe('pipelinewise/README.md: Mailchimp audiences with PipelineWise', () => {
  it('names what PipelineWise lacks: the type enum has no tap-mailchimp, and the entry to add is the one these tests use', () => {
    expect(TAP_TYPE_ENUM).not.toContain('tap-mailchimp');
    expect(TAP_TYPE_ENUM).toContain('tap-mixpanel');
    const entry = blockById(fencedBlocks(README), `${SECTION} [0]`).text;
    const rule = TAP_TYPES['tap-mailchimp'];
    expect(entry).toContain(`'tap_stream_id_pattern': '${rule?.tapStreamIdPattern ?? ''}'`);
    expect(entry).toContain(`'tap_catalog_argument': '${rule?.catalogArgument ?? ''}'`);
    expect(entry).toContain(`'default_replication_method': '${rule?.defaultReplicationMethod ?? ''}'`);
    expect(entry).toContain("'tap_config_extras': {}");
  });

  it('links the tap where PipelineWise looks (the README block as written)', async () => {
    const result = await ws.bash(blockById(fencedBlocks(README), `${SECTION} [1]`).text);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(realpathSync(connectorBin(pipelinewiseHome({ HOME: ws.home }), 'tap-mailchimp'))).toBe(realpathSync(join(REPO_ROOT, 'bin/tap-mailchimp.js')));
  });

  it('imports the YAML and runs it twice: every member, then exactly the members changed', async () => {
    const tap = tapYaml();
    const imported = await ppw.importTap(tap);
    expect(imported).toEqual({ code: 0, problems: [] });
    const properties = ppw.tapFiles(tap).read<Catalog>(ppw.tapFiles(tap).properties);
    const root = (stream: string) => properties.streams.find((s) => s.tap_stream_id === stream)?.metadata?.find((m) => m.breadcrumb.length === 0)?.metadata ?? {};
    expect(root('list_members')).toMatchObject({ selected: true, 'replication-method': 'INCREMENTAL', 'replication-key': 'last_changed' });
    expect(root('interests').selected).toBe(false);

    const { members } = await getJson<{ members: Array<{ id: string; status: string; forgotten: boolean }> }>(`${sandbox.url}/__admin/mailchimp/lists/${sandbox.credentials.mailchimp.listId}/members`);
    const visible = members.filter((m) => !m.forgotten);
    const first = await runTap(tap);
    expect((first.get('list_members') ?? []).map((m) => m.id).sort()).toEqual(visible.map((m) => m.id).sort());
    expect([...first.keys()].sort()).toEqual(['list_members', 'lists', 'merge_fields', 'tags']);

    const changed = visible.filter((m) => m.status === 'subscribed').slice(0, 3).map((m) => m.id);
    await postJson(`${sandbox.url}/__admin/clock`, { advance_ms: 60_000 });
    for (const id of changed) {
      await fetch(`${sandbox.url}/__admin/mailchimp/lists/${sandbox.credentials.mailchimp.listId}/members/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'unsubscribed' }) });
    }
    await postJson(`${sandbox.url}/__admin/clock`, { advance_ms: 120_000 });
    const second = await runTap(tap);
    expect((second.get('list_members') ?? []).map((m) => [m.id, m.status]).sort()).toEqual(changed.map((id) => [id, 'unsubscribed']).sort());

    // The state PipelineWise keeps: a bookmark per audience; its own status check finds none at the stream's level.
    const state = ppw.tapFiles(tap).read<{ bookmarks: { list_members: { partitions: Array<{ context: { list_id: string }; replication_key_value: string }> } } }>(ppw.tapFiles(tap).state);
    expect(state.bookmarks.list_members.partitions.map((p) => p.context.list_id)).toEqual([sandbox.credentials.mailchimp.listId]);
    expect(initialSyncRequired('INCREMENTAL', state.bookmarks.list_members as unknown as Record<string, unknown>)).toBe(true);
  });
});
