import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError } from '../../../src/errors/index.js';
import { batchFilePaths, readBatchRecords, type BatchRecord } from '../../../src/singer/batch.js';
import type { BatchMessage } from '../../../src/singer/messages.js';
import { readMessages, type ReadMessage } from '../../../src/singer/reader.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tmt-batch-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a batch file (gzip unless told otherwise) and returns its file:// URL as the SDK writes it. */
function batchFile(name: string, content: string | Buffer, gzip = true): string {
  const path = join(dir, name);
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  writeFileSync(path, gzip ? gzipSync(bytes) : bytes);
  return `file://${path}`;
}

function batch(manifest: string[], compression: string = 'gzip', format = 'jsonl'): BatchMessage {
  return { type: 'BATCH', stream: 'users', encoding: { format, compression }, manifest };
}

/** The records read before the end or the error, and the error. */
async function readBatch(message: BatchMessage, line = 7): Promise<{ records: BatchRecord[]; error: InputError | null }> {
  const records: BatchRecord[] = [];
  try {
    for await (const r of readBatchRecords(message, line)) records.push(r);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return { records, error: err as InputError };
  }
  return { records, error: null };
}

const jsonl = (...records: object[]): string => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('readBatchRecords: the records of the manifest files, in order', () => {
  it('reads gzip files in manifest order, each record with its file and line', async () => {
    const one = batchFile('order-1.jsonl.gz', jsonl({ id: 1, email: 'a@example.org' }, { id: 2, email: 'b@example.org' }));
    const two = batchFile('order-2.jsonl.gz', jsonl({ id: 3, email: 'c@example.org' }));
    const { records, error } = await readBatch(batch([one, two]));
    expect(error).toBeNull();
    expect(records).toEqual([
      { record: { id: 1, email: 'a@example.org' }, position: { url: one, line: 1 } },
      { record: { id: 2, email: 'b@example.org' }, position: { url: one, line: 2 } },
      { record: { id: 3, email: 'c@example.org' }, position: { url: two, line: 1 } },
    ]);
  });

  it('reads uncompressed files when compression is none', async () => {
    const url = batchFile('plain.jsonl', jsonl({ id: 1 }, { id: 2 }), false);
    const { records } = await readBatch(batch([url], 'none'));
    expect(records.map((r) => r.record)).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('reads a gzip file of several members (concatenated gzip streams) to the end', async () => {
    const path = join(dir, 'members.jsonl.gz');
    writeFileSync(path, Buffer.concat([gzipSync(jsonl({ id: 1 })), gzipSync(jsonl({ id: 2 }))]));
    const { records } = await readBatch(batch([`file://${path}`]));
    expect(records.map((r) => r.record)).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('reads batch files with a BOM, CRLF line ends, blank lines and no final line break', async () => {
    const url = batchFile('crlf.jsonl.gz', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"id":1}\r\n\r\n{"id":2}\r\n{"id":3}')]));
    const { records, error } = await readBatch(batch([url]));
    expect(error).toBeNull();
    expect(records.map((r) => [r.record, r.position.line])).toEqual([
      [{ id: 1 }, 1],
      [{ id: 2 }, 3],
      [{ id: 3 }, 4],
    ]);
  });

  it('reads an empty manifest and an empty file as no records', async () => {
    expect((await readBatch(batch([]))).records).toEqual([]);
    expect((await readBatch(batch([batchFile('empty.jsonl.gz', '')]))).records).toEqual([]);
  });

  it('finds files named with spaces, written as is (as the SDK does) or percent-encoded', async () => {
    mkdirSync(join(dir, 'with space'), { recursive: true });
    const raw = batchFile('with space/p1.jsonl.gz', jsonl({ id: 1 }));
    const encoded = `file://${join(dir, 'with%20space', 'p1.jsonl.gz')}`;
    const localhost = `file://localhost${join(dir, 'with space', 'p1.jsonl.gz')}`;
    for (const url of [raw, encoded, localhost]) expect((await readBatch(batch([url]))).records.map((r) => r.record)).toEqual([{ id: 1 }]);
  });
});

describe('readBatchRecords: what cannot be read exactly stops the run, naming the BATCH line and the place in the file', () => {
  it.each<[string, () => BatchMessage, RegExp]>([
    ['a parquet batch', () => batch([batchFile('x.parquet', 'PAR1')], 'none', 'parquet'), /^line 7: BATCH for "users": encoding format "parquet" cannot be read: this target reads jsonl/],
    ['a compression other than gzip', () => batch([batchFile('x.jsonl.zst', '', false)], 'zstd'), /^line 7: BATCH for "users": compression "zstd" cannot be read: use gzip or none/],
    ['an s3:// manifest', () => batch(['s3://bucket/users-1.jsonl.gz']), /^line 7: BATCH for "users": "s3:\/\/bucket\/users-1\.jsonl\.gz": only file:\/\/ manifests can be read \(not s3:\/\/\)/],
    ['a relative file URL', () => batch(['file://tmp/users-1.jsonl.gz']), /is not an absolute file URL/],
    ['a path that is not a URL', () => batch(['/tmp/users-1.jsonl.gz']), /is not a URL: manifest entries are file:\/\/\/absolute\/path URLs/],
    ['a missing file', () => batch([`file://${join(dir, 'gone.jsonl.gz')}`]), /gone\.jsonl\.gz does not exist/],
    ['a directory', () => batch([`file://${dir}`]), /is not a file/],
  ])('%s, before a single record is read', async (_case, message, problem) => {
    const first = batchFile('fine.jsonl.gz', jsonl({ id: 1 }));
    const m = message();
    const { records, error } = await readBatch({ ...m, manifest: [first, ...m.manifest] });
    expect(records).toEqual([]);
    expect(error?.message).toMatch(problem);
  });

  it.each<[string, () => string, string, RegExp, number]>([
    ['a corrupt gzip file', () => batchFile('corrupt.jsonl.gz', Buffer.from('this is not gzip at all'), false), 'gzip', /corrupt\.jsonl\.gz is not valid gzip \(incorrect header check\)/, 0],
    ['a truncated gzip file', () => {
      const whole = gzipSync(jsonl(...Array.from({ length: 2000 }, (_, i) => ({ id: i, pad: 'x'.repeat(40) }))));
      return batchFile('truncated.jsonl.gz', whole.subarray(0, Math.floor(whole.length / 2)), false);
    }, 'gzip', /truncated\.jsonl\.gz is not valid gzip \(unexpected end of file\) after line \d+/, -1],
    ['a gzip file declared uncompressed', () => batchFile('sneaky.jsonl.gz', jsonl({ id: 1 })), 'none', /sneaky\.jsonl\.gz is gzip-compressed, but the BATCH message says compression "none"/, 0],
    ['a line that is not JSON', () => batchFile('badjson.jsonl.gz', '{"id":1}\n{"id":2,\n{"id":3}\n'), 'gzip', /badjson\.jsonl\.gz line 2: not valid JSON/, 1],
    ['a line that is an array', () => batchFile('array.jsonl.gz', '{"id":1}\n[1,2]\n'), 'gzip', /array\.jsonl\.gz line 2: a batch file line must be a JSON object/, 1],
    ['a line that is a Singer RECORD message', () => batchFile('wrapped.jsonl.gz', jsonl({ type: 'RECORD', stream: 'users', record: { id: 1 } })), 'gzip', /wrapped\.jsonl\.gz line 1: holds a Singer RECORD message; jsonl batch files hold the bare records/, 0],
    ['a line that is not UTF-8', () => batchFile('latin1.jsonl.gz', Buffer.concat([Buffer.from('{"id":1}\n{"name":"J'), Buffer.from([0xf6]), Buffer.from('rg"}\n')])), 'gzip', /latin1\.jsonl\.gz line 2: not valid UTF-8/, 1],
  ])('%s: the records before the bad place, then the error', async (_case, file, compression, problem, before) => {
    const url = file();
    const { records, error } = await readBatch(batch([url], compression));
    expect(error?.message).toMatch(/^line 7: BATCH for "users": /);
    expect(error?.message).toMatch(problem);
    if (before >= 0) expect(records).toHaveLength(before);
    else expect(records.length).toBeGreaterThan(0);
  });
});

describe('batchFilePaths', () => {
  it.each<[string, string[]]>([
    ['file:///tmp/a.jsonl.gz', ['/tmp/a.jsonl.gz']],
    ['file://localhost/tmp/a.jsonl.gz', ['/tmp/a.jsonl.gz']],
    ['file:/tmp/a.jsonl.gz', ['/tmp/a.jsonl.gz']],
    ['FILE:///tmp/a.jsonl.gz', ['/tmp/a.jsonl.gz']],
    ['file:///tmp/my%20dir/a.gz', ['/tmp/my%20dir/a.gz', '/tmp/my dir/a.gz']],
    ['file:///tmp/100%/a.gz', ['/tmp/100%/a.gz']],
  ])('%s -> %j', (url, paths) => {
    expect(batchFilePaths(url)).toEqual({ paths });
  });

  it.each(['s3://b/a.gz', 'https://example.org/a.gz', 'file://server/share/a.gz', 'relative/a.gz'])('%s cannot be read', (url) => {
    expect(batchFilePaths(url)).toHaveProperty('problem');
  });
});

describe('readMessages expands BATCH messages into RECORD messages', () => {
  async function* chunks(...parts: string[]): AsyncGenerator<string> {
    for (const part of parts) yield part;
  }

  async function collect(input: AsyncIterable<string>, readBatch?: (stream: string) => boolean): Promise<ReadMessage[]> {
    const out: ReadMessage[] = [];
    for await (const m of readMessages(input, readBatch ? { readBatch } : {})) out.push(m);
    return out;
  }

  const schema = JSON.stringify({ type: 'SCHEMA', stream: 'users', schema: { properties: { id: { type: 'integer' } } }, key_properties: ['id'] });

  it('yields the records of a BATCH in place, between the messages around it, with their origin', async () => {
    const url = batchFile('expand.jsonl.gz', jsonl({ id: 2 }, { id: 3 }));
    const lines = [
      schema,
      JSON.stringify({ type: 'RECORD', stream: 'users', record: { id: 1 } }),
      JSON.stringify({ type: 'BATCH', stream: 'users', encoding: { format: 'jsonl', compression: 'gzip' }, manifest: [url] }),
      JSON.stringify({ type: 'STATE', value: { bookmarks: { users: 3 } } }),
    ];
    const read = await collect(chunks(lines.join('\n') + '\n'));
    expect(read.map((r) => [r.message.type, r.lineNumber, r.origin])).toEqual([
      ['SCHEMA', 1, { line: 1 }],
      ['RECORD', 2, { line: 2 }],
      ['RECORD', 3, { line: 3, batch: { url, line: 1 } }],
      ['RECORD', 3, { line: 3, batch: { url, line: 2 } }],
      ['STATE', 4, { line: 4 }],
    ]);
    expect(read[2]?.message).toEqual({ type: 'RECORD', stream: 'users', record: { id: 2 } });
  });

  it('passes a BATCH of a stream it is told not to read through unread (its files may not even exist)', async () => {
    const message = { type: 'BATCH', stream: 'other', encoding: { format: 'parquet' }, manifest: ['file:///nowhere/at/all.parquet'] };
    const read = await collect(chunks(`${JSON.stringify(message)}\n`), (stream) => stream === 'users');
    expect(read.map((r) => r.message)).toEqual([{ type: 'BATCH', stream: 'other', encoding: { format: 'parquet', compression: 'none' }, manifest: ['file:///nowhere/at/all.parquet'] }]);
  });
});
