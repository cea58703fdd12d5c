import { describe, expect, it } from '@jest/globals';
import type { MailchimpApi, MemberInfo, MembersPage, MembersQuery } from '../../../../src/targets/mailchimp/api/api.js';
import { Audience } from '../../../../src/targets/mailchimp/audience/audience.js';
import { AudienceKnowledge, PAGE_WEIGHT, REFRESH_MS } from '../../../../src/targets/mailchimp/audience/audience-knowledge.js';
import { subscriberHash } from '../../../../src/targets/mailchimp/members/members.js';
import { capturingLogger } from '../../helpers/capture-log.js';

const RULES = { staticTags: [], properties: ['plan'] };

function people(count: number): MemberInfo[] {
  return Array.from({ length: count }, (_, i) => ({ email_address: `p${i}@example.org`, status: 'subscribed', merge_fields: { FNAME: `P${i}` }, tags: [] }));
}

/** Answers lookups and pages from `all`; records every call; holds calls to observe concurrency. */
function scriptedApi(all: MemberInfo[]) {
  const byHash = new Map(all.map((m) => [subscriberHash(m.email_address), m]));
  const calls: Array<{ kind: 'lookup'; hash: string; fields?: string[] } | ({ kind: 'page' } & MembersQuery)> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const hold = async () => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    inFlight--;
  };
  const api: Partial<MailchimpApi> = {
    async getMember(_listId, hash, fields) {
      calls.push({ kind: 'lookup', hash, ...(fields ? { fields } : {}) });
      await hold();
      return byHash.get(hash);
    },
    async listMembers(_listId, query): Promise<MembersPage> {
      calls.push({ kind: 'page', ...query });
      await hold();
      let rows = all;
      if (query.status) rows = rows.filter((m) => m.status === query.status);
      return { members: rows.slice(query.offset, query.offset + query.count), total_items: rows.length };
    },
  };
  return { api: api as MailchimpApi, calls, byHash, maxInFlight: () => maxInFlight };
}

function knowledgeOf(all: MemberInfo[], options: { concurrency?: number; pageSize?: number; now?: () => number } = {}) {
  const scripted = scriptedApi(all);
  const audience = new Audience([{ tag: 'FNAME', type: 'text' }], RULES);
  const knowledge = new AudienceKnowledge({ api: scripted.api, listId: 'L1', audience, total: all.length, concurrency: options.concurrency ?? 3, log: capturingLogger(), ...options });
  return { ...scripted, audience, knowledge };
}

describe('AudienceKnowledge: lookups', () => {
  it('looks up each unknown person once, max concurrency at a time, and remembers who is not a member', async () => {
    const { knowledge, audience, calls, maxInFlight } = knowledgeOf(people(50), { concurrency: 3 });
    const known = people(6).map((m) => subscriberHash(m.email_address));
    const stranger = subscriberHash('stranger@example.org');
    await knowledge.prepare([...known, stranger, known[0] as string]);
    expect(calls.filter((c) => c.kind === 'lookup')).toHaveLength(7);
    expect(calls[0]).toMatchObject({ kind: 'lookup', fields: ['id', 'status', 'merge_fields.FNAME', 'tags'] });
    expect(maxInFlight()).toBe(3);
    expect(audience.get(known[0] as string)?.hasMergeValue('FNAME', 'P0')).toBe(true);
    expect(audience.knows(stranger)).toBe(true);
    expect(audience.get(stranger)).toBeUndefined();
    await knowledge.prepare([known[1] as string, stranger]);
    expect(calls).toHaveLength(7); // known now: not asked again
    expect(knowledge.lookedUp).toBe(7);
  });

  it(`reading the whole audience becomes cheaper past ${PAGE_WEIGHT} lookups per page`, () => {
    const { knowledge } = knowledgeOf(people(2500));
    expect(knowledge.pages).toBe(3);
    expect(knowledge.lookupLimit).toBe(3 * PAGE_WEIGHT);
    expect(knowledge.wholeReadIsCheaper(30)).toBe(false);
    expect(knowledge.wholeReadIsCheaper(31)).toBe(true);
  });
});

describe('AudienceKnowledge: a server that ignores merge fields asked for by name', () => {
  it('a lookup is asked again for every merge field, and later lookups ask for them whole', async () => {
    const scripted = scriptedApi(people(6));
    const plain = scripted.api.getMember.bind(scripted.api);
    scripted.api.getMember = async (listId, hash, fields) => {
      const member = await plain(listId, hash, fields);
      if (!member || fields?.includes('merge_fields')) return member;
      const { merge_fields: _dropped, ...rest } = member;
      return rest;
    };
    const audience = new Audience([{ tag: 'FNAME', type: 'text' }], RULES);
    const knowledge = new AudienceKnowledge({ api: scripted.api, listId: 'L1', audience, total: 6, concurrency: 1, log: capturingLogger() });
    await knowledge.prepare([subscriberHash('p1@example.org'), subscriberHash('p2@example.org')]);
    const lookups = scripted.calls.filter((c) => c.kind === 'lookup');
    expect(lookups).toHaveLength(3);
    expect(lookups[2]?.fields).toContain('merge_fields');
    expect(audience.get(subscriberHash('p2@example.org'))?.hasMergeValue('FNAME', 'P2')).toBe(true);
  });
});

describe('AudienceKnowledge: the whole audience', () => {
  it('reads every page once, concurrently, and then knows everybody, members or not', async () => {
    const { knowledge, audience, calls, maxInFlight } = knowledgeOf(people(25), { pageSize: 4, concurrency: 2 });
    await knowledge.readWholeAudience();
    const pages = calls.filter((c) => c.kind === 'page' && c.status === undefined);
    expect(pages.map((p) => (p as MembersQuery).offset).sort((a, b) => a - b)).toEqual([0, 4, 8, 12, 16, 20, 24]);
    // No archived member among them: asked for by status, once (see the tests below).
    expect(calls.filter((c) => c.kind === 'page' && c.status !== undefined)).toEqual([expect.objectContaining({ status: 'archived', offset: 0 })]);
    expect(maxInFlight()).toBeLessThanOrEqual(2);
    expect(audience.size).toBe(25);
    expect(knowledge.mode).toBe('whole');
    expect(audience.knows(subscriberHash('nobody@example.org'))).toBe(true);
    await knowledge.prepare([subscriberHash('nobody@example.org')]);
    expect(calls.filter((c) => c.kind === 'lookup')).toHaveLength(0);
  });

  it('asks each page only for the id, the status, the mapped merge fields and, when tags are managed, the tags', async () => {
    const { knowledge, calls } = knowledgeOf(people(5), { pageSize: 4 });
    await knowledge.readWholeAudience();
    for (const page of calls.filter((c) => c.kind === 'page')) {
      expect((page as MembersQuery).fields).toEqual(['members.id', 'members.status', 'members.merge_fields.FNAME', 'members.tags', 'total_items']);
    }
    // No tag rules and no mapped merge fields: neither tags nor merge fields are read.
    const bare = scriptedApi(people(5));
    const plain = new AudienceKnowledge({ api: bare.api, listId: 'L1', audience: new Audience([], { staticTags: [], properties: [] }), total: 5, concurrency: 1, log: capturingLogger(), pageSize: 4 });
    await plain.readWholeAudience();
    expect((bare.calls[0] as MembersQuery).fields).toEqual(['members.id', 'members.status', 'total_items']);
  });

  it('asks for every merge field when a server leaves out the ones asked for by name, so nobody looks changed', async () => {
    const scripted = scriptedApi(people(6));
    const plain = scripted.api.listMembers.bind(scripted.api);
    // A server that does not honour members.merge_fields.TAG: it drops merge_fields unless asked for whole.
    scripted.api.listMembers = async (listId, query) => {
      const page = await plain(listId, query);
      if (query.fields?.includes('members.merge_fields')) return page;
      return { ...page, members: page.members.map(({ merge_fields: _dropped, ...rest }) => rest) };
    };
    const audience = new Audience([{ tag: 'FNAME', type: 'text' }], RULES);
    const log = capturingLogger();
    const knowledge = new AudienceKnowledge({ api: scripted.api, listId: 'L1', audience, total: 6, concurrency: 1, log, pageSize: 4 });
    await knowledge.readWholeAudience();
    const pages = scripted.calls.filter((c) => c.kind === 'page' && c.status === undefined) as MembersQuery[];
    expect(pages.map((p) => p.offset)).toEqual([0, 0, 4]);
    expect(pages[2]?.fields).toContain('members.merge_fields');
    expect(audience.get(subscriberHash('p5@example.org'))?.hasMergeValue('FNAME', 'P5')).toBe(true);
    expect(log.lines.some((l) => l.level === 'warn' && l.message.includes('asking for every merge field'))).toBe(true);
  });

  it('asks for archived members by status when the pages held none, so an archived person never looks new', async () => {
    const all = people(9);
    (all[2] as MemberInfo).status = 'archived';
    (all[7] as MemberInfo).status = 'archived';
    const scripted = scriptedApi(all);
    const plain = scripted.api.listMembers.bind(scripted.api);
    // A server whose list without a status filter leaves archived members out.
    scripted.api.listMembers = async (listId, query) => {
      const page = await plain(listId, query);
      if (query.status !== undefined) return page;
      const members = all.filter((m) => m.status !== 'archived');
      return { members: members.slice(query.offset, query.offset + query.count), total_items: members.length };
    };
    const audience = new Audience([{ tag: 'FNAME', type: 'text' }], RULES);
    const knowledge = new AudienceKnowledge({ api: scripted.api, listId: 'L1', audience, total: 7, concurrency: 2, log: capturingLogger(), pageSize: 4 });
    await knowledge.readWholeAudience();
    expect(audience.get(subscriberHash('p2@example.org'))?.status).toBe('archived');
    expect(audience.get(subscriberHash('p7@example.org'))?.status).toBe('archived');
    const byStatus = scripted.calls.filter((c): c is { kind: 'page' } & MembersQuery => c.kind === 'page' && c.status !== undefined);
    expect(byStatus.map((c) => [c.status, c.offset, c.sinceLastChanged])).toEqual([['archived', 0, undefined]]);
  });

  it('reads nothing more when the pages already held archived members', async () => {
    const all = people(9);
    (all[5] as MemberInfo).status = 'archived';
    const { knowledge, audience, calls } = knowledgeOf(all, { pageSize: 4 });
    await knowledge.readWholeAudience();
    expect(audience.get(subscriberHash('p5@example.org'))?.status).toBe('archived');
    expect(calls.filter((c) => c.kind === 'page' && c.status !== undefined)).toHaveLength(0);
  });

  it(`refreshes withdrawn members with since_last_changed at most every ${REFRESH_MS / 1000} s`, async () => {
    let now = 1_700_000_000_000;
    const all = people(10);
    const { knowledge, audience, calls } = knowledgeOf(all, { now: () => now, pageSize: 1000 });
    await knowledge.readWholeAudience();
    const hash = subscriberHash('p3@example.org');
    expect(audience.get(hash)?.status).toBe('subscribed');
    // p3 unsubscribes in Mailchimp after the read.
    (all[3] as MemberInfo).status = 'unsubscribed';
    now += REFRESH_MS - 1;
    await knowledge.prepare([hash]);
    expect(calls.filter((c) => c.kind === 'page' && c.sinceLastChanged)).toHaveLength(0);
    now += 1;
    await knowledge.prepare([hash]);
    const refreshes = calls.filter((c): c is { kind: 'page' } & MembersQuery => c.kind === 'page' && c.sinceLastChanged !== undefined);
    expect(refreshes.map((r) => r.status).sort()).toEqual(['archived', 'cleaned', 'unsubscribed']);
    // From a minute before the read started, in Mailchimp's timestamp shape.
    expect(refreshes[0]?.sinceLastChanged).toBe(new Date(1_700_000_000_000 - 60_000).toISOString().replace(/\.\d{3}Z$/, '+00:00'));
    expect(audience.get(hash)?.status).toBe('unsubscribed');
  });
});
