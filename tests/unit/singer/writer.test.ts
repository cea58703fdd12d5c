import { once } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { RemoteError } from '../../../src/errors/index.js';
import { parseMessage } from '../../../src/singer/messages.js';
import { LineWriter, SingerWriter } from '../../../src/singer/writer.js';
import { settle } from '../helpers/fake-clock.js';

/** A Writable that keeps everything written; its consumer runs only when the test says so. */
class SlowReader extends Writable {
  readonly received: string[] = [];
  private pending: Array<() => void> = [];

  constructor(highWaterMark: number) {
    super({ highWaterMark, decodeStrings: false });
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.received.push(String(chunk));
    this.pending.push(() => callback());
  }

  /** The reader catches up: every write so far is acknowledged. */
  consume(): void {
    const callbacks = this.pending;
    this.pending = [];
    for (const callback of callbacks) callback();
  }

  get text(): string {
    return this.received.join('');
  }
}

/** A Writable that accepts everything at once. */
class FastReader extends Writable {
  readonly received: string[] = [];

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.received.push(String(chunk));
    callback();
  }

  get lines(): string[] {
    return this.received.join('').split('\n').slice(0, -1);
  }
}

/** A Writable whose reader has gone away: every write fails with EPIPE. */
class ClosedPipe extends Writable {
  override _write(_chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  }
}

function isPending(promise: Promise<unknown>): () => boolean {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  return () => !done;
}

describe('LineWriter', () => {
  it('gathers lines and writes them in order, once per chunk', async () => {
    const out = new FastReader();
    const writer = new LineWriter(out, 10);
    await writer.writeLine('one\n');
    expect(out.received).toEqual([]);
    await writer.writeLine('two\n');
    await writer.writeLine('three\n'); // 14 characters gathered: one write
    expect(out.received).toEqual(['one\ntwo\nthree\n']);
    await writer.writeLine('four\n');
    await writer.flush();
    expect(out.received).toEqual(['one\ntwo\nthree\n', 'four\n']);
  });

  it('does not write on flush when nothing is queued', async () => {
    const out = new FastReader();
    await new LineWriter(out).flush();
    expect(out.received).toEqual([]);
  });

  it('waits for drain when the reader is slower than us, and not before', async () => {
    const out = new SlowReader(8);
    const writer = new LineWriter(out, 1);

    const first = writer.writeLine('0123456789\n'); // longer than the high-water mark: write() returns false
    const firstPending = isPending(first);
    await settle();
    expect(out.received).toEqual(['0123456789\n']);
    expect(firstPending()).toBe(true);

    out.consume(); // the reader catches up and the stream emits 'drain'
    await first;
    expect(firstPending()).toBe(false);
  });

  it('keeps the order of lines written while an earlier write waits for drain', async () => {
    const out = new SlowReader(4);
    const writer = new LineWriter(out, 1);
    const writes = [writer.writeLine('a-long-line\n')];
    await settle();
    out.consume();
    await Promise.all(writes);
    for (const line of ['b\n', 'c\n', 'd-long-line\n', 'e\n']) {
      const write = writer.writeLine(line);
      await settle();
      out.consume();
      await write;
    }
    expect(out.text).toBe('a-long-line\nb\nc\nd-long-line\ne\n');
  });

  it('surfaces EPIPE as a RemoteError, with the error as its cause, on the failing write and every later one', async () => {
    const out = new ClosedPipe();
    const writer = new LineWriter(out, 1);
    const failed = once(out, 'error');

    const first = await writer.writeLine('first\n').catch((err: unknown) => err);
    const [epipe] = await failed;
    expect(first).toBeInstanceOf(RemoteError);
    expect((first as RemoteError).message).toBe(
      'cannot write to stdout: the program reading our output closed the pipe (did the next command in the pipeline exit?)',
    );
    expect((first as RemoteError).cause).toBe(epipe);

    await expect(writer.writeLine('second\n')).rejects.toBeInstanceOf(RemoteError);
    await expect(writer.flush()).rejects.toThrow('closed the pipe');
  });

  it('surfaces any other stream error with its own message', async () => {
    const out = new FastReader();
    const writer = new LineWriter(out, 1);
    out.emit('error', new Error('disk full'));
    await expect(writer.writeLine('x\n')).rejects.toThrow('cannot write to stdout: disk full');
  });

  it('rejects a write that was waiting for drain when the stream fails instead of draining', async () => {
    const out = new SlowReader(4);
    const writer = new LineWriter(out, 1);
    const waiting = writer.writeLine('more than four\n');
    await settle();
    out.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await expect(waiting).rejects.toBeInstanceOf(RemoteError);
  });
});

describe('SingerWriter', () => {
  it('writes valid Singer messages, one JSON object per line, in the order given', async () => {
    const out = new FastReader();
    const writer = new SingerWriter(out);
    const record = { id: 'u1', name: 'Zoë "quoted"\nnext line', big: 2 ** 53 + 2, nested: { list: [1, null] } };
    await writer.writeSchema('engage', { type: 'object', properties: { id: { type: 'string' } } }, ['id'], ['updated']);
    await writer.writeRecord('engage', record, '2024-01-01T00:00:00.000Z');
    await writer.writeRecord('engage', { id: 'u2' });
    await writer.writeActivateVersion('engage', 5);
    await writer.writeState({ bookmarks: { engage: { replication_key_value: 'x' } } });

    const messages = out.lines.map((line, i) => parseMessage(line, i + 1));
    expect(messages).toEqual([
      { type: 'SCHEMA', stream: 'engage', schema: { type: 'object', properties: { id: { type: 'string' } } }, key_properties: ['id'], bookmark_properties: ['updated'] },
      { type: 'RECORD', stream: 'engage', record, time_extracted: '2024-01-01T00:00:00.000Z' },
      { type: 'RECORD', stream: 'engage', record: { id: 'u2' } },
      { type: 'ACTIVATE_VERSION', stream: 'engage', version: 5 },
      { type: 'STATE', value: { bookmarks: { engage: { replication_key_value: 'x' } } }, text: '{"bookmarks":{"engage":{"replication_key_value":"x"}}}' },
    ]);
    for (const line of out.lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('writes a RECORD\'s table version after time_extracted, and refuses a version that is not a safe integer', async () => {
    const out = new FastReader();
    const writer = new SingerWriter(out);
    await writer.writeRecord('cohort_members', { cohort_id: 1 }, '2024-01-01T00:00:00.000Z', 1_707_998_400_000);
    await writer.writeRecord('cohort_members', { cohort_id: 2 }, undefined, 7);
    await writer.flush();
    expect(out.lines.map((line, i) => parseMessage(line, i + 1))).toEqual([
      { type: 'RECORD', stream: 'cohort_members', record: { cohort_id: 1 }, time_extracted: '2024-01-01T00:00:00.000Z', version: 1_707_998_400_000 },
      { type: 'RECORD', stream: 'cohort_members', record: { cohort_id: 2 }, version: 7 },
    ]);
    expect(() => writer.writeRecord('s', {}, undefined, 1.5)).toThrow(RangeError);
    expect(() => writer.writeActivateVersion('s', Number.NaN)).toThrow(RangeError);
  });

  it('leaves bookmark_properties out of a SCHEMA when there are none', async () => {
    const out = new FastReader();
    const writer = new SingerWriter(out);
    await writer.writeSchema('s', { properties: {} }, [], []);
    await writer.flush();
    expect(JSON.parse(out.lines[0] ?? '')).toEqual({ type: 'SCHEMA', stream: 's', schema: { properties: {} }, key_properties: [] });
  });

  it('holds records until a chunk is full, but writes a STATE through at once, after its records', async () => {
    const out = new FastReader();
    const writer = new SingerWriter(out); // 64 KiB chunks
    await writer.writeRecord('export', { n: 1 });
    await writer.writeRecord('export', { n: 2 });
    expect(out.received).toEqual([]);
    await writer.writeState({ bookmarks: {} });
    expect(out.lines.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['RECORD', 'RECORD', 'STATE']);
  });

  it('counts records per stream', async () => {
    const writer = new SingerWriter(new FastReader());
    await writer.writeRecord('a', {});
    await writer.writeRecord('b', {});
    await writer.writeRecord('a', {});
    expect(Object.fromEntries(writer.recordCounts)).toEqual({ a: 2, b: 1 });
  });

  it('makes writeState wait for a slow reader to drain', async () => {
    const out = new SlowReader(16);
    const writer = new SingerWriter(out);
    await writer.writeRecord('s', { padding: 'x'.repeat(40) });
    const state = writer.writeState({ bookmarks: {} });
    const statePending = isPending(state);
    await settle();
    expect(out.received).toHaveLength(1);
    expect(statePending()).toBe(true);
    out.consume();
    await state;
    expect(out.text.split('\n').filter((l) => l !== '')).toHaveLength(2);
  });
});

describe('LineWriter encoding', () => {
  it('keeps multi-byte text and lines longer than a chunk intact, in order', async () => {
    const out = new FastReader();
    const writer = new LineWriter(out, 16);
    const long = `${'Zoë 李雷 '.repeat(40_000)}\n`; // far beyond the buffer: it grows
    const lines = ['José\n', long, '€\n', 'Łucja 佐藤美咲\n'];
    for (const line of lines) await writer.writeLine(line);
    await writer.flush();
    expect(out.received.join('')).toBe(lines.join(''));
    expect(out.received.length).toBeGreaterThan(1);
  });
});
