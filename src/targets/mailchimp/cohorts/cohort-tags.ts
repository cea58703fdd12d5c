/**
 * Mixpanel cohorts as Mailchimp tags: the cohort-to-tag job, fed by tap-mixpanel's `cohorts` and
 * `cohort_members` streams (their contract: docs/cohort-sweeps.md).
 *
 *   gain     a cohort member who lacks the cohort's tag gets it (a tag operation naming only that
 *            tag; with is_syncing unless cohort_tag_automations). Mailchimp answers 404 for an
 *            address that is not in the audience: with cohort_add_missing the person is added with
 *            status_if_new and the merge fields their record gives (the names, by merge_fields;
 *            batch subscribe, update_existing false) and tagged, otherwise counted and listed in
 *            rejects_file.
 *   lose     only after a complete sweep (ACTIVATE_VERSION cohort_members V): every holder of the
 *            tag who is not among the cohort's members of this run loses it. An interrupted or
 *            partial run adds but never removes.
 *   renamed  with cohort_registry_file, a cohort whose tag name changed has its tag renamed in
 *            place (members and automations stay); without it the new tag starts afresh.
 *   deleted  a cohort known from the registry and missing from a complete cohort list leaves its
 *            tag alone, unless cohort_clear_deleted.
 *
 * Nobody's status is ever written: tag operations carry none, and the only create refuses people
 * who exist. Unsubscribed and cleaned people keep their status; their tags follow membership.
 * Archived contacts are outside the audience: they are neither tagged nor created.
 * Who holds a tag now is read from the tag itself (its static segment's members, every status),
 * so the cost follows the cohort, not the audience.
 */
import pLimit from 'p-limit';
import { ConfigError } from '../../../errors/index.js';
import type { Logger } from '../../../log/logger.js';
import type { JsonObject } from '../../../singer/messages.js';
import { awaitedLater, settleAll } from '../../../util/settle.js';
import type { MailchimpApi, MergeField, TagInfo } from '../api/api.js';
import { Audience } from '../audience/audience.js';
import type { PlanningKnowledge } from '../audience/audience-knowledge.js';
import type { OperationQueue } from '../writing/batch-queue.js';
import type { SubscribeQueue } from '../writing/subscribe-queue.js';
import { unmatchedCohorts } from './cohort-choice.js';
import type { CohortEntry, CohortRegistry } from './cohort-registry.js';
import { listSetting, type NewMemberStatus, type TargetConfig } from '../config.js';
import { HashSet } from '../audience/hash-set.js';
import { findEmail, mailchimpAddress, normaliseEmail, subscriberHash } from '../members/members.js';
import { desiredMergeFields, missingRequired, type MergeMapping } from '../members/merge-fields.js';
import { isTransient, judgeAnswer, tagsUpdate, type OperationAnswer } from '../writing/operations.js';
import { REASONS, type RowOutcome, type RowSource } from '../reports/outcomes.js';

export const COHORTS_STREAM = 'cohorts';
export const COHORT_MEMBERS_STREAM = 'cohort_members';
const TAG_LENGTH = 100;

export interface CohortTagSettings {
  /** The ids and names cohort_tags chooses (not "*"): each must name a cohort of a complete list. */
  wanted?: readonly string[];
  selected(id: number, name: string | null): boolean;
  tagFor(id: number, name: string | null): string;
  addMissing: boolean;
  automations: boolean;
  clearDeleted: boolean;
}

/** The job's settings, or undefined when no cohort is to become a tag. */
export function cohortTagSettings(config: Pick<TargetConfig, 'cohort_tags' | 'cohort_tag_prefix' | 'cohort_tag_names' | 'cohort_add_missing' | 'cohort_tag_automations' | 'cohort_clear_deleted'>): CohortTagSettings | undefined {
  const wanted = (Array.isArray(config.cohort_tags) ? config.cohort_tags.map(String) : listSetting(config.cohort_tags)).map((s) => s.trim()).filter((s) => s !== '');
  if (wanted.length === 0) return undefined;
  const all = wanted.includes('*');
  const lower = new Set(wanted.map((w) => w.toLowerCase()));
  const names = new Map(Object.entries(config.cohort_tag_names ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    wanted: wanted.filter((w) => w !== '*'),
    selected: (id, name) => all || lower.has(String(id)) || (name !== null && lower.has(name.toLowerCase())),
    tagFor: (id, name) => {
      const explicit = names.get(String(id)) ?? (name !== null ? names.get(name.toLowerCase()) : undefined);
      const tag = explicit ?? `${config.cohort_tag_prefix ?? ''}${name ?? `cohort ${id}`}`;
      return tag.trim().slice(0, TAG_LENGTH);
    },
    addMissing: config.cohort_add_missing === true,
    automations: config.cohort_tag_automations === true,
    clearDeleted: config.cohort_clear_deleted === true,
  };
}

/** A write that was started and settles later. */
export interface Pending {
  written: Promise<void>;
}

export interface CohortCounts {
  /** Members who got the tag (or would, in a dry run). */
  gained: number;
  /** Members who had it already. */
  kept: number;
  /** Holders who lost it (or would). */
  lost: number;
  /** Members added to the audience (cohort_add_missing). */
  added: number;
  notInAudience: number;
  /** Archived contacts: outside the audience, so not tagged (Mailchimp lists no tag holders among them). */
  archived: number;
  noEmail: number;
  rejected: number;
}

export interface CohortSummary extends CohortCounts {
  id: number;
  name: string | null;
  tag: string;
  /** Whether this run had the cohort's complete membership (and so removed). */
  complete: boolean;
  /** Dry run: the addresses that would gain and lose the tag. */
  wouldGain?: string[];
  wouldLose?: string[];
}

interface CohortRun extends CohortCounts {
  id: number;
  name: string | null;
  tag: string;
  holders: HashSet;
  /** Dry run: holders' addresses, to say who would lose the tag. */
  holderEmails?: Map<string, string>;
  ready: Promise<void>;
  members: HashSet;
  complete: boolean;
  wouldGain: string[];
  wouldLose: string[];
}

export interface CohortJobOptions {
  api: MailchimpApi;
  listId: string;
  queue: OperationQueue;
  /** cohort_add_missing: new people, 500 to a batch subscribe call. */
  subscribe: SubscribeQueue;
  log: Logger;
  settings: CohortTagSettings;
  registry: CohortRegistry;
  statusIfNew: NewMemberStatus;
  emailProperty?: string;
  dryRun: boolean;
  /**
   * cohort_add_missing: the audience's merge fields and the target's mappings (merge_fields, and
   * FNAME/LNAME from the names by default), which give a new member's merge fields from their
   * cohort_members record, as the engage load does. Without them a new member gets none, and an
   * audience with a required field refuses them.
   */
  mergeFields?: readonly MergeField[];
  mergeMappings?: readonly MergeMapping[];
  /** Dry run only: who is in the audience (a dry run cannot ask Mailchimp by writing). */
  knowledge?: PlanningKnowledge;
  audience?: Audience;
  concurrency: number;
  now?: () => Date;
}

/** What a new member would be created with, or why they cannot be. */
interface NewMember {
  mergeFields: Record<string, unknown>;
  problem?: { reason: string; field: string; detail: string };
}

const zero = (): CohortCounts => ({ gained: 0, kept: 0, lost: 0, added: 0, notInAudience: 0, archived: 0, noEmail: 0, rejected: 0 });

export class CohortTagJob {
  private readonly runs = new Map<number, CohortRun>();
  /** The cohort list of a run that read it whole (ACTIVATE_VERSION cohorts), by version. */
  private readonly lists = new Map<number, Map<number, string | null>>();
  private completeList: Map<number, string | null> | undefined;
  private tags: Promise<Map<string, TagInfo>> | undefined;
  private readonly limit: ReturnType<typeof pLimit>;
  /** Warnings about cohort_tags entries whose cohorts are gone (from the complete list). */
  private readonly gone: string[] = [];
  /** Whether any cohort_members record came. */
  private membersSeen = false;
  /** Cohort records seen in this run, by id (the cohorts stream). */
  private readonly listed = new Map<number, string | null>();
  private readonly fieldsByTag: ReadonlyMap<string, MergeField>;

  constructor(readonly o: CohortJobOptions) {
    this.limit = pLimit(Math.max(1, o.concurrency));
    this.fieldsByTag = new Map((o.mergeFields ?? []).map((f) => [f.tag.toUpperCase(), f]));
  }

  /** Streams this job reads. */
  static handles(stream: string): boolean {
    return stream === COHORTS_STREAM || stream === COHORT_MEMBERS_STREAM;
  }

  /** A record of the cohorts stream. */
  cohort(record: JsonObject, version: number | undefined): void {
    const id = Number(record.id);
    if (!Number.isInteger(id)) return;
    const name = typeof record.name === 'string' ? record.name : null;
    this.listed.set(id, name);
    if (version !== undefined) {
      let list = this.lists.get(version);
      if (!list) this.lists.set(version, (list = new Map()));
      list.set(id, name);
    }
  }

  /**
   * Whether a cohort_members record belongs to a cohort chosen in cohort_tags. The others are
   * ignored (like records of a stream the target does not load), so the outcomes of the records
   * the job takes add up to the records it reads.
   */
  chooses(record: JsonObject): boolean {
    this.membersSeen = true;
    const id = Number(record.cohort_id);
    if (!Number.isInteger(id)) return true; // taken, and rejected for it
    if (this.runs.has(id)) return true;
    const name = this.listed.get(id) ?? (typeof record.cohort_name === 'string' ? record.cohort_name : null);
    return this.o.settings.selected(id, name ?? this.o.registry.get(id)?.name ?? null);
  }

  /** ACTIVATE_VERSION of the cohorts stream: that version's records are every cohort there is. */
  async cohortsComplete(version: number): Promise<void> {
    this.completeList = this.lists.get(version) ?? new Map();
    const present = this.completeList;
    await this.checkChosen(present);
    for (const id of this.o.registry.ids()) {
      if (present.has(id)) continue;
      const entry = this.o.registry.get(id);
      if (!entry) continue;
      if (!this.o.settings.clearDeleted) {
        this.o.log.info(`cohort ${id} ("${entry.name ?? '?'}") is gone from Mixpanel: its tag "${entry.tag}" is left as it is (cohort_clear_deleted clears it)`);
        continue;
      }
      await this.clearDeletedTag(id, entry.tag);
      if (!this.o.dryRun) this.o.registry.delete(id);
    }
  }

  /**
   * Every cohort cohort_tags names must be in the complete list: one that is not (renamed, deleted,
   * misspelt) would stop syncing in silence, so the run stops here, before the states after the
   * list (the members' bookmarks) are printed.
   */
  private async checkChosen(list: ReadonlyMap<number, string | null>): Promise<void> {
    const wanted = this.o.settings.wanted ?? [];
    const remembered = new Map(this.o.registry.ids().map((id) => [id, this.o.registry.get(id) as CohortEntry]));
    const context = { list, remembered, tagFor: (name: string) => this.o.settings.tagFor(Number.NaN, name), hasTag: () => false };
    if (unmatchedCohorts(wanted, context).length === 0) return;
    // Only now is it worth asking Mailchimp: a tag of the old name hints at a rename.
    const tags = await this.tagsByName();
    const unmatched = unmatchedCohorts(wanted, { ...context, hasTag: (name) => tags.has(name.trim().toLowerCase()) });
    const fatal = unmatched.filter((u) => u.fatal).map((u) => u.problem);
    if (fatal.length > 0) {
      throw new ConfigError(`"cohort_tags" names cohorts the project does not have (the cohorts stream listed all ${list.size} of them): stopped before their members were read, and no state after the list was printed`, { details: fatal });
    }
    // Cohorts known to be gone: nothing of theirs is left to load.
    for (const { problem } of unmatched) this.gone.push(problem);
  }

  /**
   * A cohort_members record. Resolves once it is planned, with the write it started, if any:
   * `written` settles when that is done (the loader holds later states until then). Wrapped,
   * because a promise resolved with a promise would wait for it. `memberWrite` gives the write of
   * this run's member batch (the engage load) that holds the person, keyed by lower-cased address:
   * their tag waits for it, so someone this run adds is tagged in this run.
   */
  async member(record: JsonObject, source: RowSource, onRow: (row: RowOutcome) => void, memberWrite?: (key: string) => Promise<void> | undefined): Promise<Pending | undefined> {
    const id = Number(record.cohort_id);
    if (!Number.isInteger(id)) {
      onRow({ outcome: 'rejected', source, reason: 'no cohort_id' });
      return undefined;
    }
    const recordName = typeof record.cohort_name === 'string' ? record.cohort_name : null;
    const run = this.runFor(id, this.listed.get(id) ?? recordName);
    if (!run) return undefined;
    await run.ready;
    const raw = normaliseEmail(findEmail(record, this.o.emailProperty));
    if (raw === undefined) {
      run.noEmail++;
      onRow({ outcome: 'rejected', source, reason: REASONS.noEmail, detail: `cohort ${id} member ${String(record.distinct_id ?? '')}` });
      return undefined;
    }
    const address = mailchimpAddress(raw);
    if (!address.ok) {
      run.rejected++;
      onRow({ outcome: 'rejected', source, email: raw, reason: address.reason, detail: address.detail });
      return undefined;
    }
    const email = address.email;
    const hash = subscriberHash(email);
    if (!run.members.add(hash)) {
      onRow({ outcome: 'skipped', source, email, reason: `listed twice in cohort ${id}` });
      return undefined;
    }
    if (run.holders.has(hash)) {
      run.kept++;
      onRow({ outcome: 'unchanged', source, email });
      return undefined;
    }
    // Archived contacts are outside the audience, and a tag's member list never shows them: tagged,
    // they would be tagged again every run and never untagged. They are left alone.
    if ((await this.archivedMembers()).has(hash)) {
      run.archived++;
      onRow({ outcome: 'skipped', source, email, reason: REASONS.archived });
      return undefined;
    }
    const newMember = this.o.settings.addMissing ? this.newMember(record) : undefined;
    const before = memberWrite?.(email.toLowerCase());
    if (this.o.dryRun) {
      if (before) return { written: before.then(() => this.planGain(run, hash, email, source, onRow, newMember)) };
      await this.planGain(run, hash, email, source, onRow, newMember);
      return undefined;
    }
    return { written: this.gain(run, hash, email, source, onRow, newMember, before) };
  }

  /** The merge fields a cohort member not in the audience is created with (the planner's rules for a create). */
  private newMember(record: JsonObject): NewMember {
    const desired = desiredMergeFields(record, this.o.mergeMappings ?? [], this.fieldsByTag);
    const invalid = desired.problems[0];
    const missing = invalid ? undefined : missingRequired(desired.values, this.o.mergeFields ?? [])[0];
    const problem = invalid ?? missing;
    if (!problem) return { mergeFields: desired.values };
    return { mergeFields: desired.values, problem: { reason: invalid ? REASONS.mergeFields : REASONS.requiredMissing, field: problem.field, detail: problem.message } };
  }

  /** ACTIVATE_VERSION of cohort_members: this run read every cohort whole; the tags lose those who left. */
  async membersComplete(version: number): Promise<Pending> {
    const list = this.lists.get(version) ?? this.completeList;
    const ids = new Set<number>([...this.runs.keys()]);
    for (const id of list?.keys() ?? []) ids.add(id);
    // Removals already sent are waited for while the next cohort's holders are read, and also
    // when that read fails: none may fail with nobody waiting for it.
    const writes: Array<Promise<void>> = [];
    try {
      for (const id of [...ids].sort((a, b) => a - b)) {
        const run = this.runFor(id, list?.get(id) ?? this.listed.get(id) ?? null);
        if (!run) continue;
        await run.ready;
        run.complete = true;
        for (const hash of run.holders) {
          if (run.members.has(hash)) continue;
          if (this.o.dryRun) {
            run.lost++;
            run.wouldLose.push(run.holderEmails?.get(hash) ?? hash);
            continue;
          }
          writes.push(awaitedLater(this.lose(run, hash)));
        }
      }
    } catch (err) {
      await Promise.allSettled(writes);
      throw err;
    }
    return { written: settleAll(writes).then(() => undefined) };
  }

  /**
   * At the end of the input, when no complete cohort list came to check cohort_tags against: what
   * it names that this run never saw (a warning, not an error: the run cannot tell whether the
   * project has such a cohort).
   */
  warnings(): string[] {
    if (this.completeList) return [...this.gone];
    if (this.listed.size === 0 && !this.membersSeen) {
      return ['"cohort_tags" is set, but the input had no cohorts or cohort_members records: select both streams in tap-mixpanel\'s catalog, or no cohort becomes a tag'];
    }
    const seen: Array<[number, string | null]> = [...this.listed, ...[...this.runs.values()].map((run): [number, string | null] => [run.id, run.name])];
    const matched = (entry: string): boolean => seen.some(([id, name]) => String(id) === entry || name?.trim().toLowerCase() === entry.trim().toLowerCase());
    return (this.o.settings.wanted ?? [])
      .filter((entry) => !matched(entry))
      .map((entry) => `"cohort_tags" names "${entry}", which no cohort in this input matched (without the cohorts stream's complete list, the run cannot tell whether the project has it: select the cohorts stream too)`);
  }

  /** At the end of the input: records which tag each cohort has now, and what this run did. */
  finish(): CohortSummary[] {
    const at = (this.o.now ?? (() => new Date()))().toISOString();
    if (!this.o.dryRun) for (const run of this.runs.values()) this.o.registry.set(run.id, { tag: run.tag, name: run.name, seen_at: at });
    const summaries: CohortSummary[] = [...this.runs.values()]
      .sort((a, b) => a.id - b.id)
      .map((run) => ({
        id: run.id,
        name: run.name,
        tag: run.tag,
        complete: run.complete,
        gained: run.gained,
        kept: run.kept,
        lost: run.lost,
        added: run.added,
        notInAudience: run.notInAudience,
        archived: run.archived,
        noEmail: run.noEmail,
        rejected: run.rejected,
        ...(this.o.dryRun ? { wouldGain: run.wouldGain, wouldLose: run.wouldLose } : {}),
      }));
    for (const s of summaries) {
      this.o.log.info(
        `cohort ${s.id} "${s.name ?? '?'}" -> tag "${s.tag}": ${this.o.dryRun ? 'would gain' : 'gained'} ${s.gained}${s.added ? ` (${s.added} added to the audience)` : ''}, kept ${s.kept}, ${this.o.dryRun ? 'would lose' : 'lost'} ${s.lost}${s.complete ? '' : ' (membership not complete in this run: nobody removed)'}` +
          `${s.notInAudience ? `, ${s.notInAudience} not in the audience` : ''}${s.archived ? `, ${s.archived} archived (left alone)` : ''}${s.noEmail ? `, ${s.noEmail} without an email` : ''}${s.rejected ? `, ${s.rejected} rejected` : ''}`,
      );
      if (this.o.dryRun) {
        const show = (list: string[] | undefined) => (list ?? []).slice(0, 10).join(', ') + ((list?.length ?? 0) > 10 ? `, and ${(list?.length ?? 0) - 10} more` : '');
        if (s.wouldGain?.length) this.o.log.info(`plan: cohort ${s.id}: would gain "${s.tag}": ${show(s.wouldGain)}`);
        if (s.wouldLose?.length) this.o.log.info(`plan: cohort ${s.id}: would lose "${s.tag}": ${show(s.wouldLose)}`);
      }
    }
    return summaries;
  }

  /** The run of a selected cohort (created, with its tag's holders loading, on first sight). */
  private runFor(id: number, name: string | null): CohortRun | undefined {
    const existing = this.runs.get(id);
    if (existing) return existing;
    const entry = this.o.registry.get(id);
    // Without a name (the cohorts stream deselected) the registry's tag is the cohort's tag.
    if (!this.o.settings.selected(id, name ?? entry?.name ?? null)) return undefined;
    const tag = name === null && entry ? entry.tag : this.o.settings.tagFor(id, name);
    const run: CohortRun = {
      id,
      name: name ?? entry?.name ?? null,
      tag,
      holders: new HashSet(),
      ...(this.o.dryRun ? { holderEmails: new Map<string, string>() } : {}),
      ready: Promise.resolve(),
      members: new HashSet(),
      complete: false,
      wouldGain: [],
      wouldLose: [],
      ...zero(),
    };
    run.ready = this.prepare(run, entry?.tag);
    this.runs.set(id, run);
    return run;
  }

  private archived: Promise<HashSet> | undefined;

  /** The audience's archived contacts (one read per run: typically a few percent of it). */
  private archivedMembers(): Promise<HashSet> {
    this.archived ??= (async () => {
      const set = new HashSet();
      const count = 1000;
      const read = async (offset: number): Promise<number> => {
        const page = await this.o.api.listMembers(this.o.listId, { count, offset, status: 'archived', fields: ['members.id', 'members.email_address', 'total_items'] });
        for (const m of page.members) set.add(Audience.hashOf(m));
        return page.total_items ?? page.members.length;
      };
      const total = await read(0);
      const offsets: number[] = [];
      for (let offset = count; offset < total; offset += count) offsets.push(offset);
      await Promise.all(offsets.map((offset) => this.limit(() => read(offset))));
      return set;
    })();
    return this.archived;
  }

  private tagsByName(): Promise<Map<string, TagInfo>> {
    this.tags ??= this.o.api.listTags(this.o.listId).then((tags) => new Map(tags.map((t) => [t.name.trim().toLowerCase(), t])));
    return this.tags;
  }

  /** Renames the tag if the cohort was renamed, then reads who holds it. */
  private async prepare(run: CohortRun, previousTag: string | undefined): Promise<void> {
    const tags = await this.tagsByName();
    let current = tags.get(run.tag.toLowerCase());
    if (previousTag && previousTag.toLowerCase() !== run.tag.toLowerCase()) {
      const old = tags.get(previousTag.toLowerCase());
      if (old && !current) {
        if (this.o.dryRun) {
          this.o.log.info(`plan: cohort ${run.id} was renamed: its tag "${previousTag}" would be renamed "${run.tag}"`);
          current = old;
        } else {
          this.o.log.info(`cohort ${run.id} was renamed: renaming its tag "${previousTag}" to "${run.tag}" (members and automations stay)`);
          const renamed = await this.o.api.renameTag(this.o.listId, old.id, run.tag);
          // Remembered at once: a run that fails later must not look for the old name again.
          this.o.registry.set(run.id, { tag: run.tag, name: run.name, seen_at: (this.o.now ?? (() => new Date()))().toISOString() });
          tags.delete(previousTag.toLowerCase());
          current = { ...old, ...renamed, name: run.tag };
          tags.set(run.tag.toLowerCase(), current);
        }
      } else if (old && current) {
        this.o.log.warn(`cohort ${run.id} was renamed, but both "${previousTag}" and "${run.tag}" exist as tags: the old one is left as it is`);
      }
    }
    if (current) await this.readHolders(current, run);
  }

  private async readHolders(tag: TagInfo, into: { holders: HashSet; holderEmails?: Map<string, string> }): Promise<void> {
    const count = 1000;
    const read = async (offset: number): Promise<number> => {
      const page = await this.o.api.tagMembers(this.o.listId, tag.id, { count, offset });
      for (const m of page.members) {
        const hash = Audience.hashOf(m);
        into.holders.add(hash);
        into.holderEmails?.set(hash, m.email_address);
      }
      return page.total_items ?? page.members.length;
    };
    const total = await read(0);
    const offsets: number[] = [];
    for (let offset = count; offset < total; offset += count) offsets.push(offset);
    await Promise.all(offsets.map((offset) => this.limit(() => read(offset))));
  }

  private tagOp(run: CohortRun, hash: string, status: 'active' | 'inactive') {
    return tagsUpdate(this.o.listId, hash, [{ name: run.tag, status }], { automations: this.o.settings.automations });
  }

  private gain(run: CohortRun, hash: string, email: string, source: RowSource, onRow: (row: RowOutcome) => void, newMember: NewMember | undefined, before?: Promise<void>): Promise<void> {
    const answered = before ? before.then(() => this.o.queue.enqueue(this.tagOp(run, hash, 'active'))) : this.o.queue.enqueue(this.tagOp(run, hash, 'active'));
    const written = answered.then(async (answer) => {
      if (answer.status === 404) {
        if (!newMember) {
          // Rejected, not skipped: the rejects file is where these people are named.
          run.notInAudience++;
          onRow({ outcome: 'rejected', source, email, reason: REASONS.notInAudience });
          return;
        }
        if (newMember.problem) {
          run.rejected++;
          onRow({ outcome: 'rejected', source, email, ...newMember.problem });
          return;
        }
        const added = await this.o.subscribe.enqueue({ email_address: email, status: this.o.statusIfNew, ...(Object.keys(newMember.mergeFields).length > 0 ? { merge_fields: newMember.mergeFields } : {}) });
        if (added.kind === 'refused' || added.kind === 'failed') {
          const outcome = added.kind === 'refused' ? added.outcome : 'rejected';
          if (outcome === 'skipped') run.notInAudience++;
          else run.rejected++;
          onRow({ outcome, source, email, reason: added.reason, ...(added.detail ? { detail: added.detail } : {}) });
          return;
        }
        answer = await this.o.queue.enqueue(this.tagOp(run, hash, 'active'));
        if (this.judge(run, answer, source, email, onRow)) {
          run.gained++;
          if (added.kind === 'created') run.added++;
          onRow(added.kind === 'created' ? { outcome: 'created', source, email, mergeFields: newMember.mergeFields } : { outcome: 'updated', source, email });
        }
        return;
      }
      if (this.judge(run, answer, source, email, onRow)) {
        run.gained++;
        onRow({ outcome: 'updated', source, email });
      }
    });
    return written;
  }

  /** Whether a tag answer took; a refusal is reported as the row's outcome. */
  private judge(run: CohortRun, answer: OperationAnswer, source: RowSource, email: string, onRow: (row: RowOutcome) => void): boolean {
    if (isTransient(answer)) {
      run.rejected++;
      onRow({ outcome: 'rejected', source, email, reason: 'Mailchimp kept failing this member', detail: `status ${answer.status}` });
      return false;
    }
    const verdict = judgeAnswer(this.tagOp(run, '', 'active'), answer);
    if (verdict.ok) return true;
    run.rejected++;
    onRow({ outcome: verdict.outcome, source, email, reason: verdict.reason, ...(verdict.detail ? { detail: verdict.detail } : {}) });
    return false;
  }

  private async planGain(run: CohortRun, hash: string, email: string, source: RowSource, onRow: (row: RowOutcome) => void, newMember: NewMember | undefined): Promise<undefined> {
    await this.o.knowledge?.prepare([hash]);
    const member = this.o.audience?.get(hash);
    if (!member && !newMember) {
      run.notInAudience++;
      onRow({ outcome: 'rejected', source, email, reason: REASONS.notInAudience });
      return undefined;
    }
    if (!member && newMember?.problem) {
      run.rejected++;
      onRow({ outcome: 'rejected', source, email, ...newMember.problem });
      return undefined;
    }
    if (!member) run.added++;
    run.gained++;
    run.wouldGain.push(email);
    onRow({ outcome: member ? 'updated' : 'created', source, email, ...(member ? {} : { mergeFields: newMember?.mergeFields ?? {} }) });
    return undefined;
  }

  private async lose(run: CohortRun, hash: string): Promise<void> {
    const answer = await this.o.queue.enqueue(this.tagOp(run, hash, 'inactive'));
    // 404: they left the audience meanwhile, so they hold the tag no more either.
    if (answer.status < 300) run.lost++;
    else if (answer.status !== 404) this.o.log.warn(`cohort ${run.id}: the tag "${run.tag}" could not be removed from a member (${answer.status})`);
  }

  private async clearDeletedTag(id: number, tagName: string): Promise<void> {
    const tag = (await this.tagsByName()).get(tagName.toLowerCase());
    if (!tag) return;
    const holders = { holders: new HashSet(), holderEmails: new Map<string, string>() };
    await this.readHolders(tag, holders);
    this.o.log.info(`cohort ${id} is gone from Mixpanel: ${this.o.dryRun ? 'would clear' : 'clearing'} its tag "${tagName}" from ${holders.holders.size} members (cohort_clear_deleted)`);
    if (this.o.dryRun) return;
    const answers = await Promise.all(
      [...holders.holders].map((hash) => this.o.queue.enqueue(tagsUpdate(this.o.listId, hash, [{ name: tagName, status: 'inactive' }], { automations: this.o.settings.automations }))),
    );
    const failed = answers.filter((a) => a.status >= 300 && a.status !== 404).length;
    if (failed > 0) this.o.log.warn(`cohort ${id}: the tag "${tagName}" could not be removed from ${failed} members`);
  }
}
