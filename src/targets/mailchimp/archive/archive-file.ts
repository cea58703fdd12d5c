/**
 * archive_file: a CSV of what archive_missing did and found, one row per member: archived (or
 * deleted permanently), would archive (dry run), not archived (the safety limit refused the
 * run's archive), failed (Mailchimp refused or kept failing), returned (archived earlier, in the
 * source again: stays archived). It holds addresses, so it is the owner's only (0600), and cells
 * a spreadsheet would run as formulas are neutralised, like the rejects file.
 */
import { createWriteStream, fchmodSync, openSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { stringify, type Stringifier } from 'csv-stringify';
import { ConfigError } from '../../../errors/index.js';
import { neutraliseCell, PRIVATE_FILE_MODE } from '../reports/files.js';

export const ARCHIVE_COLUMNS = ['action', 'email', 'subscriber_hash', 'status', 'reason'] as const;

export type ArchiveAction = 'archived' | 'deleted permanently' | 'would archive' | 'would delete permanently' | 'not archived' | 'failed' | 'returned';

export interface ArchiveRow {
  action: ArchiveAction;
  email: string;
  hash: string;
  /** The member's status in Mailchimp before this run's action (what an undo would restore). */
  status: string;
  reason: string;
}

export class ArchiveFile {
  private readonly csv: Stringifier;
  private readonly file: WriteStream;
  rows = 0;

  constructor(readonly path: string) {
    // Opened now: an unwritable path stops the run before anything is written.
    let fd: number;
    try {
      fd = openSync(path, 'w', PRIVATE_FILE_MODE);
      fchmodSync(fd, PRIVATE_FILE_MODE);
    } catch (err) {
      throw new ConfigError(`cannot write archive_file ${path}: ${(err as Error).message}`);
    }
    this.file = createWriteStream(path, { fd });
    this.file.on('error', () => undefined);
    this.csv = stringify({ header: true, columns: [...ARCHIVE_COLUMNS] });
    this.csv.pipe(this.file);
  }

  add(row: ArchiveRow): void {
    this.rows++;
    this.csv.write([row.action, row.email, row.hash, row.status, row.reason].map(neutraliseCell));
  }

  async close(): Promise<void> {
    this.csv.end();
    await once(this.file, 'close').catch(() => undefined);
  }
}
