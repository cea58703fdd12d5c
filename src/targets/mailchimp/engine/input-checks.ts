/**
 * What the input is checked for besides its records' own validity: that the streams named in
 * `stream` come (stream-presence.ts), that the properties the settings name are declared
 * (mapped-properties.ts), and that each loaded stream's SCHEMA has an email property. While a
 * configured stream is missing and records of others went by, the sequencer holds every state.
 * Warnings found are logged when found and kept in the tally (report, warning alert).
 */
import type { Logger } from '../../../log/logger.js';
import type { TargetConfig } from '../config.js';
import { DEFAULT_EMAIL_PROPERTIES } from '../members/members.js';
import type { Tally } from '../reports/outcomes.js';
import { MappedPropertyCheck, mappedProperties } from './mapped-properties.js';
import type { StateSequencer } from './sequencer.js';
import { StreamPresence } from './stream-presence.js';

export interface InputCheckOptions {
  config: TargetConfig;
  streams: ReadonlySet<string>;
  tally: Tally;
  log: Logger;
  sequencer: StateSequencer;
  /** Called when a hold on the states lifts: some may be due now. */
  released: () => void;
}

export class InputChecks {
  private readonly presence: StreamPresence;
  private readonly mapped: MappedPropertyCheck;
  private readonly warnedNoEmail = new Set<string>();
  private holding = false;

  constructor(private readonly o: InputCheckOptions) {
    this.presence = new StreamPresence(o.streams);
    this.mapped = new MappedPropertyCheck(mappedProperties(o.config));
  }

  /** A message of a configured stream. */
  seen(stream: string): void {
    this.presence.seen(stream);
    this.syncHold();
  }

  /** A record, or an unread BATCH, of a stream the target does not load. */
  ignored(stream: string, kind: 'record' | 'batch'): void {
    this.o.tally.ignored += kind === 'record' ? 1 : 0;
    this.presence.ignore(stream, kind);
    this.syncHold();
  }

  /** The SCHEMA of a loaded stream; throws on a mapped property that is a near miss of a declared one. */
  schema(stream: string, properties: Record<string, unknown>, line: number): void {
    this.mapped.schema(stream, properties, line);
    this.checkEmailProperty(stream, properties, line);
  }

  /** A record of a loaded stream. */
  record(data: Record<string, unknown>): void {
    this.mapped.record(data);
  }

  /**
   * The end of the input: throws when a configured stream never came while others went by;
   * otherwise keeps the warnings. `otherWorkDone`: the input fed the cohort job.
   */
  finish(otherWorkDone: boolean): void {
    const found = this.presence.finish({ otherWorkDone });
    for (const note of found.notes) this.o.log.info(note);
    const warnings = [...found.warnings, ...this.mapped.warnings(this.o.tally.read)];
    for (const warning of warnings) this.o.log.warn(warning);
    this.o.tally.warnings.push(...warnings);
    this.syncHold();
  }

  /** The run stopped early (a signal) while states were held for a missing stream. */
  reportHeld(): void {
    if (!this.presence.holdsStates || this.o.sequencer.pending === 0) return;
    this.o.log.warn(`${this.o.sequencer.pending} states not printed: "stream" names ${[...this.o.streams].map((s) => `"${s}"`).join(', ')}, not all of which the input had before it stopped`);
  }

  private syncHold(): void {
    const holds = this.presence.holdsStates;
    if (holds === this.holding) return;
    this.holding = holds;
    if (holds) this.o.sequencer.hold();
    else {
      this.o.sequencer.release();
      // The states held while it was missing cover records that were not lost after all.
      this.o.released();
    }
  }

  /** A stream whose schema has no email property would have every row rejected: say so at once. */
  private checkEmailProperty(stream: string, properties: Record<string, unknown>, line: number): void {
    const { config } = this.o;
    const candidates = config.email_property ? [config.email_property] : DEFAULT_EMAIL_PROPERTIES;
    if (candidates.some((p) => p in properties) || this.warnedNoEmail.has(stream)) return;
    this.warnedNoEmail.add(stream);
    this.o.tally.streamsWithoutEmail.push(stream);
    const has = Object.keys(properties).slice(0, 12).join(', ') || 'none';
    this.o.log.warn(
      config.email_property
        ? `line ${line}: the SCHEMA of stream "${stream}" has no property "${config.email_property}" (email_property): every record of it will be rejected for having no email; its properties are ${has}`
        : `line ${line}: the SCHEMA of stream "${stream}" has none of the default email properties (${DEFAULT_EMAIL_PROPERTIES.join(', ')}): every record of it will be rejected for having no email unless you set email_property (its properties are ${has})`,
    );
  }
}
