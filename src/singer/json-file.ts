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

/** The scanner goes on to the next token (a step found no problem and the value is not over). */
const GO_ON = Symbol('go on');
type Step = JsonSyntaxProblem | undefined | typeof GO_ON;

/**
 * Where the first syntax error of `text` is, and what the grammar expected there; undefined when
 * `text` is valid JSON. Iterative (an explicit stack), so deep nesting cannot overflow.
 */
export function locateJsonError(text: string): JsonSyntaxProblem | undefined {
  return new JsonErrorLocator(text).locate();
}

/** A JSON grammar walk, one token at a time, knowing what it expects next. */
class JsonErrorLocator {
  private readonly stack: Array<'{' | '['> = [];
  private i = 0;
  private expect: Expect = 'value';

  constructor(private readonly text: string) {}

  locate(): JsonSyntaxProblem | undefined {
    for (;;) {
      this.skipSpace();
      const step = this.step(this.text[this.i]);
      if (step !== GO_ON) return step;
    }
  }

  private step(ch: string | undefined): Step {
    switch (this.expect) {
      case 'end':
        return this.i >= this.text.length ? undefined : this.at(this.i, 'the end of the file after the JSON value (one value per file)');
      case 'colon':
        if (ch !== ':') return this.at(this.i, "':' after a property name");
        this.i++;
        this.expect = 'value';
        return GO_ON;
      case 'after-value':
        return this.afterValue(ch);
      case 'key-or-close':
      case 'key':
        return this.key(ch);
      case 'value-or-close':
      case 'value':
        return this.value(ch);
    }
  }

  private afterValue(ch: string | undefined): Step {
    const open = this.stack[this.stack.length - 1];
    const close = open === '{' ? '}' : ']';
    if (ch === ',') {
      this.i++;
      this.expect = open === '{' ? 'key' : 'value';
    } else if (ch === close) this.closeContainer();
    else return this.at(this.i, open === '{' ? "',' or '}' after a property value" : "',' or ']' after an array element");
    return GO_ON;
  }

  private key(ch: string | undefined): Step {
    if (this.expect === 'key-or-close' && ch === '}') {
      this.closeContainer();
      return GO_ON;
    }
    if (ch !== '"') return this.at(this.i, this.expect === 'key' ? 'a property name in double quotes' : "a property name in double quotes or '}'");
    const problem = this.scanString();
    if (problem) return problem;
    this.expect = 'colon';
    return GO_ON;
  }

  private value(ch: string | undefined): Step {
    if (this.expect === 'value-or-close' && ch === ']') {
      this.closeContainer();
      return GO_ON;
    }
    if (ch === '{' || ch === '[') {
      this.stack.push(ch);
      this.i++;
      this.expect = ch === '{' ? 'key-or-close' : 'value-or-close';
      return GO_ON;
    }
    let problem: JsonSyntaxProblem | undefined;
    if (ch === '"') problem = this.scanString();
    else if (ch === '-' || /[0-9]/.test(ch ?? '')) problem = this.scanNumber();
    else {
      const literal = ['true', 'false', 'null'].find((word) => this.text.startsWith(word, this.i));
      if (!literal) return this.at(this.i, this.expect === 'value-or-close' ? `${VALUE} or ']'` : VALUE);
      this.i += literal.length;
    }
    if (problem) return problem;
    this.expect = this.stack.length === 0 ? 'end' : 'after-value';
    return GO_ON;
  }

  private closeContainer(): void {
    this.stack.pop();
    this.i++;
    this.expect = this.stack.length === 0 ? 'end' : 'after-value';
  }

  private skipSpace(): void {
    const { text } = this;
    while (this.i < text.length) {
      const c = text.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  /** Scans a string from its opening quote; returns a problem or moves past the closing quote. */
  private scanString(): JsonSyntaxProblem | undefined {
    const { text } = this;
    this.i++;
    for (;;) {
      if (this.i >= text.length) return this.at(this.i, 'a closing double quote (the string is not terminated)');
      const c = text.charCodeAt(this.i);
      if (c === 0x22) {
        this.i++;
        return undefined;
      }
      if (c < 0x20) return this.at(this.i, 'a closing double quote or an escaped character (\\n, \\t, ...)', 'a control character inside a string');
      if (c === 0x5c) {
        const next = text[this.i + 1];
        if (next !== undefined && '"\\/bfnrt'.includes(next)) this.i += 2;
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(this.i + 2, this.i + 6))) this.i += 6;
        else return this.at(this.i, 'a valid escape sequence (\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)', 'a backslash that starts none');
      } else this.i++;
    }
  }

  private scanNumber(): JsonSyntaxProblem | undefined {
    const { text } = this;
    const digit = (): boolean => /[0-9]/.test(text[this.i] ?? '');
    if (text[this.i] === '-') this.i++;
    if (text[this.i] === '0') this.i++;
    else if (/[1-9]/.test(text[this.i] ?? '')) while (digit()) this.i++;
    else return this.at(this.i, 'a digit');
    if (text[this.i] === '.') {
      this.i++;
      if (!digit()) return this.at(this.i, 'a digit after the decimal point');
      while (digit()) this.i++;
    }
    if (text[this.i] === 'e' || text[this.i] === 'E') {
      this.i++;
      if (text[this.i] === '+' || text[this.i] === '-') this.i++;
      if (!digit()) return this.at(this.i, 'a digit in the exponent');
      while (digit()) this.i++;
    }
    return undefined;
  }

  private at(index: number, expected: string, found = describeFound(this.text, index)): JsonSyntaxProblem {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < index && k < this.text.length; k++) {
      if (this.text.charCodeAt(k) === 10) {
        line++;
        lineStart = k + 1;
      }
    }
    return { line, column: index - lineStart + 1, expected, found };
  }
}
