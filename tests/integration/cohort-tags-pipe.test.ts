/**
 * The cohort-to-tag job where runs go wrong or get big, against the sandbox with the real
 * binaries:
 * - a tap run stopped with SIGTERM while cohort_members is paging (query answers slowed by a
 *   latency fault, so the signal lands mid-stream; the test waits for the STATE that finishes the
 *   tagged cohort, no sleeps): fed to target-mailchimp, its output adds entrants and removes
 *   nobody, and the target prints the tap's last state; the run resumed from that state removes
 *   nobody either (it is not a full sweep); the full run after it does;
 * - one pipe doing both jobs: engage loaded as members and a cohort as a tag in the same run,
 *   the states printed in the order the tap sent them, ending with its last;
 * - a cohort large enough for Mailchimp's batch operations: gains and losses go through
 *   /batches, still with is_syncing (no automation fires), and nobody's status changes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SingerMessage } from '../../src/singer/messages.js';
import { completeMessages, startTap } from './export-truth.js';
import { CohortWorld, TAG_PREFIX } from './cohort-world.js';
import { getJson, lastState, parseSingerOutput, recordsOf } from './harness.js';

type State = { bookmarks: Record<string, { partitions?: Array<{ context: { cohort_id: number }; done?: boolean }> }>; currently_syncing: string | null };

let world: CohortWorld;
let profiles: Array<{ $distinct_id: string; $properties: Record<string, unknown> }>;

beforeAll(async () => {
  world = await CohortWorld.start();
});

afterAll(async () => {
  await world?.close();
});

beforeEach(async () => {
  await world.reset();
  profiles = await world.profiles();
});

const stateValues = (messages: SingerMessage[]) => messages.filter((m): m is Extract<SingerMessage, { type: 'STATE' }> => m.type === 'STATE').map((m) => JSON.stringify(m.value));
const activated = (messages: SingerMessage[]) => messages.filter((m) => m.type === 'ACTIVATE_VERSION').map((m) => (m as { stream: string }).stream);

/** Profiles from position `from` on, their $email set to <name><i>@acme.io. */
async function people(from: number, count: number, name = 'member'): Promise<Array<{ id: string; email: string }>> {
  const chosen = profiles.slice(from, from + count).map((p, i) => ({ id: p.$distinct_id, email: `${name}${from + i}@acme.io` }));
  await world.setEmails(Object.fromEntries(chosen.map((p) => [p.id, p.email])));
  return chosen;
}

describe('a tap run stopped with SIGTERM while cohort_members pages', () => {
  it('its output adds entrants and removes nobody; the resumed run removes nobody; the next full run removes the leaver', async () => {
    // Only our cohorts: the tagged one first, then a larger one that is still paging when the signal comes.
    for (const c of await world.cohorts()) await world.deleteCohort(c.id);
    const [ann, bob, lee, eve] = await people(20, 4, 'p');
    const filler = await people(30, 25, 'filler');
    await world.setAudience([ann, bob, lee, eve].map((p) => ({ email_address: (p as { email: string }).email, status: 'subscribed' })));
    const cohort = await world.createCohort('Trial ends this week', [ann, bob, lee].map((p) => (p as { id: string }).id));
    await world.createCohort('Everyone else', filler.map((p) => p.id));
    const catalog = await world.catalog(['cohorts', 'cohort_members']);
    const tag = `${TAG_PREFIX}Trial ends this week`;
    const settings = { cohort_tags: [cohort.id] };
    const emails = (...list: Array<{ email: string } | undefined>) => list.map((p) => (p as { email: string }).email).sort();

    const first = await world.pipe(catalog, settings);
    expect(first.code).toBe(0);
    expect(await world.holders(tag)).toEqual(emails(ann, bob, lee));

    // lee leaves, eve enters; then a run that is stopped once the tagged cohort is done.
    await world.changeCohort(cohort.id, { remove: [(lee as { id: string }).id], add: [(eve as { id: string }).id] });
    await world.slowQueries(150);
    const live = startTap(['--config', world.tapConfig, '--catalog', catalog]);
    await live.until((out) =>
      completeMessages(out).some((m) => m.type === 'STATE' && ((m.value as unknown as State).bookmarks.cohort_members?.partitions ?? []).some((p) => p.context.cohort_id === cohort.id && p.done === true)),
    );
    live.child.kill('SIGTERM');
    const { code } = await live.exited;
    await world.slowQueries(0);
    expect(code).toBe(0);
    expect(live.stderr()).toContain('SIGTERM received');
    const stopped = parseSingerOutput(live.stdout());
    // Mid-stream: the cohort list is whole, the sweep is not; the tagged cohort was read in full.
    expect(activated(stopped)).toEqual(['cohorts']);
    const read = recordsOf(stopped, 'cohort_members');
    expect(read.filter((r) => r.cohort_id === cohort.id).map((r) => r.mp_reserved_email).sort()).toEqual(emails(ann, bob, eve));
    expect(read.filter((r) => r.cohort_id !== cohort.id).length).toBeLessThan(filler.length);

    const interrupted = await world.target(live.stdout(), settings);
    expect(interrupted.code).toBe(0);
    // eve gained the tag; lee, who left, keeps it: this run never saw the whole sweep.
    expect(await world.holders(tag)).toEqual(emails(ann, bob, eve, lee));
    expect(interrupted.cohort(cohort.id)).toMatchObject({ complete: false, gained: 1, kept: 2, lost: 0 });
    expect(interrupted.stderr).toContain('membership not complete in this run: nobody removed');
    // The state it ends with is the tap's last, so the next run resumes where the tap stopped.
    expect(interrupted.states[interrupted.states.length - 1]).toBe(stateValues(stopped).pop());

    // The run resumed from that state reads only the cohorts left: not a full sweep either.
    const resumed = await world.pipe(catalog, settings, lastState(stopped));
    expect(resumed.code).toBe(0);
    expect(activated(parseSingerOutput(resumed.tap.stdout))).toEqual(['cohorts']);
    expect(await world.holders(tag)).toEqual(emails(ann, bob, eve, lee));
    expect(resumed.report.cohorts ?? []).toEqual([]);

    // The next run is a full sweep: lee loses the tag, one run later, and nothing was ever removed unread.
    const full = await world.pipe(catalog, settings, JSON.parse(resumed.states[resumed.states.length - 1] as string));
    expect(full.code).toBe(0);
    expect(activated(parseSingerOutput(full.tap.stdout))).toEqual(['cohorts', 'cohort_members']);
    expect(await world.holders(tag)).toEqual(emails(ann, bob, eve));
    expect(full.cohort(cohort.id)).toMatchObject({ complete: true, gained: 0, kept: 3, lost: 1 });
    expect((await world.statusAndTags(emails(lee)))[emails(lee)[0] as string]).toEqual(['subscribed', []]);
  });
});

describe('both jobs in one pipe', () => {
  it('engage loads people as members and a cohort becomes a tag in the same run; states are printed in the tap\'s order, ending with its last', async () => {
    const catalog = await world.catalog(['engage', 'cohorts', 'cohort_members']);
    const before = await world.audience();
    const tag = `${TAG_PREFIX}Power users`;
    const settings = { cohort_tags: ['Power users'], status_if_new: 'subscribed' };

    const run = await world.pipe(catalog, settings);
    expect(run.code).toBe(0);
    const sent = parseSingerOutput(run.tap.stdout);
    expect(new Set(sent.filter((m) => m.type === 'RECORD').map((m) => (m as { stream: string }).stream))).toEqual(new Set(['engage', 'cohorts', 'cohort_members']));
    // Printed states are states the tap sent, in its order, and the last is its last.
    const tapStates = stateValues(sent);
    let at = -1;
    for (const state of run.states) {
      const next = tapStates.indexOf(state, at + 1);
      expect(next).toBeGreaterThan(at);
      at = next;
    }
    expect(run.states[run.states.length - 1]).toBe(tapStates[tapStates.length - 1]);

    // The engage job: new people were added, nobody's status changed.
    const after = await world.audience();
    expect(run.report.created).toBeGreaterThan(0);
    expect(after.size).toBe(before.size + (run.report.created as number));
    for (const [address, member] of before) expect([address, after.get(address)?.status]).toEqual([address, member.status]);

    // The cohort job: every member of "Power users" who is in the audience now holds the tag, also
    // those engage added in this very run (their tag waited for their creation), except those
    // Mailchimp refuses to tag, who are rejected and named; nobody else holds it.
    const power = (await world.cohorts()).find((c) => c.id === 1);
    const addressOf = new Map(profiles.map((p) => [p.$distinct_id, typeof p.$properties.$email === 'string' ? p.$properties.$email.trim().toLowerCase() : undefined]));
    const memberEmails = new Set((power?.members ?? []).map((id) => addressOf.get(id)).filter((e): e is string => e !== undefined));
    const refused = new Set(run.rejects.filter((r) => r.stream === 'cohort_members' && r.email !== '').map((r) => r.email.toLowerCase()));
    const expected = [...memberEmails].filter((e) => after.has(e) && !refused.has(e) && after.get(e)?.status !== 'archived');
    const addedNow = expected.filter((e) => !before.has(e));
    expect(addedNow.length).toBeGreaterThan(0);
    expect(expected.length).toBeGreaterThan(addedNow.length);
    const holders = new Set(await world.holders(tag));
    for (const e of expected) expect([e, holders.has(e)]).toEqual([e, true]);
    for (const e of holders) expect([e, memberEmails.has(e)]).toEqual([e, true]);
    expect(run.cohort(1)).toMatchObject({ complete: true, gained: holders.size, lost: 0 });
    // Nobody in the rejects file as "not in the audience" who is in it now.
    for (const r of run.rejects.filter((x) => x.reason.startsWith('not in the audience'))) {
      const member = after.get(r.email.toLowerCase());
      expect([r.email, member?.status]).toEqual([r.email, member?.forgotten ? member.status : undefined]);
    }
    expect((await world.automations()).total).toBe(0);

    // The next run finds everything in place: nothing to gain, nothing to lose.
    const again = await world.pipe(catalog, settings, JSON.parse(run.states[run.states.length - 1] as string));
    expect(again.code).toBe(0);
    expect(again.cohort(1)).toMatchObject({ complete: true, gained: 0, kept: holders.size, lost: 0 });
  });
});

describe('a cohort large enough for batch operations', () => {
  it('gains and losses go through /batches with is_syncing; statuses stay', async () => {
    for (const c of await world.cohorts()) await world.deleteCohort(c.id);
    const members = await people(0, 50, 'bulk');
    await world.setAudience(members.map((p, i) => ({ email_address: p.email, status: i % 10 === 0 ? 'unsubscribed' : 'subscribed', tags: ['crm:vip'] })));
    const cohort = await world.createCohort('Big spenders', members.map((p) => p.id));
    const catalog = await world.catalog(['cohorts', 'cohort_members']);
    const tag = `${TAG_PREFIX}Big spenders`;
    const settings = { cohort_tags: [cohort.id], bulk_threshold: 10 };
    type RouteCount = { method: string; route: string; count: number; statuses: Record<string, number> };
    /** Tag operations run inside batches, and direct tag calls, since the last clear. */
    const tagWrites = async () => {
      const summary = await getJson<{ routes: RouteCount[]; batch_operations: { routes: RouteCount[] } }>(`${world.url}/__admin/requests/summary?family=mailchimp`);
      const count = (routes: RouteCount[]) => routes.filter((r) => r.method === 'POST' && r.route.endsWith('/members/{hash}/tags')).reduce((n, r) => n + r.count, 0);
      return { batched: count(summary.batch_operations.routes), direct: count(summary.routes), batches: summary.routes.filter((r) => r.method === 'POST' && r.route === '/3.0/batches').reduce((n, r) => n + r.count, 0) };
    };

    await world.clearRequests();
    const first = await world.pipe(catalog, settings);
    expect(first.code).toBe(0);
    expect(first.cohort(cohort.id)).toMatchObject({ gained: 50, lost: 0 });
    expect(await world.holders(tag)).toEqual(members.map((p) => p.email).sort());
    // 50 tag additions: in batch operations, a handful of POST /batches, not 50 calls.
    const firstWrites = await tagWrites();
    expect(firstWrites.batched + firstWrites.direct).toBe(50);
    expect(firstWrites.batched).toBeGreaterThanOrEqual(40);
    expect(firstWrites.batches).toBeGreaterThanOrEqual(1);
    expect(firstWrites.batches).toBeLessThanOrEqual(5);

    const leavers = members.slice(0, 20);
    await world.changeCohort(cohort.id, { remove: leavers.map((p) => p.id) });
    await world.clearRequests();
    const second = await world.pipe(catalog, settings);
    expect(second.code).toBe(0);
    expect(second.cohort(cohort.id)).toMatchObject({ gained: 0, kept: 30, lost: 20 });
    expect(await world.holders(tag)).toEqual(members.slice(20).map((p) => p.email).sort());
    const secondWrites = await tagWrites();
    expect(secondWrites.batched + secondWrites.direct).toBe(20);
    expect(secondWrites.batched).toBeGreaterThanOrEqual(10);
    const now = await world.audience();
    for (const [i, p] of members.entries()) {
      expect([p.email, now.get(p.email)?.status, now.get(p.email)?.tags.includes('crm:vip')]).toEqual([p.email, i % 10 === 0 ? 'unsubscribed' : 'subscribed', true]);
    }
    expect((await world.automations()).total).toBe(0);
  });
});
