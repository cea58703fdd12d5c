/**
 * Progress on stderr while a sync runs: per stream, the window or partition being read and
 * records so far with their rate (at most every `intervalMs`), and a summary table at the end.
 * Everything goes through the logger (stderr, redacted); stdout stays Singer-only.
 */
import type { Logger } from '../../log/logger.js';

export interface StreamSummary {
  stream: string;
  records: number;
  seconds: number;
  /** Why the stream ended without being read, e.g. "skipped: 402, not in the plan". */
  note?: string;
}

export interface ProgressOptions {
  /** Least time between two progress lines of a stream; default 5 s. */
  intervalMs?: number;
  now?: () => number;
}

const DEFAULT_INTERVAL_MS = 5000;

export function recordsPerSecond(records: number, seconds: number): number {
  return seconds > 0 ? Math.round(records / seconds) : records;
}

/** One stream's counters. */
export class StreamProgress {
  private records = 0;
  private readonly startedMs: number;
  private lastReportMs: number;
  private recordsAtLastReport = 0;
  private label: string | undefined;
  private note: string | undefined;

  constructor(
    readonly stream: string,
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {
    this.startedMs = now();
    this.lastReportMs = this.startedMs;
  }

  /** The window or partition now being read (e.g. "2024-01-01..2024-01-30", "cohort 12"). */
  reading(label: string): void {
    if (label === this.label) return;
    this.label = label;
    this.log.info(`${this.stream}: reading ${label}`);
  }

  add(count: number): void {
    this.records += count;
    const now = this.now();
    if (now - this.lastReportMs < this.intervalMs) return;
    const seconds = (now - this.lastReportMs) / 1000;
    this.log.info(`${this.stream}: progress`, {
      ...(this.label ? { reading: this.label } : {}),
      records: this.records,
      records_per_second: recordsPerSecond(this.records - this.recordsAtLastReport, seconds),
    });
    this.lastReportMs = now;
    this.recordsAtLastReport = this.records;
  }

  get count(): number {
    return this.records;
  }

  /** The stream was skipped (the warning is logged by whoever skipped it); the summary says why. */
  skip(reason: string): void {
    this.note = reason;
  }

  finish(): StreamSummary {
    return { stream: this.stream, records: this.records, seconds: (this.now() - this.startedMs) / 1000, ...(this.note ? { note: this.note } : {}) };
  }
}

export class SyncProgress {
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly log: Logger,
    options: ProgressOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.now = options.now ?? Date.now;
  }

  startStream(stream: string): StreamProgress {
    return new StreamProgress(stream, this.log, this.intervalMs, this.now);
  }

  /** Logs the summary table, one line per row. */
  logSummary(streams: readonly StreamSummary[]): void {
    for (const line of renderSummaryTable(streams)) this.log.info(line);
  }
}

/** A plain-text table: stream, records, duration, records/s (and a note when a stream was skipped), and a total row. */
export function renderSummaryTable(streams: readonly StreamSummary[]): string[] {
  const totalRecords = streams.reduce((n, s) => n + s.records, 0);
  const totalSeconds = streams.reduce((n, s) => n + s.seconds, 0);
  const notes = streams.some((s) => s.note !== undefined);
  const rows = [
    ['stream', 'records', 'duration', 'records/s', ...(notes ? ['note'] : [])],
    ...[...streams, { stream: 'total', records: totalRecords, seconds: totalSeconds } as StreamSummary].map((s) => [
      s.stream,
      String(s.records),
      `${s.seconds.toFixed(1)} s`,
      String(recordsPerSecond(s.records, s.seconds)),
      ...(notes ? [s.note ?? ''] : []),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const last = widths.length - 1;
  // The note column is left-aligned and last, so rows without a note end without padding.
  const format = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : notes && i === last ? cell : cell.padStart(widths[i]!))).join('  ').trimEnd();
  const lines = rows.map(format);
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines;
}
