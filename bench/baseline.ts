/**
 * The bare baseline: read JSON Lines (optionally gzip), JSON.parse each line, JSON.stringify it
 * into a Singer-shaped RECORD line, write in 64 KB chunks to stdout respecting backpressure.
 * Nothing else: no transform, no selection, no state. Usage: node baseline.js FILE [--gzip]
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';

async function main(): Promise<void> {
  const [file, flag] = process.argv.slice(2);
  if (!file) throw new Error('usage: baseline.js FILE [--gzip]');
  const raw = createReadStream(file, { highWaterMark: 64 * 1024 });
  const input = flag === '--gzip' ? raw.pipe(createGunzip()) : raw;
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let parts: string[] = [];
  let pending = 0;
  const flush = async () => {
    const chunk = parts.join('');
    parts = [];
    pending = 0;
    if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  };
  for await (const chunk of input) {
    const lines = (partial + decoder.write(chunk as Buffer)).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') continue;
      const out = '{"type":"RECORD","stream":"export","record":' + JSON.stringify(JSON.parse(line)) + '}\n';
      parts.push(out);
      pending += out.length;
    }
    if (pending >= 64 * 1024) await flush();
  }
  if (partial !== '') parts.push('{"type":"RECORD","stream":"export","record":' + JSON.stringify(JSON.parse(partial)) + '}\n');
  await flush();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
