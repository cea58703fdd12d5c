/**
 * target-mailchimp, the compiled binary, fed what *other* programs write (tests/fixtures/interop):
 * other taps' SCHEMA/RECORD streams, the Meltano SDK's target test shapes, BOM and CRLF input,
 * invalid UTF-8 in the middle, BATCH messages with real gzip files, a 100 MB line. Each run is
 * checked for its exit code, what reached the sandbox audience, the rejects file and the printed
 * states.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { emailPrefix, FIXTURES, fixtureEmails, readFixture, renamed, statesOf, variant, withLineBefore, type Fails, type InteropFixture, type Loads } from '../fixtures/interop/index.js';
import { getJson, runBinary, tempDir, writeJson, type RunResult } from './harness.js';

interface Member {
  email_address: string;
  status: string;
  merge_fields: Record<string, unknown>;
}

let sandbox: Sandbox;
let dir: string;
let runs = 0;

beforeAll(async () => {
  // No required merge field: these tests are about the input, not Mailchimp's field rules.
  sandbox = await startSandbox({ port: 0, seed: 17, days: 1, eventsPerDay: 5, profiles: 5, mailchimp: { requiredMergeField: null } });
  dir = tempDir('tmt-interop-');
});

afterAll(async () => {
  await sandbox.close();
});

interface Run extends RunResult {
  /** The rejects file's rows (header left out), or [] when none was written. */
  rejects: string[];
  /** The state lines printed on stdout. */
  states: string[];
}

async function runTarget(stdin: Buffer, config: Record<string, unknown>, timeoutMs?: number): Promise<Run> {
  const n = ++runs;
  const rejectsFile = join(dir, `rejects-${n}.csv`);
  const path = writeJson(dir, `target-${n}.json`, { ...sandboxClientConfigs(sandbox).target, flush_interval_seconds: 1, rejects_file: rejectsFile, ...config });
  const result = await runBinary('target-mailchimp', ['--config', path], { stdin, ...(timeoutMs ? { timeoutMs } : {}) });
  const rejects = existsSync(rejectsFile) ? readFileSync(rejectsFile, 'utf8').trim().split('\n').slice(1).filter((l) => l !== '') : [];
  return { ...result, rejects, states: result.stdout.split('\n').filter((l) => l !== '') };
}

async function audience(): Promise<Map<string, Member>> {
  const listId = sandboxClientConfigs(sandbox).target.list_id;
  const answer = await getJson<{ members: Member[] }>(`${sandbox.url}/__admin/mailchimp/lists/${listId}/members`);
  return new Map(answer.members.map((m) => [m.email_address.toLowerCase(), m]));
}

/** The state values a stream holds, as written: the target prints them unchanged. */
const receivedStates = statesOf;

/** Checks a run against a fixture outcome; `all` is every interop address of the input. */
async function expectOutcome(run: Run, stdin: Buffer, outcome: Loads | Fails, all: string[], rename?: { from: string; to: string }): Promise<void> {
  const name = (email: string) => (rename ? renamed(email, rename) : email);
  expect(run.stderr).not.toMatch(/internal error/);
  expect(run.code).toBe(outcome.exit);
  const members = await audience();
  const expected = outcome.members.map(name);
  for (const email of expected) expect(members.get(email)?.status).toBe('subscribed');
  // Printed states: only received ones, in the order received, ending with the expected one.
  const received = receivedStates(stdin);
  let at = -1;
  for (const state of run.states) {
    const next = received.indexOf(state, at + 1);
    expect(next).toBeGreaterThan(at);
    at = next;
  }
  if (outcome.exit === 0) {
    expect(run.states[run.states.length - 1]).toBe(outcome.lastState);
    for (const { email, reason } of outcome.rejected ?? []) expect(run.rejects.some((row) => row.includes(name(email)) && row.includes(reason))).toBe(true);
    expect(run.rejects).toHaveLength((outcome.rejected ?? []).length);
  } else {
    expect(run.stderr).toMatch(new RegExp(`line ${outcome.line}\\b`));
    expect(run.stderr).toMatch(outcome.error);
    if (outcome.lastState === null) expect(run.stdout).toBe('');
    else expect(run.states[run.states.length - 1]).toBe(outcome.lastState);
    // Nothing of the failing line or after it reached the audience.
    for (const email of all.filter((e) => !expected.includes(e))) expect(members.has(email)).toBe(false);
  }
}

describe('other taps\' streams and the Meltano SDK\'s target test shapes', () => {
  it.each(FIXTURES.map((f) => [f.file, f] as const))('%s', async (_file, fixture: InteropFixture) => {
    const stdin = readFixture(fixture.file);
    const run = await runTarget(stdin, fixture.config);
    await expectOutcome(run, stdin, fixture.outcome, fixtureEmails(fixture.file));
  });

  it.each(FIXTURES.filter((f) => f.wholeRecords).map((f) => [f.file, f] as const))('%s with validate_all_properties', async (_file, fixture: InteropFixture) => {
    const rename = { from: emailPrefix(fixture.file), to: `whole-${emailPrefix(fixture.file)}` };
    const stdin = variant(fixture.file, { renameEmails: rename });
    const run = await runTarget(stdin, { ...fixture.config, validate_all_properties: true });
    await expectOutcome(run, stdin, fixture.wholeRecords as Loads | Fails, fixtureEmails(fixture.file, rename), rename);
  });

  it('the Python tap-mixpanel\'s people arrive with their merge fields (13.0 -> LTV 13, names from mp_reserved_*)', async () => {
    const members = await audience();
    expect(members.get('interop.py.1@example.org')?.merge_fields).toMatchObject({ FNAME: 'Ana', LNAME: 'Lima', LTV: 13, PLAN: 'pro' });
    expect(members.get('interop.py.3@example.org')?.merge_fields).toMatchObject({ FNAME: 'Chloé', LNAME: 'Dubois' });
    expect(members.get('interop.sdk.3@example.org')?.merge_fields).toMatchObject({ FNAME: 'Jürgen', LNAME: 'Groß' });
  });
});

describe('BOM, CRLF and invalid UTF-8', () => {
  it.each(FIXTURES.filter((f) => f.outcome.exit === 0).map((f) => [f.file, f] as const))('%s with a UTF-8 BOM and CRLF line ends loads the same', async (_file, fixture) => {
    const rename = { from: emailPrefix(fixture.file), to: `bom-${emailPrefix(fixture.file)}` };
    const stdin = variant(fixture.file, { bom: true, crlf: true, renameEmails: rename });
    const run = await runTarget(stdin, fixture.config);
    await expectOutcome(run, stdin, fixture.outcome, fixtureEmails(fixture.file, rename), rename);
  });

  it('a line that is not UTF-8: exit 3 naming it; the people before it loaded, the state before it printed, nothing of it or after it', async () => {
    const bad = Buffer.concat([
      Buffer.from('{"type": "RECORD", "stream": "public-customers", "record": {"id": 9, "email": "interop.utf8.9@example.org", "first_name": "J'),
      Buffer.from([0xf6]),
      Buffer.from('rg"}}'),
    ]);
    const rename = { from: 'pg', to: 'utf8' };
    const stdin = withLineBefore('pipelinewise-tap-postgres.jsonl', 6, bad, rename);
    const run = await runTarget(stdin, { stream: ['public-customers'], email_property: 'email' });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/line 6: not valid UTF-8 \(byte 0xF6 at offset \d+\)/);
    const members = await audience();
    expect(members.get('interop.utf8.1@example.org')?.status).toBe('subscribed');
    expect(members.get('interop.utf8.2@example.org')?.status).toBe('subscribed');
    expect(members.has('interop.utf8.9@example.org')).toBe(false);
    expect(members.has('interop.utf8.3@example.org')).toBe(false);
    expect([...members.keys()].some((e) => e.includes('\ufffd'))).toBe(false);
    expect(run.states).toEqual([receivedStates(stdin)[0]]);
  });
});

describe('BATCH messages with real files', () => {
  const schema = JSON.stringify({
    type: 'SCHEMA',
    stream: 'users',
    key_properties: ['id'],
    schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { id: { type: ['integer'] }, email: { type: ['string', 'null'], format: 'email' }, first_name: { type: ['string', 'null'] } } },
  });
  const person = (n: number, email = `interop.batch.${n}@example.org`) => JSON.stringify({ id: n, email, first_name: `Person${n}` });
  const line = (message: object) => JSON.stringify(message);
  const batchMessage = (stream: string, manifest: string[], compression = 'gzip', format = 'jsonl') => line({ type: 'BATCH', stream, encoding: { format, compression }, manifest });
  const state = (n: number) => line({ type: 'STATE', value: { bookmarks: { users: { replication_key: 'id', replication_key_value: n } } } });
  let batchDir: string;
  const file = (name: string, lines: string[], gzip = true): string => {
    const path = join(batchDir, name);
    const bytes = Buffer.from(lines.join('\n') + '\n', 'utf8');
    writeFileSync(path, gzip ? gzipSync(bytes) : bytes);
    return `file://${path}`;
  };

  beforeAll(() => {
    batchDir = join(dir, 'batches');
    mkdirSync(batchDir, { recursive: true });
  });

  it('loads the records of gzip and plain batch files like RECORDs; a bad row names its BATCH line, file and line; states follow their records', async () => {
    const one = file('users-1.jsonl.gz', [person(2), person(3, 'not-an-email'), person(4)]);
    const two = file('users-2.jsonl.gz', [person(5)]);
    const plain = file('users-3.jsonl', [person(6)], false);
    const input = [
      schema,
      line({ type: 'RECORD', stream: 'users', record: JSON.parse(person(1)) as object }),
      batchMessage('users', [one, two]),
      state(5),
      batchMessage('users', [plain], 'none'),
      batchMessage('elsewhere', ['file:///does/not/exist.parquet'], 'none', 'parquet'),
      state(6),
    ];
    const stdin = Buffer.from(input.join('\n') + '\n');
    const run = await runTarget(stdin, { stream: ['users'], email_property: 'email' });
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    const members = await audience();
    for (const n of [1, 2, 4, 5, 6]) expect(members.get(`interop.batch.${n}@example.org`)).toMatchObject({ status: 'subscribed', merge_fields: expect.objectContaining({ FNAME: `Person${n}` }) });
    expect(run.rejects).toHaveLength(1);
    expect(run.rejects[0]).toContain(`3 (${one} line 2)`);
    expect(run.rejects[0]).toContain('not-an-email');
    expect(run.states[run.states.length - 1]).toBe(receivedStates(stdin)[1]);
    for (const s of run.states) expect(receivedStates(stdin)).toContain(s);
  });

  it.each<[string, () => string, RegExp]>([
    ['parquet', () => batchMessage('users', [file('p.parquet', ['PAR1'], false)], 'none', 'parquet'), /encoding format "parquet" cannot be read/],
    ['an s3:// manifest', () => batchMessage('users', ['s3://bucket/users-1.jsonl.gz']), /only file:\/\/ manifests can be read/],
    ['a missing file', () => batchMessage('users', [file('there.jsonl.gz', [person(12, 'interop.batchfail.12@example.org')]), `file://${join(batchDir, 'gone.jsonl.gz')}`]), /gone\.jsonl\.gz does not exist/],
    ['a corrupt gzip file', () => batchMessage('users', [file('corrupt.jsonl.gz', ['not gzip'], false)]), /corrupt\.jsonl\.gz is not valid gzip/],
  ])('a BATCH with %s: exit 3 naming its line; the record before it loaded, nothing of the batch', async (_case, make, problem) => {
    const before = `interop.batchfail.${runs + 100}@example.org`;
    const input = [schema, line({ type: 'RECORD', stream: 'users', record: { id: 11, email: before } }), state(11), make(), state(12)];
    const stdin = Buffer.from(input.join('\n') + '\n');
    const run = await runTarget(stdin, { stream: ['users'], email_property: 'email' });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/line 4: BATCH for "users": /);
    expect(run.stderr).toMatch(problem);
    const members = await audience();
    expect(members.get(before)?.status).toBe('subscribed');
    expect(members.has('interop.batchfail.12@example.org')).toBe(false);
    expect(run.states).toEqual([receivedStates(stdin)[0]]);
  });
});

describe('a 100 MB line', () => {
  it('loads: lines up to 256 MiB are read, and the person arrives', async () => {
    const header = Buffer.from(
      [
        JSON.stringify({ type: 'SCHEMA', stream: 'huge', key_properties: ['id'], schema: { type: 'object', properties: { id: { type: 'integer' }, email: { type: 'string' }, notes: { type: 'string' } } } }),
        '{"type":"RECORD","stream":"huge","record":{"id":1,"email":"interop.huge.1@example.org","notes":"',
      ].join('\n'),
    );
    const notes = Buffer.alloc(100 * 1024 * 1024, 'a');
    const trailer = Buffer.from('"}}\n' + JSON.stringify({ type: 'STATE', value: { bookmarks: { huge: 1 } } }) + '\n');
    const run = await runTarget(Buffer.concat([header, notes, trailer]), { stream: ['huge'], email_property: 'email' }, 120_000);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    expect((await audience()).get('interop.huge.1@example.org')?.status).toBe('subscribed');
    expect(run.states).toEqual(['{"bookmarks":{"huge":1}}']);
  }, 180_000);
});
