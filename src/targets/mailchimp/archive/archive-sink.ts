/**
 * The configured stream's sink with archive_missing on: it passes every message to the member
 * sink, notes each record's person in the sweep of its version, and on the stream's
 * ACTIVATE_VERSION starts the archive as a unit of work of its own. The unit takes its place in
 * the state sequence like a batch (a state read after the ACTIVATE_VERSION is printed only once
 * the archive is done), and it starts only when every unit read before it has finished: the
 * member batch still filling is closed first, and a failed write before the end of the sweep
 * means nobody is archived.
 */
import type { ActivateVersionMessage, RecordMessage, SchemaMessage } from '../../../singer/messages.js';
import type { MessageOrigin } from '../../../singer/reader.js';
import type { StreamSink } from '../engine/dispatcher.js';
import type { WorkInFlight } from '../engine/in-flight.js';
import type { StateSequencer } from '../engine/sequencer.js';
import type { ArchiveJob } from './archive-job.js';

export interface ArchiveSinkOptions {
  inner: StreamSink;
  job: ArchiveJob;
  stream: string;
  sequencer: StateSequencer;
  work: WorkInFlight;
  /** Closes the member batch filling and starts the batches held back, so they can be waited for. */
  flushMembers: () => void;
}

export class ArchiveSink implements StreamSink {
  constructor(private readonly o: ArchiveSinkOptions) {}

  schema(message: SchemaMessage, line: number): void {
    this.o.inner.schema(message, line);
  }

  async record(message: RecordMessage, line: number, origin: MessageOrigin): Promise<void> {
    await this.o.inner.record(message, line, origin);
    if (message.stream === this.o.stream) this.o.job.seen(message.record, message.version);
  }

  async activateVersion(message: ActivateVersionMessage, line: number): Promise<void> {
    await this.o.inner.activateVersion(message, line);
    if (message.stream !== this.o.stream) return;
    const { work, sequencer, job } = this.o;
    this.o.flushMembers();
    // Taken before the archive's own unit is tracked, or it would wait for itself.
    const earlier = work.settledSoFar();
    const unit = sequencer.open();
    void work.track(unit, job.sweepComplete(message.version, earlier, () => work.fatal !== null), () => ({ what: 'archive', firstLine: line, lastLine: line, people: 0 }));
  }
}
