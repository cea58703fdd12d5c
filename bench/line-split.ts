/**
 * One long Singer line through a line splitter, fed in 64 KiB chunks as stdin delivers them:
 *   node dist-bench/line-split.js old|new MB
 * `new` is the project's readLines (dist/util/lines.js); `old` is the splitter it replaced, kept
 * here only as the reference it is measured against: it concatenated the partial line with every
 * chunk, so its cost grew with the square of the line length. Prints {"seconds", "chars",
 * "maxRssMb"}: the splitting alone (start-up excluded), and the process's own peak RSS.
 */
import { StringDecoder } from 'node:string_decoder';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type LineReader = (source: AsyncIterable<Buffer>) => AsyncIterable<{ line: string }>;

/** The splitter before the linear rewrite, verbatim in behaviour. */
class QuadraticLineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  push(chunk: Buffer): string[] {
    const text = this.partial + this.decoder.write(chunk);
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  end(): string | null {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    return rest === '' ? null : rest;
  }
}

async function* oldReadLines(source: AsyncIterable<Buffer>): AsyncGenerator<{ line: string }> {
  const splitter = new QuadraticLineSplitter();
  for await (const chunk of source) for (const line of splitter.push(chunk)) if (line.trim() !== '') yield { line };
  const last = splitter.end();
  if (last !== null && last.trim() !== '') yield { line: last };
}

/** A RECORD whose one property holds `mb` MiB, in fresh 64 KiB chunks (as a pipe gives them). */
async function* longLine(mb: number): AsyncGenerator<Buffer> {
  yield Buffer.from('{"type":"RECORD","stream":"engage","record":{"email":"a@example.org","notes":"');
  const total = mb * 1024 * 1024;
  for (let sent = 0; sent < total; sent += 65536) yield Buffer.alloc(65536, 0x61);
  yield Buffer.from('"}}\n');
}

async function main(): Promise<void> {
  const [which, mbText] = process.argv.slice(2);
  const mb = Number(mbText);
  if ((which !== 'old' && which !== 'new') || !Number.isFinite(mb) || mb <= 0) throw new Error('usage: line-split.js old|new MB');
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const read: LineReader = which === 'old' ? oldReadLines : ((await import(pathToFileURL(join(root, 'dist/util/lines.js')).href)) as { readLines: LineReader }).readLines;
  const started = process.hrtime.bigint();
  let chars = 0;
  for await (const { line } of read(longLine(mb))) chars += line.length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(JSON.stringify({ seconds, chars, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

main().catch((err: unknown) => {
  console.error(`line-split: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
