import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { MemberInfo, MergeField } from '../../../../src/targets/mailchimp/api/api.js';
import { Audience } from '../../../../src/targets/mailchimp/audience/audience.js';
import { Suppressions } from '../../../../src/targets/mailchimp/reports/files.js';
import { REASONS } from '../../../../src/targets/mailchimp/reports/outcomes.js';
import { desiredMemberKey, planMemberWrite, planMemberWrites, type DesiredMember, type PlanOptions } from '../../../../src/targets/mailchimp/writing/planner.js';
import type { TagRules } from '../../../../src/targets/mailchimp/members/tags.js';

const FIELDS: MergeField[] = [
  { merge_id: 1, tag: 'FNAME', name: 'First Name', type: 'text', required: false },
  { merge_id: 2, tag: 'COMPANY', name: 'Company', type: 'text', required: true },
  { merge_id: 3, tag: 'LTV', name: 'Lifetime Value', type: 'number', required: false },
];
const TAG_RULES: TagRules = { staticTags: ['from-mixpanel'], properties: ['plan'] };

const dir = mkdtempSync(join(tmpdir(), 'planner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function person(email: string, extra: Partial<DesiredMember> = {}): DesiredMember {
  return {
    ...desiredMemberKey(email),
    email,
    mergeFields: { FNAME: 'Ada', COMPANY: 'ACME' },
    mergeProblems: [],
    tags: ['from-mixpanel'],
    source: { line: 7, stream: 'engage', key: '["u1"]' },
    ...extra,
  };
}

function audienceOf(...members: MemberInfo[]): Audience {
  const audience = new Audience(FIELDS, TAG_RULES);
  for (const m of members) audience.remember(m);
  return audience;
}

/** The plan for a person against what the audience holds for them. */
const plan = (member: DesiredMember, audience: Audience, opts: PlanOptions) => planMemberWrite(member, audience.get(member.hash), opts);

const options = (extra: Partial<PlanOptions> = {}): PlanOptions => ({ mode: 'upsert', mergeFields: FIELDS, tagRules: TAG_RULES, suppressions: new Suppressions(), ...extra });

const existing = (email: string, status: MemberInfo['status'], extra: Partial<MemberInfo> = {}): MemberInfo => ({
  email_address: email,
  status,
  merge_fields: { FNAME: 'Ada', COMPANY: 'ACME', LTV: '' },
  tags: [{ name: 'from-mixpanel' }],
  ...extra,
});

describe('planMemberWrite: people not in the audience', () => {
  it('creates a new person', () => {
    const member = person('ada@example.org');
    expect(plan(member, audienceOf(), options())).toEqual({ kind: 'create', member });
  });

  it('creates in add_only mode too', () => {
    expect(plan(person('ada@example.org'), audienceOf(), options({ mode: 'add_only' })).kind).toBe('create');
  });

  it('skips an address an earlier run learnt Mailchimp skips for good', () => {
    const suppressions = new Suppressions();
    const member = person('gone@example.org');
    suppressions.add(member.hash, { outcome: 'skipped', reason: REASONS.forgotten, at: '2026-01-01T00:00:00Z' });
    expect(plan(member, audienceOf(), options({ suppressions }))).toEqual({
      kind: 'skip',
      member,
      reason: `${REASONS.forgotten} (remembered from an earlier run)`,
    });
  });

  it('rejects an address an earlier run learnt Mailchimp refuses, found by hash whatever the case', () => {
    const path = join(dir, 'suppressions.json');
    const earlier = new Suppressions(path);
    earlier.add(desiredMemberKey('Fake@Example.org').hash, { outcome: 'rejected', reason: REASONS.fake, at: '2026-01-01T00:00:00Z' });
    earlier.save();
    const member = person('fake@EXAMPLE.org');
    expect(plan(member, audienceOf(), options({ suppressions: new Suppressions(path) }))).toEqual({
      kind: 'reject',
      member,
      reason: `${REASONS.fake} (remembered from an earlier run)`,
    });
  });

  it('the suppression file is not consulted for people in the audience (their status decides)', () => {
    const suppressions = new Suppressions();
    const member = person('ada@example.org', { mergeFields: { FNAME: 'Ada', COMPANY: 'Initech' } });
    suppressions.add(member.hash, { outcome: 'rejected', reason: REASONS.fake, at: '2026-01-01T00:00:00Z' });
    expect(plan(member, audienceOf(existing('ada@example.org', 'subscribed')), options({ suppressions })).kind).toBe('update');
  });

  it.each<[string, Record<string, unknown>]>([
    ['absent', { FNAME: 'Ada' }],
    ['blank', { FNAME: 'Ada', COMPANY: ' ' }],
  ])('rejects a new person whose required merge field is %s, naming the field', (_what, mergeFields) => {
    const member = person('ada@example.org', { mergeFields });
    expect(plan(member, audienceOf(), options())).toEqual({
      kind: 'reject',
      member,
      reason: REASONS.requiredMissing,
      field: 'COMPANY',
      detail: 'required merge field COMPANY (Company) is empty',
    });
  });

  it('a value that could not be converted rejects the new person as a merge field problem (first problem wins)', () => {
    const member = person('ada@example.org', {
      mergeFields: { FNAME: 'Ada' },
      mergeProblems: [
        { field: 'LTV', message: 'merge field LTV (from ltv) needs a number (got "lots")' },
        { field: 'FNAME', message: 'second' },
      ],
    });
    expect(plan(member, audienceOf(), options())).toEqual({
      kind: 'reject',
      member,
      reason: REASONS.mergeFields,
      field: 'LTV',
      detail: 'merge field LTV (from ltv) needs a number (got "lots")',
    });
  });
});

describe('planMemberWrite: people already in the audience', () => {
  it.each<[MemberInfo['status'], string]>([
    ['unsubscribed', REASONS.unsubscribed],
    ['cleaned', REASONS.cleaned],
    ['archived', REASONS.archived],
  ])('%s: skipped with the reason, in every mode, whatever changed (never resubscribed, never updated)', (status, reason) => {
    const member = person('ada@example.org', { mergeFields: { FNAME: 'Changed', COMPANY: 'Other' }, tags: ['from-mixpanel', 'plan:pro'], mergeProblems: [{ field: 'LTV', message: 'x' }] });
    for (const mode of ['upsert', 'add_only'] as const) {
      expect(plan(member, audienceOf(existing('ada@example.org', status)), options({ mode }))).toEqual({ kind: 'skip', member, reason });
    }
  });

  it('found by lower-cased address whatever case the record or Mailchimp uses', () => {
    const member = person('ADA@Example.ORG', { mergeFields: { FNAME: 'Changed' } });
    expect(plan(member, audienceOf(existing('Ada@example.org', 'unsubscribed')), options())).toMatchObject({ kind: 'skip', reason: REASONS.unsubscribed });
  });

  it('add_only: an existing subscriber is skipped, never updated', () => {
    const member = person('ada@example.org', { mergeFields: { FNAME: 'Changed', COMPANY: 'ACME' } });
    expect(plan(member, audienceOf(existing('ada@example.org', 'subscribed')), options({ mode: 'add_only' }))).toEqual({ kind: 'skip', member, reason: REASONS.addOnly });
  });

  it('a merge problem on an existing member rejects the row (nothing is written)', () => {
    const member = person('ada@example.org', { mergeProblems: [{ field: 'LTV', message: 'merge field LTV needs a number' }] });
    expect(plan(member, audienceOf(existing('ada@example.org', 'subscribed')), options())).toEqual({
      kind: 'reject',
      member,
      reason: REASONS.mergeFields,
      field: 'LTV',
      detail: 'merge field LTV needs a number',
    });
  });

  it('a required field missing from the data does not reject an existing member (Mailchimp checks it only on create)', () => {
    const member = person('ada@example.org', { mergeFields: { FNAME: 'Ada' } });
    expect(plan(member, audienceOf(existing('ada@example.org', 'subscribed')), options())).toEqual({ kind: 'unchanged', member });
  });

  it.each<MemberInfo['status']>(['subscribed', 'pending', 'transactional'])('%s and nothing changed: unchanged (no write)', (status) => {
    const member = person('ada@example.org', { mergeFields: { FNAME: ' Ada', COMPANY: 'ACME' } });
    const stored = existing('ada@example.org', status, { tags: [{ name: 'from-mixpanel' }, { name: 'VIP' }] });
    expect(plan(member, audienceOf(stored), options())).toEqual({ kind: 'unchanged', member });
  });

  it('number merge fields compare as numbers ("42" stored, 42 wanted: unchanged)', () => {
    const member = person('ada@example.org', { mergeFields: { FNAME: 'Ada', LTV: 42 } });
    const stored = existing('ada@example.org', 'subscribed', { merge_fields: { FNAME: 'Ada', LTV: '42' } });
    expect(plan(member, audienceOf(stored), options()).kind).toBe('unchanged');
  });

  it('an update carries only the changed merge fields and the managed tag changes, and no status', () => {
    const member = person('ada@example.org', { mergeFields: { FNAME: 'Ada', COMPANY: 'Initech', LTV: 5 }, tags: ['from-mixpanel', 'plan:pro'] });
    const stored = existing('ada@example.org', 'subscribed', { tags: [{ name: 'from-mixpanel' }, { name: 'plan:free' }, { name: 'VIP' }] });
    const write = plan(member, audienceOf(stored), options());
    expect(write).toEqual({
      kind: 'update',
      member,
      mergeFields: { COMPANY: 'Initech', LTV: 5 },
      tags: [
        { name: 'plan:pro', status: 'active' },
        { name: 'plan:free', status: 'inactive' },
      ],
    });
    expect(JSON.stringify(write)).not.toMatch(/"status":"(subscribed|pending|unsubscribed)"/);
  });

  it('tags alone changing is an update with no merge fields', () => {
    const member = person('ada@example.org', { tags: ['from-mixpanel', 'plan:pro'] });
    expect(plan(member, audienceOf(existing('ada@example.org', 'subscribed')), options())).toEqual({
      kind: 'update',
      member,
      mergeFields: {},
      tags: [{ name: 'plan:pro', status: 'active' }],
    });
  });

  it('a static tag the member lacks is added back', () => {
    const member = person('ada@example.org');
    const stored = existing('ada@example.org', 'subscribed', { tags: [] });
    expect(plan(member, audienceOf(stored), options())).toMatchObject({ kind: 'update', mergeFields: {}, tags: [{ name: 'from-mixpanel', status: 'active' }] });
  });
});

describe('planMemberWrites', () => {
  it('plans each person, in order', () => {
    const audience = audienceOf(existing('b@example.org', 'unsubscribed'));
    const kinds = planMemberWrites([person('a@example.org'), person('b@example.org'), person('c@example.org', { mergeFields: {} })], audience, options()).map((w) => w.kind);
    expect(kinds).toEqual(['create', 'skip', 'reject']);
  });
});

describe('desiredMemberKey', () => {
  it('key is the trimmed lower-cased address; hash is Mailchimp\'s subscriber hash', () => {
    expect(desiredMemberKey(' Urist.McVankab@FreddiesJokes.com ')).toEqual({ key: 'urist.mcvankab@freddiesjokes.com', hash: '62eeb292278cc15f5817cb78f7790b08' });
  });
});

it('a suppression file written elsewhere is read as given (sanity for the tests above)', () => {
  const path = join(dir, 'given.json');
  writeFileSync(path, JSON.stringify({ version: 1, addresses: { abc: { outcome: 'skipped', reason: 'r', at: 't' } } }));
  expect(new Suppressions(path).get('abc')).toEqual({ outcome: 'skipped', reason: 'r', at: 't' });
});
