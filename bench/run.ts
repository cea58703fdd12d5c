/**
 * make bench: tap export throughput and target load throughput, printed as tables.
 *   node dist-bench/run.js [--only tap|target] [--events N] [--members N] [--repeat N]
 * Figures only: a goal not met is reported, never a failure (the exit code is 0 unless a run broke).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchTapExport } from './tap-export.js';
import { benchTargetLoad } from './target-load.js';

interface Args {
  only: 'tap' | 'target' | null;
  events: number;
  members: number;
  repeat: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { only: null, events: 1_000_000, members: 100_000, repeat: 2 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[i + 1];
    const number = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} needs a positive integer`);
      i++;
      return n;
    };
    if (name === '--only' && (value === 'tap' || value === 'target')) {
      args.only = value;
      i++;
    } else if (name === '--events') args.events = number();
    else if (name === '--members') args.members = number();
    else if (name === '--repeat') args.repeat = number();
    else throw new Error(`unknown argument ${name} (use --only tap|target, --events N, --members N, --repeat N)`);
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
    if (args.only !== 'target') await benchTapExport({ root, work, events: args.events, repeat: args.repeat });
    if (args.only !== 'tap') await benchTargetLoad({ root, work, members: args.members, latencyMs: 50, batchSize: 500, maxConcurrency: 5 });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
