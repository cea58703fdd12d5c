/**
 * The cohort streams in the load: `cohorts` and `cohort_members` messages go to the cohort-to-tag
 * job (cohort-tags.ts). Its writes are grouped in units that take a place in the same state
 * sequence as member batches, so a state waits for them like for a batch: a unit closes at
 * `batch_size` writes, at a STATE (the state needs its writes done, not more records), at each
 * ACTIVATE_VERSION and at the end of the input.
 */
import type { MessageOrigin } from '../../../singer/reader.js';
import type { ActivateVersionMessage, JsonObject, RecordMessage, SchemaMessage } from '../../../singer/messages.js';
import { awaitedLater } from '../../../util/settle.js';
import type { WorkInFlight } from '../engine/in-flight.js';
import type { SchemaRegistry } from '../engine/records.js';
import type { StateSequencer } from '../engine/sequencer.js';
import { rowKey, type RowOutcome, type RowSource, type Tally } from '../reports/outcomes.js';
import { COHORT_MEMBERS_STREAM, COHORTS_STREAM, type CohortTagJob } from './cohort-tags.js';

export interface CohortSinkOptions {
  job: CohortTagJob;
  schemas: SchemaRegistry;
  tally: Tally;
  record: (outcome: RowOutcome) => void;
  sequencer: StateSequencer;
  work: WorkInFlight;
  /** The member batch of this run writing the person with this key (cohort tags wait for it). */
  memberWriteOf: (key: string) => Promise<void> | undefined;
  batchSize: number;
}

interface CohortUnit {
  id: number;
  writes: Array<Promise<void>>;
  firstLine: number;
  lastLine: number;
}

export class CohortSink {
  /** Whether the input had cohort messages (work other than the configured streams). */
  fed = false;
  private unit: CohortUnit | null = null;

  constructor(private readonly o: CohortSinkOptions) {}

  schema(message: SchemaMessage, line: number): void {
    this.fed = true;
    this.o.schemas.register(message, line);
  }

  async record(message: RecordMessage, line: number, origin: MessageOrigin): Promise<void> {
    this.fed = true;
    const { job, tally } = this.o;
    const keyProperties = this.o.schemas.check(message.stream, message.record, origin);
    if (message.stream === COHORTS_STREAM) {
      job.cohort(message.record, message.version);
      return;
    }
    if (!job.chooses(message.record)) {
      tally.ignored++;
      return;
    }
    tally.read++;
    const source: RowSource = { line, ...(origin.batch ? { batch: origin.batch } : {}), stream: message.stream, key: rowKey(keyProperties, message.record), cohort: cohortLabel(message.record) };
    const pending = await job.member(message.record, source, this.o.record, this.o.memberWriteOf);
    if (pending) this.addWrite(pending.written, line);
  }

  async activateVersion(message: ActivateVersionMessage, line: number): Promise<void> {
    this.fed = true;
    this.closeUnit();
    if (message.stream === COHORTS_STREAM) await this.o.job.cohortsComplete(message.version);
    else if (message.stream === COHORT_MEMBERS_STREAM) {
      const removals = await this.o.job.membersComplete(message.version);
      this.addWrite(removals.written, line);
    }
    this.closeUnit();
  }

  /** A STATE was read, the input ended, or the run failed: the open unit is closed and watched. */
  closeUnit(): void {
    const unit = this.unit;
    if (!unit) return;
    this.unit = null;
    void this.o.work.track(unit.id, Promise.all(unit.writes).then(() => undefined), () => ({
      what: 'cohort tags',
      firstLine: unit.firstLine,
      lastLine: unit.lastLine,
      people: unit.writes.length,
    }));
  }

  private addWrite(write: Promise<void>, line: number): void {
    this.unit ??= { id: this.o.sequencer.open(), writes: [], firstLine: line, lastLine: line };
    // Waited for when the unit closes; a failure before that must not go unobserved.
    this.unit.writes.push(awaitedLater(write));
    this.unit.lastLine = line;
    if (this.unit.writes.length >= this.o.batchSize) this.closeUnit();
  }
}

/** A cohort_members record's cohort for the rejects file: `Power users (12)`. */
function cohortLabel(record: JsonObject): string {
  const name = typeof record.cohort_name === 'string' ? record.cohort_name : null;
  return name === null ? `cohort ${String(record.cohort_id ?? '?')}` : `${name} (${String(record.cohort_id ?? '?')})`;
}
