/** A Logger that keeps its lines, so tests can read what would have gone to stderr. */
import type { LogFields, Logger } from '../../../src/log/logger.js';

export interface CapturedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: LogFields | undefined;
}

export interface CapturingLogger extends Logger {
  readonly lines: CapturedLine[];
}

export function capturingLogger(lines: CapturedLine[] = []): CapturingLogger {
  const at = (level: CapturedLine['level']) => (message: string, fields?: LogFields) => {
    lines.push({ level, message, fields });
  };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => capturingLogger(lines),
  };
}
