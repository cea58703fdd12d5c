/**
 * Line splitting: one line of 25, 50 and 100 MiB through the current readLines and through the
 * splitter it replaced (bench/line-split.ts), each in its own process so peak RSS is its own.
 */
import { join } from 'node:path';
import { runMeasured } from './measure.js';
import { fixed, printTable } from './table.js';

export interface LinesBenchOptions {
  root: string;
  sizesMb: number[];
}

export async function benchLineSplitting(options: LinesBenchOptions): Promise<void> {
  const script = join(options.root, 'dist-bench', 'line-split.js');
  const rows: string[][] = [];
  for (const mb of options.sizesMb) {
    const cells = [`${mb} MiB`];
    for (const which of ['old', 'new'] as const) {
      const run = await runMeasured(process.execPath, [script, which, String(mb)]);
      if (run.code !== 0) throw new Error(`line-split ${which} ${mb}: exit ${run.code}: ${run.stderrTail}`);
      const { seconds, maxRssMb } = JSON.parse(run.lastLine) as { seconds: number; maxRssMb: number };
      // The process's own peak (getrusage) is exact; the polled VmHWM can miss the last moments.
      cells.push(fixed(seconds, 2), fixed(Math.max(maxRssMb, run.peakRssMb ?? 0), 0));
    }
    rows.push(cells);
  }
  printTable('Line splitting: one line of N MiB in 64 KiB chunks (seconds of splitting, peak RSS MB of the process)', ['line', 'before s', 'before RSS', 'after s', 'after RSS'], rows);
}
