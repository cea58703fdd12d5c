/**
 * The streams named in `stream` in the load: each SCHEMA is registered and checked (the email
 * property, the properties the settings name), each RECORD is validated, counted and handed to
 * the member job with where it came from.
 */
import type { ActivateVersionMessage, RecordMessage, SchemaMessage } from '../../../singer/messages.js';
import type { MessageOrigin } from '../../../singer/reader.js';
import type { StreamSink } from '../engine/dispatcher.js';
import type { InputChecks } from '../engine/input-checks.js';
import type { SchemaRegistry } from '../engine/records.js';
import { rowKey, type RowSource, type Tally } from '../reports/outcomes.js';
import type { MemberJob } from './member-job.js';

export class MemberSink implements StreamSink {
  constructor(private readonly o: { job: MemberJob; schemas: SchemaRegistry; checks: InputChecks; tally: Tally }) {}

  schema(message: SchemaMessage, line: number): void {
    this.o.checks.seen(message.stream);
    this.o.schemas.register(message, line);
    this.o.checks.schema(message.stream, message.schema.properties ?? {}, line);
  }

  async record(message: RecordMessage, line: number, origin: MessageOrigin): Promise<void> {
    this.o.checks.seen(message.stream);
    const keyProperties = this.o.schemas.check(message.stream, message.record, origin);
    this.o.checks.record(message.record);
    this.o.tally.read++;
    const source: RowSource = { line, ...(origin.batch ? { batch: origin.batch } : {}), stream: message.stream, key: rowKey(keyProperties, message.record) };
    await this.o.job.add(message.record, source);
  }

  /** People streams have no versions to activate yet: the message only says the stream is there. */
  activateVersion(message: ActivateVersionMessage): Promise<void> {
    this.o.checks.seen(message.stream);
    return Promise.resolve();
  }
}
