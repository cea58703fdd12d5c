/**
 * The two readers of a batch results archive the archive bench compares, behind one shape:
 * `ours` is target-mailchimp's readBatchResults (dist/targets/mailchimp/api/batch-archive.js);
 * `tar-stream` is the same reading (gunzip, regular files, each a JSON list of results) on
 * tar-stream's extract, loaded from a directory where it was installed (`npm i tar-stream` there),
 * so the project does not depend on it to measure it.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { createGunzip } from 'node:zlib';

export interface OperationResult {
  status_code: number;
  operation_id: string;
  response: string;
}

export type ResultsReader = (body: Readable) => AsyncIterable<OperationResult>;

export const READERS = ['ours', 'tar-stream'] as const;
export type ReaderName = (typeof READERS)[number];

/** What the bench uses of tar-stream 3 (it ships no types). */
interface TarEntry extends AsyncIterable<Buffer> {
  header: { name: string; type: string };
  resume(): void;
}
type TarExtract = Writable & AsyncIterable<TarEntry>;
interface TarStream {
  extract(): TarExtract;
}

function tarStreamReader(tarStreamDir: string): ResultsReader {
  const tar = createRequire(join(tarStreamDir, 'package.json'))('tar-stream') as TarStream;
  return async function* (body: Readable): AsyncGenerator<OperationResult> {
    const gunzip = createGunzip();
    const extract = tar.extract();
    body.on('error', (err) => gunzip.destroy(err));
    gunzip.on('error', (err) => extract.destroy(err));
    body.pipe(gunzip).pipe(extract);
    for await (const entry of extract) {
      if (entry.header.type !== 'file') {
        entry.resume();
        continue;
      }
      const parts: Buffer[] = [];
      for await (const part of entry) parts.push(part);
      const content = Buffer.concat(parts);
      if (content.length === 0) continue;
      for (const item of JSON.parse(content.toString('utf8')) as OperationResult[]) yield item;
    }
  };
}

export async function loadReader(name: ReaderName, root: string, tarStreamDir: string | null): Promise<ResultsReader> {
  if (name === 'ours') return ((await import(pathToFileURL(join(root, 'dist/targets/mailchimp/api/batch-archive.js')).href)) as { readBatchResults: ResultsReader }).readBatchResults;
  if (tarStreamDir === null) throw new Error('the tar-stream reader needs --tar-stream DIR (a directory where `npm i tar-stream` was run)');
  return tarStreamReader(tarStreamDir);
}
