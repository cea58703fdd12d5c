/**
 * make bench: tap export throughput, target load throughput and line splitting, printed as tables.
 *   node dist-bench/run.js [--only tap|target|lines] [--events N] [--members N] [--repeat N] [--line-mb 25,50,100]
 *   node dist-bench/run.js --only mailchimp-tap [--members N]   (tap-mailchimp, a generated audience of 1,000,000; not in the default run)
 *   node dist-bench/run.js --only sandbox [--members N] [--operations N] [--batch-rate N]   (not in the default run)
 *   node dist-bench/run.js --only scale [--members N] [--delta-sizes 10000,100000,1000000] [--cohort-members N]
 *                          [--before DIR] [--before-members N] [--builds after,before] [--batch-rate N] [--repeat N]
 *                          [--rows delta,first,tags,cohort]   (not in the default run)
 *   node dist-bench/run.js --only mime [--mailparser DIR] [--repeat N]   (the sandbox's MIME reader; not in the default run)
 *   node dist-bench/run.js --only archive [--results N] [--tar-stream DIR] [--repeat N]   (batch results archives; not in the default run)
 * Figures only: a goal not met is reported, never a failure (the exit code is 0 unless a run broke).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBatchArchive } from './batch-archive.js';
import { benchMime } from './mime.js';
import { benchTapExport } from './tap-export.js';
import { benchMailchimpTap } from './tap-mailchimp-scale.js';
import { benchLineSplitting } from './lines.js';
import { benchSandboxScale } from './sandbox-scale.js';
import { benchTargetLoad } from './target-load.js';
import { benchTargetScale, SCALE_ROWS, type ScaleRow } from './target-scale.js';

interface Args {
  only: 'tap' | 'target' | 'lines' | 'sandbox' | 'scale' | 'mailchimp-tap' | 'archive' | 'mime' | null;
  lineMb: number[];
  events: number;
  members: number | null;
  repeat: number | null;
  operations: number;
  batchRate: number | null;
  deltaSizes: number[] | null;
  cohortMembers: number;
  before: string | null;
  beforeMembers: number | null;
  builds: Array<'after' | 'before'>;
  rows: ScaleRow[];
  results: number;
  tarStream: string | null;
  mailparser: string | null;
}

const ONLY = ['tap', 'target', 'lines', 'sandbox', 'scale', 'mailchimp-tap', 'archive', 'mime'] as const;

function parseArgs(argv: string[]): Args {
  const args: Args = { only: null, lineMb: [25, 50, 100], events: 1_000_000, members: null, repeat: null, operations: 500_000, batchRate: null, deltaSizes: null, cohortMembers: 100_000, before: null, beforeMembers: null, builds: ['after', 'before'], rows: [...SCALE_ROWS], results: 1_000_000, tarStream: null, mailparser: null };
  const numbers = (name: string, value: string | undefined): number[] => {
    const list = (value ?? '').split(',').map(Number);
    if (list.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`${name} needs positive integers, e.g. 25,50,100`);
    return list;
  };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[i + 1];
    const number = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} needs a positive integer`);
      i++;
      return n;
    };
    if (name === '--only' && ONLY.some((o) => o === value)) {
      args.only = value as Args['only'];
      i++;
    } else if (name === '--line-mb') {
      args.lineMb = numbers(name, value);
      i++;
    } else if (name === '--delta-sizes') {
      args.deltaSizes = numbers(name, value);
      i++;
    } else if (name === '--builds') {
      const builds = (value ?? '').split(',');
      if (builds.length === 0 || builds.some((b) => b !== 'after' && b !== 'before')) throw new Error('--builds needs after, before or after,before');
      args.builds = builds as Args['builds'];
      i++;
    } else if (name === '--rows') {
      const rows = (value ?? '').split(',');
      if (rows.some((r) => !SCALE_ROWS.some((known) => known === r))) throw new Error(`--rows needs some of ${SCALE_ROWS.join(',')}`);
      args.rows = rows as Args['rows'];
      i++;
    } else if (name === '--before') {
      if (value === undefined || value.startsWith('--')) throw new Error('--before needs the directory of a built checkout of the target before issue 11 (commit fabe005)');
      args.before = value;
      i++;
    } else if (name === '--tar-stream') {
      if (value === undefined || value.startsWith('--')) throw new Error('--tar-stream needs a directory where `npm i tar-stream` was run');
      args.tarStream = value;
      i++;
    } else if (name === '--mailparser') {
      if (value === undefined || value.startsWith('--')) throw new Error('--mailparser needs a directory where `npm i mailparser` was run');
      args.mailparser = value;
      i++;
    } else if (name === '--events') args.events = number();
    else if (name === '--members') args.members = number();
    else if (name === '--results') args.results = number();
    else if (name === '--repeat') args.repeat = number();
    else if (name === '--operations') args.operations = number();
    else if (name === '--batch-rate') args.batchRate = number();
    else if (name === '--cohort-members') args.cohortMembers = number();
    else if (name === '--before-members') args.beforeMembers = number();
    else
      throw new Error(
        `unknown argument ${name} (use --only ${ONLY.join('|')}, --events N, --members N, --repeat N, --line-mb 25,50,100, --operations N, --batch-rate N, --delta-sizes 10000,100000,1000000, --cohort-members N, --before DIR, --before-members N, --builds after,before, --rows ${SCALE_ROWS.join(',')}, --results N, --tar-stream DIR, --mailparser DIR)`,
      );
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
      await benchSandboxScale({ root, members: args.members ?? 1_000_000, operations: args.operations, batchRate: args.batchRate ?? 10_000 });
      return;
    }
    if (args.only === 'scale') {
      const members = args.members ?? 1_000_000;
      await benchTargetScale({
        root,
        work,
        beforeRoot: args.before,
        builds: args.builds,
        rows: args.rows,
        deltaSizes: args.deltaSizes ?? [10_000, 100_000, 1_000_000].filter((n) => n <= members),
        members,
        beforeMembers: args.beforeMembers ?? members,
        cohortMembers: Math.min(args.cohortMembers, members),
        batchRate: args.batchRate ?? 20_000,
        repeat: args.repeat ?? 1,
      });
      return;
    }
    if (args.only === 'mime') {
      await benchMime({ root, mailparserDir: args.mailparser, repeat: args.repeat ?? 3 });
      return;
    }
    if (args.only === 'archive') {
      await benchBatchArchive({ root, work, results: args.results, tarStreamDir: args.tarStream, repeat: args.repeat ?? 3 });
      return;
    }
    if (args.only === null || args.only === 'tap') await benchTapExport({ root, work, events: args.events, repeat: args.repeat ?? 2 });
    if (args.only === null || args.only === 'target') await benchTargetLoad({ root, work, members: args.members ?? 100_000, latencyMs: 50, batchSize: 500, maxConcurrency: 5 });
    if (args.only === null || args.only === 'lines') await benchLineSplitting({ root, sizesMb: args.lineMb });
    if (args.only === 'mailchimp-tap') await benchMailchimpTap({ root, work, members: args.members ?? 1_000_000 });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
