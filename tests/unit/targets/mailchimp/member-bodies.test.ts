/**
 * The member bodies the writer sends, checked against Mailchimp's own request schemas
 * (tests/fixtures/mailchimp-member-bodies.json, from the Marketing API 3.0.85 spec): a create
 * through batch subscribe, a create with marketing permissions (POST /lists/{id}/members) and an
 * update (PATCH), each carrying the profile fields. No property a schema lacks may be sent
 * (batch subscribe's items have no marketing_permissions: Mailchimp would drop them).
 */
import { describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { Audience } from '../../../../src/targets/mailchimp/audience/audience.js';
import { AudienceKnowledge } from '../../../../src/targets/mailchimp/audience/audience-knowledge.js';
import { ProfileLayout } from '../../../../src/targets/mailchimp/audience/profile-layout.js';
import { createLogger } from '../../../../src/log/logger.js';
import { resolveProfileRules } from '../../../../src/targets/mailchimp/members/profile-settings.js';
import { Suppressions } from '../../../../src/targets/mailchimp/reports/files.js';
import { OperationQueue } from '../../../../src/targets/mailchimp/writing/batch-queue.js';
import { desiredMemberKey, type DesiredMember, type PlannedWrite } from '../../../../src/targets/mailchimp/writing/planner.js';
import { SubscribeQueue } from '../../../../src/targets/mailchimp/writing/subscribe-queue.js';
import { applyPlan } from '../../../../src/targets/mailchimp/writing/writer.js';
import { FakeMailchimp } from '../../helpers/fake-mailchimp.js';

type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean };
const spec = JSON.parse(readFileSync(new URL('../../../fixtures/mailchimp-member-bodies.json', import.meta.url), 'utf8')) as Record<string, Schema>;

/** A member schema that refuses unknown properties; merge_fields values are left open (the spec calls them objects, but they are the values). */
function strict(schema: Schema): Schema {
  return { ...schema, additionalProperties: false, properties: { ...schema.properties, merge_fields: { type: 'object' } } };
}

const ajv = new Ajv({ allErrors: true, strict: false });
const batchItem = ajv.compile(strict(spec['POST /lists/{listId}']?.properties?.members?.items as Schema));
const postMember = ajv.compile(strict(spec['POST /lists/{listId}/members'] as Schema));
const patchMember = ajv.compile(strict(spec['PATCH /lists/{listId}/members/{subscriberHash}'] as Schema));

const RULES = resolveProfileRules(
  { marketing_permissions: { Email: 'e' }, interests: { 'Topics / Events': 'ev' }, language_property: 'lang', vip_property: 'vip' },
  { permissions: [{ id: 'p1', text: 'Email' }], permissionsKnown: true, categories: [{ id: 'c1', title: 'Topics', type: 'checkboxes', interests: [{ id: 'i1', name: 'Events' }] }] },
  'A',
).rules;

let line = 0;
function person(email: string, extra: Partial<DesiredMember> = {}): DesiredMember {
  line++;
  return { ...desiredMemberKey(email), email, mergeFields: { FNAME: 'Ada' }, mergeProblems: [], tags: [], source: { line, stream: 'engage', key: `u${line}` }, ...extra };
}

describe('member bodies fit Mailchimp\'s request schemas', () => {
  it('batch subscribe, POST member and PATCH member, each with the profile fields', async () => {
    const api = new FakeMailchimp('L1');
    api.add('old@example.org');
    const log = createLogger('test');
    const audience = new Audience([{ tag: 'FNAME', type: 'text' }], undefined, 1024, new ProfileLayout(RULES));
    const plan: PlannedWrite[] = [
      { kind: 'create', member: person('new1@example.org', { profile: { permissions: { p1: true }, interests: { i1: true }, language: 'fr', vip: true } }) },
      { kind: 'create', member: person('new2@example.org', { profile: { interests: { i1: false }, language: 'en', vip: false } }) },
      { kind: 'update', member: person('old@example.org'), mergeFields: {}, tags: [], profile: { permissions: { p1: false }, interests: { i1: true }, language: 'de', vip: true } },
    ];
    const outcomes = await applyPlan(plan, {
      api,
      listId: 'L1',
      statusIfNew: 'subscribed',
      mode: 'upsert',
      audience,
      knowledge: new AudienceKnowledge({ api, listId: 'L1', audience, total: 1, concurrency: 2, log }),
      queue: new OperationQueue({ api, log, maxOperations: 100, directBelow: Number.POSITIVE_INFINITY, flushMs: 0, concurrency: 2 }),
      subscribe: new SubscribeQueue({ api, listId: 'L1', log, flushMs: 0 }),
      tagRules: { staticTags: [], properties: [] },
      suppressions: new Suppressions(),
      log,
    });
    expect(outcomes.map((o) => [o.email, o.outcome]).sort()).toEqual([['new1@example.org', 'created'], ['new2@example.org', 'created'], ['old@example.org', 'updated']]);

    const calls = (method: string) => api.log.filter((c) => c.method === method).map((c) => c.body as Record<string, unknown>);
    const [subscribe] = calls('batchSubscribe');
    const items = (subscribe?.members ?? []) as Array<Record<string, unknown>>;
    expect(items).toEqual([{ email_address: 'new2@example.org', status: 'subscribed', merge_fields: { FNAME: 'Ada' }, interests: { i1: false }, language: 'en', vip: false }]);
    for (const item of items) expect([batchItem(item), batchItem.errors]).toEqual([true, null]);

    const created = calls('addMember');
    expect(created).toEqual([
      { email_address: 'new1@example.org', status: 'subscribed', merge_fields: { FNAME: 'Ada' }, interests: { i1: true }, language: 'fr', vip: true, marketing_permissions: [{ marketing_permission_id: 'p1', enabled: true }] },
    ]);
    for (const body of created) expect([postMember(body), postMember.errors]).toEqual([true, null]);

    const updated = calls('updateMember');
    expect(updated).toEqual([{ marketing_permissions: [{ marketing_permission_id: 'p1', enabled: false }], interests: { i1: true }, language: 'de', vip: true }]);
    for (const body of updated) expect([patchMember(body), patchMember.errors]).toEqual([true, null]);
  });

  it('the schemas refuse what Mailchimp would not take (the check can fail)', () => {
    expect(batchItem({ email_address: 'a@example.org', status: 'subscribed', marketing_permissions: [] })).toBe(false);
    expect(patchMember({ vip: 'yes' })).toBe(false);
    expect(postMember({ email_address: 'a@example.org', status: 'archived' })).toBe(false);
  });
});
