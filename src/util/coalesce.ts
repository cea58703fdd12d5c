/**
 * Copies a byte stream into blocks of its own. Sockets hand out slices of their read buffers:
 * when a server outruns us, the response body queues many small slices, each keeping its whole
 * 64 KiB socket buffer alive, and Node's stream reads re-scan that queue. With a 1 GB export
 * behind a slower consumer that meant 600 MB of memory and a tenfold slowdown; copied into
 * blocks, the queue holds a few large buffers and nothing else.
 */
import { Transform, type TransformCallback } from 'node:stream';

export const COALESCE_BLOCK_BYTES = 64 * 1024;

export class ChunkCoalescer extends Transform {
  private block: Buffer;
  private used = 0;

  constructor(private readonly blockBytes = COALESCE_BLOCK_BYTES) {
    super();
    this.block = Buffer.allocUnsafe(blockBytes);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, this.blockBytes - this.used);
      chunk.copy(this.block, this.used, offset, offset + n);
      this.used += n;
      offset += n;
      if (this.used === this.blockBytes) {
        this.push(this.block);
        this.block = Buffer.allocUnsafe(this.blockBytes);
        this.used = 0;
      }
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.used > 0) this.push(this.block.subarray(0, this.used));
    callback();
  }
}
