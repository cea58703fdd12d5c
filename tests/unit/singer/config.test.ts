import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../src/errors/index.js';
import { configureLogging } from '../../../src/log/logger.js';
import { clearSecrets, redact } from '../../../src/log/redact.js';
import { configFromEnv, ENV_SOURCE, isDateOrDateTime, loadConfig, type ConfigSpec } from '../../../src/singer/config.js';
import type { JsonObject } from '../../../src/singer/messages.js';

/** A small spec with one property of each kind the loader treats differently. */
const SPEC: ConfigSpec = {
  envPrefix: 'TAP_TEST_',
  schema: {
    type: 'object',
    required: ['start_date', 'api_secret'],
    properties: {
      api_secret: { type: 'string', minLength: 1, secret: true, description: 'The project secret.' },
      start_date: { type: 'string', format: 'date-time' },
      window_days: { type: 'integer', minimum: 1, maximum: 365, default: 30, description: 'Days per request.' },
      ratio: { type: 'number' },
      enabled: { type: 'boolean', default: true },
      region: { type: 'string', enum: ['us', 'eu'], default: 'us' },
      events: { type: ['array', 'string'], items: { type: 'string' } },
      settings: { type: 'object' },
      homepage: { type: 'string', format: 'uri' },
      day: { type: 'string', format: 'date' },
      code: { type: 'string', pattern: '^[a-z]+[0-9]+$' },
      label: { type: 'string' },
    },
  },
};

const SECRET = 'shh-very-secret-1234';

let dir: string;
let fileCount = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unit-config-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  clearSecrets();
});

function configFile(content: JsonObject | string): string {
  const path = join(dir, `config-${++fileCount}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function load(sources: string[], env: NodeJS.ProcessEnv = {}): JsonObject {
  return loadConfig<JsonObject>(sources, SPEC, env);
}

/** The ConfigError a load throws (failing the test when it does not throw). */
function loadError(sources: string[], env: NodeJS.ProcessEnv = {}, spec: ConfigSpec = SPEC): ConfigError {
  try {
    loadConfig<JsonObject>(sources, spec, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected the configuration to be rejected');
}

const VALID = { api_secret: SECRET, start_date: '2024-01-01T00:00:00Z' };

describe('loadConfig from files', () => {
  it('applies schema defaults to keys not given', () => {
    expect(load([configFile(VALID)])).toEqual({ ...VALID, window_days: 30, enabled: true, region: 'us' });
  });

  it('lets a later --config file win over an earlier one, key by key', () => {
    const first = configFile({ ...VALID, window_days: 10, region: 'eu' });
    const second = configFile({ window_days: 20 });
    expect(load([first, second])).toMatchObject({ window_days: 20, region: 'eu', api_secret: SECRET });
  });

  it.each<[string, JsonObject, JsonObject]>([
    ['an integer given as a string', { window_days: '30' }, { window_days: 30 }],
    ['a number given as a string', { ratio: '0.25' }, { ratio: 0.25 }],
    ['"true" for a boolean', { enabled: 'true' }, { enabled: true }],
    ['"false" for a boolean', { enabled: 'false' }, { enabled: false }],
  ])('converts %s to its schema type', (_case, given, expected) => {
    expect(load([configFile({ ...VALID, ...given })])).toMatchObject(expected);
  });

  it('accepts keys far from every known key (orchestrators add their own), naming them in one warning line', () => {
    const lines: string[] = [];
    configureLogging({ level: 'info', sink: { write: (line) => void lines.push(line) } });
    try {
      const config = load([configFile({ ...VALID, batch_size_rows: 100, validate_records: false })]);
      expect(config).toMatchObject(VALID);
    } finally {
      configureLogging({ level: 'info', sink: { write: (line) => void process.stderr.write(line) } });
    }
    const warnings = lines.filter((l) => l.includes('that no setting has'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"batch_size_rows", "validate_records"');
  });

  it.each<[string, JsonObject, string]>([
    ['a key without its underscore', { windowdays: 7 }, 'unknown key "windowdays": did you mean "window_days"?'],
    ['a key in another case', { Window_Days: 7 }, 'unknown key "Window_Days": did you mean "window_days"?'],
    ['a key with dashes', { 'window-days': 7 }, 'unknown key "window-days": did you mean "window_days"?'],
    ['a plural', { windows_days: 7 }, 'unknown key "windows_days": did you mean "window_days"?'],
    ['a typing slip', { window_dyas: 7 }, 'unknown key "window_dyas": did you mean "window_days"?'],
    ['a singular for a plural key', { event: ['a'] }, 'unknown key "event": did you mean "events"?'],
    ['a near miss next to the key itself', { window_days: 7, windowdays: 8 }, 'unknown key "windowdays": did you mean "window_days"? (both are set: remove "windowdays")'],
  ])('refuses %s, naming the key it is close to', (_case, given, problem) => {
    const err = loadError([configFile({ ...VALID, ...given })]);
    expect(err.details).toEqual([problem]);
  });

  it('says only "did you mean" for a required key spelt wrong, not also that the key is missing', () => {
    const err = loadError([configFile({ start_date: '2024-01-01', 'api-secret': SECRET })]);
    expect(err.details).toEqual(['unknown key "api-secret": did you mean "api_secret"?']);
  });

  it('keeps the value of a near miss of a secret key out of every line', () => {
    loadError([configFile({ ...VALID, apisecret: 'another-secret-5678' })]);
    expect(redact('value another-secret-5678')).not.toContain('another-secret-5678');
  });

  it('refuses to run without any --config', () => {
    expect(() => load([])).toThrow('no configuration given: pass --config FILE (repeatable) or --config ENV');
  });

  it('names a config file that does not exist', () => {
    const missing = join(dir, 'nope.json');
    expect(loadError([missing]).message).toBe(`config file ${missing} does not exist`);
  });

  it('names a config file that is not valid JSON', () => {
    const path = configFile('{"api_secret": ');
    expect(loadError([path]).message).toMatch(new RegExp(`^config file ${path} is not valid JSON: `));
  });

  it('reports a syntax error next to a secret by line and column only, never quoting the secret', () => {
    // A quote forgotten before the secret: JSON.parse's own message would quote `..."_secret": GOODmpSECR"...`.
    const path = configFile('{\n  "service_account_username": "sa.user",\n  "api_secret": GOODmpSECRET42",\n  "start_date": "2024-01-01"\n}\n');
    const error = loadError([path]);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      `config file ${path} is not valid JSON: line 3, column 17: expected a value (an object, array, string, number, true, false or null), found a letter`,
    );
    for (const part of ['GOOD', 'SECRET', 'mpSECR', 'sa.user']) expect(error.message).not.toContain(part);
    expect(error.details).toEqual([]);
  });

  it('accepts a config file that starts with a UTF-8 byte order mark', () => {
    const path = configFile('\uFEFF{"api_secret": "s3cr3t-value", "start_date": "2024-01-01"}\r\n');
    expect(load([path])).toMatchObject({ api_secret: 's3cr3t-value', start_date: '2024-01-01' });
  });

  it.each([['[1, 2]'], ['"text"'], ['null']])('names a config file that holds %s instead of an object', (content) => {
    const path = configFile(content);
    expect(loadError([path]).message).toBe(`config file ${path} must hold a JSON object of settings`);
  });
});

describe('loadConfig problems: one readable line per problem, naming the key', () => {
  it.each<[string, JsonObject, string]>([
    ['a required key', { api_secret: SECRET }, '"start_date" is required'],
    ['a required key, with its description as the hint', { start_date: '2024-01-01' }, '"api_secret" is required: The project secret.'],
    ['a wrong type', { ...VALID, window_days: 'thirty' }, '"window_days" must be integer (got "thirty"): Days per request.'],
    ['a value outside an enum', { ...VALID, region: 'mars' }, '"region" must be one of "us", "eu" (got "mars")'],
    ['a bad date-time', { ...VALID, start_date: 'yesterday' }, '"start_date" must be a date or date-time such as 2024-01-01 or 2024-01-01T00:00:00Z (got "yesterday")'],
    ['a date-time that is not a calendar date', { ...VALID, start_date: '2024-02-30' }, '"start_date" must be a date or date-time'],
    ['a bad date', { ...VALID, day: '2024-01-01T00:00:00Z' }, '"day" must be a date such as 2024-01-01 (got "2024-01-01T00:00:00Z")'],
    ['a URL that is not http(s)', { ...VALID, homepage: 'ftp://example.org' }, '"homepage" must be an http(s) URL such as https://example.org (got "ftp://example.org")'],
    ['a number below the minimum', { ...VALID, window_days: 0 }, '"window_days" must be >= 1 (got 0): Days per request.'],
    ['a number above the maximum', { ...VALID, window_days: 400 }, '"window_days" must be <= 365 (got 400): Days per request.'],
    ['a string given for a minimum-checked integer', { ...VALID, window_days: '0' }, '"window_days" must be >= 1 (got 0)'],
    ['a pattern mismatch', { ...VALID, code: 'US6' }, '"code" is not valid (got "US6")'],
  ])('%s', (_case, config, line) => {
    const err = loadError([configFile(config)]);
    expect(err.message).toBe('invalid configuration (1 problem)');
    expect(err.details).toHaveLength(1);
    expect(err.details[0]).toContain(line);
  });

  it('lists every problem at once, each naming its key', () => {
    const err = loadError([configFile({ window_days: 0, region: 'mars', homepage: 'nope' })]);
    expect(err.message).toBe('invalid configuration (5 problems)');
    const keys = err.details.map((line) => /^"([^"]+)"/.exec(line)?.[1]).sort();
    expect(keys).toEqual(['api_secret', 'homepage', 'region', 'start_date', 'window_days']);
  });

  it.each<[string, unknown]>([
    ['an object', { value: SECRET }],
    ['an array', [SECRET]],
  ])('never shows a secret: a secret of the wrong type (%s) appears as (hidden)', (_case, value) => {
    const err = loadError([configFile({ ...VALID, api_secret: value as JsonObject })]);
    expect(err.details).toEqual(['"api_secret" must be string (got (hidden)): The project secret.']);
    expect(JSON.stringify(err.details)).not.toContain(SECRET);
  });

  it('never shows a secret that is too short either', () => {
    const err = loadError([configFile({ ...VALID, api_secret: '' })]);
    expect(err.details).toEqual(['"api_secret" is not valid (got (hidden)): The project secret.']);
  });

  it('registers secret values with the redactor before validating', () => {
    load([configFile(VALID)]);
    expect(redact(`calling with ${SECRET}`)).toBe('calling with [REDACTED]');
  });

  it('registers a secret given as a JSON number too, as the string it is converted to', () => {
    const config = load([configFile({ ...VALID, api_secret: 90817263544536 })]);
    expect(config.api_secret).toBe('90817263544536');
    expect(redact('secret=90817263544536')).toBe('secret=[REDACTED]');
  });

  it('adds the lines of the cross-key check after the schema problems', () => {
    const spec: ConfigSpec = { ...SPEC, check: (config) => (config.region === 'eu' ? ['"region" eu needs "label"'] : []) };
    const err = loadError([configFile({ ...VALID, region: 'eu', window_days: 0 })], {}, spec);
    expect(err.details).toEqual(['"window_days" must be >= 1 (got 0): Days per request.', '"region" eu needs "label"']);
  });
});

describe('loadConfig from the environment (--config ENV)', () => {
  const ENV = { TAP_TEST_API_SECRET: SECRET, TAP_TEST_START_DATE: '2024-01-01' };

  it('reads PREFIX_KEY variables for the schema keys and ignores the others', () => {
    const config = load([ENV_SOURCE], { ...ENV, TAP_TEST_UNKNOWN: 'x', TAP_TEST__SELECT: '[]', OTHER_LABEL: 'y' });
    expect(config).toEqual({ api_secret: SECRET, start_date: '2024-01-01', window_days: 30, enabled: true, region: 'us' });
  });

  it('refuses a variable that is a near miss of a setting\'s variable', () => {
    const err = loadError([ENV_SOURCE], { ...ENV, TAP_TEST_WINDOWDAYS: '7' });
    expect(err.details).toEqual(['unknown variable TAP_TEST_WINDOWDAYS: did you mean TAP_TEST_WINDOW_DAYS (setting "window_days")?']);
  });

  it('lets ENV win over a file given before it, and a file given after ENV win over ENV', () => {
    const file = configFile({ ...VALID, window_days: 10, region: 'eu' });
    expect(load([file, ENV_SOURCE], { TAP_TEST_WINDOW_DAYS: '20' })).toMatchObject({ window_days: 20, region: 'eu' });
    expect(load([ENV_SOURCE, file], { ...ENV, TAP_TEST_WINDOW_DAYS: '20' })).toMatchObject({ window_days: 10 });
  });

  it.each<[string, string, string, unknown]>([
    ['an integer', 'TAP_TEST_WINDOW_DAYS', ' 45 ', 45],
    ['a number', 'TAP_TEST_RATIO', '0.5', 0.5],
    ['a boolean "true"', 'TAP_TEST_ENABLED', 'true', true],
    ['a boolean "YES"', 'TAP_TEST_ENABLED', 'YES', true],
    ['a boolean "1"', 'TAP_TEST_ENABLED', '1', true],
    ['a boolean "on"', 'TAP_TEST_ENABLED', 'on', true],
    ['a boolean "false"', 'TAP_TEST_ENABLED', 'false', false],
    ['a boolean "no"', 'TAP_TEST_ENABLED', 'no', false],
    ['a boolean "0"', 'TAP_TEST_ENABLED', '0', false],
    ['a boolean "off"', 'TAP_TEST_ENABLED', 'off', false],
    ['an empty boolean', 'TAP_TEST_ENABLED', '', false],
    ['an array as JSON', 'TAP_TEST_EVENTS', '["Sign Up", "Log, In"]', ['Sign Up', 'Log, In']],
    ['an array as a comma-separated list', 'TAP_TEST_EVENTS', 'Sign Up, Log In ,Purchase', ['Sign Up', 'Log In', 'Purchase']],
    ['an empty array', 'TAP_TEST_EVENTS', '', []],
    ['an object as JSON', 'TAP_TEST_SETTINGS', '{"a": 1}', { a: 1 }],
    ['a string, as it is', 'TAP_TEST_LABEL', 'hello world', 'hello world'],
  ])('converts %s', (_case, name, text, expected) => {
    const problems: string[] = [];
    const key = name.slice('TAP_TEST_'.length).toLowerCase();
    expect(configFromEnv(SPEC, { [name]: text }, problems)).toEqual({ [key]: expected });
    expect(problems).toEqual([]);
  });

  it.each<[string, string, string]>([
    ['TAP_TEST_WINDOW_DAYS', 'many', 'TAP_TEST_WINDOW_DAYS must be a number (got "many")'],
    ['TAP_TEST_WINDOW_DAYS', '  ', 'TAP_TEST_WINDOW_DAYS must be a number (got "  ")'],
    ['TAP_TEST_ENABLED', 'maybe', 'TAP_TEST_ENABLED must be true or false (got "maybe")'],
    ['TAP_TEST_EVENTS', '[not json', 'TAP_TEST_EVENTS must be a JSON array or a comma-separated list'],
    ['TAP_TEST_SETTINGS', '{oops', 'TAP_TEST_SETTINGS must be a JSON object'],
  ])('reports %s=%j as one problem naming the variable', (name, text, problem) => {
    const err = loadError([ENV_SOURCE], { ...ENV, [name]: text });
    expect(err.details).toContain(problem);
  });
});

describe('isDateOrDateTime', () => {
  it.each([
    ['2024-01-01', true],
    ['2024-01-01T00:00:00Z', true],
    ['2024-01-01T00:00:00.123+02:00', true],
    ['2024-01-01T00:00:00', true],
    ['2024-13-01', false],
    ['01/02/2024', false],
    ['20240101', false],
    ['', false],
  ])('%j -> %s', (value, expected) => {
    expect(isDateOrDateTime(value)).toBe(expected);
  });
});
