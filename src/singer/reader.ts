/**
 * Reads Singer messages from a stream (stdin), one per line, with line numbers in errors.
 * BATCH messages are expanded into the RECORD messages their files hold, in order, each with
 * the place it came from, so a target handles them exactly like RECORD messages (and a STATE
 * after a BATCH waits for its records like it waits for any record before it).
 */
import { readLines } from '../util/lines.js';
import { readBatchRecords, type BatchPosition } from './batch.js';
import { parseMessage, type SingerMessage } from './messages.js';

/** Where a message came from: a line of the input, and for a record of a BATCH its file and line. */
export interface MessageOrigin {
  line: number;
  batch?: BatchPosition;
}

export interface ReadMessage {
  /** The input line (for a record of a BATCH: the BATCH message's line). */
  lineNumber: number;
  message: SingerMessage;
  origin: MessageOrigin;
}

export interface ReadOptions {
  /** Called for message types this project does not handle (they are skipped). */
  onUnknown?: (type: string, lineNumber: number) => void;
  /**
   * Whether the BATCH messages of a stream are read. Those of other streams are yielded as BATCH
   * messages, their files unread (a target ignores them like RECORDs of a stream it does not
   * load). Default: every BATCH is read.
   */
  readBatch?: (stream: string) => boolean;
}

/** "line 7", or for a record of a BATCH "line 7 (file:///tmp/b/part-1.jsonl.gz line 3)". */
export function describeOrigin(origin: MessageOrigin | number): string {
  if (typeof origin === 'number') return `line ${origin}`;
  return origin.batch ? `line ${origin.line} (${origin.batch.url} line ${origin.batch.line})` : `line ${origin.line}`;
}

export async function* readMessages(input: AsyncIterable<Buffer | string>, options: ReadOptions = {}): AsyncGenerator<ReadMessage> {
  for await (const { line, lineNumber } of readLines(input)) {
    const message = parseMessage(line, lineNumber);
    if (message === null) {
      options.onUnknown?.(unknownType(line), lineNumber);
      continue;
    }
    if (message.type === 'BATCH' && (options.readBatch?.(message.stream) ?? true)) {
      for await (const { record, position } of readBatchRecords(message, lineNumber)) {
        yield { lineNumber, message: { type: 'RECORD', stream: message.stream, record }, origin: { line: lineNumber, batch: position } };
      }
      continue;
    }
    yield { lineNumber, message, origin: { line: lineNumber } };
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
