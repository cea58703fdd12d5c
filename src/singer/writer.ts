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
  private parts: string[] = [];
  private pendingChars = 0;
  private failure: Error | null = null;
  private readonly onError = (err: Error) => {
    this.failure = err;
  };

  constructor(
    private readonly out: Writable,
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {
    out.on('error', this.onError);
  }

  /** Queues one line (with its newline); writes when enough has gathered. */
  async writeLine(line: string): Promise<void> {
    this.parts.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= this.chunkBytes) await this.flush();
  }

  /** Writes everything queued and waits while the reader is slower than us. */
  async flush(): Promise<void> {
    this.throwIfFailed();
    if (this.parts.length === 0) return;
    const chunk = this.parts.length === 1 ? (this.parts[0] as string) : this.parts.join('');
    this.parts = [];
    this.pendingChars = 0;
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

  /** The hot path: a RECORD line built around a cached prefix for its stream. */
  writeRecord(stream: string, record: JsonObject, timeExtracted?: string): Promise<void> {
    let prefix = this.streamPrefix.get(stream);
    if (prefix === undefined) {
      prefix = `{"type":"RECORD","stream":${JSON.stringify(stream)},"record":`;
      this.streamPrefix.set(stream, prefix);
    }
    this.recordCounts.set(stream, (this.recordCounts.get(stream) ?? 0) + 1);
    const suffix = timeExtracted === undefined ? '}\n' : `,"time_extracted":"${timeExtracted}"}\n`;
    return this.lines.writeLine(prefix + JSON.stringify(record) + suffix);
  }

  /** A STATE message is written through at once: it must reach the reader right after its records. */
  async writeState(value: JsonObject): Promise<void> {
    await this.lines.writeLine(JSON.stringify({ type: 'STATE', value }) + '\n');
    await this.lines.flush();
  }

  writeActivateVersion(stream: string, version: number): Promise<void> {
    return this.lines.writeLine(JSON.stringify({ type: 'ACTIVATE_VERSION', stream, version }) + '\n');
  }

  flush(): Promise<void> {
    return this.lines.flush();
  }
}
