/** tap-mailchimp's alerts: where the run stopped, records per stream, the last STATE (src/notify). */
import type { Logger } from '../../log/logger.js';
import { RunNotifier, type SnapshotParts } from '../../notify/run-notifier.js';
import { WatchedSingerWriter } from '../mixpanel/notify.js';
import type { MailchimpTapConfig } from './config.js';
import type { MailchimpSyncSummary } from './sync.js';

export { WatchedSingerWriter };

export class MailchimpTapNotifier extends RunNotifier {
  private writer: WatchedSingerWriter | undefined;

  constructor(config: MailchimpTapConfig, options: { binary: string; log: Logger; userAgent: string }) {
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

  /** Warnings of a sync that finished (exit 0): empty streams, too many retries, values that did not fit. */
  async afterSync(summary: MailchimpSyncSummary): Promise<void> {
    await this.finished({
      recordsByStream: new Map(summary.streams.map((s) => [s.stream, s.records])),
      complete: !summary.interrupted,
      service: 'Mailchimp',
      problems: summary.problems,
    });
  }
}
