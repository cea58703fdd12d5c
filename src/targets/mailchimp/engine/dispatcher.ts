/**
 * Reading the input: one small handler per Singer message type, as meltano/sdk's target_base
 * does. Each stream's messages go to the sink that owns the stream (the member job for the
 * streams in `stream`, the cohort job for the cohort streams); records of other streams are
 * ignored, and a STATE goes to the sequencer. Reading stops at the first failure or signal.
 */
import type { Logger } from '../../../log/logger.js';
import type { ActivateVersionMessage, BatchMessage, RecordMessage, SchemaMessage, SingerMessage, StateMessage } from '../../../singer/messages.js';
import { readMessages, type MessageOrigin } from '../../../singer/reader.js';

/** Who takes the messages of a stream. */
export interface StreamSink {
  schema(message: SchemaMessage, line: number): void;
  record(message: RecordMessage, line: number, origin: MessageOrigin): Promise<void>;
  activateVersion(message: ActivateVersionMessage, line: number): Promise<void>;
}

export interface DispatchOptions {
  input: AsyncIterable<Buffer | string>;
  log: Logger;
  signal: AbortSignal;
  /** The sink of a stream, or undefined when the target does not load it. */
  sinkFor(stream: string): StreamSink | undefined;
  /** A record, or an unread BATCH, of a stream no sink takes. */
  ignored(stream: string, kind: 'record' | 'batch'): void;
  state(message: StateMessage, line: number): void;
  /** After each record: waits while the writes in flight are at their limits. */
  afterRecord(): Promise<void>;
  /** True once the run failed: reading stops. */
  stopped(): boolean;
}

type Handlers = { [K in SingerMessage['type']]: (message: Extract<SingerMessage, { type: K }>, line: number, origin: MessageOrigin) => Promise<void> | void };

function handlers(o: DispatchOptions): Handlers {
  return {
    SCHEMA: (message, line) => o.sinkFor(message.stream)?.schema(message, line),
    RECORD: async (message, line, origin) => {
      const sink = o.sinkFor(message.stream);
      if (!sink) return o.ignored(message.stream, 'record');
      await sink.record(message, line, origin);
      await o.afterRecord();
    },
    STATE: (message, line) => o.state(message, line),
    ACTIVATE_VERSION: (message, line) => o.sinkFor(message.stream)?.activateVersion(message, line),
    // A BATCH reaches here unread only for a stream no sink takes (readBatch): its records are ignored.
    BATCH: (message: BatchMessage) => o.ignored(message.stream, 'batch'),
  };
}

/** Reads every message of the input into its handler, until the end, a failure or a signal. */
export async function dispatchMessages(o: DispatchOptions): Promise<void> {
  const table = handlers(o);
  const handle = table as unknown as Record<string, (message: SingerMessage, line: number, origin: MessageOrigin) => Promise<void> | void>;
  for await (const { lineNumber, message, origin } of readMessages(o.input, {
    onUnknown: (type, line) => o.log.debug('ignoring message', { type, line }),
    readBatch: (stream) => o.sinkFor(stream) !== undefined,
  })) {
    if (o.signal.aborted) break;
    await handle[message.type]?.(message, lineNumber, origin);
    if (o.stopped() || o.signal.aborted) break;
  }
}
