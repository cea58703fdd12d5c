/**
 * Gathers text lines into ~64 KiB buffers for streamed bodies. Encoding each line straight into
 * a preallocated buffer is much cheaper than concatenating strings and encoding the result, and
 * one write per chunk instead of per line keeps system calls down at high event rates.
 */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;

export class LineChunker {
  private buffer: Buffer;
  private used = 0;

  constructor(private readonly size: number = DEFAULT_CHUNK_BYTES) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  /** Adds one line (a newline is appended); returns a finished chunk when one fills up. */
  push(line: string): Buffer | null {
    // UTF-8 needs at most 3 bytes per UTF-16 unit; checking the bound avoids measuring every line.
    const worst = line.length * 3 + 1;
    let finished: Buffer | null = null;
    if (this.used + worst > this.size) finished = this.flush();
    if (worst > this.size) {
      const whole = Buffer.from(`${line}\n`);
      return finished ? Buffer.concat([finished, whole]) : whole;
    }
    this.used += this.buffer.write(line, this.used);
    this.buffer[this.used++] = 10;
    return finished;
  }

  /** The pending partial chunk, if any. The chunker starts a new buffer (the old one may still be queued). */
  flush(): Buffer | null {
    if (this.used === 0) return null;
    const out = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(this.size);
    this.used = 0;
    return out;
  }
}
