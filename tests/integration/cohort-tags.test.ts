/**
 * Mixpanel cohorts as Mailchimp tags, end to end: `tap-mixpanel | target-mailchimp` as two real
 * processes against the sandbox, the catalog selecting `cohorts` and `cohort_members`, cohort
 * membership changed through the sandbox's admin API between runs. Every test sets up its own
 * audience (statuses, other tools' tags) and cohorts, then asserts what the audience holds
 * afterwards (status and tags of every member concerned), the report's `cohorts` entries, the
 * rejects file, the requests Mailchimp received and the automation log.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { REASONS } from '../../src/targets/mailchimp/reports/outcomes.js';
import { CohortWorld, TAG_PREFIX, type AdminCohort } from './cohort-world.js';

let world: CohortWorld;
let catalog: string;
/** distinct_ids of profiles, by the name the tests give them (their $email is set to name@acme.io). */
let who: Record<string, string>;
/** A profile without $email (the sandbox's quirk at position 11). */
let noEmail: string;
const DEVICE = '$device:trial-phone-1';

const email = (name: string) => `${name}@acme.io`;
/** Tags as the audience reader gives them: sorted. */
const tags = (...names: string[]) => [...names].sort();
const NAMES = ['ann', 'bob', 'uma', 'cid', 'eve', 'hal', 'xav', 'zed'];

beforeAll(async () => {
  world = await CohortWorld.start();
  catalog = await world.catalog(['cohorts', 'cohort_members']);
});

afterAll(async () => {
  await world?.close();
});

beforeEach(async () => {
  await world.reset();
  const profiles = await world.profiles();
  // Profiles at positions 20.. have no quirk that matters here once their address is set.
  who = Object.fromEntries(NAMES.map((name, i) => [name, (profiles[20 + i] as { $distinct_id: string }).$distinct_id]));
  noEmail = (profiles[11] as { $distinct_id: string }).$distinct_id;
  expect((profiles[11] as { $properties: Record<string, unknown> }).$properties.$email).toBeUndefined();
  await world.setEmails(Object.fromEntries(NAMES.map((name) => [who[name] as string, email(name)])));
});

const ids = (...names: string[]) => names.map((n) => who[n] as string);

describe('three runs with membership changes between them', () => {
  it('entrants get the tag, leavers lose it, other tools\' tags and every status stay, no automation fires', async () => {
    await world.setAudience([
      { email_address: email('ann'), status: 'subscribed', tags: ['crm:vip'] },
      { email_address: email('bob'), status: 'subscribed', tags: ['Webinar May'] },
      { email_address: email('uma'), status: 'unsubscribed' },
      { email_address: email('cid'), status: 'cleaned' },
      { email_address: email('eve'), status: 'subscribed', tags: ['crm:vip'] },
      // Holds the cohort's tag from an earlier sync, but is not in the cohort.
      { email_address: email('hal'), status: 'subscribed', tags: [`${TAG_PREFIX}Trial ends this week`, 'crm:plan-pro'] },
      { email_address: email('zed'), status: 'pending', tags: ['Webinar May'] },
    ]);
    const trial = await world.createCohort('Trial ends this week', [...ids('ann', 'bob', 'uma', 'xav'), noEmail, DEVICE]);
    const tag = `${TAG_PREFIX}Trial ends this week`;
    // By name; the seeded cohorts 1-4 are in the same stream and not selected.
    const settings = { cohort_tags: ['Trial ends this week'] };
    const concerned = NAMES.map(email);

    // Run 1: ann, bob and uma (unsubscribed) enter; hal, who is not a member, loses the tag.
    const first = await world.pipe(catalog, settings);
    expect(first.code).toBe(0);
    expect(await world.statusAndTags(concerned)).toEqual({
      [email('ann')]: ['subscribed', tags(tag, 'crm:vip')],
      [email('bob')]: ['subscribed', tags('Webinar May', tag)],
      [email('uma')]: ['unsubscribed', tags(tag)],
      [email('cid')]: ['cleaned', tags()],
      [email('eve')]: ['subscribed', tags('crm:vip')],
      [email('hal')]: ['subscribed', tags('crm:plan-pro')],
      [email('xav')]: undefined,
      [email('zed')]: ['pending', tags('Webinar May')],
    });
    expect(first.cohort(trial.id)).toMatchObject({ name: 'Trial ends this week', tag, complete: true, gained: 3, kept: 0, lost: 1, added: 0, notInAudience: 1, noEmail: 2, rejected: 0 });
    // Only the selected cohort is in the report, and no tag was made for the others.
    expect(first.report.cohorts?.map((c) => c.id)).toEqual([trial.id]);
    expect((await world.tagNames()).filter((t) => t.startsWith(TAG_PREFIX))).toEqual([tag]);
    // The people who could not be tagged are named, with the reason.
    expect(first.rejects.map((r) => [r.email, r.reason, r.detail]).sort()).toEqual(
      [
        ['', REASONS.noEmail, `cohort ${trial.id} member ${DEVICE}`],
        ['', REASONS.noEmail, `cohort ${trial.id} member ${noEmail}`],
        [email('xav'), REASONS.notInAudience, ''],
      ].sort(),
    );
    for (const r of first.rejects) {
      expect(r.stream).toBe('cohort_members');
      // Readable in a spreadsheet: the key as name=value text, and the cohort by name and id.
      expect(r.key).toMatch(new RegExp(`^cohort_id=${trial.id}, distinct_id=\\S+$`));
      expect(r.cohort).toBe(`Trial ends this week (${trial.id})`);
    }
    // The last state printed is the end of the sweep.
    const last = JSON.parse(first.states[first.states.length - 1] as string) as { bookmarks: Record<string, unknown>; currently_syncing: unknown };
    expect(last.currently_syncing).toBeNull();
    expect(last.bookmarks).not.toHaveProperty('cohort_members');

    // Run 2: bob leaves; eve and cid (cleaned) enter.
    await world.changeCohort(trial.id, { add: ids('eve', 'cid'), remove: ids('bob') });
    const second = await world.pipe(catalog, settings, last);
    expect(second.code).toBe(0);
    expect(await world.statusAndTags(concerned)).toEqual({
      [email('ann')]: ['subscribed', tags(tag, 'crm:vip')],
      [email('bob')]: ['subscribed', tags('Webinar May')],
      [email('uma')]: ['unsubscribed', tags(tag)],
      [email('cid')]: ['cleaned', tags(tag)],
      [email('eve')]: ['subscribed', tags(tag, 'crm:vip')],
      [email('hal')]: ['subscribed', tags('crm:plan-pro')],
      [email('xav')]: undefined,
      [email('zed')]: ['pending', tags('Webinar May')],
    });
    expect(second.cohort(trial.id)).toMatchObject({ complete: true, gained: 2, kept: 2, lost: 1, notInAudience: 1, noEmail: 2 });

    // Run 3: uma, who unsubscribed, leaves: she loses the tag and stays unsubscribed.
    await world.changeCohort(trial.id, { remove: ids('uma') });
    const third = await world.pipe(catalog, settings);
    expect(third.code).toBe(0);
    expect(await world.statusAndTags(concerned)).toEqual({
      [email('ann')]: ['subscribed', tags(tag, 'crm:vip')],
      [email('bob')]: ['subscribed', tags('Webinar May')],
      [email('uma')]: ['unsubscribed', tags()],
      [email('cid')]: ['cleaned', tags(tag)],
      [email('eve')]: ['subscribed', tags(tag, 'crm:vip')],
      [email('hal')]: ['subscribed', tags('crm:plan-pro')],
      [email('xav')]: undefined,
      [email('zed')]: ['pending', tags('Webinar May')],
    });
    expect(third.cohort(trial.id)).toMatchObject({ complete: true, gained: 0, kept: 3, lost: 1 });
    expect(await world.holders(tag)).toEqual([email('ann'), email('cid'), email('eve')]);

    // Tags were written with is_syncing all along: the automation log is empty.
    expect((await world.automations()).total).toBe(0);
  });
});

describe('cohort_add_missing', () => {
  async function setUp(): Promise<AdminCohort> {
    await world.setAudience([
      { email_address: email('ann'), status: 'subscribed' },
      { email_address: email('uma'), status: 'unsubscribed' },
    ]);
    return world.createCohort('Churned last month', ids('ann', 'uma', 'xav'));
  }

  it('off (the default): a member who is not in the audience is not created, and is named in rejects_file', async () => {
    const cohort = await setUp();
    const run = await world.pipe(catalog, { cohort_tags: [cohort.id] });
    expect(run.code).toBe(0);
    expect((await world.audience()).has(email('xav'))).toBe(false);
    expect(run.cohort(cohort.id)).toMatchObject({ gained: 2, added: 0, notInAudience: 1 });
    expect(run.rejects.map((r) => [r.email, r.reason])).toEqual([[email('xav'), REASONS.notInAudience]]);
    expect((await world.mailchimpWrites()).filter((w) => w.route === '/3.0/lists/{list_id}')).toEqual([]);
  });

  it('on: they are created with status_if_new and tagged; existing members keep their status', async () => {
    const cohort = await setUp();
    await world.clearRequests();
    const tag = `${TAG_PREFIX}Churned last month`;
    const run = await world.pipe(catalog, { cohort_tags: [cohort.id], cohort_add_missing: true, status_if_new: 'pending' });
    expect(run.code).toBe(0);
    expect(await world.statusAndTags([email('ann'), email('uma'), email('xav')])).toEqual({
      [email('ann')]: ['subscribed', tags(tag)],
      [email('uma')]: ['unsubscribed', tags(tag)],
      [email('xav')]: ['pending', tags(tag)],
    });
    expect(run.cohort(cohort.id)).toMatchObject({ gained: 3, added: 1, notInAudience: 0 });
    expect(run.report.created).toBe(1);
    expect(run.rejects).toEqual([]);
    // One create, by batch subscribe that refuses to update anyone who exists.
    expect((await world.mailchimpWrites()).filter((w) => w.route === '/3.0/lists/{list_id}')).toHaveLength(1);
  });
});

describe('a renamed and a deleted cohort (cohort_registry_file)', () => {
  it('renamed: its tag is renamed in place, members kept, nobody re-tagged; deleted: its tag stays unless cohort_clear_deleted', async () => {
    await world.setAudience([
      { email_address: email('ann'), status: 'subscribed', tags: ['crm:vip'] },
      { email_address: email('bob'), status: 'unsubscribed' },
      { email_address: email('eve'), status: 'subscribed' },
    ]);
    const cohort = await world.createCohort('Power trial', ids('ann', 'bob'));
    // By id: a cohort selected by name would no longer be selected once renamed.
    const settings = { cohort_tags: [cohort.id], cohort_registry_file: `${world.dir}/cohort-registry.json` };
    const first = await world.pipe(catalog, settings);
    expect(first.code).toBe(0);
    const segments = () => world.segments();
    const oldTag = `${TAG_PREFIX}Power trial`;
    const tagId = (await segments()).get(oldTag);
    expect(tagId).toEqual(expect.any(Number));
    expect(await world.holders(oldTag)).toEqual([email('ann'), email('bob')]);

    await world.changeCohort(cohort.id, { name: 'Power trial (EU)' });
    await world.clearRequests();
    const renamed = await world.pipe(catalog, settings);
    expect(renamed.code).toBe(0);
    const newTag = `${TAG_PREFIX}Power trial (EU)`;
    const after = await segments();
    expect(after.has(oldTag)).toBe(false);
    expect(after.get(newTag)).toBe(tagId);
    expect(await world.statusAndTags([email('ann'), email('bob'), email('eve')])).toEqual({
      [email('ann')]: ['subscribed', tags(newTag, 'crm:vip')],
      [email('bob')]: ['unsubscribed', tags(newTag)],
      [email('eve')]: ['subscribed', tags()],
    });
    expect(renamed.cohort(cohort.id)).toMatchObject({ name: 'Power trial (EU)', tag: newTag, gained: 0, kept: 2, lost: 0 });
    // The only write: the rename.
    expect((await world.mailchimpWrites()).map((w) => `${w.method} ${w.route}`)).toEqual(['PATCH /3.0/lists/{list_id}/segments/{segment_id}']);
    expect(renamed.stderr).toContain(`renaming its tag "${oldTag}" to "${newTag}"`);

    // Deleted in Mixpanel: the tag and its members stay as they are.
    await world.deleteCohort(cohort.id);
    await world.clearRequests();
    const deleted = await world.pipe(catalog, settings);
    expect(deleted.code).toBe(0);
    expect(await world.holders(newTag)).toEqual([email('ann'), email('bob')]);
    expect(deleted.stderr).toContain(`cohort ${cohort.id} ("Power trial (EU)") is gone from Mixpanel: its tag "${newTag}" is left as it is`);
    // cohort_tags still names it: a warning (nothing of it is left to load), not a failure.
    expect(deleted.report.warnings).toEqual([expect.stringContaining(`"cohort_tags" names cohort ${cohort.id}, which the project does not have (it was "Power trial (EU)"`)]);
    expect(await world.mailchimpWrites()).toEqual([]);

    // With cohort_clear_deleted the next run removes it from everyone; statuses stay.
    const cleared = await world.pipe(catalog, { ...settings, cohort_clear_deleted: true });
    expect(cleared.code).toBe(0);
    expect(await world.holders(newTag)).toEqual([]);
    expect(await world.statusAndTags([email('ann'), email('bob')])).toEqual({ [email('ann')]: ['subscribed', tags('crm:vip')], [email('bob')]: ['unsubscribed', tags()] });
    expect((await world.automations()).total).toBe(0);
  });
});

describe('dry_run', () => {
  it('lists per cohort who would gain and who would lose the tag, and writes nothing', async () => {
    const tag = `${TAG_PREFIX}Trial ends this week`;
    await world.setAudience([
      { email_address: email('ann'), status: 'subscribed', tags: [tag] },
      { email_address: email('bob'), status: 'subscribed', tags: [tag, 'crm:vip'] },
      { email_address: email('uma'), status: 'unsubscribed' },
      { email_address: email('eve'), status: 'subscribed' },
    ]);
    const trial = await world.createCohort('Trial ends this week', ids('ann', 'uma', 'eve', 'xav'));
    const before = await world.audience();
    await world.clearRequests();
    const run = await world.pipe(catalog, { cohort_tags: ['Trial ends this week'], dry_run: true });
    expect(run.code).toBe(0);
    expect(run.cohort(trial.id)).toMatchObject({ gained: 2, kept: 1, lost: 1, notInAudience: 1, wouldGain: [email('uma'), email('eve')], wouldLose: [email('bob')] });
    expect(run.stderr).toContain(`plan: cohort ${trial.id}: would gain "${tag}": ${email('uma')}, ${email('eve')}`);
    expect(run.stderr).toContain(`plan: cohort ${trial.id}: would lose "${tag}": ${email('bob')}`);
    expect(run.states).toEqual([]);
    expect(await world.mailchimpWrites()).toEqual([]);
    expect(await world.audience()).toEqual(before);
  });
});

describe('cohort_tag_automations', () => {
  it('true: the cohort tags are written without is_syncing, so the automation log shows each addition', async () => {
    const tag = `${TAG_PREFIX}Trial ends this week`;
    await world.setAudience([
      { email_address: email('ann'), status: 'subscribed' },
      { email_address: email('eve'), status: 'subscribed', tags: [tag] },
    ]);
    const trial = await world.createCohort('Trial ends this week', ids('ann', 'eve'));
    const run = await world.pipe(catalog, { cohort_tags: [trial.id], cohort_tag_automations: true });
    expect(run.code).toBe(0);
    expect(await world.holders(tag)).toEqual([email('ann'), email('eve')]);
    // ann's tag is new: one trigger; eve had it already: none.
    expect(await world.automations()).toMatchObject({ total: 1, by_tag: { [tag]: 1 }, by_via: { member_tags: 1 } });
  });
});
