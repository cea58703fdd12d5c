import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from '@jest/globals';
import { HttpError } from '../../../../src/http/errors.js';
import { LineWriter } from '../../../../src/singer/writer.js';
import { Audience } from '../../../../src/targets/mailchimp/audience/audience.js';
import { AudienceKnowledge } from '../../../../src/targets/mailchimp/audience/audience-knowledge.js';
import { OperationQueue } from '../../../../src/targets/mailchimp/writing/batch-queue.js';
import { SubscribeQueue } from '../../../../src/targets/mailchimp/writing/subscribe-queue.js';
import { CohortRegistry } from '../../../../src/targets/mailchimp/cohorts/cohort-registry.js';
import { CohortTagJob, cohortTagSettings, type CohortSummary } from '../../../../src/targets/mailchimp/cohorts/cohort-tags.js';
import type { MergeField } from '../../../../src/targets/mailchimp/api/api.js';
import type { TargetConfig } from '../../../../src/targets/mailchimp/config.js';
import { Suppressions } from '../../../../src/targets/mailchimp/reports/files.js';
import { loadMembers, planWriter } from '../../../../src/targets/mailchimp/engine/loader.js';
import { buildMergeMappings } from '../../../../src/targets/mailchimp/members/merge-fields.js';
import { REASONS, type RowOutcome } from '../../../../src/targets/mailchimp/reports/outcomes.js';
import { capturingLogger } from '../../helpers/capture-log.js';
import { FakeMailchimp } from '../../helpers/fake-mailchimp.js';

const dir = mkdtempSync(join(tmpdir(), 'cohort-tags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG: TargetConfig = {
  api_key: 'k-us6',
  list_id: 'L1',
  status_if_new: 'pending',
  stream: ['engage'],
  merge_fields: {},
  tags: [],
  tag_properties: [],
  mode: 'upsert',
  cohort_tags: ['*'],
  cohort_tag_prefix: 'Mixpanel: ',
  cohort_tag_names: {},
  cohort_add_missing: false,
  cohort_tag_automations: false,
  cohort_clear_deleted: false,
  max_concurrency: 3,
  batch_size: 500,
  bulk_threshold: 10,
  bulk_batch_size: 5000,
  flush_interval_seconds: 1,
  dry_run: false,
  request_timeout: 120,
};

const COHORTS_SCHEMA = { type: 'SCHEMA', stream: 'cohorts', key_properties: ['id'], schema: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } } };
const MEMBERS_SCHEMA = {
  type: 'SCHEMA',
  stream: 'cohort_members',
  key_properties: ['cohort_id', 'distinct_id'],
  schema: { type: 'object', properties: { cohort_id: { type: 'integer' }, distinct_id: { type: 'string' }, cohort_name: { type: ['null', 'string'] }, mp_reserved_email: { type: ['null', 'string'] } } },
};

interface Cohort {
  id: number;
  name: string;
  members: Array<[string, string | null]>;
}

/** What tap-mixpanel sends for a sweep (docs/cohort-sweeps.md); `complete: false` is an interrupted run. */
function sweep(cohorts: Cohort[], version: number, options: { complete?: boolean; listCohorts?: boolean } = {}): string {
  const complete = options.complete ?? true;
  const lines: unknown[] = [];
  if (options.listCohorts ?? true) {
    lines.push(COHORTS_SCHEMA);
    for (const c of cohorts) lines.push({ type: 'RECORD', stream: 'cohorts', record: { id: c.id, name: c.name }, version });
    lines.push({ type: 'ACTIVATE_VERSION', stream: 'cohorts', version });
  }
  lines.push(MEMBERS_SCHEMA);
  for (const c of cohorts) {
    for (const [distinct, email] of c.members) lines.push({ type: 'RECORD', stream: 'cohort_members', record: { cohort_id: c.id, distinct_id: distinct, cohort_name: c.name, mp_reserved_email: email }, version });
    lines.push({ type: 'STATE', value: { bookmarks: { cohort_members: { done: c.id } } } });
    if (!complete) break;
  }
  if (complete) lines.push({ type: 'ACTIVATE_VERSION', stream: 'cohort_members', version });
  lines.push({ type: 'STATE', value: { bookmarks: { end: version } } });
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

async function run(api: FakeMailchimp, input: string, overrides: Partial<TargetConfig> = {}, onState?: (line: string) => void, mergeFields: MergeField[] = []) {
  const config = { ...CONFIG, ...overrides };
  const { mappings: mergeMappings } = buildMergeMappings(config, mergeFields);
  const log = capturingLogger();
  const audience = new Audience([], { staticTags: [], properties: [] });
  const knowledge = new AudienceKnowledge({ api, listId: 'L1', audience, total: api.members.size, concurrency: 3, log });
  const queue = new OperationQueue({ api, log, maxOperations: 1000, directBelow: Number.POSITIVE_INFINITY, flushMs: 1000, concurrency: 3 });
  const subscribe = new SubscribeQueue({ api, listId: 'L1', log, flushMs: 1000 });
  const registry = new CohortRegistry(config.cohort_registry_file, 'L1');
  const settings = cohortTagSettings(config);
  if (!settings) throw new Error('cohort_tags is empty');
  const job = new CohortTagJob({ api, listId: 'L1', queue, subscribe, log, settings, registry, statusIfNew: config.status_if_new, mergeFields, mergeMappings, dryRun: config.dry_run, knowledge, audience, concurrency: 3 });
  const states: string[] = [];
  const output = new LineWriter(
    new Writable({
      write: (chunk: Buffer, _e, done) => {
        for (const line of chunk.toString().split('\n').filter((l) => l)) {
          states.push(line);
          onState?.(line);
        }
        done();
      },
    }),
  );
  const rows: RowOutcome[] = [];
  const { tally } = await loadMembers({
    config,
    input: Readable.from([input]),
    output,
    log,
    signal: new AbortController().signal,
    audience,
    knowledge,
    mergeFields: [],
    mergeMappings: [],
    tagRules: { staticTags: [], properties: [] },
    suppressions: new Suppressions(),
    maxBatchesInFlight: 5,
    flushWrites: () => {
      subscribe.flushIfIdle();
      queue.flushIfIdle();
    },
    finishWrites: () => {
      subscribe.finish();
      queue.finish();
    },
    cohorts: job,
    onOutcome: (row) => rows.push(row),
    write: planWriter({ api, listId: 'L1', statusIfNew: config.status_if_new, mode: 'upsert', audience, knowledge, queue, subscribe, tagRules: { staticTags: [], properties: [] }, suppressions: new Suppressions(), log }),
  });
  await queue.drain();
  const summaries: CohortSummary[] = job.finish();
  registry.save();
  return { tally, rows, states, summaries, log, byCohort: Object.fromEntries(summaries.map((s) => [s.id, s])) };
}

const tagOps = (api: FakeMailchimp) => api.log.filter((c) => c.method === 'updateTags').map((c) => c.body as { tags: Array<{ name: string; status: string }>; is_syncing: boolean });

/** The audience before the first run: ann, bob and cat are members; cat also holds tags of other tools. */
function audience(): FakeMailchimp {
  const api = new FakeMailchimp();
  api.add('ann@acme.io');
  api.add('bob@acme.io', 'unsubscribed');
  api.add('cat@acme.io', 'subscribed', ['vip', 'Newsletter']);
  api.add('dan@acme.io', 'cleaned');
  return api;
}

describe('cohort tags over three runs', () => {
  it('entrants get the tag, leavers lose it after a complete sweep, other tags and every status stay', async () => {
    const api = audience();
    const power = (members: Array<[string, string | null]>): Cohort => ({ id: 7, name: 'Power users', members });

    const first = await run(api, sweep([power([['u1', 'ann@acme.io'], ['u2', 'bob@acme.io'], ['u9', 'nobody@acme.io'], ['u8', null]])], 1));
    expect(api.holders('Mixpanel: Power users')).toEqual(['ann@acme.io', 'bob@acme.io']);
    expect(first.byCohort[7]).toMatchObject({ tag: 'Mixpanel: Power users', gained: 2, kept: 0, lost: 0, notInAudience: 1, noEmail: 1, complete: true });
    // Rejected, so that rejects_file names them (as the setting's description promises).
    expect(first.rows.find((r) => r.email === 'nobody@acme.io')).toMatchObject({ outcome: 'rejected', reason: REASONS.notInAudience });
    expect(first.tally.read).toBe(4);
    expect(first.tally.accounted).toBe(4);

    // bob leaves, cat and dan (cleaned) enter.
    const second = await run(api, sweep([power([['u1', 'ann@acme.io'], ['u3', 'Cat@Acme.io'], ['u4', 'dan@acme.io']])], 2));
    expect(api.holders('Mixpanel: Power users')).toEqual(['ann@acme.io', 'cat@acme.io', 'dan@acme.io']);
    expect(second.byCohort[7]).toMatchObject({ gained: 2, kept: 1, lost: 1 });

    // An interrupted sweep (no ACTIVATE_VERSION): ann is not listed, and still keeps the tag.
    const third = await run(api, sweep([power([['u3', 'cat@acme.io']])], 3, { complete: false }));
    expect(api.holders('Mixpanel: Power users')).toEqual(['ann@acme.io', 'cat@acme.io', 'dan@acme.io']);
    expect(third.byCohort[7]).toMatchObject({ lost: 0, complete: false });
    expect(third.log.lines.some((l) => /not complete in this run: nobody removed/.test(l.message))).toBe(true);

    // Other tools' tags are untouched, statuses never change, and every tag write is is_syncing.
    expect(api.tagsOf('cat@acme.io')).toEqual(['Mixpanel: Power users', 'Newsletter', 'vip']);
    expect([...api.members.values()].map((m) => [m.email, m.status])).toEqual([
      ['ann@acme.io', 'subscribed'],
      ['bob@acme.io', 'unsubscribed'],
      ['cat@acme.io', 'subscribed'],
      ['dan@acme.io', 'cleaned'],
    ]);
    for (const op of tagOps(api)) {
      expect(op.is_syncing).toBe(true);
      expect(op.tags.map((t) => t.name)).toEqual(['Mixpanel: Power users']);
    }
    expect(api.log.some((c) => c.method === 'batchSubscribe' || c.method === 'updateMember')).toBe(false);
  });

  it('a state after a cohort is printed only once that cohort\'s tag writes are done', async () => {
    const api = audience();
    api.add('eve@acme.io', 'subscribed', ['Mixpanel: B']);
    const seen: Array<[string, string[], string[]]> = [];
    const { states } = await run(
      api,
      sweep([{ id: 1, name: 'A', members: [['u1', 'ann@acme.io']] }, { id: 2, name: 'B', members: [['u3', 'cat@acme.io']] }], 5),
      {},
      (line) => seen.push([line, api.holders('Mixpanel: A'), api.holders('Mixpanel: B')]),
    );
    // Each state, when printed, finds in Mailchimp every write read before it (the removal of eve included).
    for (const [line, a, b] of seen) {
      const value = JSON.parse(line) as { bookmarks: { cohort_members?: { done: number }; end?: number } };
      if ((value.bookmarks.cohort_members?.done ?? 0) >= 1 || value.bookmarks.end) expect(a).toEqual(['ann@acme.io']);
      if (value.bookmarks.cohort_members?.done === 2 || value.bookmarks.end) expect(b).toContain('cat@acme.io');
      if (value.bookmarks.end) expect(b).toEqual(['cat@acme.io']);
    }
    expect(states[states.length - 1]).toBe(JSON.stringify({ bookmarks: { end: 5 } }));
  });

  it('an empty cohort of a complete sweep loses every holder; a cohort not selected is not touched', async () => {
    const api = audience();
    api.add('eve@acme.io', 'subscribed', ['Mixpanel: Gone quiet', 'Mixpanel: Other']);
    const result = await run(api, sweep([{ id: 3, name: 'Gone quiet', members: [] }, { id: 4, name: 'Other', members: [] }], 9), { cohort_tags: ['Gone quiet'] });
    expect(api.tagsOf('eve@acme.io')).toEqual(['Mixpanel: Other']);
    expect(result.byCohort[3]).toMatchObject({ lost: 1, complete: true });
    expect(result.byCohort[4]).toBeUndefined();
  });

  it('records of cohorts not chosen are ignored, so the outcomes add up to the records read', async () => {
    const api = audience();
    const result = await run(api, sweep([{ id: 3, name: 'Chosen', members: [['u1', 'ann@acme.io'], ['u9', 'nobody@acme.io']] }, { id: 4, name: 'Other', members: [['u2', 'bob@acme.io'], ['u3', 'cat@acme.io'], ['u8', null]] }], 9), { cohort_tags: [3] });
    expect(result.tally.read).toBe(2);
    expect(result.tally.accounted).toBe(2);
    expect(result.tally.ignored).toBe(3);
    expect(api.holders('Mixpanel: Other')).toEqual([]);
  });

  it('with cohort_add_missing, a member who is not in the audience is added with status_if_new and tagged', async () => {
    const api = audience();
    const result = await run(api, sweep([{ id: 7, name: 'Trial', members: [['u9', 'new@acme.io'], ['u1', 'ann@acme.io']] }], 1), { cohort_add_missing: true });
    expect(api.members.get([...api.members.keys()].find((k) => api.members.get(k)?.email === 'new@acme.io') ?? '')?.status).toBe('pending');
    expect(api.holders('Mixpanel: Trial')).toEqual(['ann@acme.io', 'new@acme.io']);
    expect(result.byCohort[7]).toMatchObject({ gained: 2, added: 1 });
    const creates = api.log.filter((c) => c.method === 'batchSubscribe');
    expect(creates).toEqual([{ method: 'batchSubscribe', path: '/lists/L1', body: { members: [{ email_address: 'new@acme.io', status: 'pending' }], update_existing: false } }]);
    expect(result.tally.created).toBe(1);
  });

  it('with cohort_add_missing, a new member gets the merge fields of their record (FNAME/LNAME from the names); a required field left empty rejects them before any create', async () => {
    const fields: MergeField[] = [
      { merge_id: 1, tag: 'FNAME', name: 'First Name', type: 'text', required: true },
      { merge_id: 2, tag: 'LNAME', name: 'Last Name', type: 'text', required: false },
    ];
    const api = audience();
    const lines = sweep([{ id: 7, name: 'Trial', members: [['u9', 'new@acme.io'], ['u8', 'nameless@acme.io']] }], 1)
      .split('\n')
      .map((line) => line.replace('"mp_reserved_email":"new@acme.io"', '"mp_reserved_email":"new@acme.io","mp_reserved_first_name":"Zoë","mp_reserved_last_name":"Łucja"'))
      .join('\n');
    const result = await run(api, lines, { cohort_add_missing: true }, undefined, fields);
    expect(api.log.filter((c) => c.method === 'batchSubscribe').map((c) => c.body)).toEqual([
      { members: [{ email_address: 'new@acme.io', status: 'pending', merge_fields: { FNAME: 'Zoë', LNAME: 'Łucja' } }], update_existing: false },
    ]);
    expect(api.holders('Mixpanel: Trial')).toEqual(['new@acme.io']);
    expect(result.rows.find((r) => r.email === 'new@acme.io')).toMatchObject({ outcome: 'created', mergeFields: { FNAME: 'Zoë', LNAME: 'Łucja' } });
    expect(result.rows.find((r) => r.email === 'nameless@acme.io')).toMatchObject({ outcome: 'rejected', reason: REASONS.requiredMissing, field: 'FNAME' });
    expect(result.byCohort[7]).toMatchObject({ gained: 1, added: 1, rejected: 1 });
  });

  it('in the same pipe as the engage load, a person engage adds in this run gets their cohort tag in this run (the tag waits for their batch)', async () => {
    const api = audience();
    const engage = [
      { type: 'SCHEMA', stream: 'engage', key_properties: ['distinct_id'], schema: { type: 'object', properties: { distinct_id: { type: 'string' }, mp_reserved_email: { type: ['null', 'string'] } } } },
      { type: 'RECORD', stream: 'engage', record: { distinct_id: 'u9', mp_reserved_email: 'new@acme.io' } },
      { type: 'RECORD', stream: 'engage', record: { distinct_id: 'u1', mp_reserved_email: 'ann@acme.io' } },
      { type: 'STATE', value: { bookmarks: { engage: 'done' } } },
    ];
    const input = engage.map((l) => JSON.stringify(l)).join('\n') + '\n' + sweep([{ id: 7, name: 'Trial', members: [['u9', 'new@acme.io'], ['u1', 'ann@acme.io']] }], 1);
    const result = await run(api, input);
    expect(api.holders('Mixpanel: Trial')).toEqual(['ann@acme.io', 'new@acme.io']);
    expect(result.byCohort[7]).toMatchObject({ gained: 2, notInAudience: 0 });
    expect(result.rows.filter((r) => r.outcome === 'rejected')).toEqual([]);
    // Created by the engage load (status_if_new), then tagged: one create, no second one by the cohort job.
    expect(api.log.filter((c) => c.method === 'batchSubscribe')).toHaveLength(1);
    const tagged = api.log.findIndex((c) => c.method === 'updateTags' && c.path.endsWith(`/members/${[...api.members.keys()].find((k) => api.members.get(k)?.email === 'new@acme.io') ?? ''}/tags`));
    expect(tagged).toBeGreaterThan(api.log.findIndex((c) => c.method === 'batchSubscribe'));

    // The dry run plans it the same way: engage would add them, so they would gain the tag.
    const dry = await run(audience(), input, { dry_run: true });
    expect(dry.byCohort[7]).toMatchObject({ gained: 2, notInAudience: 0, wouldGain: ['new@acme.io', 'ann@acme.io'] });
  });

  it('an archived contact in a cohort is left alone: not tagged (its tag could never be seen or removed), not created', async () => {
    const api = audience();
    api.add('old@acme.io', 'archived');
    const result = await run(api, sweep([{ id: 7, name: 'Trial', members: [['u1', 'ann@acme.io'], ['u7', 'old@acme.io']] }], 1), { cohort_add_missing: true });
    expect(api.tagsOf('old@acme.io')).toEqual([]);
    expect(api.members.get([...api.members.keys()].find((k) => api.members.get(k)?.email === 'old@acme.io') ?? '')?.status).toBe('archived');
    expect(result.byCohort[7]).toMatchObject({ gained: 1, archived: 1, added: 0 });
    expect(result.rows.find((r) => r.email === 'old@acme.io')).toMatchObject({ outcome: 'skipped', reason: REASONS.archived });
    expect(api.log.some((c) => c.method === 'batchSubscribe')).toBe(false);
  });

  it('cohort_tag_automations writes the tags without is_syncing', async () => {
    const api = audience();
    await run(api, sweep([{ id: 7, name: 'Trial', members: [['u1', 'ann@acme.io']] }], 1), { cohort_tag_automations: true });
    expect(tagOps(api).map((op) => op.is_syncing)).toEqual([false]);
  });

  it('tag names: cohort_tag_names by id or name wins over the prefix', () => {
    const settings = cohortTagSettings({ ...CONFIG, cohort_tags: '7, Churn risk', cohort_tag_prefix: 'mp-', cohort_tag_names: { '7': 'Power', 'churn risk': 'At risk' } });
    expect([settings?.tagFor(7, 'Power users'), settings?.tagFor(8, 'Churn risk'), settings?.tagFor(9, 'Other')]).toEqual(['Power', 'At risk', 'mp-Other']);
    expect([settings?.selected(7, 'x'), settings?.selected(8, 'CHURN RISK'), settings?.selected(9, 'Other')]).toEqual([true, true, false]);
    expect(cohortTagSettings({ ...CONFIG, cohort_tags: [] })).toBeUndefined();
  });
});

describe('renamed and deleted cohorts (cohort_registry_file)', () => {
  it('a renamed cohort moves to its new tag: renamed in place, members kept, nobody re-tagged', async () => {
    const api = audience();
    const registryFile = join(dir, 'rename.json');
    await run(api, sweep([{ id: 7, name: 'Power', members: [['u1', 'ann@acme.io'], ['u3', 'cat@acme.io']] }], 1), { cohort_registry_file: registryFile });
    expect(statSync(registryFile).mode & 0o777).toBe(0o600);
    const before = tagOps(api).length;
    const result = await run(api, sweep([{ id: 7, name: 'Power users', members: [['u1', 'ann@acme.io'], ['u3', 'cat@acme.io']] }], 2), { cohort_registry_file: registryFile });
    expect(api.log.filter((c) => c.method === 'renameTag')).toHaveLength(1);
    expect(api.holders('Mixpanel: Power users')).toEqual(['ann@acme.io', 'cat@acme.io']);
    expect(api.holders('Mixpanel: Power')).toEqual([]);
    expect(tagOps(api).length).toBe(before);
    expect(result.byCohort[7]).toMatchObject({ kept: 2, gained: 0, lost: 0 });
    expect(JSON.parse(readFileSync(registryFile, 'utf8')).cohorts['7']).toMatchObject({ tag: 'Mixpanel: Power users', name: 'Power users' });
  });

  it('a deleted cohort leaves its tag alone, unless cohort_clear_deleted', async () => {
    const api = audience();
    const registryFile = join(dir, 'deleted.json');
    await run(api, sweep([{ id: 7, name: 'Old', members: [['u1', 'ann@acme.io']] }, { id: 8, name: 'Kept', members: [['u3', 'cat@acme.io']] }], 1), { cohort_registry_file: registryFile });
    await run(api, sweep([{ id: 8, name: 'Kept', members: [['u3', 'cat@acme.io']] }], 2), { cohort_registry_file: registryFile });
    expect(api.holders('Mixpanel: Old')).toEqual(['ann@acme.io']);
    await run(api, sweep([{ id: 8, name: 'Kept', members: [['u3', 'cat@acme.io']] }], 3), { cohort_registry_file: registryFile, cohort_clear_deleted: true });
    expect(api.holders('Mixpanel: Old')).toEqual([]);
    expect(api.holders('Mixpanel: Kept')).toEqual(['cat@acme.io']);
    expect(Object.keys(JSON.parse(readFileSync(registryFile, 'utf8')).cohorts)).toEqual(['8']);
  });
});

describe('dry run', () => {
  it('says per cohort who would gain and who would lose the tag, and writes nothing', async () => {
    const api = audience();
    api.add('eve@acme.io', 'subscribed', ['Mixpanel: Power users']);
    const writesBefore = api.log.length;
    const result = await run(api, sweep([{ id: 7, name: 'Power users', members: [['u1', 'ann@acme.io'], ['u9', 'nobody@acme.io']] }], 1), { dry_run: true });
    expect(result.byCohort[7]).toMatchObject({ gained: 1, lost: 1, notInAudience: 1, wouldGain: ['ann@acme.io'], wouldLose: ['eve@acme.io'] });
    expect(api.log.slice(writesBefore).filter((c) => ['updateTags', 'batchSubscribe', 'renameTag', 'updateMember'].includes(c.method))).toEqual([]);
    expect(result.states).toEqual([]);
    expect(result.log.lines.map((l) => l.message)).toContainEqual('plan: cohort 7: would gain "Mixpanel: Power users": ann@acme.io');
    expect(result.log.lines.map((l) => l.message)).toContainEqual('plan: cohort 7: would lose "Mixpanel: Power users": eve@acme.io');
    expect(api.holders('Mixpanel: Power users')).toEqual(['eve@acme.io']);
  });
});

describe('a complete sweep whose holders cannot be read', () => {
  it('fails only once the removals it already sent have ended: none fails with nobody waiting for it', async () => {
    const fiveHundred = (what: string) => new HttpError({ method: 'GET', url: `http://127.0.0.1/3.0/${what}`, status: 500 });
    let brokenTag = -1;
    let removals = 0;
    const api = new (class extends FakeMailchimp {
      override async tagMembers(listId: string, tagId: number, page: { count: number; offset: number }) {
        if (tagId === brokenTag) throw fiveHundred(`lists/${listId}/segments/${tagId}/members`);
        return super.tagMembers(listId, tagId, page);
      }
      // Mailchimp fails every tag write for good (after the HTTP layer's retries).
      override async updateTags(): Promise<void> {
        removals++;
        throw fiveHundred('lists/L1/members/h/tags');
      }
    })();
    api.add('stays@acme.io', 'subscribed', ['Mixpanel: One']);
    api.add('left@acme.io', 'subscribed', ['Mixpanel: One']);
    api.add('holder@acme.io', 'subscribed', ['Mixpanel: Two']);
    brokenTag = (await api.listTags('L1')).find((t) => t.name === 'Mixpanel: Two')?.id ?? -1;
    const log = capturingLogger();
    const queue = new OperationQueue({ api, log, maxOperations: 1000, directBelow: Number.POSITIVE_INFINITY, flushMs: 0, concurrency: 3 });
    const settings = cohortTagSettings(CONFIG);
    if (!settings) throw new Error('cohort_tags is empty');
    const job = new CohortTagJob({ api, listId: 'L1', queue, subscribe: new SubscribeQueue({ api, listId: 'L1', log, flushMs: 0 }), log, settings, registry: new CohortRegistry(undefined, 'L1'), statusIfNew: 'pending', dryRun: false, concurrency: 3 });
    job.cohort({ id: 1, name: 'One' }, 7);
    job.cohort({ id: 2, name: 'Two' }, 7);
    await job.cohortsComplete(7);
    const rows: RowOutcome[] = [];
    await job.member({ cohort_id: 1, distinct_id: 'a', mp_reserved_email: 'stays@acme.io' }, { line: 1, stream: 'cohort_members', key: '[1,"a"]' }, (row) => rows.push(row));

    let removalsWhenFailed = -1;
    const complete = job.membersComplete(7).finally(() => (removalsWhenFailed = removals));
    await expect(complete).rejects.toMatchObject({ status: 500, url: expect.stringContaining('/segments/') });
    // The removal of the leaver from cohort 1 was sent, and had failed, before the sweep failed.
    expect(removalsWhenFailed).toBe(1);
    await queue.drain();
    expect(rows.map((r) => r.outcome)).toEqual(['unchanged']);
  });
});
