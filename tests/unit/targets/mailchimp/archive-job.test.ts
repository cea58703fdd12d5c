/**
 * The archive job's rules, against a fake Mailchimp (no HTTP): who is owned, which sweep counts,
 * the safety limit at its edge, a failed write before the end of the sweep, a signal, records of
 * another version, the dry run, and the returner who stays archived.
 */
import { describe, expect, it } from '@jest/globals';
import { Audience } from '../../../../src/targets/mailchimp/audience/audience.js';
import { ArchiveJob } from '../../../../src/targets/mailchimp/archive/archive-job.js';
import { archiveSettings } from '../../../../src/targets/mailchimp/archive/settings.js';
import { subscriberHash } from '../../../../src/targets/mailchimp/members/members.js';
import { REASONS, Tally } from '../../../../src/targets/mailchimp/reports/outcomes.js';
import { describeArchive } from '../../../../src/targets/mailchimp/reports/summary.js';
import { OperationQueue } from '../../../../src/targets/mailchimp/writing/batch-queue.js';
import { capturingLogger } from '../../helpers/capture-log.js';
import { FakeMailchimp } from '../../helpers/fake-mailchimp.js';

const OWNER = 'Synced by target-mailchimp';
const V = 1_700_000_000_000;

function world(owned: number, options: { maxShare?: number; dryRun?: boolean; others?: string[] } = {}) {
  const api = new FakeMailchimp('L1');
  const emails = Array.from({ length: owned }, (_, i) => `p${i}@acme.io`);
  for (const e of emails) api.add(e, 'subscribed', [OWNER]);
  for (const e of options.others ?? []) api.add(e, 'subscribed', ['Newsletter form']);
  const log = capturingLogger();
  const tally = new Tally();
  const abort = new AbortController();
  const settings = archiveSettings({ archive_missing: true, ...(options.maxShare === undefined ? {} : { archive_max_share: options.maxShare }) });
  if (!settings) throw new Error('archive_missing is off');
  const audience = new Audience([], { staticTags: [OWNER], properties: [] });
  const queue = new OperationQueue({ api, log, maxOperations: 1000, directBelow: Number.POSITIVE_INFINITY, flushMs: 0, concurrency: 3 });
  const job = new ArchiveJob({ api, listId: 'L1', stream: 'engage', queue, log, settings, dryRun: options.dryRun === true, signal: abort.signal, audience, tally, file: undefined, concurrency: 3 });
  const sweep = async (present: string[], version = V, failed = false) => {
    for (const e of present) job.seen({ distinct_id: e, mp_reserved_email: e }, version);
    await job.sweepComplete(V, Promise.resolve(), () => failed);
    await queue.drain();
  };
  return { api, job, tally, log, abort, emails, sweep, audience };
}

const archivedOf = (api: FakeMailchimp) => [...api.members.values()].filter((m) => m.status === 'archived').map((m) => m.email).sort();

describe('ArchiveJob', () => {
  it('archives owned members missing from the sweep, never members without the owner tag', async () => {
    const w = world(40, { others: ['signup@acme.io'] });
    await w.sweep(w.emails.slice(2));
    expect(archivedOf(w.api)).toEqual(['p0@acme.io', 'p1@acme.io']);
    expect(w.tally.archive).toMatchObject({ sweep: true, owned: 40, left: 2, archived: 2, refused: 0 });
    expect(w.tally.archive && describeArchive(w.tally.archive, false)).toBe('archive: 40 owned members, 2 left the source: archived 2');
  });

  it('the limit: exactly archive_max_share of the owned may go; one more and nobody does, with the setting to raise', async () => {
    const edge = world(40, { maxShare: 0.05 });
    await edge.sweep(edge.emails.slice(2));
    expect(archivedOf(edge.api)).toHaveLength(2);

    const over = world(40, { maxShare: 0.05 });
    await over.sweep(over.emails.slice(3));
    expect(archivedOf(over.api)).toEqual([]);
    expect(over.tally.archive).toMatchObject({ left: 3, archived: 0, refused: 3 });
    expect(over.job.refusal?.message).toContain('3 of the 40 members carrying "Synced by target-mailchimp" (7.5%) are missing from the complete sweep of "engage", more than archive_max_share 0.05 allows: nobody was archived');
    expect(over.job.refusal?.message).toContain('run again with archive_max_share 0.08 or more');
  });

  it('records of another version are not in the sweep; records without a version are in none', async () => {
    const w = world(10, { maxShare: 1 });
    for (const e of w.emails.slice(0, 5)) w.job.seen({ mp_reserved_email: e }, undefined);
    // p5..p9 came with another version; the sweep of V has nobody, so all ten left it.
    await w.sweep(w.emails.slice(5, 10), V + 1);
    expect(archivedOf(w.api)).toHaveLength(10);
    const kept = world(10, { maxShare: 1 });
    await kept.sweep(kept.emails, V);
    expect(archivedOf(kept.api)).toEqual([]);
  });

  it('nobody is archived when a write before the end of the sweep failed, or the run is stopping', async () => {
    const failed = world(10, { maxShare: 1 });
    await failed.sweep([], V, true);
    expect(archivedOf(failed.api)).toEqual([]);
    expect(failed.tally.archive?.sweep).toBe(false);

    const stopping = world(10, { maxShare: 1 });
    stopping.abort.abort();
    await stopping.sweep([]);
    expect(archivedOf(stopping.api)).toEqual([]);
    expect(stopping.log.lines.map((l) => l.message)).toContain('archive_missing: stopping before the archive: nobody is archived this run (the next complete sweep will)');
  });

  it('a dry run counts and names who would be archived and writes nothing', async () => {
    const w = world(20, { dryRun: true });
    await w.sweep(w.emails.slice(1));
    expect(archivedOf(w.api)).toEqual([]);
    expect(w.job.archivedEmails).toEqual(['p0@acme.io']);
    expect(w.log.lines.map((l) => l.message)).toContain('plan: archive_missing would archive 1: p0@acme.io');
    expect(w.api.log.filter((c) => c.method === 'DELETE')).toEqual([]);
  });

  it('an archived member with the owner tag who is in the source again stays archived and is counted', () => {
    const w = world(0);
    w.audience.remember({ id: subscriberHash('back@acme.io'), email_address: 'back@acme.io', status: 'archived', tags: [{ id: 1, name: OWNER }] });
    w.audience.remember({ id: subscriberHash('other@acme.io'), email_address: 'other@acme.io', status: 'archived', tags: [] });
    const source = { line: 3, stream: 'engage', key: 'x' };
    w.job.observe({ outcome: 'skipped', source, email: 'back@acme.io', reason: REASONS.archived });
    w.job.observe({ outcome: 'skipped', source, email: 'other@acme.io', reason: REASONS.archived });
    expect(w.tally.archive?.returned).toBe(1);
  });
});
