/**
 * Batch results archives (issue 18): target-mailchimp's own tar reader against tar-stream.
 *
 * Speed and memory: an archive of N operation results (1000 to a file, as Mailchimp writes
 * them), written by the sandbox's writer with a member document in each answer, read whole by
 * each reader in its own process (bench/archive-read.ts), `repeat` times: median seconds, the
 * first result's delay, the highest peak RSS. A smaller archive (100,000) beside it shows whether
 * memory stays flat as the archive grows.
 *
 * Failures: the same small archive whole, cut and damaged in the ways a download breaks, read by
 * each reader in this process: what each yields or throws. A reader that returns fewer results
 * without an error leaves the target to treat the rest as unconfirmed (and write them again)
 * instead of downloading the archive again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { loadReader, READERS, type ReaderName, type ResultsReader } from './archive-readers.js';
import { runMeasured } from './measure.js';
import { fixed, printTable, thousands } from './table.js';

export interface ArchiveBenchOptions {
  root: string;
  work: string;
  results: number;
  /** A directory where tar-stream is installed; null: only our reader is measured. */
  tarStreamDir: string | null;
  repeat: number;
}

interface ResultsArchiveWriter {
  add(result: string): void;
  readonly needsDrain: boolean;
  drained(): Promise<void>;
  finish(): Promise<void>;
}

interface ArchiveWriting {
  ResultsArchive: new (path: string, batchId: string, mtimeSec: number) => ResultsArchiveWriter;
  resultJson(statusCode: number, operationId: string | null, body: unknown): string;
}

/** A member as Mailchimp answers a PUT, about 1 KB of JSON. */
function memberAnswer(i: number): Record<string, unknown> {
  return {
    id: i.toString(16).padStart(32, '0'),
    email_address: `person${i}@example.org`,
    unique_email_id: 'a1b2c3d4e5',
    contact_id: `c${i}`,
    full_name: 'Ana Silva',
    web_id: i,
    email_type: 'html',
    status: 'subscribed',
    merge_fields: { FNAME: 'Ana', LNAME: 'Silva', PLAN: 'pro' },
    stats: { avg_open_rate: 0, avg_click_rate: 0 },
    ip_opt: '198.51.100.7',
    timestamp_opt: '2024-06-10T12:00:00+00:00',
    member_rating: 2,
    last_changed: '2024-06-10T12:00:00+00:00',
    language: '',
    vip: false,
    location: { latitude: 0, longitude: 0, gmtoff: 0, dstoff: 0, country_code: '', timezone: '' },
    source: 'API - Generic',
    tags_count: 1,
    tags: [{ id: 101, name: 'cohort: Power users' }],
    list_id: 'a1b2c3d4e5',
  };
}

/** N results with the sandbox's archive writer: 1 in 10 a 204 (tags), 1 in 97 a 400, the rest a member. */
async function writeArchive(root: string, path: string, results: number): Promise<void> {
  const { ResultsArchive, resultJson } = (await import(pathToFileURL(join(root, 'dist/sandbox/mailchimp/batch-results.js')).href)) as ArchiveWriting;
  const archive = new ResultsArchive(path, 'bench', 1_718_000_000);
  for (let i = 0; i < results; i++) {
    const status = i % 97 === 0 ? 400 : i % 10 === 9 ? 204 : 200;
    archive.add(resultJson(status, `op${i}`, status === 204 ? undefined : status === 400 ? { title: 'Invalid Resource' } : memberAnswer(i)));
    if (archive.needsDrain) await archive.drained();
  }
  await archive.finish();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

async function speedRows(options: ArchiveBenchOptions, readers: readonly ReaderName[]): Promise<string[][]> {
  const script = join(options.root, 'dist-bench', 'archive-read.js');
  const sizes = [...new Set([Math.min(100_000, options.results), options.results])];
  const rows: string[][] = [];
  for (const size of sizes) {
    const path = join(options.work, `results-${size}.tar.gz`);
    await writeArchive(options.root, path, size);
    const megabytes = readFileSync(path).length / 1e6;
    for (const reader of readers) {
      const runs: Array<{ results: number; seconds: number; firstResultMs: number; maxRssMb: number }> = [];
      for (let i = 0; i < options.repeat; i++) {
        const run = await runMeasured(process.execPath, [script, reader, path, ...(options.tarStreamDir ? [options.tarStreamDir] : [])]);
        if (run.code !== 0) throw new Error(`archive-read ${reader}: exit ${run.code}: ${run.stderrTail}`);
        const measured = JSON.parse(run.lastLine) as (typeof runs)[number];
        if (measured.results !== size) throw new Error(`archive-read ${reader} read ${measured.results} of ${size} results`);
        runs.push({ ...measured, maxRssMb: Math.max(measured.maxRssMb, run.peakRssMb ?? 0) });
      }
      rows.push([
        `${thousands(size)} (${fixed(megabytes, 1)} MB gz)`,
        reader,
        fixed(median(runs.map((r) => r.seconds)), 2),
        fixed(median(runs.map((r) => r.firstResultMs)), 0),
        fixed(Math.max(...runs.map((r) => r.maxRssMb)), 0),
      ]);
    }
  }
  return rows;
}

/** A buffer fed in odd-sized chunks, as a network would; with `breakAt`, the connection breaks there. */
function download(buffer: Buffer, breakAt?: number): Readable {
  const end = breakAt ?? buffer.length;
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= end) {
        if (breakAt === undefined) this.push(null);
        else this.destroy(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
        return;
      }
      this.push(buffer.subarray(sent, Math.min(end, sent + 16_333)));
      sent += 16_333;
    },
  });
}

/** The ways a results download breaks, each as a body to read. */
function brokenDownloads(gz: Buffer): Array<[string, () => Readable]> {
  const tar = gunzipSync(gz);
  const firstSize = Number.parseInt(tar.toString('latin1', 124, 135), 8);
  const firstFileEnd = 512 + Math.ceil(firstSize / 512) * 512;
  let contentEnd = tar.length;
  while (contentEnd > 0 && tar.subarray(contentEnd - 512, contentEnd).every((b) => b === 0)) contentEnd -= 512;
  const damaged = Buffer.from(tar);
  damaged[10] = (damaged[10] ?? 0) ^ 0xff;
  return [
    ['whole archive', () => download(gz)],
    ['gzip cut 40 bytes before its end', () => download(gz.subarray(0, gz.length - 40))],
    ['connection breaks half way', () => download(gz, Math.floor(gz.length / 2))],
    ['tar stops after its first file (gzip whole)', () => download(gzipSync(tar.subarray(0, firstFileEnd)))],
    ['tar without its end-of-archive blocks', () => download(gzipSync(tar.subarray(0, contentEnd)))],
    ['tar stops inside a file', () => download(gzipSync(tar.subarray(0, firstFileEnd + 2048)))],
    ['damaged header (checksum)', () => download(gzipSync(damaged))],
  ];
}

async function outcome(read: ResultsReader, body: Readable): Promise<string> {
  let results = 0;
  try {
    for await (const result of read(body)) if (result.operation_id !== '') results++;
    return `${thousands(results)} results`;
  } catch (err) {
    const e = err as Error & { code?: string };
    return `${e.constructor.name}${e.code ? ` ${e.code}` : ''}: ${e.message} (after ${thousands(results)})`;
  }
}

async function failureRows(options: ArchiveBenchOptions, readers: readonly ReaderName[]): Promise<string[][]> {
  const path = join(options.work, 'results-small.tar.gz');
  await writeArchive(options.root, path, 2500);
  const loaded = await Promise.all(readers.map((name) => loadReader(name, options.root, options.tarStreamDir)));
  const rows: string[][] = [];
  for (const [name, body] of brokenDownloads(readFileSync(path))) {
    const cells = [name];
    for (const read of loaded) cells.push(await outcome(read, body()));
    rows.push(cells);
  }
  return rows;
}

export async function benchBatchArchive(options: ArchiveBenchOptions): Promise<void> {
  const readers = READERS.filter((r) => r === 'ours' || options.tarStreamDir !== null);
  printTable(
    `Batch results archive: every result read, ${options.repeat} runs each (median seconds and first-result ms, highest peak RSS MB)`,
    ['results', 'reader', 'seconds', 'first ms', 'peak RSS'],
    await speedRows(options, readers),
  );
  printTable('Batch results archive of 2,500 results (3 files), whole and broken: what each reader gives', ['download', ...readers], await failureRows(options, readers));
}
