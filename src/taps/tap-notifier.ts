/**
 * A tap's alerts (both taps): what the run looked like when it stopped (the stream being synced,
 * records per stream, the last STATE written) for src/notify's failure alert, and the warnings
 * of a sync that finished.
 */
import type { Writable } from 'node:stream';
import type { Logger } from '../log/logger.js';
import type { NotifyConfig } from '../notify/settings.js';
import { RunNotifier, type SnapshotParts } from '../notify/run-notifier.js';
import type { JsonObject, JsonSchema } from '../singer/messages.js';
import { SingerWriter } from '../singer/writer.js';

/** A SingerWriter that remembers the stream it is writing and the last state it printed. */
export class WatchedSingerWriter extends SingerWriter {
  currentStream: string | undefined;
  lastState: JsonObject | undefined;

  constructor(out: Writable) {
    super(out);
  }

  override writeSchema(stream: string, schema: JsonSchema, keyProperties: string[], bookmarkProperties?: string[]): Promise<void> {
    this.currentStream = stream;
    return super.writeSchema(stream, schema, keyProperties, bookmarkProperties);
  }

  override async writeState(value: JsonObject): Promise<void> {
    await super.writeState(value);
    this.lastState = value;
  }
}

/** What a tap's sync reports when it ends. */
export interface TapSyncSummary {
  streams: ReadonlyArray<{ stream: string; records: number }>;
  interrupted: boolean;
  /** What the run found that a warning should say (already logged). */
  problems?: string[];
}

export class TapNotifier extends RunNotifier {
  private writer: WatchedSingerWriter | undefined;

  /** `service`: the service the tap reads, named in the warnings ("Mixpanel", "Mailchimp"). */
  constructor(
    config: NotifyConfig,
    private readonly service: string,
    options: { binary: string; log: Logger; userAgent: string },
  ) {
    super({ ...options, config });
  }

  /** The writer whose progress alerts describe. */
  watch(writer: WatchedSingerWriter): WatchedSingerWriter {
    this.writer = writer;
    return writer;
  }

  protected override describeRun(): SnapshotParts {
    const writer = this.writer;
    return {
      ...(writer?.currentStream ? { stoppedAt: `stream ${writer.currentStream}` } : {}),
      counts: [...(writer?.recordCounts ?? new Map<string, number>()).entries()].map(([stream, n]) => [`${stream} records`, n] as const),
      ...(writer?.lastState ? { lastState: writer.lastState } : {}),
    };
  }

  /** Warnings of a sync that finished (exit 0): empty streams, and the problems the sync found. */
  async afterSync(summary: TapSyncSummary): Promise<void> {
    await this.finished({
      recordsByStream: new Map(summary.streams.map((s) => [s.stream, s.records])),
      complete: !summary.interrupted,
      service: this.service,
      ...(summary.problems ? { problems: summary.problems } : {}),
    });
  }
}
