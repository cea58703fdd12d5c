/**
 * Export throughput: the real tap binary syncing >= 1,000,000 events, beside a bare Node script
 * that only parses and re-serialises the same JSON Lines.
 *
 * The export body is fetched from the sandbox once and saved (plain and gzip). Rows:
 *   baseline (plain)        parse + stringify of the saved file
 *   baseline (gzip)         the same, gunzipping the saved .gz first (what the tap must also do)
 *   tap <- replay (gzip)    the tap against a replay of the saved body: same bytes, gzip like Mixpanel
 *   tap <- sandbox          the tap against the live sandbox (includes the sandbox generating events)
 * The speed goal compares the tap against the replay with the plain baseline (within 1.5x); the
 * memory goal (peak RSS < 200 MB) holds for both tap runs.
 */
import { createReadStream, createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { captureStdout, runMeasured, type Measured } from './measure.js';
import { startReplay } from './replay.js';
import { startSandboxProcess } from './sandbox-process.js';
import { fixed, printTable, thousands } from './table.js';

export interface TapBenchOptions {
  root: string;
  work: string;
  events: number;
  repeat: number;
}

export interface TapBenchResult {
  events: number;
  ratio: number;
  peakRssMb: number | null;
  goalsMet: boolean;
}

const DAYS = 11;

async function captureExport(url: string, auth: string, from: string, to: string, file: string): Promise<{ bytes: number; lines: number }> {
  const response = await fetch(`${url}/api/2.0/export?from_date=${from}&to_date=${to}`, {
    headers: { authorization: `Basic ${Buffer.from(`${auth}:`).toString('base64')}`, 'accept-encoding': 'identity' },
  });
  if (!response.ok || !response.body) throw new Error(`export capture failed: ${response.status} ${await response.text()}`);
  let bytes = 0;
  let lines = 0;
  const out = createWriteStream(file);
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { bytes, lines };
}

function best(runs: Measured[]): Measured {
  for (const run of runs) if (run.code !== 0) throw new Error(`a run failed (exit ${run.code}):\n${run.stderrTail}`);
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

async function repeated(times: number, run: () => Promise<Measured>): Promise<Measured> {
  const runs: Measured[] = [];
  for (let i = 0; i < times; i++) runs.push(await run());
  return best(runs);
}

export async function benchTapExport(options: TapBenchOptions): Promise<TapBenchResult> {
  const { root, work } = options;
  const tapBin = join(root, 'bin', 'tap-mixpanel.js');
  // Today is partly visible and ~2% of events arrive late: ask for enough that >= `events` are visible.
  const eventsPerDay = Math.ceil(options.events / (DAYS - 1.5));
  console.log(`tap export: sandbox with ${DAYS} days x ${thousands(eventsPerDay)} events/day`);
  const sandbox = await startSandboxProcess(join(root, 'bin', 'mixpanel-mailchimp-sandbox.js'), [
    '--days', String(DAYS), '--events-per-day', String(eventsPerDay), '--profiles', '20000', '--tap-auth', 'api_secret',
  ]);
  try {
    const { fromDate, toDate } = sandbox.dataRange;
    const plain = join(work, 'export.jsonl');
    const gzip = join(work, 'export.jsonl.gz');
    const captured = await captureExport(sandbox.url, String(sandbox.tap.api_secret), fromDate, toDate, plain);
    await pipeline(createReadStream(plain), createGzip(), createWriteStream(gzip));
    console.log(`tap export: captured ${thousands(captured.lines)} events, ${fixed(captured.bytes / 1e6)} MB of JSON Lines (${fromDate}..${toDate})`);
    if (captured.lines < options.events) console.log(`tap export: WARNING fewer than ${thousands(options.events)} events`);

    // Only the export stream: a discovered catalog with the other streams deselected.
    const baseConfig = { ...sandbox.tap, start_date: `${fromDate}T00:00:00Z`, end_date: `${toDate}T00:00:00Z`, date_window_size: 30, ingestion_settle_minutes: 0 };
    const sandboxConfig = writeJson(work, 'tap-sandbox.json', baseConfig);
    const catalog = JSON.parse(await captureStdout(process.execPath, [tapBin, '--config', sandboxConfig, '--discover'])) as {
      streams: Array<{ tap_stream_id: string; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }>;
    };
    for (const entry of catalog.streams) {
      const rootMd = entry.metadata.find((m) => m.breadcrumb.length === 0);
      if (rootMd) rootMd.metadata.selected = entry.tap_stream_id === 'export';
    }
    const catalogPath = writeJson(work, 'catalog.json', catalog);

    const replay = await startReplay({ plain, gzip });
    const replayConfig = writeJson(work, 'tap-replay.json', { ...baseConfig, export_base_url: replay.url, query_base_url: replay.url });
    const env = { LOG_LEVEL: 'info' };
    const rows: Array<[string, Measured]> = [];
    try {
      rows.push(['baseline (plain)', await repeated(options.repeat, () => runMeasured(process.execPath, [join(root, 'dist-bench', 'baseline.js'), plain]))]);
      rows.push(['baseline (gzip)', await repeated(options.repeat, () => runMeasured(process.execPath, [join(root, 'dist-bench', 'baseline.js'), gzip, '--gzip']))]);
      rows.push(['tap <- replay (gzip)', await repeated(options.repeat, () => runMeasured(process.execPath, [tapBin, '--config', replayConfig, '--catalog', catalogPath], { env }))]);
    } finally {
      await replay.close();
    }
    rows.push(['tap <- sandbox (live)', best([await runMeasured(process.execPath, [tapBin, '--config', sandboxConfig, '--catalog', catalogPath], { env })])]);

    const baseline = rows[0]?.[1] as Measured;
    const tap = rows[2]?.[1] as Measured;
    printTable(
      `Export throughput (${thousands(captured.lines)} events, ${fixed(captured.bytes / 1e6)} MB JSON Lines; best of ${options.repeat})`,
      ['run', 'records', 'seconds', 'records/s', 'input MB/s', 'output MB', 'peak RSS MB', 'vs baseline'],
      rows.map(([name, m]) => {
        const records = name.startsWith('tap') ? m.recordLines : m.stdoutLines;
        return [name, thousands(records), fixed(m.seconds, 2), thousands(records / m.seconds), fixed(captured.bytes / 1e6 / m.seconds), fixed(m.stdoutBytes / 1e6), fixed(m.peakRssMb), `${fixed(m.seconds / baseline.seconds, 2)}x`];
      }),
    );
    const ratio = tap.seconds / baseline.seconds;
    const missing = captured.lines - tap.recordLines;
    if (missing !== 0) console.log(`tap export: WARNING the tap emitted ${thousands(tap.recordLines)} records for ${thousands(captured.lines)} events`);
    const live = rows[3]?.[1] as Measured;
    const speedOk = ratio <= 1.5;
    const under200 = (m: Measured) => m.peakRssMb !== null && m.peakRssMb < 200;
    // "Whatever the volume": memory is judged on both runs, the live one being the server-faster-than-tap case.
    printTable('Export goals', ['goal', 'measured', 'met'], [
      ['tap within 1.5x of the bare baseline', `${fixed(ratio, 2)}x`, speedOk ? 'yes' : 'no'],
      ['tap peak RSS < 200 MB (replay)', `${fixed(tap.peakRssMb)} MB`, under200(tap) ? 'yes' : 'no'],
      ['tap peak RSS < 200 MB (live sandbox)', `${fixed(live.peakRssMb)} MB`, under200(live) ? 'yes' : 'no'],
    ]);
    return { events: captured.lines, ratio, peakRssMb: Math.max(tap.peakRssMb ?? 0, live.peakRssMb ?? 0), goalsMet: speedOk && under200(tap) && under200(live) };
  } finally {
    await sandbox.stop();
  }
}

function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}
