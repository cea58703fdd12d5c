import { describe, expect, it } from '@jest/globals';
import type { MailchimpApi, MemberInfo, MembersPage } from '../../../../src/targets/mailchimp/api.js';
import { Audience } from '../../../../src/targets/mailchimp/audience.js';
import { capturingLogger } from '../../helpers/capture-log.js';

const RULES = { staticTags: ['from-mixpanel'], properties: ['plan'] };

function members(count: number): MemberInfo[] {
  return Array.from({ length: count }, (_, i) => ({
    email_address: `Person${i}@Example.org`,
    status: i % 2 === 0 ? 'subscribed' : 'unsubscribed',
    merge_fields: { FNAME: `P${i}`, SECRET: 'not ours' },
    tags: [{ id: 1, name: 'from-mixpanel' }, { id: 2, name: 'VIP' }, { id: 3, name: `plan:p${i}` }],
  }));
}

/** Serves pages of `all`; holds every page after the first until `release()` to observe concurrency. */
function pagingApi(all: MemberInfo[], totalItems = all.length) {
  const requests: Array<{ listId: string; count: number; offset: number; fields?: string[] }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const api: Pick<MailchimpApi, 'listMembers'> = {
    async listMembers(listId, page): Promise<MembersPage> {
      requests.push({ listId, ...page });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await Promise.resolve();
      await Promise.resolve();
      inFlight--;
      return { members: all.slice(page.offset, page.offset + page.count), total_items: totalItems };
    },
  };
  return { api: api as MailchimpApi, requests, maxInFlight: () => maxInFlight };
}

describe('Audience.load', () => {
  it('reads every page (the first, then the rest with the concurrency limit), asking only for the fields it needs', async () => {
    const all = members(11);
    const { api, requests, maxInFlight } = pagingApi(all);
    const log = capturingLogger();
    const audience = await Audience.load(api, { listId: 'L1', concurrency: 2, mergeTags: ['FNAME'], tagRules: RULES, log, pageSize: 3 });
    expect(audience.size).toBe(11);
    expect(requests.map((r) => r.offset).sort((a, b) => a - b)).toEqual([0, 3, 6, 9]);
    expect(requests.every((r) => r.listId === 'L1' && r.count === 3)).toBe(true);
    expect(requests[0]?.fields).toEqual(['members.email_address', 'members.status', 'members.merge_fields', 'members.tags', 'total_items']);
    expect(maxInFlight()).toBe(2); // pages in parallel, never more than the limit
    expect(log.lines).toContainEqual({ level: 'info', message: 'audience has 11 members', fields: { pages: 4 } });
  });

  it('an empty audience is one call', async () => {
    const { api, requests } = pagingApi([]);
    const audience = await Audience.load(api, { listId: 'L1', concurrency: 5, mergeTags: [], tagRules: RULES, log: capturingLogger() });
    expect(audience.size).toBe(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.count).toBe(1000);
  });

  it('keeps, per member, the status, only the mapped merge fields and only the managed tags; found by lower-cased address', async () => {
    const { api } = pagingApi(members(2));
    const audience = await Audience.load(api, { listId: 'L1', concurrency: 1, mergeTags: ['FNAME', 'LNAME'], tagRules: RULES, log: capturingLogger() });
    expect(audience.get('person1@example.org')).toEqual({ email: 'Person1@Example.org', status: 'unsubscribed', mergeFields: { FNAME: 'P1' }, tags: ['from-mixpanel', 'plan:p1'] });
    expect(audience.get('Person1@Example.org')).toBeUndefined();
  });
});

describe('Audience.apply', () => {
  it('merges what a run wrote into what Mailchimp said, keeping the status unless told', () => {
    const audience = new Audience(['FNAME', 'LNAME'], RULES);
    audience.remember({ email_address: 'a@example.org', status: 'unsubscribed', merge_fields: { FNAME: 'A', LNAME: 'B' }, tags: [] });
    audience.apply('a@example.org', { email: 'A@example.org', mergeFields: { LNAME: 'C' }, tags: ['plan:x'] });
    expect(audience.get('a@example.org')).toEqual({ email: 'a@example.org', status: 'unsubscribed', mergeFields: { FNAME: 'A', LNAME: 'C' }, tags: ['plan:x'] });
  });

  it('a new member is added with the status given', () => {
    const audience = new Audience();
    audience.apply('n@example.org', { email: 'N@example.org', status: 'pending', mergeFields: { FNAME: 'N' } });
    expect(audience.get('n@example.org')).toEqual({ email: 'N@example.org', status: 'pending', mergeFields: { FNAME: 'N' }, tags: [] });
  });
});
