/**
 * Reads the results of a Mailchimp batch: a gzipped tar archive of JSON files, each an array of
 * {"status_code", "operation_id", "response"} (the response as JSON text). Read as it downloads,
 * one file at a time, so an archive of a million results never sits in memory whole.
 *
 * The tar reader understands what archivers write: ustar and old-style headers, directories,
 * pax extended headers ('x', 'g') and GNU long names ('L', 'K'), whose contents only name things
 * and are skipped. Anything else that is not a regular file is skipped too; a header whose
 * checksum is wrong, or an archive that ends inside a file or before its end marker, is an error.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

const BLOCK = 512;

export class ArchiveError extends Error {}

/** One operation's answer in a batch's results archive. */
export interface BatchOperationResult {
  status_code: number;
  operation_id: string;
  /** The answer body as JSON text (empty for 204). */
  response: string;
}

interface TarEntry {
  name: string;
  type: string;
  size: number;
}

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

function octal(header: Buffer, offset: number, length: number): number {
  // GNU base-256 for sizes of 8 GiB or more: the first byte has its high bit set.
  if (((header[offset] ?? 0) & 0x80) !== 0) {
    let n = 0;
    for (let i = offset + 1; i < offset + length; i++) n = n * 256 + (header[i] ?? 0);
    return n;
  }
  const text = field(header, offset, length).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  const stored = octal(header, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return sum === stored;
}

function parseHeader(header: Buffer): TarEntry | null {
  if (header.every((b) => b === 0)) return null;
  if (!checksumOk(header)) throw new ArchiveError('the results archive has a damaged tar header');
  const prefix = field(header, 257, 6).startsWith('ustar') ? field(header, 345, 155) : '';
  const name = field(header, 0, 100);
  return { name: prefix ? `${prefix}/${name}` : name, type: String.fromCharCode(header[156] || 0x30), size: octal(header, 124, 12) };
}

/** Regular files of a tar stream: name and content. */
export async function* tarFiles(input: AsyncIterable<Buffer>): AsyncGenerator<{ name: string; content: Buffer }> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /** What the next bytes are: a header, or `remaining` bytes of an entry (then padding). */
  let entry: (TarEntry & { remaining: number; padding: number; parts: Buffer[] }) | null = null;
  let ended = false;

  const take = (n: number): Buffer => {
    const whole = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
    const out = whole.subarray(0, n);
    const rest = whole.subarray(n);
    pending = rest.length > 0 ? [rest] : [];
    pendingBytes = rest.length;
    return out;
  };

  for await (const chunk of input) {
    if (ended) continue;
    pending.push(chunk);
    pendingBytes += chunk.length;
    for (;;) {
      if (!entry) {
        if (pendingBytes < BLOCK) break;
        const header = parseHeader(take(BLOCK));
        if (header === null) {
          ended = true;
          break;
        }
        entry = { ...header, remaining: header.size, padding: (BLOCK - (header.size % BLOCK)) % BLOCK, parts: [] };
        continue;
      }
      if (entry.remaining > 0) {
        if (pendingBytes === 0) break;
        const part = take(Math.min(entry.remaining, pendingBytes));
        entry.remaining -= part.length;
        // Copied: `take` hands out views of chunks that are otherwise released.
        if (entry.type === '0' || entry.type === '\0' || entry.type === '7') entry.parts.push(Buffer.from(part));
        continue;
      }
      if (entry.padding > 0) {
        if (pendingBytes < entry.padding) break;
        take(entry.padding);
        entry.padding = 0;
      }
      const done = entry;
      entry = null;
      if (done.type === '0' || done.type === '\0' || done.type === '7') yield { name: done.name, content: Buffer.concat(done.parts) };
    }
  }
  const unfinished = entry as TarEntry | null;
  if (unfinished) throw new ArchiveError(`the results archive ends inside ${unfinished.name}`);
  // A tar ends with zero blocks; without them the download may have stopped at a file boundary.
  if (!ended) throw new ArchiveError('the results archive ends before its end-of-archive marker');
}

function isResult(value: unknown): value is BatchOperationResult {
  const v = value as Partial<BatchOperationResult> | null;
  return typeof v === 'object' && v !== null && typeof v.status_code === 'number' && typeof v.operation_id === 'string';
}

/** Every operation result in a gzipped results archive, file by file. */
export async function* readBatchResults(body: Readable): AsyncGenerator<BatchOperationResult> {
  const gunzip = createGunzip();
  body.on('error', (err) => gunzip.destroy(err));
  body.pipe(gunzip);
  for await (const file of tarFiles(gunzip as AsyncIterable<Buffer>)) {
    if (file.content.length === 0) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(file.content.toString('utf8'));
    } catch {
      throw new ArchiveError(`the results archive's ${file.name} is not JSON`);
    }
    if (!Array.isArray(parsed)) throw new ArchiveError(`the results archive's ${file.name} is not a list of operation results`);
    for (const item of parsed) {
      if (!isResult(item)) throw new ArchiveError(`the results archive's ${file.name} holds an entry that is not an operation result`);
      yield { status_code: item.status_code, operation_id: item.operation_id, response: typeof item.response === 'string' ? item.response : JSON.stringify(item.response ?? '') };
    }
  }
}
