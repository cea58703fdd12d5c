/**
 * archive_file: a CSV of what archive_missing did and found, one row per member: archived (or
 * deleted permanently), would archive (dry run), not archived (the safety limit refused the
 * run's archive), failed (Mailchimp refused or kept failing), returned (archived earlier, in the
 * source again: stays archived). It holds addresses, so it is the owner's only (0600), and cells
 * a spreadsheet would run as formulas are neutralised, like the rejects file.
 */
import { PrivateCsvFile } from '../reports/files.js';

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
  private readonly file: PrivateCsvFile;

  constructor(readonly path: string) {
    this.file = new PrivateCsvFile(path, 'archive_file', ARCHIVE_COLUMNS);
  }

  get rows(): number {
    return this.file.rows;
  }

  add(row: ArchiveRow): void {
    this.file.write([row.action, row.email, row.hash, row.status, row.reason]);
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
