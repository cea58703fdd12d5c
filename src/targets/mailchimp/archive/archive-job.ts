/**
 * archive_missing: members this target owns who left the source are archived, safely.
 *
 *   owned     a member carrying owner_tag. The target gives the tag to everyone it creates or
 *             finds in its stream (a managed static tag: see settings.ts), so people from signup
 *             forms, imports and other tools never carry it unless they are in the source too.
 *   sweep     only ACTIVATE_VERSION of the configured stream says that the records of a version
 *             are the whole source (tap-mixpanel: a FULL_TABLE engage run that read every page).
 *             The subscriber hashes of that version's records are kept in a HashSet (16 bytes a
 *             person); an interrupted or INCREMENTAL run sends no ACTIVATE_VERSION and archives
 *             nobody.
 *   leavers   when the sweep ends and every write read before it has succeeded: the tag's holders
 *             (its static segment's members, 1000 a call; archived contacts are not among them)
 *             who are not in the sweep.
 *   limit     more leavers than archive_max_share of the owned members: nobody is archived, they
 *             are listed, and the run fails at its end (exit 1) naming the setting to raise.
 *   action    DELETE member (archive, reversible), or with delete_permanently the delete-permanent
 *             action; one operation per member through the operation queue (batch operations in
 *             bulk). No status is ever written.
 *   returned  an archived member with owner_tag who is in the source again stays archived (the
 *             planner skips archived members, and nothing here unarchives): Mailchimp does not say
 *             what status they had, and guessing could subscribe someone who had withdrawn. They
 *             are counted and listed.
 */
import pLimit from 'p-limit';
import { ConfigError } from '../../../errors/index.js';
import type { Logger } from '../../../log/logger.js';
import type { JsonObject } from '../../../singer/messages.js';
import { settleAll } from '../../../util/settle.js';
import type { MailchimpApi } from '../api/api.js';
import { Audience } from '../audience/audience.js';
import { HashSet } from '../audience/hash-set.js';
import { findEmail, mailchimpAddress, normaliseEmail, subscriberHash } from '../members/members.js';
import { REASONS, type ArchiveCounts, type RowOutcome, type Tally } from '../reports/outcomes.js';
import type { OperationQueue } from '../writing/batch-queue.js';
import { isTransient, memberRemoval } from '../writing/operations.js';
import type { ArchiveFile, ArchiveRow } from './archive-file.js';
import type { ArchiveSettings } from './settings.js';

/** Addresses kept for the report and the digest (the archive file has them all). */
export const ARCHIVE_SAMPLE = 1000;
const PAGE = 1000;

export interface ArchiveJobOptions {
  api: MailchimpApi;
  listId: string;
  /** The one stream whose sweep decides (archive_missing needs exactly one). */
  stream: string;
  queue: OperationQueue;
  log: Logger;
  settings: ArchiveSettings;
  dryRun: boolean;
  signal: AbortSignal;
  audience: Audience;
  tally: Tally;
  file: ArchiveFile | undefined;
  emailProperty?: string;
  concurrency: number;
}

interface Leaver {
  hash: string;
  email: string;
  status: string;
}

export class ArchiveJob {
  readonly counts: ArchiveCounts;
  /** Addresses archived (or that would be, in a dry run), the first ARCHIVE_SAMPLE. */
  readonly archivedEmails: string[] = [];
  /** Set when the safety limit refused the archive: the run fails with it at its end. */
  refusal: ConfigError | undefined;
  private readonly sweeps = new Map<number, HashSet>();
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly ownerKey: string;

  constructor(private readonly o: ArchiveJobOptions) {
    this.counts = { sweep: false, owned: 0, left: 0, archived: 0, refused: 0, failed: 0, returned: 0, action: o.settings.deletePermanently ? 'delete permanently' : 'archive' };
    o.tally.archive = this.counts;
    this.limit = pLimit(Math.max(1, o.concurrency));
    this.ownerKey = o.settings.ownerTag.trim().toLowerCase();
  }

  /** A record of the stream: its person is in the sweep of its version (records without a version are in none). */
  seen(record: JsonObject, version: number | undefined): void {
    if (version === undefined) return;
    const raw = normaliseEmail(findEmail(record, this.o.emailProperty));
    if (raw === undefined) return;
    const address = mailchimpAddress(raw);
    if (!address.ok) return;
    let sweep = this.sweeps.get(version);
    if (!sweep) this.sweeps.set(version, (sweep = new HashSet(1 << 14)));
    sweep.add(subscriberHash(address.email));
  }

  /** Every row's outcome: an owned, archived member in the source again stays archived, and is listed. */
  observe(row: RowOutcome): void {
    if (row.outcome !== 'skipped' || row.reason !== REASONS.archived || row.source.stream !== this.o.stream || !row.email) return;
    const hash = subscriberHash(row.email);
    const member = this.o.audience.get(hash);
    if (!member?.tags.some((t) => t.trim().toLowerCase() === this.ownerKey)) return;
    this.counts.returned++;
    this.o.file?.add({ action: 'returned', email: row.email, hash, status: 'archived', reason: 'in the source again; stays archived: Mailchimp does not say what status they had (unarchive them in Mailchimp to bring them back)' });
  }

  /**
   * ACTIVATE_VERSION of the stream: the records of `version` were the whole source. `earlier`
   * settles when every write read before it has; `failed` says whether one of them failed.
   */
  async sweepComplete(version: number, earlier: Promise<void>, failed: () => boolean): Promise<void> {
    const seen = this.sweeps.get(version) ?? new HashSet(16);
    this.sweeps.clear();
    await earlier;
    if (failed()) return this.o.log.warn('archive_missing: a write before the end of the sweep failed: nobody is archived this run');
    if (this.o.signal.aborted) return this.o.log.info('archive_missing: stopping before the archive: nobody is archived this run (the next complete sweep will)');
    this.counts.sweep = true;
    const leavers = await this.findLeavers(seen);
    this.counts.left = leavers.length;
    const { owned } = this.counts;
    this.o.log.info(`archive_missing: complete sweep of "${this.o.stream}" (version ${version}, ${seen.size} people): ${owned} members carry "${this.o.settings.ownerTag}", ${leavers.length} of them left the source`);
    if (leavers.length === 0) return;
    if (leavers.length > this.o.settings.maxShare * owned) return this.refuse(leavers);
    if (this.o.dryRun) return this.plan(leavers);
    await settleAll(leavers.map((leaver) => this.remove(leaver)));
    if (this.counts.failed > 0) {
      const warning = `archive_missing: ${this.counts.failed} of ${leavers.length} members who left the source could not be ${this.verb()} (listed in archive_file with Mailchimp's answer); the next complete sweep tries again`;
      this.o.log.warn(warning);
      this.o.tally.warnings.push(warning);
    }
  }

  /** The owner tag's holders (every status but archived) who are not in the sweep. */
  private async findLeavers(seen: HashSet): Promise<Leaver[]> {
    const { api, listId } = this.o;
    const tag = (await api.listTags(listId)).find((t) => t.name.trim().toLowerCase() === this.ownerKey);
    if (!tag) return [];
    const leavers: Leaver[] = [];
    const read = async (offset: number): Promise<number> => {
      const page = await api.tagMembers(listId, tag.id, { count: PAGE, offset });
      for (const member of page.members) {
        if (member.status === 'archived') continue;
        this.counts.owned++;
        const hash = Audience.hashOf(member);
        if (!seen.has(hash)) leavers.push({ hash, email: member.email_address ?? hash, status: member.status });
      }
      return page.total_items ?? page.members.length;
    };
    const total = await read(0);
    const offsets: number[] = [];
    for (let offset = PAGE; offset < total; offset += PAGE) offsets.push(offset);
    await Promise.all(offsets.map((offset) => this.limit(() => read(offset))));
    return leavers;
  }

  /** The safety limit: nobody is archived; they are listed, and the run fails at its end. */
  private refuse(leavers: readonly Leaver[]): void {
    const { owned } = this.counts;
    const share = leavers.length / owned;
    const needed = Math.ceil(share * 100) / 100;
    this.counts.refused = leavers.length;
    for (const l of leavers) this.row(l, 'not archived', `${leavers.length} of ${owned} owned members left the source, more than archive_max_share ${this.o.settings.maxShare}`);
    this.refusal = new ConfigError(
      `archive_missing: ${leavers.length} of the ${owned} members carrying "${this.o.settings.ownerTag}" (${(share * 100).toFixed(1)}%) are missing from the complete sweep of "${this.o.stream}", more than archive_max_share ${this.o.settings.maxShare} allows: nobody was archived${this.o.file ? ` (they are listed in ${this.o.file.path})` : ''}. ` +
        `If they did leave, run again with archive_max_share ${Math.min(1, needed)} or more; if not, check the source (a filter such as engage_where, or a project, that changed)`,
    );
    this.o.log.error(this.refusal.message);
  }

  /** A dry run: who would be archived, and nothing written. */
  private plan(leavers: readonly Leaver[]): void {
    const action = this.o.settings.deletePermanently ? 'would delete permanently' : 'would archive';
    for (const l of leavers) {
      this.counts.archived++;
      if (this.archivedEmails.length < ARCHIVE_SAMPLE) this.archivedEmails.push(l.email);
      this.row(l, action, 'left the source');
    }
    const shown = leavers.slice(0, 10).map((l) => l.email).join(', ');
    this.o.log.info(`plan: archive_missing ${action} ${leavers.length}: ${shown}${leavers.length > 10 ? `, and ${leavers.length - 10} more` : ''}`);
  }

  private async remove(leaver: Leaver): Promise<void> {
    const how = this.o.settings.deletePermanently ? 'delete permanently' : 'archive';
    const answer = await this.o.queue.enqueue(memberRemoval(this.o.listId, leaver.hash, how));
    if (answer.status < 300) {
      this.counts.archived++;
      if (this.archivedEmails.length < ARCHIVE_SAMPLE) this.archivedEmails.push(leaver.email);
      // A later record for them in this run is then skipped, as for anyone archived.
      this.o.audience.apply(leaver.hash, { status: 'archived' });
      this.row(leaver, how === 'archive' ? 'archived' : 'deleted permanently', 'left the source');
      return;
    }
    if (answer.status === 404) return this.row(leaver, 'failed', 'no longer in the audience (removed meanwhile)');
    this.counts.failed++;
    this.row(leaver, 'failed', isTransient(answer) ? `Mailchimp kept failing (status ${answer.status})` : `Mailchimp refused (status ${answer.status}): ${problemText(answer.body)}`);
  }

  private row(l: Leaver, action: ArchiveRow['action'], reason: string): void {
    this.o.file?.add({ action, email: l.email, hash: l.hash, status: l.status, reason });
  }

  private verb(): string {
    return this.o.settings.deletePermanently ? 'deleted permanently' : 'archived';
  }
}

function problemText(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as { title?: unknown; detail?: unknown };
    return [b.title, b.detail].filter((x): x is string => typeof x === 'string' && x !== '').join(': ');
  }
  return typeof body === 'string' ? body : '';
}
