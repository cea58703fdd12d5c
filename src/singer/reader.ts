/** Reads Singer messages from a stream (stdin), one per line, with line numbers in errors. */
import { readLines } from '../util/lines.js';
import { parseMessage, type SingerMessage } from './messages.js';

export interface ReadMessage {
  lineNumber: number;
  message: SingerMessage;
}

export interface ReadOptions {
  /** Called for message types this project does not handle (they are skipped). */
  onUnknown?: (type: string, lineNumber: number) => void;
}

export async function* readMessages(input: AsyncIterable<Buffer | string>, options: ReadOptions = {}): AsyncGenerator<ReadMessage> {
  for await (const { line, lineNumber } of readLines(input)) {
    const message = parseMessage(line, lineNumber);
    if (message === null) {
      options.onUnknown?.(unknownType(line), lineNumber);
      continue;
    }
    yield { lineNumber, message };
  }
}

function unknownType(line: string): string {
  try {
    const parsed = JSON.parse(line) as { type?: unknown };
    return String(parsed.type);
  } catch {
    return 'unknown';
  }
}
