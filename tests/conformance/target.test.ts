/**
 * Singer conformance of target-mailchimp, after the Meltano SDK's standard target tests: the
 * fixture streams in fixtures/ must load (arrays, camelCase, anyOf, duplicates, unicode, no
 * primary keys, optional and missing fields, schema updates, special characters), and the broken
 * ones must fail with a message naming the line (invalid schema, record before schema, record
 * missing its key property, a line that is not JSON). A stream named meltano_test_stream passes
 * `meltano config test` style checks (exit 0, no "error"/"exception" in the output).
 *
 * Written against the CLI contract: config keys `stream` (streams to load) and `email_property`;
 * Singer on stdin; on stdout only the bare state values received, each after the records before
 * it are written; exit codes as in the README (3 = malformed input).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { getJson, runBinary, tempDir, writeJson, type RunResult } from '../integration/harness.js';

interface FixtureMessage {
  type: string;
  stream?: string;
  record?: Record<string, unknown>;
  value?: unknown;
}

let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  // No required merge field: these tests are about the Singer format, not Mailchimp's field rules.
  sandbox = await startSandbox({ port: 0, seed: 13, days: 1, eventsPerDay: 5, profiles: 5, mailchimp: { requiredMergeField: null } });
  dir = tempDir('tmt-conf-target-');
});

afterAll(async () => {
  await sandbox.close();
});

function fixture(name: string): { text: string; messages: FixtureMessage[] } {
  const text = readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
  const messages = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as FixtureMessage;
      } catch {
        return { type: 'NOT_JSON' };
      }
    });
  return { text, messages };
}

function streamsOf(messages: FixtureMessage[]): string[] {
  return [...new Set(messages.map((m) => m.stream).filter((s): s is string => typeof s === 'string'))];
}

async function runTarget(name: string, streams: string[]): Promise<RunResult> {
  const config = writeJson(dir, `${name}.config.json`, { ...sandboxClientConfigs(sandbox).target, stream: streams, email_property: 'email' });
  return runBinary('target-mailchimp', ['--config', config], { stdin: fixture(name).text });
}

async function audienceEmails(): Promise<Map<string, string>> {
  const listId = sandboxClientConfigs(sandbox).target.list_id;
  const answer = await getJson<{ members: Array<{ email_address: string; status: string }> }>(`${sandbox.url}/__admin/mailchimp/lists/${listId}/members`);
  return new Map(answer.members.map((m) => [m.email_address.toLowerCase(), m.status]));
}

const LOADS = [
  'array_data.jsonl',
  'camelcase.jsonl',
  'anyof.jsonl',
  'duplicate_records.jsonl',
  'encoded_strings.jsonl',
  'no_primary_keys.jsonl',
  'optional_attributes.jsonl',
  'record_missing_fields.jsonl',
  'schema_updates.jsonl',
  'special_chars_in_attributes.jsonl',
];

describe('target-mailchimp loads the standard fixture streams', () => {
  it.each(LOADS)('%s: exit 0, every person in the audience, the states echoed bare and in order', async (name) => {
    const { messages } = fixture(name);
    const result = await runTarget(name, streamsOf(messages));
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.code).toBe(0);

    // stdout: only state values the target received, in order, ending with the last one.
    const received = messages.filter((m) => m.type === 'STATE').map((m) => JSON.stringify(m.value));
    const printed = result.stdout.split('\n').filter((l) => l !== '');
    for (const line of printed) expect(received).toContain(JSON.stringify(JSON.parse(line)));
    expect(printed.length).toBeGreaterThan(0);
    expect(JSON.stringify(JSON.parse(printed[printed.length - 1] ?? 'null'))).toBe(received[received.length - 1]);

    // Every person of the fixture is now a member (email case does not make two people).
    const emails = new Set(messages.filter((m) => m.type === 'RECORD').map((m) => String(m.record?.email).toLowerCase()));
    const audience = await audienceEmails();
    const missing = [...emails].filter((e) => !audience.has(e));
    expect(missing).toEqual([]);
    for (const e of emails) expect(audience.get(e)).toBe('subscribed');
  });

  it('duplicate records and email case twins make one member each', async () => {
    const audience = await audienceEmails();
    const dups = [...audience.keys()].filter((e) => e.startsWith('conformance.dup.'));
    expect(dups.sort()).toEqual(['conformance.dup.1@example.org', 'conformance.dup.2@example.org']);
  });
});

describe('target-mailchimp rejects broken input with a message naming the line', () => {
  it.each([
    ['invalid_schema.jsonl', 1, /schema/i],
    ['schema_without_properties.jsonl', 1, /properties/i],
    ['record_before_schema.jsonl', 1, /before its SCHEMA|before.*schema/i],
    ['record_missing_key_property.jsonl', 3, /key propert/i],
    ['invalid_json.jsonl', 2, /JSON/i],
  ])('%s fails (exit 3) naming line %i', async (name, line, what) => {
    const { messages } = fixture(name);
    const result = await runTarget(name, streamsOf(messages));
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(new RegExp(`line ${line}\\b`));
    expect(result.stderr).toMatch(what);
    expect(result.stderr).not.toMatch(/internal error/);
    // Nothing after the bad line was confirmed: no state is printed that the input did not hold before it.
    expect(result.stdout).toBe('');
  });
});

describe('meltano config test style check', () => {
  it('meltano_test_stream loads; the output has no "error" or "exception"', async () => {
    const { messages } = fixture('meltano_test_stream.jsonl');
    const result = await runTarget('meltano_test_stream.jsonl', streamsOf(messages));
    expect(result.code).toBe(0);
    expect(`${result.stdout}\n${result.stderr}`).not.toMatch(/error|exception/i);
    expect((await audienceEmails()).get('conformance.meltano.1@example.org')).toBe('subscribed');
  });
});
