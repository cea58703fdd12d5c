/**
 * JSON files from users: a BOM is fine, and a syntax error names line, column and what was
 * expected, never the text around it (a config's neighbourhood is often a secret).
 */
import { describe, expect, it } from '@jest/globals';
import { JsonSyntaxError, locateJsonError, parseJsonText, stripBom } from '../../../src/singer/json-file.js';

function syntaxError(text: string, firstLine?: number): JsonSyntaxError {
  try {
    parseJsonText(text, firstLine);
  } catch (err) {
    if (err instanceof JsonSyntaxError) return err;
    throw err;
  }
  throw new Error('expected a JsonSyntaxError');
}

describe('stripBom', () => {
  it('removes one leading byte order mark and nothing else', () => {
    expect(stripBom('\uFEFF{"a":1}')).toBe('{"a":1}');
    expect(stripBom('{"a":"\uFEFF"}')).toBe('{"a":"\uFEFF"}');
    expect(stripBom('')).toBe('');
  });
});

describe('locateJsonError', () => {
  it.each([
    ['{}'],
    ['[]'],
    ['  {"a": [1, -2.5e+3, "x\\n\\u00e9", true, false, null, {}]}\r\n'],
    ['"just a string"'],
    ['0'],
  ])('finds nothing wrong in %j (JSON.parse agrees)', (text) => {
    expect(() => JSON.parse(text) as unknown).not.toThrow();
    expect(locateJsonError(text)).toBeUndefined();
  });

  it.each<[string, string, number, number, string, string]>([
    ['a bare word where a value goes', '{"a": GOOD}', 1, 7, 'a value (an object, array, string, number, true, false or null)', 'a letter'],
    ['a missing comma', '{"a": 1 "b": 2}', 1, 9, "',' or '}' after a property value", "'\"'"],
    ['a trailing comma in an object', '{"a": 1,}', 1, 9, 'a property name in double quotes', "'}'"],
    ['a trailing comma in an array', '[1,]', 1, 4, 'a value (an object, array, string, number, true, false or null)', "']'"],
    ['a missing colon', '{"a" 1}', 1, 6, "':' after a property name", 'a digit'],
    ['single quotes', "{'a': 1}", 1, 2, "a property name in double quotes or '}'", 'a single quote (JSON strings use double quotes)'],
    ['an unterminated string', '{"a": "abc', 1, 11, 'a closing double quote (the string is not terminated)', 'the end of the file'],
    ['an unclosed object', '{"a": 1', 1, 8, "',' or '}' after a property value", 'the end of the file'],
    ['a bad escape', '{"a": "\\x"}', 1, 8, 'a valid escape sequence (\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)', 'a backslash that starts none'],
    ['a raw newline in a string', '{"a": "x\ny"}', 1, 9, 'a closing double quote or an escaped character (\\n, \\t, ...)', 'a control character inside a string'],
    ['a second document', '{"a": 1}\n{"b": 2}', 2, 1, 'the end of the file after the JSON value (one value per file)', "'{'"],
    ['a leading zero', '[01]', 1, 3, "',' or ']' after an array element", 'a digit'],
    ['a bare minus', '[-]', 1, 3, 'a digit', "']'"],
    ['a fraction without digits', '[1.]', 1, 4, 'a digit after the decimal point', "']'"],
    ['an empty document', '', 1, 1, 'a value (an object, array, string, number, true, false or null)', 'the end of the file'],
    ['a BOM (callers strip it first)', '\uFEFF{}', 1, 1, 'a value (an object, array, string, number, true, false or null)', 'a byte order mark'],
  ])('%s: line and column of the first error, and what was expected', (_case, text, line, column, expected, found) => {
    expect(() => JSON.parse(text) as unknown).toThrow();
    expect(locateJsonError(text)).toEqual({ line, column, expected, found });
  });

  it('counts lines and columns across CRLF and pretty-printing', () => {
    const text = '{\r\n  "a": 1,\r\n  "b": [1, 2\r\n}';
    expect(locateJsonError(text)).toEqual({ line: 4, column: 1, expected: "',' or ']' after an array element", found: "'}'" });
  });

  it('handles nesting far deeper than a recursive parser could', () => {
    expect(locateJsonError('['.repeat(200_000) + ']'.repeat(200_000))).toBeUndefined();
    expect(locateJsonError('['.repeat(200_000))?.found).toBe('the end of the file');
  });
});

describe('parseJsonText', () => {
  it('returns what JSON.parse returns', () => {
    expect(parseJsonText('{"a": [1, "x"]}')).toEqual({ a: [1, 'x'] });
  });

  it('never shows the text around the error, only line, column and expectation', () => {
    const secret = 'GOODmpSECRETvalue123';
    const error = syntaxError(`{\n  "service_account_username": "sa.user",\n  "service_account_secret": ${secret}"\n}`);
    expect(error.message).toBe(
      'line 3, column 29: expected a value (an object, array, string, number, true, false or null), found a letter',
    );
    for (const part of [secret, secret.slice(0, 4), 'sa.user', '_secret']) expect(error.message).not.toContain(part);
  });

  it('counts lines from firstLine, for one line of a larger file', () => {
    expect(syntaxError('{"a": }', 7).message).toBe(
      'line 7, column 7: expected a value (an object, array, string, number, true, false or null), found \'}\'',
    );
  });
});
