import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from '@jest/globals';
import { readBatchResults, tarFiles } from '../../../../src/targets/mailchimp/api/batch-archive.js';

const dir = mkdtempSync(join(tmpdir(), 'archive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const results = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ status_code: i % 7 === 0 ? 400 : 200, operation_id: `op${from + i}`, response: JSON.stringify({ id: from + i, detail: 'Zoë ✓' }) }));

/** A results archive as GNU tar writes it (a directory, files with long names), gzipped. */
function gnuArchive(files: Record<string, unknown>, format: 'gnu' | 'pax' | 'ustar' = 'gnu'): Buffer {
  const root = mkdtempSync(join(dir, 'src-'));
  mkdirSync(join(root, 'batch'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(root, 'batch', name), typeof content === 'string' ? content : JSON.stringify(content));
  return execFileSync('tar', ['-czf', '-', `--format=${format}`, '-C', root, 'batch']);
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Feeds a buffer in small, odd-sized chunks, as a network would. */
function chunked(buffer: Buffer, size = 333): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += size) parts.push(buffer.subarray(i, i + size));
  return Readable.from(parts);
}

describe('readBatchResults', () => {
  it.each(['gnu', 'pax', 'ustar'] as const)('reads every result of every file of a %s archive, whatever the chunking', async (format) => {
    const long = `${'a'.repeat(120)}.json`;
    const archive = gnuArchive({ '1.json': results(0, 1000), '2.json': results(1000, 500), [format === 'ustar' ? '3.json' : long]: results(1500, 3) }, format);
    const read = await all(readBatchResults(chunked(archive)));
    expect(read.map((r) => r.operation_id).sort()).toEqual(results(0, 1503).map((r) => r.operation_id).sort());
    expect(read.find((r) => r.operation_id === 'op7')).toEqual({ status_code: 400, operation_id: 'op7', response: JSON.stringify({ id: 7, detail: 'Zoë ✓' }) });
  });

  it('an empty results archive has no results', async () => {
    expect(await all(readBatchResults(chunked(gnuArchive({}))))).toEqual([]);
  });

  it('a truncated download is an error, never a shorter list', async () => {
    const archive = gnuArchive({ '1.json': results(0, 2000) });
    await expect(all(readBatchResults(chunked(archive.subarray(0, archive.length - 40))))).rejects.toThrow();
  });

  it('a complete gzip of a tar cut at a file boundary is an error (no end-of-archive marker)', async () => {
    const tar = execFileSync('gzip', ['-dc'], { input: gnuArchive({ '1.json': results(0, 3) }) });
    // Drop the two zero blocks (and the padding after them) at the end.
    let end = tar.length;
    while (end > 0 && tar.subarray(end - 512, end).every((b) => b === 0)) end -= 512;
    await expect(all(readBatchResults(chunked(gzipSync(tar.subarray(0, end)))))).rejects.toThrow(/end-of-archive/);
  });

  it('a file that is not a list of operation results is an error naming it', async () => {
    await expect(all(readBatchResults(chunked(gnuArchive({ 'x.json': '{"not": "a list"}' }))))).rejects.toThrow(/x\.json is not a list/);
    await expect(all(readBatchResults(chunked(gnuArchive({ 'y.json': 'not json' }))))).rejects.toThrow(/y\.json is not JSON/);
    await expect(all(readBatchResults(chunked(gnuArchive({ 'z.json': [{ foo: 1 }] }))))).rejects.toThrow(/z\.json holds an entry/);
  });

  it('a damaged header is an error', async () => {
    const tar = Buffer.from(execFileSync('gzip', ['-dc'], { input: gnuArchive({ '1.json': results(0, 3) }) }));
    tar[10] = (tar[10] ?? 0) ^ 0xff;
    await expect(all(tarFiles(Readable.from([tar])))).rejects.toThrow(/damaged/);
  });
});
