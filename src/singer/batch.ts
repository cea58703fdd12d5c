/**
 * BATCH messages as the Meltano SDK writes them: a stream's records in files listed by a
 * manifest of file:// URLs, one JSON object a line, gzip-compressed or not.
 * https://sdk.meltano.com/en/latest/batch.html
 *
 *   {"type":"BATCH","stream":"users","encoding":{"format":"jsonl","compression":"gzip"},
 *    "manifest":["file:///tmp/singer-sdk/users-1.jsonl.gz", ...]}
 *
 * The files are read in order, as streams (one chunk and one line in memory), and each line
 * becomes a record of the stream, exactly like a RECORD message. What cannot be read exactly -
 * another format (parquet), another scheme (s3://), a file that is missing or unreadable, a
 * corrupt gzip, a line that is not a JSON object - is an InputError naming the BATCH message's
 * line and the place in the file: nothing is ever skipped.
 */
import { constants } from 'node:fs';
import { access, open, stat, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError, errorMessage } from '../errors/index.js';
import { LineError, readLines } from '../util/lines.js';
import type { BatchMessage, JsonObject } from './messages.js';

/** Where a record of a BATCH came from: the file (as the manifest names it) and its line. */
export interface BatchPosition {
  url: string;
  line: number;
}

export interface BatchRecord {
  record: JsonObject;
  position: BatchPosition;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** An error's message; zlib and fs errors are read by shape (they may come from another realm). */
function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : errorMessage(err);
}

function batchFailure(lineNumber: number, message: BatchMessage, problem: string, cause?: unknown): InputError {
  return new InputError(`line ${lineNumber}: BATCH for "${message.stream}": ${problem}`, cause === undefined ? {} : { cause });
}

/**
 * The local path of a manifest entry. The SDK writes `file://` followed by the absolute path as
 * is (not percent-encoded); `file://localhost/...` and `file:/...` are accepted too. Returns the
 * raw path and, when it differs, the percent-decoded one (tried when the raw one does not exist).
 */
export function batchFilePaths(url: string): { paths: string[] } | { problem: string } {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  if (scheme === undefined) return { problem: `"${url}" is not a URL: manifest entries are file:///absolute/path URLs` };
  if (scheme.toLowerCase() !== 'file') {
    return { problem: `"${url}": only file:// manifests can be read (not ${scheme}://); let the tap write its batch files to a local directory` };
  }
  let rest = url.slice(scheme.length + 1);
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    if (rest.toLowerCase().startsWith('localhost/')) rest = rest.slice('localhost'.length);
    if (!rest.startsWith('/')) {
      return { problem: `"${url}" is not an absolute file URL (file:///absolute/path): a host or a relative path cannot be read reliably` };
    }
  } else if (!rest.startsWith('/')) {
    return { problem: `"${url}" is not an absolute file URL (file:///absolute/path)` };
  }
  const paths = [rest];
  if (rest.includes('%')) {
    try {
      const decoded = decodeURIComponent(rest);
      if (decoded !== rest) paths.push(decoded);
    } catch {
      // Not percent-encoded after all: the raw path is the only candidate.
    }
  }
  return { paths };
}

async function firstExisting(paths: readonly string[]): Promise<{ path: string } | { error: NodeJS.ErrnoException }> {
  let firstError: NodeJS.ErrnoException | undefined;
  for (const path of paths) {
    try {
      const info = await stat(path);
      if (!info.isFile()) return { error: Object.assign(new Error(`${path} is not a file`), { code: 'EISDIR' }) };
      await access(path, constants.R_OK);
      return { path };
    } catch (err) {
      firstError ??= err as NodeJS.ErrnoException;
    }
  }
  return { error: firstError ?? Object.assign(new Error('no path'), { code: 'ENOENT' }) };
}

function fileProblem(url: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return `${url} does not exist (batch files must still be there when the target reads them: is the tap's batch directory cleaned up too early?)`;
    case 'EACCES':
    case 'EPERM':
      return `${url} cannot be read (permission denied)`;
    case 'EISDIR':
      return `${url} is not a file`;
    default:
      return `${url} cannot be read (${err.code ?? errorMessage(err)})`;
  }
}

/** Checks what the target can do before any file is read: format, compression, every URL. */
export async function planBatch(message: BatchMessage, lineNumber: number): Promise<Array<{ url: string; path: string }>> {
  const { format, compression } = message.encoding;
  if (format !== 'jsonl') {
    throw batchFailure(lineNumber, message, `encoding format "${format}" cannot be read: this target reads jsonl batch files (set the tap's batch_config encoding format to jsonl)`);
  }
  if (compression !== 'gzip' && compression !== 'none') {
    throw batchFailure(lineNumber, message, `compression "${compression}" cannot be read: use gzip or none`);
  }
  const files: Array<{ url: string; path: string }> = [];
  for (const url of message.manifest) {
    const resolved = batchFilePaths(url);
    if ('problem' in resolved) throw batchFailure(lineNumber, message, resolved.problem);
    const found = await firstExisting(resolved.paths);
    if ('error' in found) throw batchFailure(lineNumber, message, fileProblem(url, found.error), found.error);
    files.push({ url, path: found.path });
  }
  return files;
}

async function startsWithGzipMagic(handle: FileHandle): Promise<boolean> {
  const head = Buffer.alloc(2);
  const { bytesRead } = await handle.read(head, 0, 2, 0);
  return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
}

function zlibProblem(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || (typeof code === 'string' && code.startsWith('Z_'))) {
    return `is not valid gzip (${messageOf(err)})`;
  }
  return `could not be read to the end (${typeof code === 'string' ? `${code}: ` : ''}${messageOf(err)})`;
}

function isSingerRecordMessage(value: JsonObject): boolean {
  return value.type === 'RECORD' && typeof value.stream === 'string' && value.record !== null && typeof value.record === 'object';
}

/**
 * The records of a BATCH message, in manifest order, each with its file and line. Every URL is
 * checked before the first record is read. Throws InputError naming the BATCH message's line.
 */
export async function* readBatchRecords(message: BatchMessage, lineNumber: number): AsyncGenerator<BatchRecord> {
  const files = await planBatch(message, lineNumber);
  const gzip = message.encoding.compression === 'gzip';
  for (const { url, path } of files) {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw batchFailure(lineNumber, message, fileProblem(url, err as NodeJS.ErrnoException), err);
    }
    let source: Readable | undefined;
    let fileLine = 0;
    try {
      if (!gzip && (await startsWithGzipMagic(handle))) {
        throw batchFailure(lineNumber, message, `${url} is gzip-compressed, but the BATCH message says compression "none"`);
      }
      const raw = handle.createReadStream({ start: 0, highWaterMark: 64 * 1024 });
      // pipeline: an error or an early stop on either side closes both (and the file).
      source = gzip ? pipeline(raw, createGunzip(), () => undefined) : raw;
      for await (const { line, lineNumber: n } of readLines(source)) {
        fileLine = n;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch (err) {
          throw batchFailure(lineNumber, message, `${url} line ${n}: not valid JSON (${messageOf(err)})`);
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          throw batchFailure(lineNumber, message, `${url} line ${n}: a batch file line must be a JSON object (a record)`);
        }
        if (isSingerRecordMessage(parsed as JsonObject)) {
          throw batchFailure(lineNumber, message, `${url} line ${n}: holds a Singer RECORD message; jsonl batch files hold the bare records, one a line`);
        }
        yield { record: parsed as JsonObject, position: { url, line: n } };
      }
    } catch (err) {
      if (err instanceof LineError) throw batchFailure(lineNumber, message, `${url} line ${err.lineNumber}: ${err.problem}`);
      if (err instanceof InputError) throw err;
      throw batchFailure(lineNumber, message, `${url} ${gzip ? zlibProblem(err) : `could not be read to the end (${messageOf(err)})`} after line ${fileLine}`, err);
    } finally {
      source?.destroy();
      await handle.close().catch(() => undefined);
    }
  }
}
