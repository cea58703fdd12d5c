/**
 * The bare baseline for tap-mailchimp: read saved members pages (one Mailchimp answer per line),
 * JSON.parse each, JSON.stringify each member into a Singer-shaped RECORD line, write in 64 KB
 * chunks to stdout respecting backpressure; the file is read `times` times over. Nothing else: no
 * HTTP, no typing, no state. Usage: node member-baseline.js FILE TIMES
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

async function main(): Promise<void> {
  const [file, timesText] = process.argv.slice(2);
  if (!file) throw new Error('usage: member-baseline.js FILE TIMES');
  const times = Number(timesText ?? '1');
  let parts: string[] = [];
  let pending = 0;
  const flush = async () => {
    const chunk = parts.join('');
    parts = [];
    pending = 0;
    if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  };
  for (let round = 0; round < times; round++) {
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      if (line === '') continue;
      const page = JSON.parse(line) as { members: unknown[] };
      for (const member of page.members) {
        const out = '{"type":"RECORD","stream":"list_members","record":' + JSON.stringify(member) + '}\n';
        parts.push(out);
        pending += out.length;
      }
      if (pending >= 64 * 1024) await flush();
    }
  }
  await flush();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
