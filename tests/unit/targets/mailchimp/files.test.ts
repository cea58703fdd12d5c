import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ConfigError, InputError } from '../../../../src/errors/index.js';
import { neutraliseCell, RejectsFile, REJECT_COLUMNS, Suppressions, writeReport } from '../../../../src/targets/mailchimp/reports/files.js';
import type { RowOutcome } from '../../../../src/targets/mailchimp/reports/outcomes.js';

const dir = mkdtempSync(join(tmpdir(), 'mailchimp-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(dir, `${++n}-${name}`);

const row = (extra: Partial<RowOutcome>): RowOutcome => ({ outcome: 'rejected', source: { line: 3, stream: 'engage', key: 'u1' }, ...extra });

/** A minimal RFC 4180 reader, to check that what was written reads back as the same fields. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n') {
      fields.push(field);
      rows.push(fields);
      fields = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || fields.length > 0) rows.push([...fields, field]);
  return rows;
}

describe('RejectsFile', () => {
  it('writes a header and one row per rejected row; fields with commas, quotes, newlines and Unicode read back intact', async () => {
    const path = fresh('rejects.csv');
    const rejects = new RejectsFile(path);
    const tricky = [
      row({ email: 'a,b@example.org', reason: 'has, a comma', detail: 'He said "no"' }),
      row({ source: { line: 10, stream: 'engage', key: '["u,2","x"]' }, email: 'zoë@exämple.org', reason: 'line\nbreak', field: 'FNAME', detail: '日本語 🙂' }),
      row({ reason: '', detail: '\r\nCRLF' }),
    ];
    for (const r of tricky) rejects.add(r);
    expect(rejects.rows).toBe(3);
    await rejects.close();
    const text = readFileSync(path, 'utf8');
    const parsed = parseCsv(text);
    expect(parsed).toEqual([
      [...REJECT_COLUMNS],
      ['3', 'engage', 'u1', 'a,b@example.org', 'has, a comma', '', 'He said "no"', ''],
      ['10', 'engage', '["u,2","x"]', 'zoë@exämple.org', 'line\nbreak', 'FNAME', '日本語 🙂', ''],
      ['3', 'engage', 'u1', '', '', '', "'\r\nCRLF", ''],
    ]);
    expect(text).toContain('"He said ""no"""');
  });

  it('an empty run leaves a file with the header only', async () => {
    const path = fresh('empty.csv');
    await new RejectsFile(path).close();
    expect(readFileSync(path, 'utf8')).toBe(`${REJECT_COLUMNS.join(',')}\n`);
  });

  it.each([
    ['a missing directory', (base: string) => join(base, 'no-such-dir', 'rejects.csv')],
    ['a directory', (base: string) => base],
  ])('a path that cannot be written (%s) is a ConfigError naming it, at once', (_what, pathIn) => {
    const path = pathIn(dir);
    expect(() => new RejectsFile(path)).toThrow(ConfigError);
    expect(() => new RejectsFile(path)).toThrow(`cannot write rejects_file ${path}`);
  });

  it('replaces a rejects file from an earlier run', async () => {
    const path = fresh('again.csv');
    writeFileSync(path, 'old,content\n1,2\n');
    const rejects = new RejectsFile(path);
    rejects.add(row({ email: 'x@example.org', reason: 'r' }));
    await rejects.close();
    expect(readFileSync(path, 'utf8')).toBe(`${REJECT_COLUMNS.join(',')}\n3,engage,u1,x@example.org,r,,,\n`);
  });
});

describe('Suppressions', () => {
  const entry = { outcome: 'skipped' as const, reason: 'permanently deleted from the audience', at: '2026-01-02T03:04:05.000Z' };

  it('without a path: kept in memory, save does nothing', () => {
    const s = new Suppressions();
    s.add('h1', entry);
    expect(s.get('h1')).toEqual(entry);
    expect(s.size).toBe(1);
    expect(() => s.save()).not.toThrow();
  });

  it('a missing file is an empty set (the first run)', () => {
    const path = fresh('missing.json');
    const s = new Suppressions(path);
    expect(s.size).toBe(0);
    s.save();
    expect(existsSync(path)).toBe(false);
  });

  it('saves atomically (no temporary file left) and reads back what it saved, sorted by hash, with no email address', () => {
    const sub = fresh('dir');
    mkdirSync(sub);
    const path = join(sub, 'suppressions.json');
    const s = new Suppressions(path);
    s.add('ffff', entry);
    s.add('0000', { ...entry, outcome: 'rejected', reason: 'Mailchimp refused the address as fake or invalid' });
    s.save();
    expect(readdirSync(sub)).toEqual(['suppressions.json']);
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { version: number; addresses: Record<string, unknown> };
    expect(doc.version).toBe(1);
    expect(Object.keys(doc.addresses)).toEqual(['0000', 'ffff']);
    const again = new Suppressions(path);
    expect(again.size).toBe(2);
    expect(again.get('ffff')).toEqual(entry);
    expect(readFileSync(path, 'utf8')).not.toContain('@');
  });

  it('keeps earlier entries when adding more', () => {
    const path = fresh('grow.json');
    const first = new Suppressions(path);
    first.add('a', entry);
    first.save();
    const second = new Suppressions(path);
    second.add('b', entry);
    second.save();
    expect(new Suppressions(path).size).toBe(2);
  });

  it('save writes only when something changed (an unchanged file is not rewritten)', () => {
    const path = fresh('unchanged.json');
    writeFileSync(path, JSON.stringify({ version: 1, addresses: { a: entry } }));
    const s = new Suppressions(path);
    writeFileSync(path, 'sentinel');
    s.save();
    expect(readFileSync(path, 'utf8')).toBe('sentinel');
  });

  it.each(['{not json', '', 'null'])('a file that is not a suppression document (%j) is an InputError naming the file', (content) => {
    const path = fresh('bad.json');
    writeFileSync(path, content);
    let caught: unknown;
    try {
      new Suppressions(path);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as Error).message).toContain(path);
    expect((caught as Error).message).toContain('delete it to start afresh');
  });

  it('a path that cannot be read (a directory) is a ConfigError naming it', () => {
    const path = fresh('a-directory');
    mkdirSync(path);
    expect(() => new Suppressions(path)).toThrow(ConfigError);
    expect(() => new Suppressions(path)).toThrow(path);
  });

  it('a failed save leaves the old file whole', () => {
    const path = fresh('kept.json');
    const s = new Suppressions(path);
    s.add('a', entry);
    s.save();
    const before = readFileSync(path, 'utf8');
    s.add('b', entry);
    // The temporary file cannot be created (a directory is in its place): the write fails before the rename.
    mkdirSync(`${path}.tmp-${process.pid}`);
    expect(() => s.save()).toThrow();
    expect(readFileSync(path, 'utf8')).toBe(before);
  });
});

describe('writeReport', () => {
  it('writes pretty JSON atomically', () => {
    const sub = fresh('report');
    mkdirSync(sub);
    const path = join(sub, 'report.json');
    writeReport(path, { created: 1, rejected: { 'invalid email address': 2 } });
    expect(readdirSync(sub)).toEqual(['report.json']);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ created: 1, rejected: { 'invalid email address': 2 } });
  });
});

describe('files that hold people: private, and safe to open in a spreadsheet', () => {
  const modeOf = (path: string) => statSync(path).mode & 0o777;

  it.each([0o000, 0o022, 0o002])('rejects, report and suppression files are 0600 under umask %s, also when they existed with another mode', async (mask) => {
    const old = process.umask(mask);
    try {
      const rejectsPath = fresh('rejects.csv');
      writeFileSync(rejectsPath, 'old', { mode: 0o666 });
      chmodSync(rejectsPath, 0o666);
      const rejects = new RejectsFile(rejectsPath);
      rejects.add(row({ email: 'a@example.org', reason: 'r' }));
      await rejects.close();
      const reportPath = fresh('report.json');
      writeReport(reportPath, { ok: true });
      const suppressionPath = fresh('suppressions.json');
      const s = new Suppressions(suppressionPath);
      s.add('h1', { outcome: 'skipped', reason: 'r', at: 't' });
      s.save();
      expect([modeOf(rejectsPath), modeOf(reportPath), modeOf(suppressionPath)]).toEqual([0o600, 0o600, 0o600]);
    } finally {
      process.umask(old);
    }
  });

  it.each(['=1+1@x.org', '+1@x.org', '-2+3@x.org', '@SUM(A1)', '\t=cmd', '\r=cmd'])('a cell starting like a formula (%j) is written as text', async (email) => {
    const path = fresh('rejects.csv');
    const rejects = new RejectsFile(path);
    rejects.add(row({ email, reason: '=HYPERLINK("http://evil")', detail: 'plain' }));
    await rejects.close();
    const [, cells] = parseCsv(readFileSync(path, 'utf8'));
    expect(cells?.[3]).toBe(`'${email}`);
    expect(cells?.[4]).toBe(`'=HYPERLINK("http://evil")`);
    expect(cells?.[6]).toBe('plain');
  });

  it('ordinary cells are untouched', () => {
    expect(['ana@example.org', '["u1"]', 'no email address', '', "o'brien@x.ie"].map(neutraliseCell)).toEqual(['ana@example.org', '["u1"]', 'no email address', '', "o'brien@x.ie"]);
  });
});
