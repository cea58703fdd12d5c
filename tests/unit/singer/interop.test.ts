/**
 * The interop fixtures (tests/fixtures/interop) through the reader and the validator the target
 * uses: each loads or fails where its table says, and the generated variants (BOM, CRLF, invalid
 * UTF-8) read the same or fail at the right line. The binary runs them in
 * tests/integration/target-interop.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { FIXTURES, fixtureFiles, readFixture, variant, withLineBefore, type Fails, type Loads } from '../../fixtures/interop/index.js';
import { listSetting, type TargetConfig } from '../../../src/targets/mailchimp/config.js';
import { SchemaRegistry, validationOptions } from '../../../src/targets/mailchimp/engine/records.js';
import { readMessages, type ReadMessage } from '../../../src/singer/reader.js';

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  // Small chunks, so lines and characters are cut at chunk boundaries.
  for (let i = 0; i < bytes.length; i += 97) yield bytes.subarray(i, i + 97);
}

interface Checked {
  messages: ReadMessage[];
  error: Error | null;
}

/** Reads a fixture as the target does and checks every record of its configured streams. */
async function check(bytes: Buffer, config: Record<string, unknown>): Promise<Checked> {
  const streams = new Set(listSetting(config.stream as string[]));
  const registry = new SchemaRegistry(validationOptions(config as unknown as TargetConfig));
  const messages: ReadMessage[] = [];
  try {
    for await (const read of readMessages(once(bytes), { readBatch: (s) => streams.has(s) })) {
      if (read.message.type === 'SCHEMA' && streams.has(read.message.stream)) registry.register(read.message, read.lineNumber);
      if (read.message.type === 'RECORD' && streams.has(read.message.stream)) registry.check(read.message.stream, read.message.record, read.origin);
      messages.push(read);
    }
  } catch (err) {
    return { messages, error: err as Error };
  }
  return { messages, error: null };
}

function expectOutcome(result: Checked, outcome: Loads | Fails): void {
  if (outcome.exit === 0) {
    expect(result.error).toBeNull();
  } else {
    expect(result.error?.message).toMatch(new RegExp(`^line ${outcome.line}: `));
    expect(result.error?.message).toMatch(outcome.error);
  }
}

describe('interop fixtures: the reader and the validator', () => {
  it('every fixture file has its outcome in FIXTURES and a row in README.md', () => {
    const readme = readFileSync(new URL('../../fixtures/interop/README.md', import.meta.url), 'utf8');
    expect(FIXTURES.map((f) => f.file).sort()).toEqual(fixtureFiles());
    for (const file of fixtureFiles()) expect(readme).toContain(`| \`${file}\``);
  });

  it.each(FIXTURES.map((f) => [f.file, f] as const))('%s: as its table says (default: the properties the target reads)', async (_file, fixture) => {
    expectOutcome(await check(readFixture(fixture.file), fixture.config), fixture.outcome);
  });

  it.each(FIXTURES.map((f) => [f.file, f] as const))('%s: as its table says with validate_all_properties', async (_file, fixture) => {
    expectOutcome(await check(readFixture(fixture.file), { ...fixture.config, validate_all_properties: true }), fixture.wholeRecords ?? fixture.outcome);
  });

  it.each(FIXTURES.filter((f) => f.outcome.exit === 0).map((f) => [f.file, f] as const))('%s: loads with validate_records false too', async (_file, fixture) => {
    expect((await check(readFixture(fixture.file), { ...fixture.config, validate_records: false })).error).toBeNull();
  });

  it('the Python tap-mixpanel numbers (13.0, 1234.56, 1e+21, 0.1 with multipleOf 1e-20) pass; Ajv\'s float check would refuse 13.0', async () => {
    const fixture = FIXTURES.find((f) => f.file === 'singer-python-tap-mixpanel.jsonl');
    const result = await check(readFixture('singer-python-tap-mixpanel.jsonl'), { ...fixture?.config, validate_all_properties: true });
    expect(result.error).toBeNull();
    const values = result.messages.flatMap((m) => (m.message.type === 'RECORD' && m.message.stream === 'engage' ? [m.message.record.lifetime_value] : []));
    expect(values).toEqual([13, 1234.56, 1e21, 0.1]);
  });
});

describe('interop variants: BOM, CRLF, invalid UTF-8 in the middle', () => {
  const loads = FIXTURES.filter((f) => f.outcome.exit === 0);

  it.each(loads.map((f) => [f.file, f] as const))('%s with a BOM and CRLF line ends reads exactly like the original', async (_file, fixture) => {
    const original = await check(readFixture(fixture.file), fixture.config);
    const windows = await check(variant(fixture.file, { bom: true, crlf: true }), fixture.config);
    expect(windows.error).toBeNull();
    expect(windows.messages).toEqual(original.messages);
  });

  it('a line that is not UTF-8 in the middle: the messages before it, then an error naming it', async () => {
    const bad = Buffer.concat([Buffer.from('{"type": "RECORD", "stream": "public-customers", "record": {"id": 9, "email": "j'), Buffer.from([0xf6]), Buffer.from('rg@example.org"}}')]);
    const fixture = FIXTURES.find((f) => f.file === 'pipelinewise-tap-postgres.jsonl');
    const result = await check(withLineBefore('pipelinewise-tap-postgres.jsonl', 6, bad), fixture?.config ?? {});
    expect(result.messages.map((m) => m.lineNumber)).toEqual([1, 2, 3, 4, 5]);
    expect(result.error?.message).toMatch(/^line 6: not valid UTF-8 \(byte 0xF6 at offset 80\)/);
  });
});
