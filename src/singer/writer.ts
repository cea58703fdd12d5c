/**
 * Writes Singer messages (or any lines) to stdout, in order, respecting backpressure.
 *
 * Lines are gathered into chunks of about `chunkBytes` before they are written: one write per
 * record costs a system call each on a pipe, which dominates at hundreds of thousands of
 * records per second. STATE messages flush at once, so a state reaches the reader as soon as
 * the records it covers, and never before them.
 */
import type { Writable } from 'node:stream';
import { RemoteError } from '../errors/index.js';
import type { JsonObject, JsonSchema, SingerMessage } from './messages.js';

const DEFAULT_CHUNK_BYTES = 64 * 1024;

export class LineWriter {
  /** Lines are encoded straight into this buffer: no string joins, one UTF-8 encoding per line. */
  private buffer: Buffer;
  private used = 0;
  private failure: Error | null = null;
  private readonly onError = (err: Error) => {
    this.failure = err;
  };

  constructor(
    private readonly out: Writable,
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {
    this.buffer = Buffer.allocUnsafe(this.capacity());
    out.on('error', this.onError);
  }

  /** Room for a full chunk plus the line that completes it (most lines, without growing). */
  private capacity(): number {
    return this.chunkBytes + DEFAULT_CHUNK_BYTES;
  }

  /** Queues one line (with its newline); writes when enough has gathered. */
  async writeLine(line: string): Promise<void> {
    // UTF-8 needs at most 3 bytes per UTF-16 unit: checking the bound avoids measuring each line.
    if (this.used + line.length * 3 > this.buffer.length) this.grow(Buffer.byteLength(line));
    this.used += this.buffer.write(line, this.used);
    if (this.used >= this.chunkBytes) await this.flush();
  }

  private grow(bytes: number): void {
    if (this.used + bytes <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.capacity(), 2 * (this.used + bytes)));
    this.buffer.copy(bigger, 0, 0, this.used);
    this.buffer = bigger;
  }

  /** Writes everything queued and waits while the reader is slower than us. */
  async flush(): Promise<void> {
    this.throwIfFailed();
    if (this.used === 0) return;
    const chunk = this.buffer.subarray(0, this.used);
    // The stream owns the written bytes until it has sent them: continue in a new buffer.
    this.buffer = Buffer.allocUnsafe(this.capacity());
    this.used = 0;
    if (!this.out.write(chunk)) await this.waitForDrain();
    this.throwIfFailed();
  }

  private waitForDrain(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('error', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('error', done);
      this.out.on('close', done);
    });
  }

  private throwIfFailed(): void {
    if (!this.failure) return;
    const code = (this.failure as NodeJS.ErrnoException).code;
    const reason =
      code === 'EPIPE' ? 'the program reading our output closed the pipe (did the next command in the pipeline exit?)' : this.failure.message;
    throw new RemoteError(`cannot write to stdout: ${reason}`, { cause: this.failure });
  }
}

/** Table versions are integers (epoch milliseconds by convention); anything else is a bug here. */
function versionNumber(version: number): number {
  if (!Number.isSafeInteger(version)) throw new RangeError(`a table version must be a safe integer, got ${version}`);
  return version;
}

/** Singer messages over a LineWriter. */
export class SingerWriter {
  private readonly lines: LineWriter;
  private readonly streamPrefix = new Map<string, string>();
  readonly recordCounts = new Map<string, number>();

  constructor(out: Writable, chunkBytes?: number) {
    this.lines = new LineWriter(out, chunkBytes);
  }

  writeSchema(stream: string, schema: JsonSchema, keyProperties: string[], bookmarkProperties?: string[]): Promise<void> {
    const message: SingerMessage = { type: 'SCHEMA', stream, schema, key_properties: keyProperties };
    if (bookmarkProperties && bookmarkProperties.length > 0) message.bookmark_properties = bookmarkProperties;
    return this.lines.writeLine(JSON.stringify(message) + '\n');
  }

  /**
   * The hot path: a RECORD line built around a cached prefix for its stream. `version` is the
   * record's table version (Singer's full-table replacement, see writeActivateVersion).
   */
  writeRecord(stream: string, record: JsonObject, timeExtracted?: string, version?: number): Promise<void> {
    let prefix = this.streamPrefix.get(stream);
    if (prefix === undefined) {
      prefix = `{"type":"RECORD","stream":${JSON.stringify(stream)},"record":`;
      this.streamPrefix.set(stream, prefix);
    }
    this.recordCounts.set(stream, (this.recordCounts.get(stream) ?? 0) + 1);
    const extracted = timeExtracted === undefined ? '' : `,"time_extracted":"${timeExtracted}"`;
    const versioned = version === undefined ? '' : `,"version":${versionNumber(version)}`;
    return this.lines.writeLine(`${prefix}${JSON.stringify(record)}${extracted}${versioned}}\n`);
  }

  /** A STATE message is written through at once: it must reach the reader right after its records. */
  async writeState(value: JsonObject): Promise<void> {
    await this.lines.writeLine(JSON.stringify({ type: 'STATE', value }) + '\n');
    await this.lines.flush();
  }

  /**
   * ACTIVATE_VERSION: the records of `stream` with this version are the whole table now, so a
   * target that honours it may drop the rows of older versions. Targets that do not know it
   * ignore it and keep upserting by key.
   */
  writeActivateVersion(stream: string, version: number): Promise<void> {
    return this.lines.writeLine(JSON.stringify({ type: 'ACTIVATE_VERSION', stream, version: versionNumber(version) }) + '\n');
  }

  flush(): Promise<void> {
    return this.lines.flush();
  }
}
