import { describe, expect, it } from '@jest/globals';
import { AppError, InputError } from '../../../src/errors/index.js';
import { parseMessage, serializeMessage, type SingerMessage, type StateMessage } from '../../../src/singer/messages.js';

/** Runs parseMessage and returns the InputError it throws (failing the test if it does not). */
function parseError(line: string, lineNumber: number): InputError {
  try {
    parseMessage(line, lineNumber);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error(`expected line ${lineNumber} to be rejected: ${line}`);
}

describe('parseMessage: the four Singer message types', () => {
  it('reads a SCHEMA with its key and bookmark properties', () => {
    const line = JSON.stringify({
      type: 'SCHEMA',
      stream: 'engage',
      schema: { type: 'object', properties: { distinct_id: { type: 'string' } } },
      key_properties: ['distinct_id'],
      bookmark_properties: ['mp_reserved_last_seen'],
    });
    expect(parseMessage(line, 1)).toEqual({
      type: 'SCHEMA',
      stream: 'engage',
      schema: { type: 'object', properties: { distinct_id: { type: 'string' } } },
      key_properties: ['distinct_id'],
      bookmark_properties: ['mp_reserved_last_seen'],
    });
  });

  it('gives a SCHEMA without key_properties an empty key list (Singer: always present, [] if none)', () => {
    const message = parseMessage('{"type":"SCHEMA","stream":"s","schema":{"properties":{}}}', 1);
    expect(message).toEqual({ type: 'SCHEMA', stream: 's', schema: { properties: {} }, key_properties: [] });
  });

  it('reads a RECORD with time_extracted and version', () => {
    const line = '{"type":"RECORD","stream":"export","record":{"event":"Sign Up"},"time_extracted":"2024-01-01T00:00:00.000Z","version":3}';
    expect(parseMessage(line, 1)).toEqual({
      type: 'RECORD',
      stream: 'export',
      record: { event: 'Sign Up' },
      time_extracted: '2024-01-01T00:00:00.000Z',
      version: 3,
    });
  });

  it('reads a RECORD without the optional fields and adds none', () => {
    expect(parseMessage('{"type":"RECORD","stream":"export","record":{}}', 1)).toStrictEqual({
      type: 'RECORD',
      stream: 'export',
      record: {},
    });
  });

  it('reads a STATE', () => {
    expect(parseMessage('{"type":"STATE","value":{"bookmarks":{"export":{"replication_key_value":"x"}}}}', 1)).toEqual({
      type: 'STATE',
      value: { bookmarks: { export: { replication_key_value: 'x' } } },
      text: '{"bookmarks":{"export":{"replication_key_value":"x"}}}',
    });
  });

  it('reads an ACTIVATE_VERSION', () => {
    expect(parseMessage('{"type":"ACTIVATE_VERSION","stream":"engage","version":1700000000}', 1)).toEqual({
      type: 'ACTIVATE_VERSION',
      stream: 'engage',
      version: 1700000000,
    });
  });

  it.each([
    ['record', 'RECORD'],
    ['Schema', 'SCHEMA'],
    ['state', 'STATE'],
    ['activate_version', 'ACTIVATE_VERSION'],
  ])('accepts the type in any case: "%s" is read as %s', (written, expected) => {
    const line = JSON.stringify({
      type: written,
      stream: 's',
      record: {},
      schema: { properties: {} },
      value: {},
      version: 1,
    });
    expect(parseMessage(line, 1)?.type).toBe(expected);
  });

  it.each(['FUTURE_TYPE', 'future_type'])('returns null for a type this project does not handle (%s), so callers skip it', (type) => {
    expect(parseMessage(JSON.stringify({ type, stream: 's' }), 1)).toBeNull();
  });
});

describe('parseMessage: STATE values of any JSON type', () => {
  it.each<[string, unknown]>([
    ['an object', { bookmarks: { engage: { replication_key_value: '2024-01-01' } } }],
    ['singer-python bookmarks', { bookmarks: { engage: '2024-01-01T00:00:00.000000Z' }, currently_syncing: null }],
    ['null', null],
    ['a number', 42],
    ['a string', 'checkpoint-7'],
    ['an array', [1, 'two', { three: 3 }]],
    ['false', false],
  ])('passes %s through as the value, unchanged', (_case, value) => {
    expect(parseMessage(JSON.stringify({ type: 'STATE', value }), 1)).toStrictEqual({ type: 'STATE', value, text: JSON.stringify(value) });
  });

  it.each<[string, string, string]>([
    ['an integer beyond 2^53 (a bigint id bookmark)', '{"type":"STATE","value":{"bookmarks":{"t":{"replication_key_value":1234567890123456789}}}}', '{"bookmarks":{"t":{"replication_key_value":1234567890123456789}}}'],
    ['Python spacing and 1.0', '{"type": "STATE", "value": {"a": 1.0, "b": [1, 2]}}', '{"a": 1.0, "b": [1, 2]}'],
    ['a value before the type, strings with braces and escaped quotes', '{ "value" : ["}", "\\"]", {"x": "{"}] , "type":"STATE"}', '["}", "\\"]", {"x": "{"}]'],
    ['a number value followed by more members', '{"type":"STATE","value":-1.5e+300,"extra":true}', '-1.5e+300'],
    ['the last of two value members (as JSON.parse reads it)', '{"type":"STATE","value":1,"value":"second"}', '"second"'],
  ])('keeps the value\'s text exactly as received: %s', (_case, line, text) => {
    const message = parseMessage(line, 1) as StateMessage;
    expect(message.text).toBe(text);
    expect(JSON.parse(text)).toEqual(message.value);
  });
});

describe('parseMessage: BATCH messages (Meltano SDK)', () => {
  const batch = (fields: Record<string, unknown>) => JSON.stringify({ type: 'BATCH', stream: 'users', ...fields });

  it('reads the stream, the encoding and the manifest', () => {
    const line = batch({ encoding: { format: 'jsonl', compression: 'gzip' }, manifest: ['file:///tmp/b/users-1.jsonl.gz', 'file:///tmp/b/users-2.jsonl.gz'] });
    expect(parseMessage(line, 1)).toStrictEqual({
      type: 'BATCH',
      stream: 'users',
      encoding: { format: 'jsonl', compression: 'gzip' },
      manifest: ['file:///tmp/b/users-1.jsonl.gz', 'file:///tmp/b/users-2.jsonl.gz'],
    });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['left out', undefined],
    ['"none"', 'none'],
  ])('reads a compression that is %s as "none"', (_case, compression) => {
    const message = parseMessage(batch({ encoding: { format: 'JSONL', compression }, manifest: [] }), 1);
    expect(message).toMatchObject({ type: 'BATCH', encoding: { format: 'jsonl', compression: 'none' }, manifest: [] });
  });

  it('keeps formats and compressions it cannot read, for the reader to refuse with the file list in view', () => {
    expect(parseMessage(batch({ encoding: { format: 'parquet', compression: 'snappy' }, manifest: ['s3://bucket/a.parquet'] }), 1)).toMatchObject({
      encoding: { format: 'parquet', compression: 'snappy' },
      manifest: ['s3://bucket/a.parquet'],
    });
  });

  it.each([
    ['without stream', '{"type":"BATCH","encoding":{"format":"jsonl"},"manifest":[]}', 'BATCH message has no "stream" name'],
    ['without encoding', batch({ manifest: [] }), 'BATCH for "users" has no "encoding" with a "format"'],
    ['with an encoding without format', batch({ encoding: { compression: 'gzip' }, manifest: [] }), 'has no "encoding" with a "format"'],
    ['with a numeric compression', batch({ encoding: { format: 'jsonl', compression: 9 }, manifest: [] }), '"encoding.compression" must be a string'],
    ['without manifest', batch({ encoding: { format: 'jsonl' } }), 'BATCH for "users" has no "manifest": it must be an array of file URLs'],
    ['with a manifest that is a string', batch({ encoding: { format: 'jsonl' }, manifest: 'file:///a' }), 'has no "manifest"'],
    ['with an empty URL in the manifest', batch({ encoding: { format: 'jsonl' }, manifest: ['file:///a', ''] }), 'has no "manifest"'],
  ])('a BATCH %s is an InputError naming the line', (_case, line, problem) => {
    const err = parseError(line, 9);
    expect(err.message.startsWith('line 9: ')).toBe(true);
    expect(err.message).toContain(problem);
  });
});

describe('parseMessage: malformed lines are InputErrors that start with "line N:"', () => {
  it.each([
    ['not JSON at all', 'hello', 'not valid JSON'],
    ['truncated JSON', '{"type":"RECORD","stream":"s","rec', 'not valid JSON'],
    ['a JSON array', '[1,2,3]', 'must be a JSON object'],
    ['a JSON number', '42', 'must be a JSON object'],
    ['JSON null', 'null', 'must be a JSON object'],
    ['no type', '{"stream":"s"}', 'has no "type"'],
    ['a numeric type', '{"type":7}', 'has no "type"'],
    ['a SCHEMA without stream', '{"type":"SCHEMA","schema":{"properties":{}}}', 'SCHEMA message has no "stream" name'],
    ['a SCHEMA with an empty stream', '{"type":"SCHEMA","stream":"","schema":{"properties":{}}}', 'SCHEMA message has no "stream" name'],
    ['a SCHEMA without schema', '{"type":"SCHEMA","stream":"s"}', 'SCHEMA for "s" has no "schema" object'],
    ['a SCHEMA without properties', '{"type":"SCHEMA","stream":"s","schema":{"type":"object"}}', 'SCHEMA for "s" has no "properties"'],
    ['a SCHEMA with properties as an array', '{"type":"SCHEMA","stream":"s","schema":{"properties":[]}}', 'SCHEMA for "s" has no "properties"'],
    ['key_properties not an array', '{"type":"SCHEMA","stream":"s","schema":{"properties":{}},"key_properties":"id"}', '"key_properties" must be an array'],
    ['key_properties with a number', '{"type":"SCHEMA","stream":"s","schema":{"properties":{}},"key_properties":[1]}', '"key_properties" must be an array'],
    ['a RECORD without stream', '{"type":"RECORD","record":{}}', 'RECORD message has no "stream" name'],
    ['a RECORD without record', '{"type":"RECORD","stream":"s"}', 'RECORD for "s" has no "record" object'],
    ['a RECORD whose record is an array', '{"type":"RECORD","stream":"s","record":[]}', 'RECORD for "s" has no "record" object'],
    ['a STATE without value', '{"type":"STATE"}', 'STATE message has no "value"'],
    ['an ACTIVATE_VERSION without version', '{"type":"ACTIVATE_VERSION","stream":"s"}', 'ACTIVATE_VERSION for "s" has no numeric "version"'],
  ])('%s', (_case, line, problem) => {
    const err = parseError(line, 17);
    expect(err.kind).toBe('input');
    expect(err.message.startsWith('line 17: ')).toBe(true);
    expect(err.message).toContain(problem);
  });

  it('shows a preview of a long bad line, cut at 80 characters', () => {
    const line = `{"type":"RECORD",${'x'.repeat(200)}`;
    const err = parseError(line, 3);
    expect(err.message).toContain(`${line.slice(0, 77)}...`);
    expect(err.message).not.toContain(line.slice(0, 78));
  });

  it('is an AppError, so the CLI maps it to the input exit code', () => {
    expect(parseError('nope', 1)).toBeInstanceOf(AppError);
  });
});

describe('serializeMessage', () => {
  const messages: SingerMessage[] = [
    { type: 'SCHEMA', stream: 'engage', schema: { type: 'object', properties: { id: { type: 'string' } } }, key_properties: ['id'] },
    { type: 'RECORD', stream: 'engage', record: { id: 'u1', name: 'Zoë "Z" Ñandú\nsecond line' }, time_extracted: '2024-01-01T00:00:00.000Z' },
    { type: 'STATE', value: { bookmarks: {} } },
    { type: 'ACTIVATE_VERSION', stream: 'engage', version: 2 },
  ];

  it.each(messages.map((m) => [m.type, m] as const))('writes one line for %s that parses back to the same message', (_type, message) => {
    const line = serializeMessage(message);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    const parsed = parseMessage(line.slice(0, -1), 1);
    if (parsed?.type === 'STATE') delete parsed.text;
    expect(parsed).toEqual(message);
  });

  it('writes a STATE without the text it was read with', () => {
    expect(serializeMessage({ type: 'STATE', value: { a: 1 }, text: '{"a": 1.0}' })).toBe('{"type":"STATE","value":{"a":1}}\n');
  });
});
