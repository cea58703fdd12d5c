import type { ErrorKind } from '../errors/index.js';

/** Exit codes, documented in the README. */
export const EXIT_CODES = {
  ok: 0,
  config: 1,
  usage: 2,
  input: 3,
  remote: 4,
  internal: 5,
} as const satisfies Record<ErrorKind | 'ok', number>;

export function exitCodeFor(kind: ErrorKind): number {
  return EXIT_CODES[kind];
}

/**
 * Exit codes after a second SIGINT/SIGTERM, which stops at once instead of at the next safe
 * point: 128 + the signal number, as shells report a process killed by it.
 */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const satisfies Partial<Record<NodeJS.Signals, number>>;
