import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HEAP_MODULE = fileURLToPath(new URL('../../../dist/util/heap.js', import.meta.url));

/**
 * A fresh node process (V8 flags are per process) that allocates a lot of short-lived garbage,
 * as a loader does reading pages, and prints the largest its young generation became.
 */
function youngGenerationPeakMb(keep: boolean, nodeOptions = ''): number {
  const script = `
    import v8 from 'node:v8';
    const { keepHeapNearLiveSize } = await import(${JSON.stringify(HEAP_MODULE)});
    if (${keep}) keepHeapNearLiveSize();
    const kept = [];
    let peak = 0;
    for (let round = 0; round < 150; round++) {
      const garbage = [];
      for (let i = 0; i < 20000; i++) garbage.push({ i, text: 'member ' + i, pair: [i, i] });
      kept.push(garbage[round]);
      peak = Math.max(peak, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
    }
    console.log(peak / 1048576);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: nodeOptions }, encoding: 'utf8', timeout: 60_000 });
  return Number(out.trim());
}

describe('keepHeapNearLiveSize', () => {
  it('keeps the young generation at its first size instead of letting it double up to 32 MB', () => {
    const without = youngGenerationPeakMb(false);
    const withIt = youngGenerationPeakMb(true);
    expect(without).toBeGreaterThanOrEqual(16);
    expect(withIt).toBeLessThanOrEqual(4);
  });

  it('leaves the young generation alone when the user sized it (NODE_OPTIONS)', () => {
    expect(youngGenerationPeakMb(true, '--max-semi-space-size=8')).toBeGreaterThan(4);
  });
});
