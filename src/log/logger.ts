/**
 * Logging to stderr only: stdout carries Singer messages (tap) or state values (target).
 *
 * Levels come from LOG_LEVEL (debug, info, warn, error; default info); the format from
 * LOG_FORMAT or --log-format (text or json). Every line passes through the redactor.
 */
import { redact } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export type LogFields = Record<string, unknown>;

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogSink {
  write(line: string): void;
}

interface LogSettings {
  level: LogLevel;
  format: LogFormat;
  sink: LogSink;
}

const stderrSink: LogSink = { write: (line) => void process.stderr.write(line) };

const settings: LogSettings = {
  level: parseLevel(process.env.LOG_LEVEL) ?? 'info',
  format: parseFormat(process.env.LOG_FORMAT) ?? 'text',
  sink: stderrSink,
};

export function parseLevel(value: string | undefined): LogLevel | undefined {
  const v = value?.trim().toLowerCase();
  if (v === 'warning') return 'warn';
  if (v === 'critical' || v === 'fatal') return 'error';
  return v && v in LEVEL_ORDER ? (v as LogLevel) : undefined;
}

export function parseFormat(value: string | undefined): LogFormat | undefined {
  const v = value?.trim().toLowerCase();
  return v === 'text' || v === 'json' ? v : undefined;
}

export function configureLogging(update: Partial<LogSettings>): void {
  Object.assign(settings, Object.fromEntries(Object.entries(update).filter(([, v]) => v !== undefined)));
}

export function isLevelEnabled(level: LogLevel): boolean {
  return LEVEL_ORDER[level] >= LEVEL_ORDER[settings.level];
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value) ?? String(value);
}

function formatLine(level: LogLevel, component: string, message: string, fields: LogFields | undefined): string {
  const time = new Date().toISOString();
  if (settings.format === 'json') {
    const entry: Record<string, unknown> = { time, level, component, message };
    if (fields) {
      for (const [key, value] of Object.entries(fields)) {
        entry[key] = value instanceof Error ? value.message : value;
      }
    }
    return JSON.stringify(entry);
  }
  const extra = fields
    ? Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => ` ${k}=${formatValue(v)}`)
        .join('')
    : '';
  return `${time} ${level.toUpperCase().padEnd(5)} ${component} ${message}${extra}`;
}

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(component: string): Logger;
}

export function createLogger(component: string): Logger {
  const log = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (!isLevelEnabled(level)) return;
    settings.sink.write(redact(formatLine(level, component, message, fields)) + '\n');
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (name) => createLogger(`${component}.${name}`),
  };
}
