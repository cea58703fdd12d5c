import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  configureLogging,
  createLogger,
  isLevelEnabled,
  parseFormat,
  parseLevel,
  type LogFormat,
  type LogLevel,
} from '../../../src/log/logger.js';
import { clearSecrets, registerSecret } from '../../../src/log/redact.js';

const STDERR = { write: (line: string) => void process.stderr.write(line) };
let lines: string[];

beforeEach(() => {
  lines = [];
  configureLogging({ level: 'debug', format: 'text', sink: { write: (line) => void lines.push(line) } });
});

afterEach(() => {
  configureLogging({ level: 'info', format: 'text', sink: STDERR });
  clearSecrets();
});

describe('parseLevel and parseFormat', () => {
  it.each<[string | undefined, LogLevel | undefined]>([
    ['debug', 'debug'],
    ['INFO', 'info'],
    [' warn ', 'warn'],
    ['warning', 'warn'],
    ['error', 'error'],
    ['critical', 'error'],
    ['FATAL', 'error'],
    ['verbose', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('level %j -> %s', (text, level) => {
    expect(parseLevel(text)).toBe(level);
  });

  it.each<[string | undefined, LogFormat | undefined]>([
    ['text', 'text'],
    ['JSON', 'json'],
    ['xml', undefined],
    [undefined, undefined],
  ])('format %j -> %s', (text, format) => {
    expect(parseFormat(text)).toBe(format);
  });
});

describe('levels', () => {
  it.each<[LogLevel, LogLevel[]]>([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ])('at %s writes %j', (level, written) => {
    configureLogging({ level });
    const log = createLogger('test');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => l.split(' ')[1]?.toLowerCase())).toEqual(written);
    expect((['debug', 'info', 'warn', 'error'] as LogLevel[]).filter(isLevelEnabled)).toEqual(written);
  });

  it.each<[string, LogLevel[]]>([
    ['warning', ['warn', 'error']],
    ['error', ['error']],
    ['nonsense', ['info', 'warn', 'error']],
  ])('reads LOG_LEVEL=%s from the environment when the module loads', async (envLevel, enabled) => {
    const saved = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = envLevel;
    try {
      await jest.isolateModulesAsync(async () => {
        const fresh = await import('../../../src/log/logger.js');
        expect((['debug', 'info', 'warn', 'error'] as LogLevel[]).filter(fresh.isLevelEnabled)).toEqual(enabled);
      });
    } finally {
      if (saved === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = saved;
    }
  });

  it('ignores undefined values given to configureLogging', () => {
    configureLogging({ level: 'warn' });
    configureLogging({ level: undefined });
    expect(isLevelEnabled('info')).toBe(false);
  });
});

describe('text format', () => {
  it('writes time, level, component, message and key=value fields on one line', () => {
    createLogger('tap.export').warn('window done', {
      records: 12,
      window: '2024-01-01 to 2024-01-30',
      ok: true,
      empty: '',
      skipped: undefined,
      cause: new Error('socket hang up'),
      list: ['a', 'b'],
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z WARN {2}tap\.export window done records=12 window="2024-01-01 to 2024-01-30" ok=true empty="" cause="socket hang up" list=\["a","b"\]\n$/,
    );
  });

  it('names child loggers after their parent', () => {
    createLogger('target').child('api').info('ping');
    expect(lines[0]).toContain(' INFO  target.api ping');
  });
});

describe('json format', () => {
  it('writes one parseable JSON object per line, fields included', () => {
    configureLogging({ format: 'json' });
    const log = createLogger('http');
    log.info('GET /x -> 200', { ms: 12, cause: new Error('boom') });
    log.error('second line');
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toEqual({ time: expect.any(String), level: 'info', component: 'http', message: 'GET /x -> 200', ms: 12, cause: 'boom' });
    expect(Number.isNaN(Date.parse(String(first?.time)))).toBe(false);
    expect(second).toMatchObject({ level: 'error', message: 'second line' });
  });
});

describe('every line passes through redaction', () => {
  it.each<LogFormat>(['text', 'json'])('masks registered secrets in the message and the fields (%s)', (format) => {
    configureLogging({ format });
    registerSecret('svc-s3cret-value');
    createLogger('config').info('loaded svc-s3cret-value', { secret: 'svc-s3cret-value', url: 'https://u:pw-1234@example.org/' });
    expect(lines[0]).not.toContain('svc-s3cret-value');
    expect(lines[0]).not.toContain('pw-1234');
    expect(lines[0]).toContain('loaded [REDACTED]');
  });

  it('masks credential-shaped fields in a JSON line without breaking the JSON', () => {
    configureLogging({ format: 'json' });
    createLogger('target').debug('request', { api_key: 'abcdef0123-us6', authorization: 'Bearer tok.en-value' });
    const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(entry.api_key).toBe('[REDACTED]');
    expect(entry.authorization).toBe('Bearer [REDACTED]');
  });
});
