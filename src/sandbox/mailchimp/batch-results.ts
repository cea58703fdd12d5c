/**
 * A batch's results archive, as Mailchimp serves it from response_body_url: a gzipped tar of JSON
 * files, each an array of at most 1000 results `{"status_code", "operation_id", "response"}`
 * (`response` is the JSON text of the answer's body, "" for an empty one).
 *
 * The archive is written to a file as the batch runs (results never pile up in memory): each JSON
 * file is one ustar entry, through a streaming gzip. ustar is simple enough to write here: a
 * 512-byte header per entry (name, mode, size in octal, checksum), the content padded to 512
 * bytes, and two zero blocks at the end.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import type { Gzip } from 'node:zlib';

export const RESULTS_PER_FILE = 1000;
const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as ustar wants.
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** One ustar header block for a regular file. */
export function tarHeader(name: string, size: number, mtimeSec: number): Buffer {
  const header = Buffer.alloc(BLOCK, 0);
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  header.write(name, 0, 100, 'utf8');
  header.write(octal(0o644, 8), 100, 8, 'ascii');
  header.write(octal(0, 8), 108, 8, 'ascii');
  header.write(octal(0, 8), 116, 8, 'ascii');
  header.write(octal(size, 12), 124, 12, 'ascii');
  header.write(octal(mtimeSec, 12), 136, 12, 'ascii');
  header.write('        ', 148, 8, 'ascii'); // checksum field counts as spaces while summing
  header.write('0', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.write('mailchimp', 265, 32, 'ascii');
  header.write('mailchimp', 297, 32, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return header;
}

/** One result line of the archive. */
export function resultJson(statusCode: number, operationId: string | null, responseBody: unknown): string {
  return JSON.stringify({ status_code: statusCode, operation_id: operationId, response: responseBody === undefined ? '' : JSON.stringify(responseBody) });
}

/** Writes a batch's results, file by file, into `path` (a .tar.gz). */
export class ResultsArchive {
  private readonly gzip: Gzip;
  private readonly file: WriteStream;
  private readonly done: Promise<void>;
  /** The current file's results so far, as bytes (off the heap: they wait for up to 1000 results). */
  private pending = Buffer.alloc(64 * 1024);
  private pendingBytes = 0;
  private pendingCount = 0;
  private files = 0;
  private failure: Error | null = null;

  constructor(
    readonly path: string,
    private readonly batchId: string,
    private readonly mtimeSec: number,
  ) {
    this.gzip = createGzip({ level: zlibConstants.Z_BEST_SPEED });
    this.file = createWriteStream(path);
    this.gzip.pipe(this.file);
    const fail = (err: Error) => {
      this.failure ??= err;
    };
    this.gzip.on('error', fail);
    this.file.on('error', fail);
    this.done = finished(this.file).catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err))));
  }

  add(result: string): void {
    const bytes = Buffer.byteLength(result) + 1; // and a separator
    if (this.pendingBytes + bytes + 1 > this.pending.length) {
      const grown = Buffer.alloc(Math.max(this.pending.length * 2, this.pendingBytes + bytes + 1));
      this.pending.copy(grown, 0, 0, this.pendingBytes);
      this.pending = grown;
    }
    this.pending[this.pendingBytes] = this.pendingCount === 0 ? 0x5b : 0x2c; // '[' or ','
    this.pending.write(result, this.pendingBytes + 1, 'utf8');
    this.pendingBytes += bytes;
    this.pendingCount++;
    if (this.pendingCount >= RESULTS_PER_FILE) this.flushFile();
  }

  /** True when the gzip stream holds more than it wants: wait for drained() before adding more. */
  get needsDrain(): boolean {
    return this.gzip.writableNeedDrain;
  }

  drained(): Promise<void> {
    if (!this.gzip.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.gzip.once('drain', () => resolve()));
  }

  /** Writes what is left and the end of the archive; resolves once the file is complete. */
  async finish(): Promise<void> {
    if (this.pendingCount > 0 || this.files === 0) this.flushFile();
    this.gzip.end(Buffer.alloc(BLOCK * 2, 0));
    await this.done;
    if (this.failure) throw this.failure;
  }

  /** Stops writing and removes the file (a deleted batch, a reset). */
  async discard(): Promise<void> {
    this.gzip.destroy();
    this.file.destroy();
    await rm(this.path, { force: true });
  }

  private flushFile(): void {
    if (this.pendingCount === 0) this.pending[this.pendingBytes++] = 0x5b;
    this.pending[this.pendingBytes++] = 0x5d; // ']'
    const content = this.pending.subarray(0, this.pendingBytes);
    // The gzip stream keeps `content` until it has compressed it: the next file gets a new buffer.
    this.pending = Buffer.alloc(this.pending.length);
    this.pendingBytes = 0;
    this.pendingCount = 0;
    // Mailchimp names the files with hashes; clients must not rely on names or order.
    const name = `${createHash('md5').update(`${this.batchId}:${this.files}`).digest('hex')}.json`;
    this.files++;
    const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
    this.gzip.write(tarHeader(name, content.length, this.mtimeSec));
    this.gzip.write(content);
    if (padding > 0) this.gzip.write(Buffer.alloc(padding, 0));
  }
}
