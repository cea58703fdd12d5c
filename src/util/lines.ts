/**
 * Line splitting for byte streams, linear in the input however long a line is: lines end at the
 * byte 0x0A (which never occurs inside a multi-byte UTF-8 character, so no decoding is needed to
 * find them), a line that spans chunks is kept as a list of chunk slices and joined once, and each
 * complete line is decoded once. Memory: one chunk plus one line.
 *
 * Two decoders: `readLines` (Singer input) is strict - a line that is not valid UTF-8 is an error
 * naming it, because a replacement character would be loaded as data (a person's name, an email
 * address); `LineSplitter` (HTTP bodies the tap reads) replaces invalid bytes with U+FFFD as it
 * always did.
 */
import { isUtf8 } from 'node:buffer';
import { InputError } from '../errors/index.js';

const LF = 0x0a;
const CR = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The longest line readLines accepts, in bytes. Node cannot hold a string of more than about
 * 512 MiB, and a line is held up to three times while it is decoded and parsed; 256 MiB keeps a
 * run of one huge line well inside memory and far above any real Singer message.
 */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;

/** Marks, in the output of ByteLineSplitter.push, a line longer than its limit (which it dropped). */
export const LINE_TOO_LONG: unique symbol = Symbol('line too long');

export type SplitLine = Buffer | typeof LINE_TOO_LONG;

/** Splits bytes into lines: Buffers without the LF and without a CR before it. */
export class ByteLineSplitter {
  private parts: Buffer[] = [];
  private partialBytes = 0;
  private failed = false;

  constructor(private readonly maxLineBytes = Number.POSITIVE_INFINITY) {}

  /**
   * Feeds a chunk; returns the lines it completed. A line longer than the limit comes out as
   * LINE_TOO_LONG as soon as the limit is passed (its bytes are not kept), and the splitter then
   * returns nothing more: the caller stops there.
   */
  push(chunk: Buffer): SplitLine[] {
    if (this.failed) return [];
    const lines: SplitLine[] = [];
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, from);
      if (nl < 0) break;
      const line = this.complete(chunk.subarray(from, nl));
      lines.push(line);
      if (line === LINE_TOO_LONG) return lines;
      from = nl + 1;
    }
    if (from < chunk.length) {
      const rest = chunk.subarray(from);
      this.partialBytes += rest.length;
      // A CR may be the last byte a line keeps (CRLF cut between chunks): allow for it.
      if (this.partialBytes > this.maxLineBytes + 1) return this.fail(lines);
      this.parts.push(rest);
    }
    return lines;
  }

  /** Ends the input: the last line when the input did not end with a line break, else null. */
  end(): SplitLine | null {
    if (this.failed || this.partialBytes === 0) return null;
    return this.complete(Buffer.alloc(0));
  }

  private complete(tail: Buffer): SplitLine {
    let line = tail;
    if (this.parts.length > 0) {
      this.parts.push(tail);
      line = Buffer.concat(this.parts, this.partialBytes + tail.length);
      this.parts = [];
      this.partialBytes = 0;
    }
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.maxLineBytes) {
      this.failed = true;
      return LINE_TOO_LONG;
    }
    return line;
  }

  private fail(lines: SplitLine[]): SplitLine[] {
    this.failed = true;
    this.parts = [];
    this.partialBytes = 0;
    lines.push(LINE_TOO_LONG);
    return lines;
  }
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

/**
 * Splits a byte stream into text lines, replacing invalid UTF-8 with U+FFFD (for HTTP bodies,
 * where the tap has its own checks). Blank lines are returned; the caller counts them.
 */
export class LineSplitter {
  private readonly bytes = new ByteLineSplitter();

  /** Feeds a chunk; returns the complete lines it finished (without their line breaks). */
  push(chunk: Buffer | string): string[] {
    return this.bytes.push(toBuffer(chunk)).map((line) => (line as Buffer).toString('utf8'));
  }

  /** Ends the input; returns the last line if the input did not end with a line break. */
  end(): string | null {
    const last = this.bytes.end();
    return last === null ? null : (last as Buffer).toString('utf8');
  }
}

/** A problem with one line of input; the message starts with "line N:". */
export class LineError extends InputError {
  constructor(
    readonly lineNumber: number,
    readonly problem: string,
  ) {
    super(`line ${lineNumber}: ${problem}`);
  }
}

export interface NumberedLine {
  line: string;
  lineNumber: number;
}

export interface ReadLinesOptions {
  /** Longest line accepted, in bytes (default MAX_LINE_BYTES). */
  maxLineBytes?: number;
}

function mebibytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB` : `${bytes} bytes`;
}

/** Where the first invalid UTF-8 sequence of a line starts (only called on lines that have one). */
export function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    let cp = b & (0xff >> (need + 2));
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function decodeStrict(bytes: Buffer, lineNumber: number): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  const at = firstInvalidUtf8(bytes);
  const byte = at >= 0 ? ` (byte 0x${(bytes[at] as number).toString(16).toUpperCase().padStart(2, '0')} at offset ${at})` : '';
  throw new LineError(
    lineNumber,
    `not valid UTF-8${byte}: Singer input must be UTF-8; convert it first (e.g. iconv -f latin1 -t utf-8)`,
  );
}

/**
 * Async lines of a stream, numbered from 1, decoded strictly as UTF-8; blank lines are counted
 * but not yielded. A UTF-8 byte order mark at the very start of the input is skipped (some
 * Windows tools write one); anywhere else it is data. Throws LineError for a line that is not
 * valid UTF-8 or longer than the limit, after yielding every line before it.
 */
export async function* readLines(source: AsyncIterable<Buffer | string>, options: ReadLinesOptions = {}): AsyncGenerator<NumberedLine> {
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  const splitter = new ByteLineSplitter(maxLineBytes);
  let lineNumber = 0;
  const decode = (split: SplitLine): string => {
    lineNumber++;
    if (split === LINE_TOO_LONG) {
      throw new LineError(lineNumber, `longer than ${mebibytes(maxLineBytes)}, the most a Singer line may hold here: is the input a Singer stream of one message per line?`);
    }
    const bytes = lineNumber === 1 && split.subarray(0, 3).equals(BOM) ? split.subarray(3) : split;
    return decodeStrict(bytes, lineNumber);
  };
  for await (const chunk of source) {
    for (const split of splitter.push(toBuffer(chunk))) {
      const line = decode(split);
      if (line.trim() !== '') yield { line, lineNumber };
    }
  }
  const last = splitter.end();
  if (last !== null) {
    const line = decode(last);
    if (line.trim() !== '') yield { line, lineNumber };
  }
}
