/**
 * The one exit point. Commands throw typed errors; this prints one readable line (plus detail
 * lines, such as one per config problem) to stderr, maps the error kind to the exit code, and
 * exits. Nothing else in the code base calls process.exit.
 *
 * Before a failed run exits, the failure hook a command registered (the alert by email, SMS or
 * webhook) runs, bounded in time; it cannot change the exit code. A user's second signal exits
 * at once, without it.
 *
 * An error that escapes every await (a promise that failed with nobody waiting for it, an
 * exception thrown from a timer) ends the run here too, as an internal error (exit 5, "please
 * report it", the failure hook runs), instead of Node's crash with exit 1. One that escapes
 * after the run has already failed, while its alert is sent, is reported the same way but
 * neither interrupts the alert nor changes the exit code: the first failure is the run's.
 */
import { AppError, errorMessage } from '../errors/index.js';
import { createLogger } from '../log/logger.js';
import { redact } from '../log/redact.js';
import { EscapeWatch } from './escapes.js';
import { EXIT_CODES, exitCodeFor, SIGNAL_EXIT_CODES } from './exit-codes.js';

/** What a failure hook is told: the exit code and the line printed on stderr (redacted). */
export interface RunFailureInfo {
  code: number;
  message: string;
  error: unknown;
}

export type FailureHook = (failure: RunFailureInfo) => Promise<void>;

export interface RunContext {
  /** Aborted on the first SIGTERM/SIGINT: commands stop at a safe boundary and finish cleanly. */
  signal: AbortSignal;
  /**
   * Runs `hook` before the process exits with a non-zero code (once; a later call replaces the
   * hook). It gets at most `timeoutMs`; whatever it throws is logged, and the exit code stays.
   */
  onFailure(hook: FailureHook, options: { timeoutMs: number }): void;
}

function flushStdout(): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.destroyed || !process.stdout.writable) resolve();
    else process.stdout.write('', () => resolve());
  });
}

function report(binary: string, err: unknown): { code: number; message: string } {
  const log = createLogger(binary);
  if (err instanceof AppError) {
    const lines = [`${binary}: error: ${err.message}`, ...err.details.map((d) => `  - ${d}`)];
    process.stderr.write(redact(lines.join('\n')) + '\n');
    if (err.cause !== undefined) log.debug('cause', { cause: errorMessage(err.cause) });
    const message = err.details.length > 0 ? `${err.message}: ${err.details.join('; ')}` : err.message;
    return { code: exitCodeFor(err.kind), message: redact(message) };
  }
  const message = `internal error: ${errorMessage(err)}`;
  process.stderr.write(redact(`${binary}: ${message} (please report it; LOG_LEVEL=debug shows the stack)`) + '\n');
  if (err instanceof Error && err.stack) log.debug(err.stack);
  return { code: EXIT_CODES.internal, message: redact(message) };
}

async function runFailureHook(binary: string, hook: { run: FailureHook; timeoutMs: number }, failure: RunFailureInfo): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), hook.timeoutMs);
  });
  try {
    const outcome = await Promise.race([hook.run(failure).then(() => 'done' as const), timeout]);
    if (outcome === 'timeout') createLogger(binary).warn(`the failure alert did not finish within ${Math.round(hook.timeoutMs / 1000)} s: exiting without it`);
  } catch (err) {
    createLogger(binary).warn(`the failure alert could not be sent: ${errorMessage(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

export async function runCli(binary: string, main: (context: RunContext) => Promise<void>): Promise<never> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      createLogger(binary).info(`${signal} received: finishing at the next safe point (send it again to stop at once)`);
      controller.abort();
    } else {
      process.stderr.write(`${binary}: stopped by a second ${signal}\n`);
      process.exit(signal === 'SIGINT' ? SIGNAL_EXIT_CODES.SIGINT : SIGNAL_EXIT_CODES.SIGTERM);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let failureHook: { run: FailureHook; timeoutMs: number } | undefined;
  const context: RunContext = {
    signal: controller.signal,
    onFailure: (run, options) => {
      failureHook = { run, timeoutMs: options.timeoutMs };
    },
  };

  const escapes = new EscapeWatch(process, (err) => report(binary, err));
  let code: number = EXIT_CODES.ok;
  try {
    await escapes.during(
      (async () => {
        await main(context);
        await flushStdout();
      })(),
    );
  } catch (err) {
    const reported = report(binary, err);
    code = reported.code;
    if (failureHook && code !== EXIT_CODES.ok) await runFailureHook(binary, failureHook, { code, message: reported.message, error: err });
    await flushStdout();
  }
  process.exit(code);
}
