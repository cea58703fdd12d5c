/**
 * Target throughput: 100,000 new profiles into the sandbox's Mailchimp audience with 50 ms of
 * latency per call, beside the API-bound ceiling max_concurrency x batch_size / latency
 * (5 x 500 / 0.05 s = 50,000 members/s). The target reads a generated Singer stream on stdin:
 * SCHEMA (engage: distinct_id, email, first and last name), the RECORDs, then one STATE.
 * Seconds are wall time of the whole process: start, reading the audience, every write, exit.
 * A bare client doing only the writes is measured first, on its own sandbox, as a reference.
 */
import { createReadStream, createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMeasured } from './measure.js';
import { startSandboxProcess } from './sandbox-process.js';
import { fixed, printTable, thousands } from './table.js';

export interface TargetBenchOptions {
  root: string;
  work: string;
  members: number;
  latencyMs: number;
  batchSize: number;
  maxConcurrency: number;
}

export interface TargetBenchResult {
  membersPerSecond: number;
  ceiling: number;
  goalMet: boolean;
}

const FIRST = ['Ana', 'José', 'Zoë', 'Łucja', 'Kenji', 'Amara', 'Olu', 'Mei'];
const LAST = ['Silva', 'Müller', 'Nakamura', 'Okafor', 'Dubois', 'Kowalski', 'Haddad', 'Lee'];

export const BENCH_STATE = { bookmarks: { engage: { replication_key: 'mp_reserved_last_seen', replication_key_value: '2024-06-10T00:00:00.000Z' } } };

/** The Singer stream a tap would send for `count` new people. */
async function writeSingerStream(file: string, count: number): Promise<void> {
  const out = createWriteStream(file);
  const write = async (line: string) => {
    if (!out.write(line + '\n')) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  await write(
    JSON.stringify({
      type: 'SCHEMA',
      stream: 'engage',
      key_properties: ['distinct_id'],
      schema: {
        type: 'object',
        properties: {
          distinct_id: { type: 'string' },
          mp_reserved_email: { type: ['null', 'string'] },
          mp_reserved_first_name: { type: ['null', 'string'] },
          mp_reserved_last_name: { type: ['null', 'string'] },
        },
      },
    }),
  );
  for (let i = 0; i < count; i++) {
    const record = {
      distinct_id: `bench-${i}`,
      mp_reserved_email: `bench.user${i}@example.org`,
      mp_reserved_first_name: FIRST[i % FIRST.length],
      mp_reserved_last_name: LAST[(i >> 3) % LAST.length],
    };
    await write(JSON.stringify({ type: 'RECORD', stream: 'engage', record }));
  }
  await write(JSON.stringify({ type: 'STATE', value: BENCH_STATE }));
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

async function countBenchMembers(url: string, listId: string): Promise<number> {
  const response = await fetch(`${url}/__admin/mailchimp/lists/${listId}/members`);
  const body = (await response.json()) as { members: Array<{ email_address: string; status: string }> };
  return body.members.filter((m) => /^bench\.user\d+@example\.org$/.test(m.email_address)).length;
}

function startMailchimpSandbox(root: string, latencyMs: number) {
  return startSandboxProcess(join(root, 'bin', 'mixpanel-mailchimp-sandbox.js'), [
    '--days', '1', '--events-per-day', '0', '--profiles', '10', '--latency-mailchimp', String(latencyMs),
  ]);
}

/**
 * The reference: the same members sent by a bare client (batch subscribe, `batch_size` per call,
 * `max_concurrency` calls in flight, no reading of the audience, no checks). It shows what the
 * sandbox itself allows, so a slow target is told apart from a slow sandbox.
 */
async function bareClientLoad(options: TargetBenchOptions): Promise<{ seconds: number; loaded: number }> {
  const sandbox = await startMailchimpSandbox(options.root, options.latencyMs);
  try {
    const listId = String(sandbox.target.list_id);
    const auth = `Basic ${Buffer.from(`bench:${String(sandbox.target.api_key)}`).toString('base64')}`;
    const started = process.hrtime.bigint();
    let next = 0;
    const worker = async () => {
      while (next < options.members) {
        const from = next;
        next = Math.min(options.members, next + options.batchSize);
        const members = [];
        for (let i = from; i < next; i++) {
          members.push({ email_address: `bench.user${i}@example.org`, status: 'subscribed', merge_fields: { FNAME: FIRST[i % FIRST.length], LNAME: LAST[(i >> 3) % LAST.length] } });
        }
        const response = await fetch(`${String(sandbox.target.api_base_url)}/lists/${listId}`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify({ members, update_existing: false }),
        });
        if (!response.ok) throw new Error(`bare client: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: options.maxConcurrency }, worker));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { seconds, loaded: await countBenchMembers(sandbox.url, listId) };
  } finally {
    await sandbox.stop();
  }
}

export async function benchTargetLoad(options: TargetBenchOptions): Promise<TargetBenchResult> {
  const { root, work } = options;
  const input = join(work, 'engage.singer.jsonl');
  await writeSingerStream(input, options.members);
  console.log(`\ntarget: ${thousands(options.members)} new profiles, Mailchimp latency ${options.latencyMs} ms per call`);
  const reference = await bareClientLoad(options);
  const sandbox = await startMailchimpSandbox(root, options.latencyMs);
  try {
    const listId = String(sandbox.target.list_id);
    const config = {
      api_key: sandbox.target.api_key,
      list_id: listId,
      api_base_url: sandbox.target.api_base_url,
      status_if_new: 'subscribed',
      stream: ['engage'],
      mode: 'upsert',
      batch_size: options.batchSize,
      max_concurrency: options.maxConcurrency,
      flush_interval_seconds: 60,
    };
    const configPath = join(work, 'target.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const run = await runMeasured(process.execPath, [join(root, 'bin', 'target-mailchimp.js'), '--config', configPath], {
      stdin: createReadStream(input),
      env: { LOG_LEVEL: 'info' },
    });
    const loaded = await countBenchMembers(sandbox.url, listId);
    const ceiling = (options.maxConcurrency * options.batchSize) / (options.latencyMs / 1000);
    const rate = loaded / run.seconds;
    const stateOk = run.lastLine.trim() === JSON.stringify(BENCH_STATE);
    if (run.code !== 0) console.log(`target: exited ${run.code}; last stderr:\n${run.stderrTail.slice(-1500)}`);
    printTable(
      `Target load (${thousands(options.members)} new members, ${options.latencyMs} ms per call, batch ${options.batchSize}, concurrency ${options.maxConcurrency})`,
      ['run', 'exit', 'members loaded', 'seconds', 'members/s', 'ceiling/s', 'of ceiling', 'peak RSS MB', 'final state'],
      [
        ['bare client (reference)', '0', thousands(reference.loaded), fixed(reference.seconds, 2), thousands(reference.loaded / reference.seconds), thousands(ceiling), `${fixed((reference.loaded / reference.seconds / ceiling) * 100)}%`, 'n/a', 'n/a'],
        ['target-mailchimp', String(run.code), thousands(loaded), fixed(run.seconds, 2), thousands(rate), thousands(ceiling), `${fixed((rate / ceiling) * 100)}%`, fixed(run.peakRssMb), stateOk ? 'printed' : 'missing'],
      ],
    );
    const goalMet = run.code === 0 && loaded === options.members && stateOk && rate >= 0.8 * ceiling;
    printTable('Target goals', ['goal', 'measured', 'met'], [
      ['every profile loaded', `${thousands(loaded)} of ${thousands(options.members)}`, loaded === options.members ? 'yes' : 'no'],
      ['>= 80% of the API-bound ceiling', `${fixed((rate / ceiling) * 100)}%`, rate >= 0.8 * ceiling ? 'yes' : 'no'],
      ['final state printed after the writes', stateOk ? 'yes' : 'no', stateOk ? 'yes' : 'no'],
    ]);
    return { membersPerSecond: rate, ceiling, goalMet };
  } finally {
    await sandbox.stop();
  }
}
