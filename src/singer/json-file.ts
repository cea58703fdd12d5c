/**
 * JSON text from files the user hands us (config, state, catalog): a UTF-8 byte order mark is
 * accepted, and a syntax error is reported by line, column and what was expected there, never
 * with the text around it. JSON.parse's own messages quote that text ("..."_secret": GOODmp...")
 * and a config file's neighbourhood is often a secret.
 *
 * JSON.parse does the parsing; only when it fails does `locateJsonError` scan the text to find
 * where and why (the scan is a plain JSON grammar check, RFC 8259).
 */

export const BYTE_ORDER_MARK = '\uFEFF';

/** The text without a leading UTF-8 byte order mark (editors on Windows write one). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export interface JsonSyntaxProblem {
  /** 1-based. */
  line: number;
  /** 1-based, in characters. */
  column: number;
  /** What the grammar wanted there, e.g. "',' or '}' after a property value". */
  expected: string;
  /** What was there instead, without quoting it: "a letter", "the end of the file", "'}'". */
  found: string;
}

/** A JSON syntax error whose message names line, column and expectation, and no text of the input. */
export class JsonSyntaxError extends Error {
  constructor(readonly problem: JsonSyntaxProblem | undefined) {
    super(
      problem
        ? `line ${problem.line}, column ${problem.column}: expected ${problem.expected}, found ${problem.found}`
        : 'not valid JSON',
    );
    this.name = 'JsonSyntaxError';
  }
}

/**
 * Parses a JSON document. Throws JsonSyntaxError (line and column counted from `firstLine`,
 * for callers that parse one line of a larger file).
 */
export function parseJsonText(text: string, firstLine = 1): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const problem = locateJsonError(text);
    throw new JsonSyntaxError(problem ? { ...problem, line: problem.line + firstLine - 1 } : undefined);
  }
}

const VALUE = 'a value (an object, array, string, number, true, false or null)';
const STRUCTURAL = new Set(['{', '}', '[', ']', ',', ':', '"']);

/** Names a character without showing it, unless it is JSON punctuation. */
function describeFound(text: string, at: number): string {
  if (at >= text.length) return 'the end of the file';
  const ch = text[at] as string;
  const code = ch.charCodeAt(0);
  if (STRUCTURAL.has(ch)) return `'${ch}'`;
  if (ch === "'") return 'a single quote (JSON strings use double quotes)';
  if (code === 0xfeff) return 'a byte order mark';
  if (code < 0x20) return 'a control character';
  if (/[0-9]/.test(ch)) return 'a digit';
  if (/\p{L}/u.test(ch)) return 'a letter';
  if (/\s/u.test(ch)) return 'a space character JSON does not allow';
  return 'a symbol';
}

type Expect = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'after-value' | 'end';

/**
 * Where the first syntax error of `text` is, and what the grammar expected there; undefined when
 * `text` is valid JSON. Iterative (an explicit stack), so deep nesting cannot overflow.
 */
export function locateJsonError(text: string): JsonSyntaxProblem | undefined {
  const stack: Array<'{' | '['> = [];
  let i = 0;
  let expect: Expect = 'value';

  const at = (index: number, expected: string, found = describeFound(text, index)): JsonSyntaxProblem => {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < index && k < text.length; k++) {
      if (text.charCodeAt(k) === 10) {
        line++;
        lineStart = k + 1;
      }
    }
    return { line, column: index - lineStart + 1, expected, found };
  };
  const skipSpace = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  /** Scans a string from its opening quote; returns a problem or moves i past the closing quote. */
  const scanString = (): JsonSyntaxProblem | undefined => {
    i++;
    for (;;) {
      if (i >= text.length) return at(i, 'a closing double quote (the string is not terminated)');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return at(i, 'a closing double quote or an escaped character (\\n, \\t, ...)', 'a control character inside a string');
      if (c === 0x5c) {
        const next = text[i + 1];
        if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else return at(i, 'a valid escape sequence (\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)', 'a backslash that starts none');
      } else i++;
    }
  };
  const scanNumber = (): JsonSyntaxProblem | undefined => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (/[1-9]/.test(text[i] ?? '')) while (/[0-9]/.test(text[i] ?? '')) i++;
    else return at(i, 'a digit');
    if (text[i] === '.') {
      i++;
      if (!/[0-9]/.test(text[i] ?? '')) return at(i, 'a digit after the decimal point');
      while (/[0-9]/.test(text[i] ?? '')) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!/[0-9]/.test(text[i] ?? '')) return at(i, 'a digit in the exponent');
      while (/[0-9]/.test(text[i] ?? '')) i++;
    }
    return undefined;
  };
  const closeContainer = (): void => {
    stack.pop();
    i++;
    expect = stack.length === 0 ? 'end' : 'after-value';
  };

  for (;;) {
    skipSpace();
    const ch = text[i];
    switch (expect) {
      case 'end':
        return i >= text.length ? undefined : at(i, 'the end of the file after the JSON value (one value per file)');
      case 'colon':
        if (ch !== ':') return at(i, "':' after a property name");
        i++;
        expect = 'value';
        continue;
      case 'after-value': {
        const open = stack[stack.length - 1];
        const close = open === '{' ? '}' : ']';
        if (ch === ',') {
          i++;
          expect = open === '{' ? 'key' : 'value';
        } else if (ch === close) closeContainer();
        else return at(i, open === '{' ? "',' or '}' after a property value" : "',' or ']' after an array element");
        continue;
      }
      case 'key-or-close':
      case 'key': {
        if (expect === 'key-or-close' && ch === '}') {
          closeContainer();
          continue;
        }
        if (ch !== '"') return at(i, expect === 'key' ? 'a property name in double quotes' : "a property name in double quotes or '}'");
        const problem = scanString();
        if (problem) return problem;
        expect = 'colon';
        continue;
      }
      case 'value-or-close':
      case 'value': {
        if (expect === 'value-or-close' && ch === ']') {
          closeContainer();
          continue;
        }
        const wanted = expect === 'value-or-close' ? `${VALUE} or ']'` : VALUE;
        if (ch === '{') {
          stack.push('{');
          i++;
          expect = 'key-or-close';
          continue;
        }
        if (ch === '[') {
          stack.push('[');
          i++;
          expect = 'value-or-close';
          continue;
        }
        let problem: JsonSyntaxProblem | undefined;
        if (ch === '"') problem = scanString();
        else if (ch === '-' || /[0-9]/.test(ch ?? '')) problem = scanNumber();
        else {
          const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, i));
          if (!literal) return at(i, wanted);
          i += literal.length;
        }
        if (problem) return problem;
        expect = stack.length === 0 ? 'end' : 'after-value';
        continue;
      }
    }
  }
}
