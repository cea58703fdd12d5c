/**
 * list_members: every member of each audience, in every status (archived included), with merge
 * fields typed by the audience's merge fields, tags, interests, marketing permissions, language,
 * VIP and time stamps. Key list_id + id (the subscriber hash).
 *
 * INCREMENTAL on last_changed (the default), a bookmark per audience (state partitions
 * {"list_id": ...}): the first run reads everyone (or those changed since start_date), later
 * runs the members changed since the audience's bookmark. The window [bookmark, end) is fixed
 * when the audience's read starts (members/window.ts) and read by members/pager.ts, which
 * neither skips nor repeats anyone while members change during the run; the bookmark moves to
 * the end of the part of the window read and checked, and to the window's end once all of it
 * was. A page that keeps failing (after the HTTP layer's retries) fails the run with the state
 * before it.
 *
 * FULL_TABLE reads every member each run and clears the bookmark. Its window ends at the run's
 * start without a settle margin, and members who changed while it was read (so left its
 * window) are read in a short window after it, until one finds nobody new.
 *
 * Tag changes: whether Mailchimp moves last_changed when only a member's tags change is not
 * documented; if it does not, such a change reaches the next incremental run only with another
 * change of the member, and a FULL_TABLE run picks it up (README: tap-mailchimp, "What moves
 * last_changed").
 */
import { errorMessage } from '../../../errors/index.js';
import { loadSchema } from '../../../schemas/index.js';
import type { ValueProblem } from '../merge-field-types.js';
import { memberFields, PROBE_FIELDS } from '../members/fields.js';
import { WindowPager, type PageSource } from '../members/pager.js';
import { memberRecord, needsAllTags, type MemberRecordContext } from '../members/records.js';
import { describeRange, floorSecond, isEmptyRange, isoSecond, membersWindow, rangeQuery, type TimeRange } from '../members/window.js';
import type { RawList, RawMember } from '../raw.js';
import type { MailchimpStreamDefinition, MailchimpSyncContext, StreamOutput } from './types.js';

const STREAM = 'list_members';
export const LAST_CHANGED = 'last_changed';
/** Windows after a FULL_TABLE read's first, for members who changed while it was read. */
const MAX_CATCH_UP_WINDOWS = 5;

export function memberPageSource(ctx: MailchimpSyncContext, listId: string, fields: readonly string[]): PageSource {
  return {
    page: (pass, range, offset, count) =>
      ctx.client.membersPage(listId, { count, offset, fields, ...rangeQuery(range), ...(pass === 'archived' ? { status: 'archived' as const } : {}) }),
    probe: async (pass, range, offset) => {
      const page = await ctx.client.membersPage(listId, {
        count: 1,
        offset,
        fields: PROBE_FIELDS,
        ...rangeQuery(range),
        ...(pass === 'archived' ? { status: 'archived' as const } : {}),
        sortField: 'last_changed',
        sortDir: 'ASC',
      });
      return { lastChanged: page.members?.[0]?.last_changed, total: page.total_items };
    },
  };
}

/** A member document cut at 50 tags gets all of them (one call for each such member). */
async function withAllTags(ctx: MailchimpSyncContext, listId: string, members: RawMember[], tagsSelected: boolean): Promise<RawMember[]> {
  if (!tagsSelected || !members.some(needsAllTags)) return members;
  return Promise.all(members.map(async (m) => (needsAllTags(m) ? { ...m, tags: await ctx.client.memberTags(listId, m.id) } : m)));
}

interface AudienceRead {
  list: RawList;
  window: TimeRange;
  fields: readonly string[];
  record: MemberRecordContext;
  /** Bookmarks after each checked part of the window (INCREMENTAL). */
  bookmarks: boolean;
  count: number;
}

async function* readWindow(ctx: MailchimpSyncContext, read: AudienceRead): AsyncGenerator<StreamOutput> {
  const { config } = ctx;
  const listId = read.list.id;
  ctx.progress?.(`audience ${listId} ${describeRange(read.window)}`);
  const pager = new WindowPager(memberPageSource(ctx, listId, read.fields), read.window, {
    pageSize: config.page_size,
    sliceMembers: config.slice_members,
    concurrency: config.max_concurrency,
    log: ctx.log,
    label: `list_members: audience ${listId}`,
    signal: ctx.signal,
  });
  const tagsSelected = read.fields.includes('members.tags');
  for await (const out of pager.run()) {
    if (out.kind === 'members') {
      const members = await withAllTags(ctx, listId, out.members, tagsSelected);
      read.count += members.length;
      yield { kind: 'records', records: members.map((m) => memberRecord(m, read.record)) };
    } else if (read.bookmarks) {
      yield { kind: 'bookmark', bookmark: { replication_key: LAST_CHANGED, replication_key_value: isoSecond(out.to) }, context: { list_id: listId } };
    }
    if (ctx.signal.aborted) return;
  }
}

function problemCounter(ctx: MailchimpSyncContext, listId: string): { onValueProblem: (p: ValueProblem) => void; report: () => void } {
  const byTag = new Map<string, { n: number; example: unknown }>();
  return {
    onValueProblem: (p) => byTag.set(p.tag, { n: (byTag.get(p.tag)?.n ?? 0) + 1, example: byTag.get(p.tag)?.example ?? p.value }),
    report: () => {
      for (const [tag, { n, example }] of byTag) {
        ctx.problem(`list_members: audience ${listId}: ${n} values of merge field ${tag} did not fit its type (e.g. ${JSON.stringify(example)}) and were sent as null`);
      }
    },
  };
}

async function* syncAudience(ctx: MailchimpSyncContext, list: RawList): AsyncGenerator<StreamOutput, number> {
  const incremental = ctx.replication.method === 'INCREMENTAL';
  const bookmark = incremental ? ctx.state.get(STREAM, { list_id: list.id })?.replication_key_value : undefined;
  const window = membersWindow({ bookmark, startDate: ctx.config.start_date, nowMs: ctx.client.serverNowMs(), settleSeconds: incremental ? ctx.config.last_changed_settle_seconds : 0 });
  if (isEmptyRange(window)) {
    ctx.log.info(`list_members: audience ${list.id}: nothing to read yet (bookmark ${String(bookmark)} is at or after the window's end ${isoSecond(window.to)})`);
    return 0;
  }
  const mergeFields = new Map((await ctx.audiences.mergeFields(list.id)).map((f) => [f.tag, f]));
  const problems = problemCounter(ctx, list.id);
  const read: AudienceRead = {
    list,
    window,
    fields: memberFields(ctx.schema.full, ctx.schema.selected),
    record: { listId: list.id, mergeFields, onValueProblem: problems.onValueProblem },
    bookmarks: incremental,
    count: 0,
  };
  ctx.log.info(`list_members: audience ${list.id} ("${list.name ?? ''}"): members changed in ${describeRange(window)}`, { replication: ctx.replication.method });
  yield* readWindow(ctx, read);
  for (let extra = 0; !incremental && extra < MAX_CATCH_UP_WINDOWS && !ctx.signal.aborted; extra++) {
    const before = read.count;
    read.window = { from: read.window.to, to: floorSecond(ctx.client.serverNowMs()) };
    if (isEmptyRange(read.window)) break;
    yield* readWindow(ctx, read);
    if (read.count === before) break;
  }
  problems.report();
  return read.count;
}

async function* syncListMembers(ctx: MailchimpSyncContext): AsyncGenerator<StreamOutput> {
  for (const list of await ctx.audiences.lists()) {
    try {
      const count = yield* syncAudience(ctx, list);
      ctx.log.info(`list_members: audience ${list.id}: ${count} members`);
    } catch (err) {
      // A stop request ends waits and requests with an error: the engine writes the last state.
      if (ctx.signal.aborted) {
        ctx.log.debug(`list_members: stopped (${errorMessage(err)})`);
        return;
      }
      throw err;
    }
    if (ctx.signal.aborted) return;
  }
  if (ctx.replication.method === 'FULL_TABLE') yield { kind: 'complete' };
}

export const listMembersStream: MailchimpStreamDefinition = {
  name: STREAM,
  keyProperties: ['list_id', 'id'],
  replicationMethod: 'INCREMENTAL',
  replicationKey: LAST_CHANGED,
  validReplicationKeys: [LAST_CHANGED],
  selectedByDefault: true,
  asksOnlyForSelected: true,
  baseSchema: () => loadSchema('streams/mailchimp/list_members.json'),
  sync: syncListMembers,
};
