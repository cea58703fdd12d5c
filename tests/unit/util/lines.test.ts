import { describe, expect, it, jest } from '@jest/globals';
import { InputError } from '../../../src/errors/index.js';
import { ByteLineSplitter, firstInvalidUtf8, LINE_TOO_LONG, LineError, LineSplitter, MAX_LINE_BYTES, readLines, type NumberedLine } from '../../../src/util/lines.js';

async function* chunks(...parts: Array<Buffer | string>): AsyncGenerator<Buffer | string> {
  for (const part of parts) yield part;
}

/** Every line readLines yields before it throws, and what it threw (null when it did not). */
async function readAll(source: AsyncIterable<Buffer | string>, maxLineBytes?: number): Promise<{ lines: NumberedLine[]; error: LineError | null }> {
  const lines: NumberedLine[] = [];
  try {
    for await (const line of readLines(source, maxLineBytes === undefined ? {} : { maxLineBytes })) lines.push(line);
  } catch (err) {
    expect(err).toBeInstanceOf(LineError);
    return { lines, error: err as LineError };
  }
  return { lines, error: null };
}

const bytes = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('ByteLineSplitter: lines found by the byte 0x0A, joined once', () => {
  it('returns complete lines as they finish, a partial line only when its end arrives', () => {
    const splitter = new ByteLineSplitter();
    expect(splitter.push(bytes('ab'))).toEqual([]);
    expect(splitter.push(bytes('c\nde\nf')).map(String)).toEqual(['abc', 'de']);
    expect(String(splitter.end())).toBe('f');
  });

  it('joins a line that spans a thousand chunks with one Buffer.concat (linear, not a copy per chunk)', () => {
    const splitter = new ByteLineSplitter();
    const concat = jest.spyOn(Buffer, 'concat');
    try {
      for (let i = 0; i < 1000; i++) expect(splitter.push(Buffer.alloc(64, 0x61))).toEqual([]);
      const [line] = splitter.push(Buffer.from('\n'));
      expect(concat).toHaveBeenCalledTimes(1);
      expect((line as Buffer).length).toBe(64_000);
    } finally {
      concat.mockRestore();
    }
  });

  it('returns slices of a chunk for lines inside it, without copying', () => {
    const chunk = bytes('one\ntwo\n');
    const lines = new ByteLineSplitter().push(chunk) as Buffer[];
    expect(lines.map(String)).toEqual(['one', 'two']);
    expect(lines[0]?.buffer).toBe(chunk.buffer);
  });

  it('drops the CR of CRLF, also when CR and LF arrive in different chunks; a CR inside a line stays', () => {
    const splitter = new ByteLineSplitter();
    expect(splitter.push(bytes('a\r\nb\r')).map(String)).toEqual(['a']);
    expect(splitter.push(bytes('\nc\rd\r\n')).map(String)).toEqual(['b', 'c\rd']);
    expect(splitter.end()).toBeNull();
  });

  it('marks a line longer than the limit as soon as the limit is passed, and returns nothing after it', () => {
    const splitter = new ByteLineSplitter(10);
    expect(splitter.push(bytes('short\n0123456')).map((l) => (l === LINE_TOO_LONG ? 'TOO LONG' : String(l)))).toEqual(['short']);
    // The line is now 14 bytes without its end in sight: refused now, not after buffering the rest.
    expect(splitter.push(bytes('7890123'))).toEqual([LINE_TOO_LONG]);
    expect(splitter.push(bytes('\nnext\n'))).toEqual([]);
    expect(splitter.end()).toBeNull();
  });

  it('accepts a line of exactly the limit, with or without a CR before its LF', () => {
    const splitter = new ByteLineSplitter(4);
    expect(splitter.push(bytes('abcd\nefgh\r\n')).map(String)).toEqual(['abcd', 'efgh']);
    expect(splitter.push(bytes('ijkl')).map(String)).toEqual([]);
    expect(splitter.push(bytes('\r')).map(String)).toEqual([]);
    expect(String(splitter.end())).toBe('ijkl');
  });

  it('marks a too-long line that arrives whole inside one chunk', () => {
    expect(new ByteLineSplitter(3).push(bytes('ok\ntoolong\nnever\n')).map((l) => (l === LINE_TOO_LONG ? 'TOO LONG' : String(l)))).toEqual(['ok', 'TOO LONG']);
  });
});

describe('LineSplitter (HTTP bodies): text lines, invalid bytes replaced as before', () => {
  it('replaces invalid UTF-8 with U+FFFD instead of failing', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(bytes('j', [0xe9], 'rg\nok\n'))).toEqual(['j\ufffdrg', 'ok']);
  });

  it('decodes a character split between chunks', () => {
    const whole = bytes('€\n');
    const splitter = new LineSplitter();
    expect([...splitter.push(whole.subarray(0, 1)), ...splitter.push(whole.subarray(1))]).toEqual(['€']);
  });
});

describe('readLines: strict UTF-8', () => {
  it.each<[string, number[], number]>([
    ['Latin-1 é (0xE9) in an address', [0x6a, 0xe9, 0x72, 0x67], 1],
    ['a lone continuation byte', [0x61, 0x80], 1],
    ['an overlong encoding of "/"', [0xc0, 0xaf], 0],
    ['a UTF-16 surrogate encoded as UTF-8', [0x61, 0x62, 0xed, 0xa0, 0x80], 2],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['a character cut short by the end of the line', [0x61, 0xe2, 0x82], 1],
    ['0xFF, never valid', [0xff], 0],
  ])('a line holding %s is an error naming its number and the offending byte, after the lines before it', async (_case, bad, offset) => {
    const input = chunks(bytes('{"first":1}\n\n'), bytes('{"bad":"', bad, '"}\n{"after":1}\n'));
    const { lines, error } = await readAll(input);
    expect(lines.map((l) => l.line)).toEqual(['{"first":1}']);
    expect(error).toBeInstanceOf(InputError);
    expect(error?.lineNumber).toBe(3);
    expect(error?.message).toMatch(new RegExp(`^line 3: not valid UTF-8 \\(byte 0x${(bad[offset] as number).toString(16).toUpperCase().padStart(2, '0')} at offset ${offset + 8}\\)`));
  });

  it('decodes valid multi-byte characters whatever the chunk boundaries (cut after every byte)', async () => {
    const text = 'naïve ☃ 😀 Ωmega\n中文\n';
    const all = Buffer.from(text, 'utf8');
    const perByte = Array.from({ length: all.length }, (_, i) => all.subarray(i, i + 1));
    const { lines, error } = await readAll(chunks(...perByte));
    expect(error).toBeNull();
    expect(lines.map((l) => l.line)).toEqual(['naïve ☃ 😀 Ωmega', '中文']);
  });

  it('finds the first invalid byte (and -1 for valid text)', () => {
    expect(firstInvalidUtf8(bytes('plain ascii ☃ 😀'))).toBe(-1);
    expect(firstInvalidUtf8(bytes('ab', [0xe2, 0x28, 0xa1]))).toBe(2);
    expect(firstInvalidUtf8(bytes('☃', [0xf0, 0x9f, 0x98]))).toBe(3);
  });
});

describe('readLines: byte order mark, CRLF, blank lines, limits', () => {
  const BOM = [0xef, 0xbb, 0xbf];

  it('skips a UTF-8 BOM at the very start of the input', async () => {
    const { lines } = await readAll(chunks(bytes(BOM, '{"a":1}\n{"b":2}\n')));
    expect(lines).toEqual([
      { line: '{"a":1}', lineNumber: 1 },
      { line: '{"b":2}', lineNumber: 2 },
    ]);
  });

  it('skips the BOM when its three bytes arrive in three chunks', async () => {
    const { lines } = await readAll(chunks(Buffer.from([0xef]), Buffer.from([0xbb]), Buffer.from([0xbf]), bytes('{"a":1}')));
    expect(lines).toEqual([{ line: '{"a":1}', lineNumber: 1 }]);
  });

  it('keeps a BOM anywhere else: it is data there (and a Singer line starting with it is not JSON)', async () => {
    const { lines } = await readAll(chunks(bytes('{"a":1}\n', BOM, '{"b":2}\n')));
    expect(lines[1]).toEqual({ line: '\ufeff{"b":2}', lineNumber: 2 });
  });

  it('counts a first line that is only a BOM as a blank line', async () => {
    const { lines } = await readAll(chunks(bytes(BOM, '\r\n{"a":1}\r\n')));
    expect(lines).toEqual([{ line: '{"a":1}', lineNumber: 2 }]);
  });

  it('reads CRLF input like LF input, line numbers included', async () => {
    const lf = await readAll(chunks('a\n\nb\nc'));
    const crlf = await readAll(chunks('a\r\n\r\nb\r\nc\r\n'));
    expect(crlf.lines).toEqual(lf.lines);
    expect(crlf.lines.map((l) => l.lineNumber)).toEqual([1, 3, 4]);
  });

  it('refuses a line longer than the limit, naming it, after the lines before it', async () => {
    const { lines, error } = await readAll(chunks('ok\n', 'x'.repeat(8), 'x'.repeat(8), '\nnever\n'), 10);
    expect(lines.map((l) => l.line)).toEqual(['ok']);
    expect(error?.message).toMatch(/^line 2: longer than 10 bytes, the most a Singer line may hold here/);
  });

  it('allows lines up to 256 MiB by default (a documented limit, far above any Singer message)', () => {
    expect(MAX_LINE_BYTES).toBe(256 * 1024 * 1024);
  });
});
