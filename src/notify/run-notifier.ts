/**
 * What both binaries do about alerts, in one place: register the failure alert with the exit
 * point (src/cli/run.ts), count the service's 5xx/429 retries, and send the warnings of a run
 * that finished (streams expected to have records that had none, too many retries).
 * The binaries describe their run (describeRun): where they are, the counts, the last state.
 */
import type { FailureHook } from '../cli/run.js';
import { RetryCounter } from '../http/retry-counter.js';
import type { Logger } from '../log/logger.js';
import { composeFailureAlert, composeWarning, runProblems, type RunSnapshot } from './alerts.js';
import { notify, type ChannelResult } from './index.js';
import { alertChannels, DEFAULT_RETRY_THRESHOLD, listOf, notifyTimeoutMs, type Channel, type NotifyConfig } from './settings.js';

export type SnapshotParts = Pick<RunSnapshot, 'stoppedAt' | 'counts' | 'lastState'>;

export interface RunNotifierOptions {
  binary: string;
  config: NotifyConfig;
  log: Logger;
  userAgent: string;
}

/** Extra time the exit point gives the alert beyond notify_timeout_seconds (composing, closing sockets). */
const HOOK_MARGIN_MS = 2000;

export class RunNotifier {
  readonly retries = new RetryCounter();
  readonly startedAt = new Date();
  private readonly channels: Channel[];

  constructor(private readonly options: RunNotifierOptions) {
    this.channels = alertChannels(options.config);
  }

  get enabled(): boolean {
    return this.channels.length > 0;
  }

  /** Where the run is now (the binaries override it); read when an alert or a warning is composed. */
  protected describeRun(): SnapshotParts {
    return { counts: [] };
  }

  private snapshot(): RunSnapshot {
    return { binary: this.options.binary, startedAt: this.startedAt, finishedAt: new Date(), ...this.describeRun() };
  }

  /** Registers the failure alert with the exit point (nothing to do without alert recipients). */
  register(onFailure: (hook: FailureHook, options: { timeoutMs: number }) => void): void {
    if (!this.enabled) return;
    const timeoutMs = notifyTimeoutMs(this.options.config);
    onFailure(
      async (failure) => {
        const alert = composeFailureAlert({ ...this.snapshot(), error: failure.message, exitCode: failure.code });
        await notify(this.channels, alert, { log: this.options.log, timeoutMs, userAgent: this.options.userAgent });
      },
      { timeoutMs: timeoutMs + HOOK_MARGIN_MS },
    );
  }

  /**
   * After a run that succeeded: one warning listing every problem, or nothing. `problems`: what the
   * run itself found (already logged when it was found), sent first.
   */
  async finished(run: { recordsByStream: ReadonlyMap<string, number>; complete: boolean; service: string; problems?: readonly string[] }): Promise<ChannelResult[]> {
    const { config } = this.options;
    const found = runProblems({
      expectedStreams: listOf(config.alert_empty_streams),
      recordsByStream: run.recordsByStream,
      retries: this.retries,
      retryThreshold: config.alert_retry_threshold ?? DEFAULT_RETRY_THRESHOLD,
      service: run.service,
      complete: run.complete,
    });
    for (const problem of found) this.options.log.warn(problem);
    const problems = [...(run.problems ?? []), ...found];
    if (problems.length === 0) return [];
    if (!this.enabled) return [];
    return notify(this.channels, composeWarning({ ...this.snapshot(), problems }), {
      log: this.options.log,
      timeoutMs: notifyTimeoutMs(config),
      userAgent: this.options.userAgent,
    });
  }
}
