/**
 * Splits a byte stream into lines without holding more than one chunk plus one partial line.
 * Multi-byte UTF-8 characters split across chunks are decoded correctly.
 */
import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  /** Feeds a chunk; returns the complete lines it finished (without their line breaks). */
  push(chunk: Buffer | string): string[] {
    const text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
    }
    return lines;
  }

  /** Ends the input; returns the last line if the input did not end with a line break. */
  end(): string | null {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest === '') return null;
    return rest.endsWith('\r') ? rest.slice(0, -1) : rest;
  }
}

export interface NumberedLine {
  line: string;
  lineNumber: number;
}

/** Async lines of a stream, numbered from 1; blank lines are counted but not yielded. */
export async function* readLines(source: AsyncIterable<Buffer | string>): AsyncGenerator<NumberedLine> {
  const splitter = new LineSplitter();
  let lineNumber = 0;
  for await (const chunk of source) {
    for (const line of splitter.push(chunk)) {
      lineNumber++;
      if (line.trim() !== '') yield { line, lineNumber };
    }
  }
  const last = splitter.end();
  if (last !== null) {
    lineNumber++;
    if (last.trim() !== '') yield { line: last, lineNumber };
  }
}
