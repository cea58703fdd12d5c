/**
 * target-mailchimp, the compiled binary, fed Singer messages on stdin, against the sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BIN_DIR } from '../../src/demo/pipeline.js';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { getJson, runBinary, tempDir, writeJson } from './harness.js';

let sandbox: Sandbox;
let dir: string;
let targetConfig: Record<string, unknown>;
let configPath: string;

const SCHEMA = JSON.stringify({
  type: 'SCHEMA',
  stream: 'engage',
  key_properties: ['distinct_id'],
  schema: { type: 'object', properties: { distinct_id: { type: 'string' }, mp_reserved_email: { type: ['null', 'string'] }, mp_reserved_first_name: { type: ['null', 'string'] } } },
});

function record(id: string, email: string | null, first = 'Ada'): string {
  return JSON.stringify({ type: 'RECORD', stream: 'engage', record: { distinct_id: id, mp_reserved_email: email, mp_reserved_first_name: first } });
}

function stateLine(n: number): string {
  return JSON.stringify({ type: 'STATE', value: { bookmarks: { engage: { replication_key_value: n } } } });
}

async function memberStatus(email: string): Promise<string | undefined> {
  const { members } = await getJson<{ members: Array<{ email_address: string; status: string }> }>(
    `${sandbox.url}/__admin/mailchimp/lists/${String(targetConfig.list_id)}/members`,
  );
  return members.find((m) => m.email_address.toLowerCase() === email.toLowerCase())?.status;
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 3, profiles: 20, eventsPerDay: 5, days: 2, mailchimp: { requiredMergeField: null } });
  dir = tempDir();
  targetConfig = { ...sandboxClientConfigs(sandbox).target };
  configPath = writeJson(dir, 'target.json', targetConfig);
});

afterAll(async () => {
  await sandbox.close();
});

describe('target-mailchimp input errors', () => {
  it('bad JSON: exit 3, names the line, prints no state', async () => {
    const result = await runBinary('target-mailchimp', ['--config', configPath], { stdin: [SCHEMA, stateLine(1), '{"type": "RECORD", oops'].join('\n') + '\n' });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('line 3: not valid JSON');
  });

  it('RECORD before its SCHEMA: exit 3 with the line number', async () => {
    const result = await runBinary('target-mailchimp', ['--config', configPath], { stdin: record('u1', 'first@acme.io') + '\n' });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('line 1: RECORD for "engage" arrived before its SCHEMA');
  });

  it('a record missing its key property: exit 3', async () => {
    const bad = JSON.stringify({ type: 'RECORD', stream: 'engage', record: { mp_reserved_email: 'x@acme.io' } });
    const result = await runBinary('target-mailchimp', ['--config', configPath], { stdin: [SCHEMA, bad].join('\n') });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('line 2: RECORD for "engage" is missing its key property "distinct_id"');
  });

  it('an unknown list: exit 1 naming list_id, before reading anything', async () => {
    const path = writeJson(dir, 'unknown-list.json', { ...targetConfig, list_id: 'doesnotexist' });
    const result = await runBinary('target-mailchimp', ['--config', path], { stdin: SCHEMA + '\n' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('list_id "doesnotexist" is not an audience of this Mailchimp account');
  });

  it('a wrong API key: exit 1, says which key, never prints it', async () => {
    const key = 'ffffffffffffffffffffffffffffffff-us6';
    const path = writeJson(dir, 'bad-key.json', { ...targetConfig, api_key: key });
    const result = await runBinary('target-mailchimp', ['--config', path], { stdin: SCHEMA + '\n' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Mailchimp refused the api_key');
    expect(result.stderr + result.stdout).not.toContain(key);
  });

  it('status_if_new missing: exit 1 and says what to choose', async () => {
    const { status_if_new: _omit, ...rest } = targetConfig;
    const path = writeJson(dir, 'no-status.json', rest);
    const result = await runBinary('target-mailchimp', ['--config', path], { stdin: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"status_if_new" is required');
  });
});

describe('target-mailchimp state release', () => {
  it('prints a state only after the records before it are in the audience', async () => {
    const child = spawn(process.execPath, [join(BIN_DIR, 'target-mailchimp.js'), '--config', configPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const firstLine = new Promise<string>((resolve) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        if (buffer.includes('\n')) resolve(buffer.slice(0, buffer.indexOf('\n')));
      });
    });
    // The input stays open: the state must come out because the batch before it was written, not because input ended.
    child.stdin.write([SCHEMA, record('s1', 'state.one@acme.io'), record('s2', 'state.two@acme.io'), stateLine(7)].join('\n') + '\n');
    const line = await firstLine;
    expect(JSON.parse(line)).toEqual({ bookmarks: { engage: { replication_key_value: 7 } } });
    expect(await memberStatus('state.one@acme.io')).toBe('subscribed');
    expect(await memberStatus('state.two@acme.io')).toBe('subscribed');
    child.stdin.end(record('s3', 'state.three@acme.io') + '\n');
    expect(await exited).toBe(0);
    expect(await memberStatus('state.three@acme.io')).toBe('subscribed');
  });

  it('never prints a state it did not receive', async () => {
    const result = await runBinary('target-mailchimp', ['--config', configPath], { stdin: [SCHEMA, record('n1', 'no.state@acme.io')].join('\n') });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(await memberStatus('no.state@acme.io')).toBe('subscribed');
  });

  it('ignores streams it is not configured for', async () => {
    const other = JSON.stringify({ type: 'SCHEMA', stream: 'export', key_properties: [], schema: { type: 'object', properties: {} } });
    const otherRecord = JSON.stringify({ type: 'RECORD', stream: 'export', record: { mp_reserved_email: 'ignored@acme.io' } });
    const input = [other, otherRecord, stateLine(8), SCHEMA, record('i1', 'loaded@acme.io'), stateLine(9)].join('\n');
    const result = await runBinary('target-mailchimp', ['--config', configPath], { stdin: input });
    expect(result.code).toBe(0);
    // State 8 waited for engage to come (records of another stream had gone by), then went out.
    expect(result.stdout.trim().split('\n')).toEqual(['{"bookmarks":{"engage":{"replication_key_value":8}}}', '{"bookmarks":{"engage":{"replication_key_value":9}}}']);
    expect(await memberStatus('ignored@acme.io')).toBeUndefined();
    expect(await memberStatus('loaded@acme.io')).toBe('subscribed');
  });

  it('fails, printing no state, when the input has only streams it is not configured for', async () => {
    const other = JSON.stringify({ type: 'SCHEMA', stream: 'export', key_properties: [], schema: { type: 'object', properties: {} } });
    const otherRecord = JSON.stringify({ type: 'RECORD', stream: 'export', record: { mp_reserved_email: 'ignored@acme.io' } });
    const result = await runBinary('target-mailchimp', ['--config', configPath], { stdin: [other, otherRecord, stateLine(9)].join('\n') });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('"stream" names "engage", which is not in the input');
    expect(result.stderr).toContain('the input had "export" (1 record)');
  });
});
