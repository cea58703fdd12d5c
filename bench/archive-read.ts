/**
 * Reads one batch results archive with one reader, in its own process so peak RSS is its own:
 *   node dist-bench/archive-read.js ours|tar-stream ARCHIVE [TAR_STREAM_DIR]
 * Prints {"results", "seconds", "firstResultMs", "maxRssMb"}: every result read (start-up
 * excluded), how soon the first one came (the archive is read as it arrives, not whole first),
 * and the process's own peak RSS.
 */
import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadReader, READERS, type ReaderName } from './archive-readers.js';

async function main(): Promise<void> {
  const [which, archive, tarStreamDir] = process.argv.slice(2);
  if (!READERS.some((r) => r === which) || archive === undefined) throw new Error('usage: archive-read.js ours|tar-stream ARCHIVE [TAR_STREAM_DIR]');
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const read = await loadReader(which as ReaderName, root, tarStreamDir ?? null);
  const started = performance.now();
  let firstResultMs: number | null = null;
  let results = 0;
  for await (const result of read(createReadStream(archive))) {
    firstResultMs ??= performance.now() - started;
    if (result.operation_id !== '') results++;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ results, seconds, firstResultMs, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
