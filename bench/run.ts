/**
 * make bench: tap export throughput, target load throughput and line splitting, printed as tables.
 *   node dist-bench/run.js [--only tap|target|lines] [--events N] [--members N] [--repeat N] [--line-mb 25,50,100]
 *   node dist-bench/run.js --only sandbox [--members N] [--operations N] [--batch-rate N]   (not in the default run)
 * Figures only: a goal not met is reported, never a failure (the exit code is 0 unless a run broke).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchTapExport } from './tap-export.js';
import { benchLineSplitting } from './lines.js';
import { benchSandboxScale } from './sandbox-scale.js';
import { benchTargetLoad } from './target-load.js';

interface Args {
  only: 'tap' | 'target' | 'lines' | 'sandbox' | null;
  lineMb: number[];
  events: number;
  members: number | null;
  repeat: number;
  operations: number;
  batchRate: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { only: null, lineMb: [25, 50, 100], events: 1_000_000, members: null, repeat: 2, operations: 500_000, batchRate: 10_000 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[i + 1];
    const number = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} needs a positive integer`);
      i++;
      return n;
    };
    if (name === '--only' && (value === 'tap' || value === 'target' || value === 'lines' || value === 'sandbox')) {
      args.only = value;
      i++;
    } else if (name === '--line-mb') {
      args.lineMb = (value ?? '').split(',').map(Number);
      if (args.lineMb.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error('--line-mb needs positive integers, e.g. 25,50,100');
      i++;
    } else if (name === '--events') args.events = number();
    else if (name === '--members') args.members = number();
    else if (name === '--repeat') args.repeat = number();
    else if (name === '--operations') args.operations = number();
    else if (name === '--batch-rate') args.batchRate = number();
    else throw new Error(`unknown argument ${name} (use --only tap|target|lines|sandbox, --events N, --members N, --repeat N, --line-mb 25,50,100, --operations N, --batch-rate N)`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // dist-bench/run.js -> the repository root.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const work = mkdtempSync(join(tmpdir(), 'tmt-bench-'));
  console.log(`bench: node ${process.version}, work files in ${work}`);
  try {
    if (args.only === 'sandbox') {
      await benchSandboxScale({ root, members: args.members ?? 1_000_000, operations: args.operations, batchRate: args.batchRate });
      return;
    }
    if (args.only === null || args.only === 'tap') await benchTapExport({ root, work, events: args.events, repeat: args.repeat });
    if (args.only === null || args.only === 'target') await benchTargetLoad({ root, work, members: args.members ?? 100_000, latencyMs: 50, batchSize: 500, maxConcurrency: 5 });
    if (args.only === null || args.only === 'lines') await benchLineSplitting({ root, sizesMb: args.lineMb });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
