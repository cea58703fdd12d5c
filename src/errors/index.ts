/**
 * Typed errors. Commands throw these; src/cli/run.ts is the one place that turns them into
 * a readable line on stderr and an exit code.
 *
 * kind      | meaning                                                     | exit code
 * config    | configuration or credentials the user must fix               | 1
 * usage     | command line the user must fix                               | 2
 * input     | malformed input (a Singer line, a catalog, a state file)     | 3
 * remote    | a service failed after retries, or answered something unusable | 4
 * internal  | a bug                                                         | 5
 */
export type ErrorKind = 'config' | 'usage' | 'input' | 'remote' | 'internal';

export interface AppErrorOptions {
  cause?: unknown;
  /** Further lines shown under the message (one per config problem, for example). */
  details?: string[];
}

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly details: readonly string[];

  constructor(kind: ErrorKind, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.details = options.details ?? [];
  }
}

export class ConfigError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('config', message, options);
  }
}

export class UsageError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('usage', message, options);
  }
}

export class InputError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('input', message, options);
  }
}

export class RemoteError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('remote', message, options);
  }
}

/** The message of anything thrown, for logs (never the raw object: some carry credentials). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
}
