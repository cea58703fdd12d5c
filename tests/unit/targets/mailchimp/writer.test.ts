import { describe, expect, it } from '@jest/globals';
import { HttpError } from '../../../../src/http/errors.js';
import type { Logger } from '../../../../src/log/logger.js';
import type {
  BatchOperationResult,
  BatchStatus,
  TagInfo,
  TagMembersPage,
  BatchMemberError,
  BatchMemberInput,
  BatchResult,
  ListInfo,
  MailchimpApi,
  MemberInfo,
  MembersPage,
  MergeField,
} from '../../../../src/targets/mailchimp/api/api.js';
import { Audience } from '../../../../src/targets/mailchimp/audience/audience.js';
import { AudienceKnowledge } from '../../../../src/targets/mailchimp/audience/audience-knowledge.js';
import { OperationQueue } from '../../../../src/targets/mailchimp/writing/batch-queue.js';
import { SubscribeQueue } from '../../../../src/targets/mailchimp/writing/subscribe-queue.js';
import { Suppressions } from '../../../../src/targets/mailchimp/reports/files.js';
import { REASONS } from '../../../../src/targets/mailchimp/reports/outcomes.js';
import { desiredMemberKey, type DesiredMember, type PlannedWrite } from '../../../../src/targets/mailchimp/writing/planner.js';
import { applyPlan, type WriteContext } from '../../../../src/targets/mailchimp/writing/writer.js';

type Call =
  | { method: 'batchSubscribe'; listId: string; members: BatchMemberInput[]; updateExisting: boolean }
  | { method: 'getMember'; listId: string; hash: string }
  | { method: 'updateMember'; listId: string; hash: string; body: Record<string, unknown> }
  | { method: 'updateTags'; listId: string; hash: string; tags: Array<{ name: string; status: string }> };

type BatchAnswer = (members: BatchMemberInput[], attempt: number) => Partial<BatchResult>;

/** A MailchimpApi that records every call and answers as each test scripts it. */
class FakeApi implements MailchimpApi {
  readonly log: Call[] = [];
  private batchCalls = 0;
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly answers: {
      batch?: BatchAnswer;
      update?: (hash: string, body: { merge_fields: Record<string, unknown> }) => MemberInfo | Error;
      /** What a lookup finds (undefined: not a member). */
      lookup?: (hash: string) => MemberInfo | undefined;
      tags?: (hash: string) => Error | undefined;
      /** Hold update calls until released (to observe concurrency). */
      gate?: Promise<void>;
    } = {},
  ) {}

  get calls(): number {
    return this.log.length;
  }

  get callsByKind(): Record<string, number> {
    const kinds: Record<string, number> = {};
    for (const call of this.log) kinds[call.method] = (kinds[call.method] ?? 0) + 1;
    return kinds;
  }

  async getMember(listId: string, hash: string): Promise<MemberInfo | undefined> {
    this.log.push({ method: 'getMember', listId, hash });
    return this.answers.lookup?.(hash);
  }

  startBatch(): Promise<BatchStatus> {
    throw new Error('these tests write directly');
  }
  getBatch(): Promise<BatchStatus> {
    throw new Error('these tests write directly');
  }
  batchResults(): AsyncIterable<BatchOperationResult> {
    throw new Error('these tests write directly');
  }
  listTags(): Promise<TagInfo[]> {
    throw new Error('not used by the writer');
  }
  tagMembers(): Promise<TagMembersPage> {
    throw new Error('not used by the writer');
  }
  renameTag(): Promise<TagInfo> {
    throw new Error('not used by the writer');
  }
  removeMember(): Promise<void> {
    throw new Error('not used by the writer');
  }

  ping(): Promise<void> {
    throw new Error('not used by the writer');
  }
  getList(): Promise<ListInfo> {
    throw new Error('not used by the writer');
  }
  getMergeFields(): Promise<MergeField[]> {
    throw new Error('not used by the writer');
  }
  listMembers(): Promise<MembersPage> {
    throw new Error('not used by the writer');
  }

  async batchSubscribe(listId: string, members: BatchMemberInput[], options: { updateExisting: boolean }): Promise<BatchResult> {
    this.log.push({ method: 'batchSubscribe', listId, members: structuredClone(members), updateExisting: options.updateExisting });
    this.batchCalls++;
    const answer =
      this.answers.batch?.(members, this.batchCalls) ??
      ({ new_members: members.map((m) => ({ email_address: m.email_address, status: m.status as MemberInfo['status'] })) } satisfies Partial<BatchResult>);
    return { new_members: [], updated_members: [], errors: [], total_created: 0, total_updated: 0, error_count: 0, ...answer };
  }

  async updateMember(listId: string, hash: string, body: { merge_fields: Record<string, unknown> }): Promise<MemberInfo> {
    this.log.push({ method: 'updateMember', listId, hash, body: structuredClone(body) });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.answers.gate) await this.answers.gate;
      const answer = this.answers.update?.(hash, body) ?? { email_address: 'x@example.org', status: 'subscribed' };
      if (answer instanceof Error) throw answer;
      return answer;
    } finally {
      this.inFlight--;
    }
  }

  async updateTags(listId: string, hash: string, tags: Array<{ name: string; status: 'active' | 'inactive' }>): Promise<void> {
    this.log.push({ method: 'updateTags', listId, hash, tags: structuredClone(tags) });
    const problem = this.answers.tags?.(hash);
    if (problem) throw problem;
  }

  addMember(): Promise<MemberInfo> {
    return Promise.reject(new Error('these tests create members with batch subscribe only'));
  }

  getInterestCategories(): Promise<[]> {
    return Promise.resolve([]);
  }
}

class FakeLog implements Logger {
  readonly lines: Array<[string, string]> = [];
  debug(m: string): void {
    this.lines.push(['debug', m]);
  }
  info(m: string): void {
    this.lines.push(['info', m]);
  }
  warn(m: string): void {
    this.lines.push(['warn', m]);
  }
  error(m: string): void {
    this.lines.push(['error', m]);
  }
  child(): Logger {
    return this;
  }
}

let line = 0;
function person(email: string, extra: Partial<DesiredMember> = {}): DesiredMember {
  line++;
  return { ...desiredMemberKey(email), email, mergeFields: { FNAME: 'Ada' }, mergeProblems: [], tags: [], source: { line, stream: 'engage', key: `["u${line}"]` }, ...extra };
}

const TAG_RULES = { staticTags: [], properties: ['plan'] };

/** A write context over the fake: every operation goes out as a direct call (see batch-queue.test.ts for batches). */
function context(api: FakeApi, extra: Partial<WriteContext> & { concurrency?: number; attempts?: number } = {}): WriteContext & { log: FakeLog } {
  const { concurrency, attempts, ...rest } = extra;
  const log = new FakeLog();
  const audience = new Audience([{ tag: 'FNAME', type: 'text' }, { tag: 'LNAME', type: 'text' }], TAG_RULES);
  return {
    api,
    listId: 'L1',
    statusIfNew: 'pending',
    mode: 'upsert',
    audience,
    knowledge: new AudienceKnowledge({ api, listId: 'L1', audience, total: 0, concurrency: 4, log }),
    queue: new OperationQueue({ api, log, maxOperations: 1000, directBelow: Number.POSITIVE_INFINITY, flushMs: 0, concurrency: concurrency ?? 4 }),
    subscribe: new SubscribeQueue({ api, listId: 'L1', log, flushMs: 0, ...(attempts ? { attempts } : {}) }),
    tagRules: TAG_RULES,
    suppressions: new Suppressions(),
    log,
    ...rest,
  } as WriteContext & { log: FakeLog };
}

/** A member as a lookup finds them. */
const found = (email: string, extra: Partial<MemberInfo> = {}): MemberInfo => ({ email_address: email, status: 'subscribed', merge_fields: { FNAME: 'Ada' }, tags: [], ...extra });

const httpError = (status: number | undefined, serviceMessage?: string, code?: string) =>
  new HttpError({ method: 'PATCH', url: 'http://127.0.0.1/3.0/lists/L1/members/h', ...(status !== undefined ? { status } : {}), ...(serviceMessage ? { serviceMessage } : {}), ...(code ? { code } : {}) });

const batchError = (email: string, error: string, extra: Partial<BatchMemberError> = {}): BatchMemberError => ({ email_address: email, error, error_code: 'ERROR_GENERIC', ...extra });
const EXISTS = (email: string) => batchError(email, `${email} is already a list member. Use PUT to insert or update list members.`, { error_code: 'ERROR_CONTACT_EXISTS' });
const TRANSIENT = (email: string) => batchError(email, 'An unexpected internal error has occurred. Please contact Support for more information.');

/**
 * Consent: the only call that carries a status is batch subscribe without update_existing (it
 * creates, and refuses anyone who exists); PATCHes carry merge fields only and name existing people.
 */
function expectNoStatusForExisting(api: FakeApi, existingEmails: string[]): void {
  const existingHashes = new Set(existingEmails.map((e) => desiredMemberKey(e).hash));
  for (const call of api.log) {
    if (call.method === 'batchSubscribe') {
      expect(call.updateExisting).toBe(false);
      continue;
    }
    expect(JSON.stringify(call)).not.toMatch(/"status":"(subscribed|pending|unsubscribed|cleaned|transactional|archived)"/);
    if (call.method === 'updateMember') {
      expect(Object.keys(call.body)).toEqual(['merge_fields']);
      expect(existingHashes.has(call.hash)).toBe(true);
    }
  }
}

const byOutcome = (outcomes: Awaited<ReturnType<typeof applyPlan>>) => Object.fromEntries(outcomes.map((o) => [o.email, o]));

describe('applyPlan: outcomes that need no call', () => {
  it('unchanged, skip and reject are reported as planned, without a single call', async () => {
    const api = new FakeApi();
    const [a, b, c] = [person('a@example.org'), person('b@example.org'), person('c@example.org')];
    const plan: PlannedWrite[] = [
      { kind: 'unchanged', member: a },
      { kind: 'skip', member: b, reason: REASONS.unsubscribed },
      { kind: 'reject', member: c, reason: REASONS.mergeFields, field: 'LTV', detail: 'needs a number' },
    ];
    const outcomes = await applyPlan(plan, context(api));
    expect(api.log).toEqual([]);
    expect(outcomes).toEqual([
      { outcome: 'unchanged', source: a.source, email: 'a@example.org' },
      { outcome: 'skipped', source: b.source, email: 'b@example.org', reason: REASONS.unsubscribed },
      { outcome: 'rejected', source: c.source, email: 'c@example.org', reason: REASONS.mergeFields, field: 'LTV', detail: 'needs a number' },
    ]);
  });
});

describe('applyPlan: new people (batch subscribe)', () => {
  it('creates everyone in one call with status_if_new and update_existing false, then writes their tags', async () => {
    const api = new FakeApi();
    const a = person('Ada@Example.org', { tags: ['plan:pro'] });
    const b = person('bob@example.org', { mergeFields: {} });
    const ctx = context(api);
    const outcomes = await applyPlan([{ kind: 'create', member: a }, { kind: 'create', member: b }], ctx);
    expect(api.log).toEqual([
      {
        method: 'batchSubscribe',
        listId: 'L1',
        updateExisting: false,
        members: [
          { email_address: 'Ada@Example.org', status: 'pending', merge_fields: { FNAME: 'Ada' } },
          { email_address: 'bob@example.org', status: 'pending' },
        ],
      },
      { method: 'updateTags', listId: 'L1', hash: a.hash, tags: [{ name: 'plan:pro', status: 'active' }] },
    ]);
    expect(outcomes.map((o) => [o.email, o.outcome])).toEqual([
      ['Ada@Example.org', 'created'],
      ['bob@example.org', 'created'],
    ]);
    expect(outcomes[0]?.mergeFields).toEqual({ FNAME: 'Ada' });
    const ada = ctx.audience.get(a.hash);
    expect([ada?.status, ada?.hasMergeValue('FNAME', 'Ada'), [...(ada?.tags ?? [])]]).toEqual(['pending', true, ['plan:pro']]);
  });

  it('matches Mailchimp\'s answer to the member whatever the case of the address', async () => {
    const api = new FakeApi({ batch: (members) => ({ new_members: members.map((m) => ({ email_address: m.email_address.toUpperCase(), status: 'pending' as const })) }) });
    const outcomes = await applyPlan([{ kind: 'create', member: person('ada@example.org') }], context(api));
    expect(outcomes.map((o) => o.outcome)).toEqual(['created']);
    expect(api.log).toHaveLength(1);
  });

  it('someone who turned out to exist counts as created (they were not in the audience before the run); what differs is written, never a status', async () => {
    const a = person('ada@example.org', { tags: ['plan:pro'], mergeFields: { FNAME: 'Ada', LNAME: 'Byron' } });
    const b = person('bob@example.org');
    const api = new FakeApi({
      batch: () => ({ new_members: [{ email_address: 'bob@example.org', status: 'pending' }], errors: [EXISTS('ada@example.org')] }),
      // Found with the first name this run sent (its first attempt's answer was lost), not the last name.
      lookup: () => found('ada@example.org', { status: 'pending', merge_fields: { FNAME: 'Ada', LNAME: '' } }),
    });
    const outcomes = byOutcome(await applyPlan([{ kind: 'create', member: a }, { kind: 'create', member: b }], context(api)));
    expect(outcomes['ada@example.org']).toMatchObject({ outcome: 'created', mergeFields: { FNAME: 'Ada', LNAME: 'Byron' } });
    expect(outcomes['bob@example.org']?.outcome).toBe('created');
    expect(api.log.filter((c) => c.method !== 'batchSubscribe')).toEqual([
      { method: 'getMember', listId: 'L1', hash: a.hash },
      { method: 'updateMember', listId: 'L1', hash: a.hash, body: { merge_fields: { LNAME: 'Byron' } } },
      { method: 'updateTags', listId: 'L1', hash: a.hash, tags: [{ name: 'plan:pro', status: 'active' }] },
    ]);
    expectNoStatusForExisting(api, ['ada@example.org']);
  });

  it('someone who turned out to exist and matches already: created, one lookup, no write', async () => {
    const api = new FakeApi({ batch: () => ({ errors: [EXISTS('ada@example.org')] }), lookup: () => found('ada@example.org') });
    const outcomes = await applyPlan([{ kind: 'create', member: person('ada@example.org') }], context(api));
    expect(outcomes.map((o) => o.outcome)).toEqual(['created']);
    expect(api.log.map((c) => c.method)).toEqual(['batchSubscribe', 'getMember']);
  });

  it.each<[MemberInfo['status'], string]>([
    ['unsubscribed', REASONS.unsubscribed],
    ['cleaned', REASONS.cleaned],
    ['archived', REASONS.archived],
  ])('someone who turned out to exist as %s meanwhile is skipped, and nothing is written to them', async (status, reason) => {
    const api = new FakeApi({ batch: () => ({ errors: [EXISTS('ada@example.org')] }), lookup: () => found('ada@example.org', { status, merge_fields: { FNAME: 'Old' } }) });
    const outcomes = await applyPlan([{ kind: 'create', member: person('ada@example.org', { tags: ['plan:pro'] }) }], context(api));
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'skipped', reason })]);
    expect(api.log.map((c) => c.method)).toEqual(['batchSubscribe', 'getMember']);
  });

  it('"exists" recognised by the text alone (no error code)', async () => {
    const api = new FakeApi({
      batch: () => ({ errors: [batchError('ada@example.org', 'ada@example.org is already a list member. Use PUT to insert or update list members.')] }),
      lookup: () => found('ada@example.org', { merge_fields: { FNAME: 'Other' } }),
    });
    const outcomes = await applyPlan([{ kind: 'create', member: person('ada@example.org') }], context(api));
    expect(outcomes.map((o) => o.outcome)).toEqual(['created']);
    expect(api.log.map((c) => c.method)).toEqual(['batchSubscribe', 'getMember', 'updateMember']);
  });

  it('add_only: someone who turned out to exist is created as far as this run goes, and nothing is written to them', async () => {
    const api = new FakeApi({ batch: () => ({ errors: [EXISTS('ada@example.org')] }), lookup: () => found('ada@example.org', { merge_fields: { FNAME: 'Other' } }) });
    const outcomes = await applyPlan([{ kind: 'create', member: person('ada@example.org', { tags: ['plan:pro'] }) }], context(api, { mode: 'add_only' }));
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'created', email: 'ada@example.org' })]);
    expect(api.log.map((c) => c.method)).toEqual(['batchSubscribe', 'getMember']);
  });

  it('a transient refusal is retried, alone; a member that then succeeds is created', async () => {
    const api = new FakeApi({
      batch: (members, attempt) =>
        attempt === 1
          ? { new_members: [{ email_address: 'a@example.org', status: 'pending' }], errors: [TRANSIENT('b@example.org')] }
          : { new_members: members.map((m) => ({ email_address: m.email_address, status: 'pending' as const })) },
    });
    const ctx = context(api);
    const outcomes = byOutcome(await applyPlan([{ kind: 'create', member: person('a@example.org') }, { kind: 'create', member: person('b@example.org') }], ctx));
    expect([outcomes['a@example.org']?.outcome, outcomes['b@example.org']?.outcome]).toEqual(['created', 'created']);
    const batches = api.log.filter((c): c is Extract<Call, { method: 'batchSubscribe' }> => c.method === 'batchSubscribe');
    expect(batches.map((c) => c.members.map((m) => m.email_address))).toEqual([['a@example.org', 'b@example.org'], ['b@example.org']]);
    expect(ctx.log.lines).toContainEqual(['warn', 'retrying 1 members Mailchimp could not take just now']);
  });

  it('a transient refusal that persists is rejected after the attempts, with the detail', async () => {
    const api = new FakeApi({ batch: () => ({ errors: [TRANSIENT('b@example.org')] }) });
    const outcomes = await applyPlan([{ kind: 'create', member: person('b@example.org') }], context(api, { attempts: 4 }));
    expect(api.log.filter((c) => c.method === 'batchSubscribe')).toHaveLength(4);
    expect(outcomes).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        reason: 'Mailchimp kept failing this member',
        detail: 'An unexpected internal error has occurred. Please contact Support for more information.',
      }),
    ]);
  });

  it('a member Mailchimp\'s answer does not mention is retried, then rejected if it never is', async () => {
    const api = new FakeApi({ batch: () => ({ new_members: [{ email_address: 'a@example.org', status: 'pending' }] }) });
    const outcomes = byOutcome(await applyPlan([{ kind: 'create', member: person('a@example.org') }, { kind: 'create', member: person('silent@example.org') }], context(api)));
    expect(outcomes['a@example.org']?.outcome).toBe('created');
    expect(outcomes['silent@example.org']).toMatchObject({ outcome: 'rejected', reason: 'Mailchimp did not confirm this member' });
    const batches = api.log.filter((c): c is Extract<Call, { method: 'batchSubscribe' }> => c.method === 'batchSubscribe');
    expect(batches.map((c) => c.members.map((m) => m.email_address))).toEqual([['a@example.org', 'silent@example.org'], ['silent@example.org'], ['silent@example.org']]);
  });

  it('a member not mentioned once and created on the retry is created exactly once', async () => {
    const api = new FakeApi({ batch: (members, attempt) => (attempt === 1 ? {} : { new_members: members.map((m) => ({ email_address: m.email_address, status: 'pending' as const })) }) });
    const outcomes = await applyPlan([{ kind: 'create', member: person('a@example.org') }], context(api));
    expect(outcomes.map((o) => o.outcome)).toEqual(['created']);
  });

  it.each<[string, string, 'skipped' | 'rejected', string]>([
    ['forgotten', 'gone@example.org was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.', 'skipped', REASONS.forgotten],
    ['fake', 'test@example.org looks fake or invalid, please enter a real email address.', 'rejected', REASONS.fake],
    ['invalid', 'Please provide a valid email address.', 'rejected', REASONS.invalidEmail],
  ])('a permanent refusal (%s) is reported once, not retried, and remembered in the suppressions', async (_what, text, outcome, reason) => {
    const member = person('gone@example.org');
    const api = new FakeApi({ batch: () => ({ errors: [batchError('gone@example.org', text, { field: 'email_address', field_message: text })] }) });
    const ctx = context(api);
    const outcomes = await applyPlan([{ kind: 'create', member }], ctx);
    expect(outcomes).toEqual([
      { outcome, source: member.source, email: 'gone@example.org', reason, field: 'email_address', detail: `${text} (email_address: ${text})` },
    ]);
    expect(api.log).toHaveLength(1);
    expect(ctx.suppressions.get(member.hash)).toEqual({ outcome, reason, at: expect.any(String) });
  });

  it('a refusal that depends on the data (merge fields) is rejected with the field, and not remembered', async () => {
    const member = person('ada@example.org');
    const api = new FakeApi({ batch: () => ({ errors: [batchError('ada@example.org', 'Your merge fields were invalid.', { field: 'LTV', field_message: 'Please enter a number' })] }) });
    const ctx = context(api);
    const outcomes = await applyPlan([{ kind: 'create', member }], ctx);
    expect(outcomes).toEqual([
      { outcome: 'rejected', source: member.source, email: 'ada@example.org', reason: REASONS.mergeFields, field: 'LTV', detail: 'Your merge fields were invalid. (LTV: Please enter a number)' },
    ]);
    expect(ctx.suppressions.size).toBe(0);
  });

  it('a compliance-state refusal is skipped but not remembered (the person may re-subscribe)', async () => {
    const member = person('ada@example.org');
    const api = new FakeApi({ batch: () => ({ errors: [batchError('ada@example.org', 'ada@example.org is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.')] }) });
    const ctx = context(api);
    expect(await applyPlan([{ kind: 'create', member }], ctx)).toEqual([expect.objectContaining({ outcome: 'skipped', reason: REASONS.compliance })]);
    expect(ctx.suppressions.size).toBe(0);
  });

  it('a refusal of the tags of a created member is a warning; the member stays created', async () => {
    const api = new FakeApi({ tags: () => httpError(400, 'Invalid Resource: tag too long') });
    const ctx = context(api);
    const outcomes = await applyPlan([{ kind: 'create', member: person('ada@example.org', { tags: ['plan:x'] }) }], ctx);
    expect(outcomes.map((o) => o.outcome)).toEqual(['created']);
    expect(ctx.log.lines.filter(([level]) => level === 'warn').map(([, m]) => m)).toEqual([expect.stringContaining('Invalid Resource: tag too long')]);
  });

  it('a failure of the whole batch call is thrown (not a per-member problem)', async () => {
    const api = new FakeApi({
      batch: () => {
        throw httpError(503);
      },
    });
    await expect(applyPlan([{ kind: 'create', member: person('ada@example.org') }], context(api))).rejects.toMatchObject({ status: 503 });
  });

  it('no tag call for created members without tags', async () => {
    const api = new FakeApi();
    await applyPlan([{ kind: 'create', member: person('ada@example.org') }], context(api));
    expect(api.log.map((c) => c.method)).toEqual(['batchSubscribe']);
  });
});

describe('applyPlan: updates of existing people', () => {
  const update = (member: DesiredMember, mergeFields: Record<string, unknown>, tags: Array<{ name: string; status: 'active' | 'inactive' }> = []): PlannedWrite => ({ kind: 'update', member, mergeFields, tags });

  it('PATCHes only the changed merge fields and sends only the tag changes; never a status', async () => {
    const api = new FakeApi();
    const member = person('ada@example.org', { mergeFields: { FNAME: 'Ada', LNAME: 'Byron' }, tags: ['plan:pro'] });
    const ctx = context(api);
    const outcomes = await applyPlan([update(member, { LNAME: 'Byron' }, [{ name: 'plan:pro', status: 'active' }, { name: 'plan:free', status: 'inactive' }])], ctx);
    expect(outcomes).toEqual([{ outcome: 'updated', source: member.source, email: 'ada@example.org' }]);
    expect(api.log).toEqual([
      { method: 'updateMember', listId: 'L1', hash: member.hash, body: { merge_fields: { LNAME: 'Byron' } } },
      { method: 'updateTags', listId: 'L1', hash: member.hash, tags: [{ name: 'plan:pro', status: 'active' }, { name: 'plan:free', status: 'inactive' }] },
    ]);
    expectNoStatusForExisting(api, ['ada@example.org']);
    expect([...(ctx.audience.get(member.hash)?.tags ?? [])]).toEqual(['plan:pro']);
  });

  it('tags only: no PATCH', async () => {
    const api = new FakeApi();
    await applyPlan([update(person('ada@example.org'), {}, [{ name: 'plan:pro', status: 'active' }])], context(api));
    expect(api.log.map((c) => c.method)).toEqual(['updateTags']);
  });

  it('merge fields only: no tag call', async () => {
    const api = new FakeApi();
    await applyPlan([update(person('ada@example.org'), { FNAME: 'Ada' })], context(api));
    expect(api.log.map((c) => c.method)).toEqual(['updateMember']);
  });

  it('404: the member left the audience since it was read: skipped (its tag change went out alongside, as in a batch)', async () => {
    const api = new FakeApi({ update: () => httpError(404, 'Resource Not Found: The requested resource could not be found.') });
    const outcomes = await applyPlan([update(person('ada@example.org'), { FNAME: 'Ada' }, [{ name: 'plan:pro', status: 'active' }])], context(api));
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'skipped', reason: REASONS.vanished, detail: 'Resource Not Found: The requested resource could not be found.' })]);
    expect(api.log.map((c) => c.method)).toEqual(['updateMember', 'updateTags']);
  });

  it('400 on the merge fields: rejected with Mailchimp\'s detail', async () => {
    const api = new FakeApi({ update: () => httpError(400, 'Invalid Resource: Your merge fields were invalid.') });
    const outcomes = await applyPlan([update(person('ada@example.org'), { LTV: 'x' })], context(api));
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'rejected', reason: REASONS.mergeFields, detail: 'Invalid Resource: Your merge fields were invalid.' })]);
  });

  it('400 with an unknown text: rejected with the status and the detail', async () => {
    const api = new FakeApi({ update: () => httpError(400, 'Member Exists: weird') });
    const outcomes = await applyPlan([update(person('ada@example.org'), { LTV: 'x' })], context(api));
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'rejected', reason: 'Mailchimp refused the update (400)', detail: 'Member Exists: weird' })]);
  });

  it('a refusal of the tags rejects the row with the detail', async () => {
    const api = new FakeApi({ tags: () => httpError(400, 'Invalid Resource: bad tag') });
    const member = person('ada@example.org');
    const outcomes = await applyPlan([update(member, {}, [{ name: 'plan:x', status: 'active' }])], context(api));
    expect(outcomes).toEqual([
      { outcome: 'rejected', source: member.source, email: 'ada@example.org', reason: 'tags not accepted', detail: 'Invalid Resource: bad tag' },
    ]);
  });

  it.each<[string, HttpError | Error]>([
    ['500', httpError(500, 'Internal Server Error')],
    ['503', httpError(503)],
    ['429', httpError(429, 'Too Many Requests')],
    ['a network error', httpError(undefined, undefined, 'ECONNRESET')],
    ['a bug', new TypeError('boom')],
  ])('%s on the PATCH is thrown: the run stops rather than guess', async (_what, error) => {
    const api = new FakeApi({ update: () => error });
    await expect(applyPlan([update(person('ada@example.org'), { FNAME: 'x' })], context(api))).rejects.toBe(error);
  });

  it.each([500, 429])('%s on the tags is thrown', async (status) => {
    const api = new FakeApi({ tags: () => httpError(status) });
    await expect(applyPlan([update(person('ada@example.org'), {}, [{ name: 'plan:x', status: 'active' }])], context(api))).rejects.toMatchObject({ status });
  });

  it('never more PATCHes in flight than the concurrency', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const api = new FakeApi({ gate });
    const plan = Array.from({ length: 10 }, (_, i) => update(person(`p${i}@example.org`), { FNAME: `P${i}` }));
    const ctx = context(api, { concurrency: 3 });
    const done = applyPlan(plan, ctx);
    ctx.queue.flush();
    // Let the writer start as many calls as it will before any answer arrives.
    for (let i = 0; i < 20 && api.inFlight < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(api.inFlight).toBe(3);
    open();
    const outcomes = await done;
    expect(outcomes.filter((o) => o.outcome === 'updated')).toHaveLength(10);
    expect(api.maxInFlight).toBe(3);
  });
});

describe('applyPlan: a mixed batch', () => {
  it('accounts for every row exactly once, and sends no status for anyone who exists', async () => {
    const plan: PlannedWrite[] = [
      { kind: 'create', member: person('new@example.org') },
      { kind: 'create', member: person('exists@example.org') },
      { kind: 'create', member: person('fake@example.org') },
      { kind: 'update', member: person('changed@example.org'), mergeFields: { FNAME: 'C' }, tags: [] },
      { kind: 'update', member: person('vanished@example.org'), mergeFields: { FNAME: 'V' }, tags: [] },
      { kind: 'unchanged', member: person('same@example.org') },
      { kind: 'skip', member: person('unsub@example.org'), reason: REASONS.unsubscribed },
      { kind: 'reject', member: person('bad@example.org'), reason: REASONS.requiredMissing },
    ];
    const vanished = desiredMemberKey('vanished@example.org').hash;
    const api = new FakeApi({
      batch: () => ({
        new_members: [{ email_address: 'new@example.org', status: 'pending' }],
        errors: [EXISTS('exists@example.org'), batchError('fake@example.org', 'fake@example.org looks fake or invalid, please enter a real email address.')],
      }),
      lookup: () => found('exists@example.org', { merge_fields: { FNAME: 'Other' } }),
      update: (hash) => (hash === vanished ? httpError(404) : { email_address: 'x', status: 'unsubscribed' }),
    });
    const outcomes = await applyPlan(plan, context(api));
    expect(outcomes).toHaveLength(plan.length);
    expect(new Set(outcomes.map((o) => o.email)).size).toBe(plan.length);
    expect(Object.fromEntries(outcomes.map((o) => [o.email, o.outcome]))).toEqual({
      'new@example.org': 'created',
      'exists@example.org': 'created',
      'fake@example.org': 'rejected',
      'changed@example.org': 'updated',
      'vanished@example.org': 'skipped',
      'same@example.org': 'unchanged',
      'unsub@example.org': 'skipped',
      'bad@example.org': 'rejected',
    });
    expectNoStatusForExisting(api, ['exists@example.org', 'changed@example.org', 'vanished@example.org']);
    const batch = api.log.find((c): c is Extract<Call, { method: 'batchSubscribe' }> => c.method === 'batchSubscribe');
    expect(batch?.members.map((m) => m.email_address)).toEqual(['new@example.org', 'exists@example.org', 'fake@example.org']);
  });
});

describe('applyPlan: a batch released by time', () => {
  it('every step (create, then its tags; an update) goes out by the deadline, not after the queues wait again', async () => {
    const api = new FakeApi({
      batch: () => ({ new_members: [{ email_address: 'new@example.org', status: 'pending' }] }),
      update: () => ({ email_address: 'changed@example.org', status: 'subscribed' }),
    });
    const ctx = context(api);
    // Queues that would hold work an hour: only the deadline can send it.
    const log = ctx.log;
    const slow = {
      ...ctx,
      queue: new OperationQueue({ api, log, maxOperations: 1000, directBelow: Number.POSITIVE_INFINITY, flushMs: 3_600_000, concurrency: 4 }),
      subscribe: new SubscribeQueue({ api, listId: 'L1', log, flushMs: 3_600_000 }),
      dueAt: Date.now(),
    };
    const outcomes = await applyPlan(
      [
        { kind: 'create', member: person('new@example.org', { tags: ['plan:pro'] }) },
        { kind: 'update', member: person('changed@example.org'), mergeFields: { FNAME: 'C' }, tags: [] },
      ],
      slow,
    );
    expect(outcomes.map((o) => [o.email, o.outcome])).toEqual([
      ['new@example.org', 'created'],
      ['changed@example.org', 'updated'],
    ]);
    expect(api.log.map((c) => c.method).sort()).toEqual(['batchSubscribe', 'updateMember', 'updateTags']);
  });
});

/** A promise the test settles, and whether it has been. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets every reaction already queued run (promise chains, setImmediate), so what follows from a release has happened. */
const settleReactions = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Mailchimp failing for good: the batch subscribe and every PATCH fail (after the HTTP layer's retries), each when the test releases it. */
class FailingWrites extends FakeApi {
  readonly entered = { subscribe: deferred(), update: deferred() };
  readonly release = { subscribe: deferred(), update: deferred() };
  readonly made = { subscribe: 0, update: 0 };

  override async batchSubscribe(): Promise<BatchResult> {
    this.made.subscribe++;
    this.entered.subscribe.resolve();
    await this.release.subscribe.promise;
    throw new HttpError({ method: 'POST', url: 'http://127.0.0.1/3.0/lists/L1', status: 500 });
  }

  override async updateMember(_listId: string, hash: string): Promise<MemberInfo> {
    this.made.update++;
    this.entered.update.resolve();
    await this.release.update.promise;
    throw new HttpError({ method: 'PATCH', url: `http://127.0.0.1/3.0/lists/L1/members/${hash}`, status: 500 });
  }
}

describe('applyPlan: Mailchimp failing for good while a batch holds new and changed people', () => {
  // Whichever write gives up first, the batch fails only once every write of it has ended: a
  // write left running would reject with nobody waiting for it, which ends a real run at once
  // (exit 1, no summary, no alert). jest fails the running test on any unhandled rejection (its
  // own process listener), and each case lets every reaction run before it ends, so an orphaned
  // rejection fails it.
  it.each<[string, 'subscribe' | 'update', 'subscribe' | 'update']>([
    ['the batch subscribe gives up first', 'subscribe', 'update'],
    ['the PATCHes give up first', 'update', 'subscribe'],
  ])('%s: applyPlan fails after every write has ended, with no rejection left unobserved', async (_what, first, second) => {
    const api = new FailingWrites();
    const plan: PlannedWrite[] = [
      { kind: 'create', member: person('new1@example.org') },
      { kind: 'create', member: person('new2@example.org') },
      { kind: 'update', member: person('changed1@example.org'), mergeFields: { FNAME: 'C1' }, tags: [] },
      { kind: 'update', member: person('changed2@example.org'), mergeFields: { FNAME: 'C2' }, tags: [] },
      { kind: 'unchanged', member: person('same@example.org') },
    ];
    let ended = false;
    const applied = applyPlan(plan, context(api)).finally(() => (ended = true));
    const failed = expect(applied).rejects.toMatchObject({ status: 500 });
    await Promise.all([api.entered.subscribe.promise, api.entered.update.promise]);

    api.release[first].resolve();
    await settleReactions();
    expect(ended).toBe(false);

    api.release[second].resolve();
    await failed;
    await settleReactions();
    expect(api.made).toEqual({ subscribe: 1, update: 2 });
  });
});
