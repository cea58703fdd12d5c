/**
 * target-mailchimp's notifications, on top of src/notify:
 *
 * - the digest of the people a run added: one email (a plain-text and an HTML table of the first
 *   digest_email_max_people, and the total), one SMS line, and the webhook JSON of earlier
 *   versions (text, list_id, list_name, finished_at, added_count, added, truncated);
 * - what alerts and warnings say about the load: the position in the input where it stopped,
 *   the counts so far, the last state printed.
 *
 * Nothing here can fail the run: the people are in the audience and the state has been printed.
 */
import type { Writable } from 'node:stream';
import type { Logger } from '../../../log/logger.js';
import { notify, type ChannelResult } from '../../../notify/index.js';
import { cellText, cut, escapeHtml, htmlDocument, htmlTable, oneLine, SMS_MAX_LENGTH, textTable, type Notification } from '../../../notify/message.js';
import { RunNotifier, type SnapshotParts } from '../../../notify/run-notifier.js';
import { DEFAULT_EMAIL_MAX_PEOPLE, digestChannels, notifyTimeoutMs } from '../../../notify/settings.js';
import { LineWriter } from '../../../singer/writer.js';
import type { ListInfo } from '../api/api.js';
import type { TargetConfig } from '../config.js';
import type { RowOutcome, Tally } from './outcomes.js';

/** People kept for the digest (the webhook lists them all; the email its first N). */
export const DIGEST_LIMIT = 1000;
/** Addresses named in the digest SMS before "and N more". */
export const SMS_PEOPLE = 3;

export interface AddedPerson {
  email: string;
  merge_fields: Record<string, unknown>;
}

export class AddedDigest {
  readonly people: AddedPerson[] = [];
  total = 0;

  add(person: AddedPerson): void {
    this.total++;
    if (this.people.length < DIGEST_LIMIT) this.people.push(person);
  }
}

export interface DigestInput {
  listId: string;
  listName: string;
  digest: AddedDigest;
  finishedAt: string;
  /** How many people the email lists (the rest are counted). */
  emailMaxPeople: number;
  /** One line on the whole run, e.g. "40 records read; created 12, updated 3, ...". */
  runSummary?: string;
  /** archive_missing: the people archived (or deleted permanently) because they left the source. */
  archived?: { total: number; emails: readonly string[]; action: 'archive' | 'delete permanently' };
}

const NAME_TAGS = ['FNAME', 'LNAME'];

function personName(person: AddedPerson): string {
  return NAME_TAGS.map((tag) => cellText(person.merge_fields[tag]))
    .filter((v) => v !== '')
    .join(' ');
}

/** The digest's table: Name, Email, then every other merge field any listed person has, in tag order. */
export function digestTable(people: readonly AddedPerson[]): { header: string[]; rows: string[][] } {
  const tags = [...new Set(people.flatMap((p) => Object.keys(p.merge_fields)))].filter((t) => !NAME_TAGS.includes(t)).sort();
  return {
    header: ['Name', 'Email', ...tags],
    rows: people.map((p) => [personName(p), p.email, ...tags.map((t) => cellText(p.merge_fields[t]))]),
  };
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * `12 new users in "Audience": ann@example.org, bob@example.org, cy@example.org and 9 more`,
 * within Twilio's 1600 characters whatever the names' length.
 */
export function digestSms(listName: string, total: number, emails: readonly string[]): string {
  if (total === 0) return cut(`No new users in "${oneLine(listName)}" this run`, SMS_MAX_LENGTH);
  for (let shown = Math.min(SMS_PEOPLE, emails.length, total); shown >= 0; shown--) {
    const rest = total - shown;
    const names = emails.slice(0, shown).join(', ');
    const tail = shown === 0 ? '' : `: ${names}${rest > 0 ? ` and ${rest} more` : ''}`;
    const head = `${plural(total, 'new user', 'new users')} in "`;
    const room = SMS_MAX_LENGTH - head.length - 1 - tail.length;
    if (room >= 20 || shown === 0) return cut(`${head}${cut(oneLine(listName), Math.max(1, room))}"${tail}`, SMS_MAX_LENGTH);
  }
  return '';
}

export function composeDigest(input: DigestInput): Notification {
  const { digest, listName, listId } = input;
  const listed = digest.people.slice(0, Math.max(0, input.emailMaxPeople));
  const { header, rows } = digestTable(listed);
  const audience = `Mailchimp audience "${listName}"`;
  const subject = digest.total === 0 ? `No new people in ${audience}` : `${plural(digest.total, 'new person', 'new people')} in ${audience}`;
  const intro =
    digest.total === 0
      ? `Nobody new was added to the ${audience} (${listId}) by target-mailchimp at ${input.finishedAt}.`
      : `${plural(digest.total, 'new person was', 'new people were')} added to the ${audience} (${listId}) by target-mailchimp at ${input.finishedAt}.`;
  const shownNote = listed.length < digest.total ? `Listed: the first ${listed.length} of ${digest.total} (digest_email_max_people).` : '';
  const archivedNote = archivedLine(input.archived, input.emailMaxPeople);
  const text = [intro, '', ...(listed.length > 0 ? [textTable(header, rows), ''] : []), ...(shownNote ? [shownNote] : []), ...(archivedNote ? [archivedNote] : []), ...(input.runSummary ? [`This run: ${input.runSummary}.`] : []), ''].join('\n');
  const html = htmlDocument(
    subject,
    [
      `<p>${escapeHtml(intro)}</p>`,
      listed.length > 0 ? htmlTable(header, rows) : '',
      shownNote ? `<p>${escapeHtml(shownNote)}</p>` : '',
      archivedNote ? `<p>${escapeHtml(archivedNote)}</p>` : '',
      input.runSummary ? `<p style="color:#555">This run: ${escapeHtml(input.runSummary)}.</p>` : '',
    ].join(''),
  );
  return {
    kind: 'digest',
    subject,
    text,
    html,
    sms: digestSms(listName, digest.total, digest.people.map((p) => p.email)),
    webhook: {
      text: `${plural(digest.total, 'new person', 'new people')} added to Mailchimp audience "${listName}"`,
      list_id: listId,
      list_name: listName,
      finished_at: input.finishedAt,
      added_count: digest.total,
      added: digest.people,
      truncated: digest.total > digest.people.length,
      ...(input.archived ? { archived_count: input.archived.total, archived: input.archived.emails.slice(0, DIGEST_LIMIT) } : {}),
    },
  };
}

/** `3 people who left the source were archived: ann@..., bob@..., cy@...` (the first `max`). */
function archivedLine(archived: DigestInput['archived'], max: number): string {
  if (!archived || archived.total === 0) return '';
  const shown = archived.emails.slice(0, Math.max(0, max));
  const rest = archived.total - shown.length;
  const done = archived.action === 'archive' ? 'archived' : 'deleted permanently';
  return `${plural(archived.total, 'person who left the source was', 'people who left the source were')} ${done}${shown.length > 0 ? `: ${shown.join(', ')}${rest > 0 ? ` and ${rest} more` : ''}` : ''}.`;
}

/** A LineWriter that remembers the last line it has written through (the last state printed). */
export class WatchedLineWriter extends LineWriter {
  lastLine: string | undefined;
  private pending: string | undefined;

  constructor(out: Writable) {
    super(out);
  }

  override writeLine(line: string): Promise<void> {
    this.pending = line;
    return super.writeLine(line);
  }

  override async flush(): Promise<void> {
    const pending = this.pending;
    await super.flush();
    if (pending !== undefined) this.lastLine = pending;
  }
}

function runSummary(tally: Tally): string {
  const archive = tally.archive ? `, ${tally.archive.action === 'archive' ? 'archived' : 'deleted permanently'} ${tally.archive.archived} (left the source)${tally.archive.returned > 0 ? `, ${tally.archive.returned} returned and stay archived` : ''}` : '';
  return `${tally.read} records read; created ${tally.created}, updated ${tally.updated}, unchanged ${tally.unchanged}, skipped ${tally.skippedTotal}, rejected ${tally.rejectedTotal}${archive}`;
}

export class TargetNotifier extends RunNotifier {
  readonly digest = new AddedDigest();
  private readonly recordsByStream = new Map<string, number>();
  private readonly config: TargetConfig;
  private readonly log: Logger;
  private readonly userAgent: string;
  private output: WatchedLineWriter | undefined;
  private list: ListInfo | undefined;
  private tally: Tally | undefined;
  private lastLine = 0;

  constructor(config: TargetConfig, options: { binary: string; log: Logger; userAgent: string }) {
    super({ ...options, config });
    this.config = config;
    this.log = options.log;
    this.userAgent = options.userAgent;
  }

  /** The output whose last line alerts show as the last state printed. */
  watch(output: WatchedLineWriter): WatchedLineWriter {
    this.output = output;
    return output;
  }

  /** The audience and the counts of the load that starts. */
  start(list: ListInfo, tally: Tally): void {
    this.list = list;
    this.tally = tally;
  }

  /** Every row's outcome (the loader's onOutcome). */
  observe(row: RowOutcome): void {
    this.recordsByStream.set(row.source.stream, (this.recordsByStream.get(row.source.stream) ?? 0) + 1);
    this.lastLine = Math.max(this.lastLine, row.source.line);
    if (row.outcome === 'created') this.digest.add({ email: row.email ?? '', merge_fields: row.mergeFields ?? {} });
  }

  protected override describeRun(): SnapshotParts {
    const tally = this.tally;
    let lastState: unknown;
    try {
      lastState = this.output?.lastLine ? JSON.parse(this.output.lastLine) : undefined;
    } catch {
      lastState = this.output?.lastLine;
    }
    const failed = tally?.failedBatch;
    const stoppedAt = tally
      ? `loading into audience "${this.list?.name}"` +
        (failed ? `: batch ${failed.id} (${failed.what}, ${failed.people} ${failed.people === 1 ? 'row' : 'rows'}, input lines ${failed.firstLine}-${failed.lastLine}) failed;` : '') +
        ` after ${tally.read} records read` +
        (this.lastLine > 0 ? ` (last input line with an outcome: ${this.lastLine})` : '') +
        `: ${tally.accounted} written or accounted for, ${tally.read - tally.accounted} in batches not confirmed`
      : undefined;
    return {
      ...(stoppedAt ? { stoppedAt } : {}),
      counts: tally
        ? [
            ['records read', tally.read],
            ['created', tally.created],
            ['updated', tally.updated],
            ['unchanged', tally.unchanged],
            ['skipped', tally.skippedTotal],
            ['rejected', tally.rejectedTotal],
            ...(tally.archive ? [['archived (left the source)', tally.archive.archived] as [string, number], ['not archived (archive_max_share)', tally.archive.refused] as [string, number]] : []),
            ['states printed', tally.statesEmitted],
          ]
        : [],
      ...(lastState !== undefined ? { lastState } : {}),
    };
  }

  /** After a load that succeeded: the digest (not in dry runs), then the warnings. */
  async afterLoad(options: { complete: boolean; archivedEmails?: readonly string[] }): Promise<ChannelResult[]> {
    if (this.config.dry_run || !this.list || !this.tally) return [];
    const results: ChannelResult[] = [];
    const channels = digestChannels(this.config);
    const archive = this.tally.archive;
    const archived = archive && archive.archived > 0 ? { total: archive.archived, emails: options.archivedEmails ?? [], action: archive.action } : undefined;
    if (channels.length > 0 && (this.digest.total > 0 || archived !== undefined || this.config.digest_send_empty === true)) {
      const message = composeDigest({
        listId: this.list.id,
        listName: this.list.name,
        digest: this.digest,
        finishedAt: new Date().toISOString(),
        emailMaxPeople: this.config.digest_email_max_people ?? DEFAULT_EMAIL_MAX_PEOPLE,
        runSummary: runSummary(this.tally),
        ...(archived ? { archived } : {}),
      });
      results.push(...(await notify(channels, message, { log: this.log, timeoutMs: notifyTimeoutMs(this.config), userAgent: this.userAgent })));
    }
    results.push(...(await this.finished({ recordsByStream: this.recordsByStream, complete: options.complete, service: 'Mailchimp', problems: this.tally.warnings })));
    return results;
  }
}
