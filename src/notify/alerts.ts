/**
 * Alerts (a run failed) and warnings (a run finished, but something looks wrong), composed for
 * every channel from what the binary knew when it stopped: the one-line error, where it
 * stopped (a stream of the tap, a position in the target's input), the counts so far and the
 * last state printed (the point the next run resumes from).
 */
import { hostname } from 'node:os';
import { cut, escapeHtml, htmlDocument, oneLine, SMS_MAX_LENGTH, type Notification } from './message.js';

export interface RunSnapshot {
  binary: string;
  /** "stream engage", "after input line 1200 (...)"; undefined when it stopped before any work. */
  stoppedAt?: string;
  /** Counts so far, by name (records per stream, created, updated, ...). */
  counts: ReadonlyArray<readonly [string, number]>;
  /** The last state printed on stdout, or undefined when none was. */
  lastState?: unknown;
  startedAt: Date;
  finishedAt: Date;
}

export interface RunFailure extends RunSnapshot {
  /** The one line the binary printed on stderr (already redacted). */
  error: string;
  exitCode: number;
}

export interface RunWarnings extends RunSnapshot {
  problems: readonly string[];
}

/** Longest state shown in an email; the rest is in the state file. */
const STATE_MAX = 4000;
const SUBJECT_MAX = 150;

function stateText(state: unknown): string {
  if (state === undefined) return '(none printed in this run: the next run starts from the state it was given)';
  return cut(JSON.stringify(state, null, 2), STATE_MAX);
}

function countsText(counts: RunSnapshot['counts']): string {
  return counts.length === 0 ? 'none' : counts.map(([name, n]) => `${name} ${n}`).join(', ');
}

function facts(run: RunSnapshot, first: Array<[string, string]>): Array<[string, string]> {
  return [
    ...first,
    ['Stopped at', run.stoppedAt ?? 'before reading any data'],
    ['Counts so far', countsText(run.counts)],
    ['Host', hostname()],
    ['Started', run.startedAt.toISOString()],
    ['Finished', run.finishedAt.toISOString()],
  ];
}

function textBody(intro: string, rows: Array<[string, string]>, state: unknown, outro: string): string {
  const label = Math.max(...rows.map(([k]) => k.length));
  return [intro, '', ...rows.map(([k, v]) => `${(k + ':').padEnd(label + 2)}${v}`), '', 'Last state printed:', stateText(state), '', outro, ''].join('\n');
}

function htmlBody(title: string, intro: string, rows: Array<[string, string]>, state: unknown, outro: string): string {
  const table = rows.map(([k, v]) => `<tr><th style="text-align:left;padding:2px 12px 2px 0;vertical-align:top">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  return htmlDocument(
    title,
    `<p>${escapeHtml(intro)}</p><table>${table}</table><p><b>Last state printed:</b></p><pre>${escapeHtml(stateText(state))}</pre><p>${escapeHtml(outro)}</p>`,
  );
}

const RESUME = 'The next run resumes from the last state printed: nothing after it was confirmed, so nothing is lost.';

export function composeFailureAlert(run: RunFailure): Notification {
  const error = oneLine(run.error);
  const subject = cut(`${run.binary} failed (exit ${run.exitCode}): ${error}`, SUBJECT_MAX);
  const rows = facts(run, [
    ['Error', error],
    ['Exit code', String(run.exitCode)],
  ]);
  const intro = `${run.binary} stopped with an error on ${hostname()}.`;
  const where = run.stoppedAt ? ` at ${run.stoppedAt}` : '';
  return {
    kind: 'alert',
    subject,
    text: textBody(intro, rows, run.lastState, RESUME),
    html: htmlBody(subject, intro, rows, run.lastState, RESUME),
    sms: cut(`${run.binary} failed (exit ${run.exitCode})${where}: ${error}`, SMS_MAX_LENGTH),
    webhook: {
      text: `${run.binary} failed (exit ${run.exitCode})${where}: ${error}`,
      kind: 'alert',
      binary: run.binary,
      exit_code: run.exitCode,
      error,
      stopped_at: run.stoppedAt ?? null,
      counts: Object.fromEntries(run.counts),
      last_state: run.lastState ?? null,
      host: hostname(),
      started_at: run.startedAt.toISOString(),
      finished_at: run.finishedAt.toISOString(),
    },
  };
}

export function composeWarning(run: RunWarnings): Notification {
  const n = run.problems.length;
  const summary = run.problems.map(oneLine).join('; ');
  const subject = cut(`${run.binary} finished with ${n} ${n === 1 ? 'warning' : 'warnings'}: ${summary}`, SUBJECT_MAX);
  const rows = facts(run, run.problems.map((p, i): [string, string] => [n === 1 ? 'Warning' : `Warning ${i + 1}`, oneLine(p)]));
  const intro = `${run.binary} finished (exit 0) on ${hostname()}, but something looks wrong.`;
  const outro = 'The run itself succeeded; its state was printed as usual.';
  return {
    kind: 'warning',
    subject,
    text: textBody(intro, rows, run.lastState, outro),
    html: htmlBody(subject, intro, rows, run.lastState, outro),
    sms: cut(`${run.binary} warning: ${summary}`, SMS_MAX_LENGTH),
    webhook: {
      text: `${run.binary} finished with ${n} ${n === 1 ? 'warning' : 'warnings'}: ${summary}`,
      kind: 'warning',
      binary: run.binary,
      warnings: [...run.problems],
      counts: Object.fromEntries(run.counts),
      last_state: run.lastState ?? null,
      host: hostname(),
      started_at: run.startedAt.toISOString(),
      finished_at: run.finishedAt.toISOString(),
    },
  };
}

/** The warnings of a finished run: streams expected to have records that had none, and too many retries. */
export function runProblems(input: {
  expectedStreams: readonly string[];
  recordsByStream: ReadonlyMap<string, number>;
  retries: { total: number; describe(): string };
  retryThreshold: number;
  service: string;
  /** False when the run was stopped early (a signal): streams it did not reach are not "empty". */
  complete: boolean;
}): string[] {
  const problems: string[] = [];
  if (input.complete) {
    for (const stream of input.expectedStreams) {
      if ((input.recordsByStream.get(stream) ?? 0) === 0) problems.push(`stream ${stream} had 0 records (alert_empty_streams expects some)`);
    }
  }
  if (input.retries.total > input.retryThreshold) {
    problems.push(`${input.service} answered with errors that needed ${input.retries.total} retries (${input.retries.describe()}), more than alert_retry_threshold (${input.retryThreshold})`);
  }
  return problems;
}
