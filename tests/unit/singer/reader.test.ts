import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../src/errors/index.js';
import { readMessages, type ReadMessage } from '../../../src/singer/reader.js';
import { LineSplitter, readLines, type NumberedLine } from '../../../src/util/lines.js';

async function* chunks(...parts: Array<Buffer | string>): AsyncGenerator<Buffer | string> {
  for (const part of parts) yield part;
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

describe('LineSplitter', () => {
  it('holds a partial line until the chunk that finishes it', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('{"a":')).toEqual([]);
    expect(splitter.push('1}\n{"b"')).toEqual(['{"a":1}']);
    expect(splitter.push(':2}\n')).toEqual(['{"b":2}']);
    expect(splitter.end()).toBeNull();
  });

  it('decodes a multi-byte UTF-8 character split between two chunks', () => {
    const bytes = Buffer.from('naïve ☃ 😀\n', 'utf8');
    const splitter = new LineSplitter();
    const snowman = bytes.indexOf(Buffer.from('☃'));
    const emoji = bytes.indexOf(Buffer.from('😀'));
    // Cut inside the 3-byte snowman and inside the 4-byte emoji.
    const lines = [
      ...splitter.push(bytes.subarray(0, snowman + 1)),
      ...splitter.push(bytes.subarray(snowman + 1, emoji + 2)),
      ...splitter.push(bytes.subarray(emoji + 2)),
    ];
    expect(lines).toEqual(['naïve ☃ 😀']);
  });

  it('decodes a character cut after every single byte', () => {
    const bytes = Buffer.from('€uro\n', 'utf8');
    const splitter = new LineSplitter();
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i++) lines.push(...splitter.push(bytes.subarray(i, i + 1)));
    expect(lines).toEqual(['€uro']);
  });

  it('removes the CR of CRLF line breaks, also when CR and LF arrive in different chunks', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('a\r\nb\r')).toEqual(['a']);
    expect(splitter.push('\nc')).toEqual(['b']);
    expect(splitter.end()).toBe('c');
  });

  it('returns a last line without a line break from end(), without a trailing CR', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('x\nlast\r')).toEqual(['x']);
    expect(splitter.end()).toBe('last');
  });

  it('keeps blank lines (the caller counts them)', () => {
    expect(new LineSplitter().push('a\n\n\nb\n')).toEqual(['a', '', '', 'b']);
  });

  it('flushes bytes of an unfinished character at end() as a replacement character', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(Buffer.from([0x61, 0xe2, 0x82]))).toEqual([]);
    expect(splitter.end()).toBe('a\ufffd');
  });
});

describe('readLines', () => {
  it('numbers lines from 1, counting blank lines but not yielding them', async () => {
    const lines = await collect(readLines(chunks('first\n\n   \nfourth\r\n\r\nsix')));
    const expected: NumberedLine[] = [
      { line: 'first', lineNumber: 1 },
      { line: 'fourth', lineNumber: 4 },
      { line: 'six', lineNumber: 6 },
    ];
    expect(lines).toEqual(expected);
  });

  it('numbers lines the same way whatever the chunk boundaries', async () => {
    const text = 'a\nb\n\nc\nd';
    const whole = await collect(readLines(chunks(text)));
    const byChar = await collect(readLines(chunks(...text.split('').map((c) => Buffer.from(c)))));
    expect(byChar).toEqual(whole);
    expect(whole.map((l) => l.lineNumber)).toEqual([1, 2, 4, 5]);
  });

  it('yields nothing for empty input', async () => {
    expect(await collect(readLines(chunks()))).toEqual([]);
    expect(await collect(readLines(chunks('')))).toEqual([]);
  });
});

describe('readMessages', () => {
  const schema = '{"type":"SCHEMA","stream":"s","schema":{"properties":{}},"key_properties":[]}';
  const record = '{"type":"RECORD","stream":"s","record":{"id":1}}';

  it('yields each message with the number of the line it came from', async () => {
    const read = await collect(readMessages(chunks(`${schema}\n\n${record}\n`)));
    expect(read.map((r) => [r.lineNumber, r.message.type])).toEqual([
      [1, 'SCHEMA'],
      [3, 'RECORD'],
    ]);
  });

  it('reports the line number of a bad line in the middle of a stream, after the good lines before it', async () => {
    const input = chunks(`${schema}\n${record}\n`, `\n${record.slice(0, 20)}`, `}\n${record}\n`);
    const seen: ReadMessage[] = [];
    let failure: unknown;
    try {
      for await (const message of readMessages(input)) seen.push(message);
    } catch (err) {
      failure = err;
    }
    expect(seen.map((r) => r.lineNumber)).toEqual([1, 2]);
    expect(failure).toBeInstanceOf(InputError);
    expect((failure as InputError).message).toMatch(/^line 4: not valid JSON/);
  });

  it('skips unknown message types and tells onUnknown their type and line', async () => {
    const unknown: Array<[string, number]> = [];
    const read = await collect(
      readMessages(chunks(`${schema}\n{"type":"FUTURE_TYPE","stream":"s"}\n${record}\n`), {
        onUnknown: (type, lineNumber) => unknown.push([type, lineNumber]),
      }),
    );
    expect(read.map((r) => r.message.type)).toEqual(['SCHEMA', 'RECORD']);
    expect(unknown).toEqual([['FUTURE_TYPE', 2]]);
  });

  it('reads a last message that has no line break after it', async () => {
    const read = await collect(readMessages(chunks(`${schema}\n${record}`)));
    expect(read.map((r) => r.lineNumber)).toEqual([1, 2]);
  });
});
