/**
 * What became of each record: created, updated, unchanged, skipped or rejected, with a reason.
 * The tally adds up to the records read; the run summary, the report and the tests read it.
 */
import type { HttpError } from '../../../http/errors.js';
import type { BatchPosition } from '../../../singer/batch.js';

export type Outcome = 'created' | 'updated' | 'unchanged' | 'skipped' | 'rejected';

/** Where a row came from, for the rejects file and log lines. */
export interface RowSource {
  line: number;
  /** For a record of a BATCH message (line is the BATCH message's): its file and line. */
  batch?: BatchPosition;
  stream: string;
  /** The record's key as text a spreadsheet shows as it is: `u123`, or `cohort_id=1, distinct_id=u123` (rowKey). */
  key: string;
  /** For a cohort_members row: the cohort, as `Power users (12)`. */
  cohort?: string;
}

function keyValueText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * A record's key as plain text for the rejects file and logs: the value of a single key property
 * as it is, or `name=value` pairs for a compound key (JSON inside a CSV cell reads badly).
 */
export function rowKey(keyProperties: readonly string[], record: Readonly<Record<string, unknown>>): string {
  if (keyProperties.length === 1) return keyValueText(record[keyProperties[0] as string]);
  return keyProperties.map((k) => `${k}=${keyValueText(record[k])}`).join(', ');
}

export interface RowOutcome {
  outcome: Outcome;
  source: RowSource;
  email?: string;
  reason?: string;
  field?: string;
  detail?: string;
  /** For created rows: what was written (the digest of added people). */
  mergeFields?: Record<string, unknown>;
}

/** Reasons used in more than one place. */
export const REASONS = {
  noEmail: 'no email address',
  invalidEmail: 'invalid email address',
  nonAsciiLocalPart: 'non-ASCII characters before the @',
  superseded: 'same email as a later record in this run (the later one was loaded)',
  unsubscribed: 'unsubscribed',
  cleaned: 'cleaned (the address bounced)',
  archived: 'archived',
  compliance: 'in compliance state (unsubscribed, bounced or under review)',
  forgotten: 'permanently deleted from the audience',
  addOnly: 'already in the audience (mode add_only)',
  fake: 'Mailchimp refused the address as fake or invalid',
  mergeFields: 'merge field value not accepted',
  requiredMissing: 'required merge field missing',
  vanished: 'no longer in the audience',
  notInAudience: 'not in the audience (cohort_add_missing is off)',
} as const;

/**
 * What archive_missing did in a run (archive/archive-job.ts): members are not rows of the input,
 * so these are counted apart from the outcomes, which add up to the records read.
 */
export interface ArchiveCounts {
  /** Whether a complete sweep of the source came (ACTIVATE_VERSION of the stream). */
  sweep: boolean;
  /** Members carrying owner_tag (not archived) when the sweep ended. */
  owned: number;
  /** Owned members missing from the sweep. */
  left: number;
  /** Archived (or deleted permanently) this run; in a dry run, those who would be. */
  archived: number;
  /** Left, but not archived: the safety limit (archive_max_share) refused the whole archive. */
  refused: number;
  /** Mailchimp refused or kept failing the archive of these members. */
  failed: number;
  /** Archived members carrying owner_tag who are in the source again: they stay archived. */
  returned: number;
  /** What was done to those who left: archive, or delete permanently. */
  action: 'archive' | 'delete permanently';
}

export class Tally {
  read = 0;
  created = 0;
  updated = 0;
  unchanged = 0;
  skipped: Record<string, number> = {};
  rejected: Record<string, number> = {};
  statesEmitted = 0;
  ignored = 0;
  /**
   * What the run found that its user should hear about although it succeeded (a mapped property
   * no record had, a configured stream the input never had): logged when found, and repeated in
   * the report and the warning alert.
   */
  warnings: string[] = [];
  /** Configured streams whose SCHEMA has no email property (every row of them is rejected). */
  streamsWithoutEmail: string[] = [];
  /** archive_missing's counts, when it is on. */
  archive: ArchiveCounts | undefined;
  /** The first write batch that failed for good: where the run stopped (for alerts and the report). */
  failedBatch: { id: number; what: string; firstLine: number; lastLine: number; people: number } | undefined;

  add(outcome: RowOutcome): void {
    switch (outcome.outcome) {
      case 'created':
        this.created++;
        break;
      case 'updated':
        this.updated++;
        break;
      case 'unchanged':
        this.unchanged++;
        break;
      case 'skipped':
        this.skipped[outcome.reason ?? 'skipped'] = (this.skipped[outcome.reason ?? 'skipped'] ?? 0) + 1;
        break;
      case 'rejected':
        this.rejected[outcome.reason ?? 'rejected'] = (this.rejected[outcome.reason ?? 'rejected'] ?? 0) + 1;
        break;
    }
  }

  get skippedTotal(): number {
    return Object.values(this.skipped).reduce((a, b) => a + b, 0);
  }

  get rejectedTotal(): number {
    return Object.values(this.rejected).reduce((a, b) => a + b, 0);
  }

  /** Rows with an outcome; equals `read` once every batch has been written. */
  get accounted(): number {
    return this.created + this.updated + this.unchanged + this.skippedTotal + this.rejectedTotal;
  }
}

export type MemberErrorClass =
  | { kind: 'exists' }
  | { kind: 'transient'; detail: string }
  | { kind: 'skipped' | 'rejected'; reason: string; permanent: boolean; detail: string };

/**
 * Classifies a per-member refusal (a batch `errors[]` entry, or a single call's problem text).
 * `permanent` marks refusals that will repeat for the same address whatever the data: those are
 * remembered in the suppression file so later runs do not write them again.
 */
export function classifyMemberError(text: string, errorCode?: string): MemberErrorClass {
  const t = text.toLowerCase();
  if (errorCode === 'ERROR_CONTACT_EXISTS' || t.includes('already a list member') || t.includes('member exists')) return { kind: 'exists' };
  if (t.includes('compliance state')) return { kind: 'skipped', reason: REASONS.compliance, permanent: false, detail: text };
  if (t.includes('permanently deleted') || t.includes('forgotten email')) return { kind: 'skipped', reason: REASONS.forgotten, permanent: true, detail: text };
  if (t.includes('looks fake or invalid')) return { kind: 'rejected', reason: REASONS.fake, permanent: true, detail: text };
  if (t.includes('valid email')) return { kind: 'rejected', reason: REASONS.invalidEmail, permanent: true, detail: text };
  if (t.includes('merge fields were invalid') || t.includes('merge field')) return { kind: 'rejected', reason: REASONS.mergeFields, permanent: false, detail: text };
  if (t.includes('try again') || t.includes('temporar') || t.includes('internal error') || t.includes('timed out')) return { kind: 'transient', detail: text };
  return { kind: 'rejected', reason: text.length > 100 ? `${text.slice(0, 97)}...` : text, permanent: false, detail: text };
}

/** The text a single call's failure carries (title and detail of Mailchimp's problem document). */
export function httpErrorText(err: HttpError): string {
  return err.serviceMessage ?? err.message;
}
