/**
 * The files a run leaves behind: the rejects CSV (every rejected row and why), the JSON report,
 * and the suppression file (addresses Mailchimp refused for good, by subscriber hash).
 *
 * They hold people's addresses, so each is readable and writable by its owner only (0600),
 * whatever the umask and whatever mode an existing file had. Rejects cells that a spreadsheet
 * would run as a formula are neutralised (OWASP, CSV injection): marketers open this file in Excel.
 */

/** Owner read/write only. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * A cell as a spreadsheet will not evaluate it: text starting with =, +, -, @, a tab or a carriage
 * return gets a leading apostrophe (OWASP's advice), which spreadsheets show as text.
 */
export function neutraliseCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** Writes a whole file atomically (a crash leaves the old one), readable by its owner only. */
export function writePrivateFile(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: PRIVATE_FILE_MODE });
  // The mode of writeFileSync is filtered by the umask and ignored for an existing file: set it.
  chmodSync(tmp, PRIVATE_FILE_MODE);
  renameSync(tmp, path);
}
import { chmodSync, createWriteStream, fchmodSync, openSync, readFileSync, renameSync, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { stringify, type Stringifier } from 'csv-stringify';
import { ConfigError, InputError } from '../../../errors/index.js';
import { stripBom } from '../../../singer/json-file.js';
import type { Outcome, RowOutcome } from './outcomes.js';

export const REJECT_COLUMNS = ['line', 'stream', 'key', 'email', 'reason', 'field', 'detail', 'cohort'] as const;

/**
 * A CSV of people that grows as the run goes, readable by its owner only, each cell neutralised.
 * Opened now, not lazily by the stream: an unwritable path must stop the run before anything is
 * written, not swallow the rows while the summary counts them.
 */
export class PrivateCsvFile {
  private readonly csv: Stringifier;
  private readonly file: WriteStream;
  rows = 0;

  /** `setting`: the config key that named the file, for the error. */
  constructor(
    readonly path: string,
    setting: string,
    columns: readonly string[],
  ) {
    let fd: number;
    try {
      fd = openSync(path, 'w', PRIVATE_FILE_MODE);
      // An existing file keeps its mode on open, and the umask filters a new one's: set it.
      fchmodSync(fd, PRIVATE_FILE_MODE);
    } catch (err) {
      throw new ConfigError(`cannot write ${setting} ${path}: ${(err as Error).message}`);
    }
    this.file = createWriteStream(path, { fd });
    this.file.on('error', () => undefined);
    this.csv = stringify({ header: true, columns: [...columns] });
    this.csv.pipe(this.file);
  }

  /** One row; every cell but the first (a line number we wrote) is neutralised when `raw` is 1. */
  write(cells: string[], raw = 0): void {
    this.rows++;
    this.csv.write(cells.map((cell, i) => (i < raw ? cell : neutraliseCell(cell))));
  }

  async close(): Promise<void> {
    this.csv.end();
    await once(this.file, 'close').catch(() => undefined);
  }
}

/** Appends rejected rows to a CSV file as they happen. */
export class RejectsFile {
  private readonly file: PrivateCsvFile;

  constructor(readonly path: string) {
    this.file = new PrivateCsvFile(path, 'rejects_file', REJECT_COLUMNS);
  }

  get rows(): number {
    return this.file.rows;
  }

  add(row: RowOutcome): void {
    const line = row.source.batch ? `${row.source.line} (${row.source.batch.url} line ${row.source.batch.line})` : row.source.line;
    this.file.write([String(line), row.source.stream, row.source.key, row.email ?? '', row.reason ?? '', row.field ?? '', row.detail ?? '', row.source.cohort ?? ''], 1);
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

export interface Suppression {
  outcome: Extract<Outcome, 'skipped' | 'rejected'>;
  reason: string;
  /** When Mailchimp said so. */
  at: string;
}

interface SuppressionDocument {
  version: 1;
  /** Subscriber hash (MD5 of the lower-cased address) -> why Mailchimp refuses it. */
  addresses: Record<string, Suppression>;
}

/** Addresses not to write again. Stored by hash: the file holds no email addresses. */
export class Suppressions {
  private readonly entries = new Map<string, Suppression>();
  private changed = false;

  constructor(private readonly path?: string) {
    if (!path) return;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new ConfigError(`cannot read suppression_file ${path}: ${(err as Error).message}`);
    }
    try {
      const doc = JSON.parse(stripBom(text)) as SuppressionDocument;
      for (const [hash, entry] of Object.entries(doc.addresses ?? {})) this.entries.set(hash, entry);
    } catch (err) {
      throw new InputError(`suppression_file ${path} is not valid JSON (${(err as Error).message}); delete it to start afresh`);
    }
  }

  get(hash: string): Suppression | undefined {
    return this.entries.get(hash);
  }

  add(hash: string, entry: Suppression): void {
    this.entries.set(hash, entry);
    this.changed = true;
  }

  /** Writes the file atomically (a crash leaves the old one). */
  save(): void {
    if (!this.path || !this.changed) return;
    const doc: SuppressionDocument = { version: 1, addresses: Object.fromEntries([...this.entries].sort(([a], [b]) => a.localeCompare(b))) };
    writePrivateFile(this.path, JSON.stringify(doc, null, 2) + '\n');
    this.changed = false;
  }

  get size(): number {
    return this.entries.size;
  }
}

export function writeReport(path: string, report: unknown): void {
  writePrivateFile(path, JSON.stringify(report, null, 2) + '\n');
}
