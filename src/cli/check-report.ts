/**
 * `--test`: the result of a connection check, one line per thing checked, in plain words on
 * stderr. A failed check becomes a ConfigError (exit code 1) naming what to fix.
 */
import { ConfigError, errorMessage } from '../errors/index.js';
import { HttpError } from '../http/errors.js';
import { redact } from '../log/redact.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckLine {
  status: CheckStatus;
  /** What was checked, e.g. "credentials" or "audience". */
  subject: string;
  message: string;
}

export function checkLine(status: CheckStatus, subject: string, message: string): CheckLine {
  return { status, subject, message };
}

/** A failed request in words: the sentence our HTTP layer wrote (secrets removed), nothing raw. */
export function describeFailure(err: unknown): string {
  if (err instanceof HttpError && err.status === undefined) {
    return `cannot reach ${err.url.replace(/\?.*$/, '')} (${err.code ?? 'network error'}): check the host, the network and any proxy`;
  }
  return errorMessage(err);
}

const LABEL: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

export function renderCheck(binary: string, lines: readonly CheckLine[]): string {
  const body = lines.map((l) => `  ${LABEL[l.status]}  ${l.subject}: ${l.message}`);
  const failed = lines.filter((l) => l.status === 'fail').length;
  const verdict = failed === 0 ? `${binary}: connection test passed` : `${binary}: connection test failed (${failed} of ${lines.length} checks)`;
  return redact([`${binary} --test`, ...body, verdict].join('\n')) + '\n';
}

/** Prints the report to stderr; throws a ConfigError (exit 1) when a check failed. */
export function finishCheck(binary: string, lines: readonly CheckLine[]): void {
  process.stderr.write(renderCheck(binary, lines));
  const failed = lines.filter((l) => l.status === 'fail');
  if (failed.length > 0) {
    throw new ConfigError(`connection test failed: ${failed.map((l) => l.subject).join(', ')}`);
  }
}
