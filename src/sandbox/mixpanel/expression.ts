/**
 * Mixpanel segmentation expressions (the `where` of export and engage), parsed once and
 * compiled to closures so a filter over a million events costs little per event.
 *
 * Supported: properties["name"] (also user["name"] and event["name"]) with further [..] indexing,
 * string / number / boolean / null / undefined literals, list literals ["a", "b"],
 * == != > >= < <=, and, or, not, in, not in, + - * / %, parentheses, and the functions
 * defined(x), number(x), string(x), boolean(x), datetime(x).
 *
 * Comparison follows Mixpanel's typecasting: two strings that both look like date-times compare
 * as instants (zone-less ones are UTC), so `properties["$last_seen"] >= "2024-01-01T00:00:00"`
 * works; numbers compare numerically, a number and a numeric string too; `x in list` tests
 * membership, `x in string` tests substring. Comparisons between unrelated types are false.
 */

export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'ExpressionError';
  }
}

export type Properties = Readonly<Record<string, unknown>>;

export interface Expression {
  readonly source: string;
  evaluate(properties: Properties): unknown;
  /** The expression's truth for one set of properties. */
  test(properties: Properties): boolean;
}

/** A date-time produced by datetime(); compares with date-time strings and other DateValues. */
export class DateValue {
  constructor(readonly ms: number) {}
}

type Compiled = (properties: Properties) => unknown;

type Token =
  | { kind: 'number'; value: number; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'word'; value: string; at: number }
  | { kind: 'op'; value: string; at: number }
  | { kind: 'end'; at: number };

const OPERATORS = ['==', '!=', '>=', '<=', '>', '<', '(', ')', '[', ']', ',', '+', '-', '*', '/', '%'];
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'null', 'undefined']);
const ROOTS = new Set(['properties', 'user', 'event']);

export function parseExpression(source: string): Expression {
  if (source.trim() === '') throw new ExpressionError('Empty expression', 0);
  const parser = new Parser(tokenize(source));
  const compiled = parser.parseAll();
  return {
    source,
    evaluate: compiled,
    test: (properties) => truthy(compiled(properties)),
  };
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const at = i;
    if (ch === '"' || ch === "'") {
      const { value, end } = readString(source, i);
      tokens.push({ kind: 'string', value, at });
      i = end;
      continue;
    }
    const number = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(source.slice(i));
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]), at });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_$][\w$]*/.exec(source.slice(i));
    if (word) {
      const lower = word[0].toLowerCase();
      tokens.push({ kind: 'word', value: KEYWORDS.has(lower) ? lower : word[0], at });
      i += word[0].length;
      continue;
    }
    const op = OPERATORS.find((candidate) => source.startsWith(candidate, i));
    if (!op) throw new ExpressionError(`Unexpected character "${ch}" at position ${i}`, i);
    tokens.push({ kind: 'op', value: op, at });
    i += op.length;
  }
  tokens.push({ kind: 'end', at: source.length });
  return tokens;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '\\': '\\', '"': '"', "'": "'", '/': '/' };

function readString(source: string, start: number): { value: string; end: number } {
  const quote = source[start];
  let value = '';
  let i = start + 1;
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === quote) return { value, end: i + 1 };
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
        value += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      if (next !== undefined && next in ESCAPES) {
        value += ESCAPES[next];
        i += 2;
        continue;
      }
      throw new ExpressionError(`Invalid escape in string at position ${i}`, i);
    }
    value += ch;
    i++;
  }
  throw new ExpressionError(`Unterminated string starting at position ${start}`, start);
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): Compiled {
    const expr = this.parseOr();
    const next = this.peek();
    if (next.kind !== 'end') this.fail(next);
    return expr;
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private take(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private isOp(value: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.value === value;
  }

  private isWord(value: string): boolean {
    const t = this.peek();
    return t.kind === 'word' && t.value === value;
  }

  private expectOp(value: string): void {
    const t = this.take();
    if (t.kind !== 'op' || t.value !== value) this.fail(t, `expected "${value}"`);
  }

  private fail(token: Token, expected?: string): never {
    const found = token.kind === 'end' ? 'end of expression' : `"${String(token.value)}"`;
    throw new ExpressionError(`Unexpected ${found} at position ${token.at}${expected ? `: ${expected}` : ''}`, token.at);
  }

  private parseOr(): Compiled {
    let left = this.parseAnd();
    while (this.isWord('or')) {
      this.take();
      const a = left;
      const b = this.parseAnd();
      left = (p) => truthy(a(p)) || truthy(b(p));
    }
    return left;
  }

  private parseAnd(): Compiled {
    let left = this.parseNot();
    while (this.isWord('and')) {
      this.take();
      const a = left;
      const b = this.parseNot();
      left = (p) => truthy(a(p)) && truthy(b(p));
    }
    return left;
  }

  private parseNot(): Compiled {
    if (this.isWord('not')) {
      this.take();
      const operand = this.parseNot();
      return (p) => !truthy(operand(p));
    }
    return this.parseComparison();
  }

  private parseComparison(): Compiled {
    const left = this.parseAdditive();
    const t = this.peek();
    if (t.kind === 'op' && ['==', '!=', '>', '>=', '<', '<='].includes(t.value)) {
      this.take();
      const right = this.parseAdditive();
      return comparison(t.value, left, right);
    }
    if (this.isWord('in')) {
      this.take();
      const right = this.parseAdditive();
      return (p) => contains(right(p), left(p));
    }
    const after = this.tokens[this.index + 1];
    if (this.isWord('not') && after?.kind === 'word' && after.value === 'in') {
      this.take();
      this.take();
      const right = this.parseAdditive();
      return (p) => !contains(right(p), left(p));
    }
    return left;
  }

  private parseAdditive(): Compiled {
    let left = this.parseMultiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.take() as { value: string }).value;
      const a = left;
      const b = this.parseMultiplicative();
      left = op === '+' ? (p) => add(a(p), b(p)) : (p) => arithmetic(a(p), b(p), (x, y) => x - y);
    }
    return left;
  }

  private parseMultiplicative(): Compiled {
    let left = this.parseUnary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = (this.take() as { value: string }).value;
      const a = left;
      const b = this.parseUnary();
      const fn = op === '*' ? (x: number, y: number) => x * y : op === '/' ? (x: number, y: number) => x / y : (x: number, y: number) => x % y;
      left = (p) => arithmetic(a(p), b(p), fn);
    }
    return left;
  }

  private parseUnary(): Compiled {
    if (this.isOp('-')) {
      this.take();
      const operand = this.parseUnary();
      return (p) => arithmetic(0, operand(p), (x, y) => x - y);
    }
    return this.parsePostfix();
  }

  private parsePostfix(): Compiled {
    let value = this.parsePrimary();
    while (this.isOp('[')) {
      this.take();
      const key = this.parseOr();
      this.expectOp(']');
      const target = value;
      value = (p) => index(target(p), key(p));
    }
    return value;
  }

  private parsePrimary(): Compiled {
    const t = this.take();
    switch (t.kind) {
      case 'number':
      case 'string': {
        const constant = t.value;
        return () => constant;
      }
      case 'op':
        if (t.value === '(') {
          const inner = this.parseOr();
          this.expectOp(')');
          return inner;
        }
        if (t.value === '[') return this.parseList();
        return this.fail(t);
      case 'word':
        return this.parseWord(t);
      case 'end':
        return this.fail(t);
    }
  }

  private parseList(): Compiled {
    const items: Compiled[] = [];
    if (!this.isOp(']')) {
      do items.push(this.parseOr());
      while (this.isOp(',') && this.take());
    }
    this.expectOp(']');
    return (p) => items.map((item) => item(p));
  }

  private parseWord(t: { value: string; at: number }): Compiled {
    const word = t.value;
    if (word === 'true') return () => true;
    if (word === 'false') return () => false;
    if (word === 'null') return () => null;
    if (word === 'undefined') return () => undefined;
    if (ROOTS.has(word)) {
      if (!this.isOp('[')) throw new ExpressionError(`Expected [ after ${word} at position ${t.at}`, t.at);
      return (p) => p;
    }
    const fn = FUNCTIONS[word];
    if (!fn) throw new ExpressionError(`Unknown name "${word}" at position ${t.at}`, t.at);
    this.expectOp('(');
    const arg = this.parseOr();
    this.expectOp(')');
    return (p) => fn(arg(p));
  }
}

const FUNCTIONS: Record<string, (value: unknown) => unknown> = {
  defined: (value) => value !== undefined,
  number: (value) => toNumber(value) ?? undefined,
  string: (value) => (value === undefined || value === null ? value : typeof value === 'object' ? JSON.stringify(value) : String(value)),
  boolean: (value) => truthy(value),
  datetime: (value) => {
    if (typeof value === 'number') return new DateValue(value * 1000);
    if (typeof value === 'string') {
      const ms = dateTimeMs(value);
      return ms === null ? undefined : new DateValue(ms);
    }
    return value instanceof DateValue ? value : undefined;
  },
};

export function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === '') return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

function index(target: unknown, key: unknown): unknown {
  if (target === null || typeof target !== 'object') return undefined;
  if (Array.isArray(target)) return typeof key === 'number' ? target[key] : undefined;
  if (typeof key !== 'string' && typeof key !== 'number') return undefined;
  const record = target as Record<string, unknown>;
  return Object.prototype.hasOwnProperty.call(record, key) ? record[String(key)] : undefined;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Milliseconds of a date-time string (zone-less means UTC), or null when it is not one. */
export function dateTimeMs(text: string): number | null {
  const match = DATE_TIME.exec(text);
  if (!match) return null;
  let normalised = text.replace(' ', 'T');
  if (normalised.length === 10) normalised += 'T00:00:00';
  if (!match[1]) normalised += 'Z';
  const ms = Date.parse(normalised);
  return Number.isNaN(ms) ? null : ms;
}

function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isNaN(value) ? null : value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  return null;
}

function toMs(value: unknown): number | null {
  if (value instanceof DateValue) return value.ms;
  if (typeof value === 'string') return dateTimeMs(value);
  return null;
}

/** Negative, zero or positive; null when the two cannot be ordered. */
function order(a: unknown, b: unknown): number | null {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (a instanceof DateValue || b instanceof DateValue) {
    const am = toMs(a);
    const bm = toMs(b);
    return am === null || bm === null ? null : am - bm;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    const am = dateTimeMs(a);
    const bm = am === null ? null : dateTimeMs(b);
    if (am !== null && bm !== null) return am - bm;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if ((typeof a === 'number' && typeof b === 'string') || (typeof a === 'string' && typeof b === 'number')) {
    const an = toNumber(a);
    const bn = toNumber(b);
    return an === null || bn === null ? null : an - bn;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return null;
}

function equals(a: unknown, b: unknown): boolean {
  const unsetA = a === undefined || a === null;
  const unsetB = b === undefined || b === null;
  if (unsetA || unsetB) return unsetA && unsetB;
  const ordered = order(a, b);
  if (ordered !== null) return ordered === 0;
  if (typeof a === 'object' && typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return false;
}

function comparison(op: string, left: Compiled, right: Compiled): Compiled {
  switch (op) {
    case '==':
      return (p) => equals(left(p), right(p));
    case '!=':
      return (p) => !equals(left(p), right(p));
    default: {
      const test = op === '>' ? (n: number) => n > 0 : op === '>=' ? (n: number) => n >= 0 : op === '<' ? (n: number) => n < 0 : (n: number) => n <= 0;
      return (p) => {
        const ordered = order(left(p), right(p));
        return ordered !== null && test(ordered);
      };
    }
  }
}

function contains(container: unknown, item: unknown): boolean {
  if (Array.isArray(container)) return container.some((element) => equals(element, item));
  if (typeof container === 'string' && typeof item === 'string') return container.includes(item);
  if (container !== null && typeof container === 'object' && typeof item === 'string') {
    return Object.prototype.hasOwnProperty.call(container, item);
  }
  return false;
}

function add(a: unknown, b: unknown): unknown {
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  return arithmetic(a, b, (x, y) => x + y);
}

function arithmetic(a: unknown, b: unknown, fn: (x: number, y: number) => number): number | undefined {
  const x = toNumber(a);
  const y = toNumber(b);
  if (x === null || y === null) return undefined;
  const result = fn(x, y);
  return Number.isFinite(result) ? result : undefined;
}
