import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { ChunkCoalescer } from '../../../src/util/coalesce.js';

/** The blocks as pushed ('data' in flowing mode delivers each push on its own). */
function collect(chunks: Buffer[], blockBytes: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const coalescer = new ChunkCoalescer(blockBytes);
    coalescer.on('data', (b: Buffer) => out.push(b));
    coalescer.on('end', () => resolve(out));
    coalescer.on('error', reject);
    Readable.from(chunks).pipe(coalescer);
  });
}

describe('ChunkCoalescer', () => {
  it('passes every byte through, in order, in full blocks and one last partial block', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.from(`line ${i} é\n`));
    const out = await collect(chunks, 64);
    expect(Buffer.concat(out).toString('utf8')).toBe(Buffer.concat(chunks).toString('utf8'));
    expect(out.slice(0, -1).every((b) => b.length === 64)).toBe(true);
    expect((out[out.length - 1] as Buffer).length).toBeLessThanOrEqual(64);
  });

  it('copies: no output shares memory with an input slice', async () => {
    const slab = Buffer.alloc(1024, 97);
    const out = await collect([slab.subarray(0, 10), slab.subarray(10, 300)], 128);
    for (const b of out) expect(b.buffer).not.toBe(slab.buffer);
    expect(Buffer.concat(out).length).toBe(300);
  });

  it('emits nothing for an empty stream', async () => {
    expect(await collect([], 64)).toEqual([]);
  });
});
