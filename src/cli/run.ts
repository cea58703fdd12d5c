/**
 * The one exit point. Commands throw typed errors; this prints one readable line (plus detail
 * lines, such as one per config problem) to stderr, maps the error kind to the exit code, and
 * exits. Nothing else in the code base calls process.exit.
 */
import { AppError, errorMessage } from '../errors/index.js';
import { createLogger } from '../log/logger.js';
import { redact } from '../log/redact.js';
import { EXIT_CODES, exitCodeFor, SIGNAL_EXIT_CODES } from './exit-codes.js';

export interface RunContext {
  /** Aborted on the first SIGTERM/SIGINT: commands stop at a safe boundary and finish cleanly. */
  signal: AbortSignal;
}

function flushStdout(): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.destroyed || !process.stdout.writable) resolve();
    else process.stdout.write('', () => resolve());
  });
}

function report(binary: string, err: unknown): number {
  const log = createLogger(binary);
  if (err instanceof AppError) {
    const lines = [`${binary}: error: ${err.message}`, ...err.details.map((d) => `  - ${d}`)];
    process.stderr.write(redact(lines.join('\n')) + '\n');
    if (err.cause !== undefined) log.debug('cause', { cause: errorMessage(err.cause) });
    return exitCodeFor(err.kind);
  }
  process.stderr.write(redact(`${binary}: internal error: ${errorMessage(err)} (please report it; LOG_LEVEL=debug shows the stack)`) + '\n');
  if (err instanceof Error && err.stack) log.debug(err.stack);
  return EXIT_CODES.internal;
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

  let code: number = EXIT_CODES.ok;
  try {
    await main({ signal: controller.signal });
  } catch (err) {
    code = report(binary, err);
  }
  await flushStdout();
  process.exit(code);
}
