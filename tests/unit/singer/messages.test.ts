import { describe, expect, it } from '@jest/globals';
import { AppError, InputError } from '../../../src/errors/index.js';
import { parseMessage, serializeMessage, type SingerMessage } from '../../../src/singer/messages.js';

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

  it.each(['BATCH', 'FUTURE_TYPE', 'batch'])('returns null for a type this project does not handle (%s), so callers skip it', (type) => {
    expect(parseMessage(JSON.stringify({ type, stream: 's' }), 1)).toBeNull();
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
    expect(parseMessage(line.slice(0, -1), 1)).toEqual(message);
  });
});
