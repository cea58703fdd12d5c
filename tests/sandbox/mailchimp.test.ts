import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { describeSeed } from '../../src/sandbox/data.js';
import type { SeedDescription } from '../../src/sandbox/data.js';
import { startSandbox } from '../../src/sandbox/server.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/server.js';
import { basic, call, mailchimpAuth } from './helpers.js';

const OPTIONS: SandboxOptions = { port: 0, now: '2024-06-10T12:00:00Z', days: 1, eventsPerDay: 10, profiles: 200 };
const hash = (email: string) => createHash('md5').update(email.toLowerCase()).digest('hex');

interface Member {
  id: string;
  email_address: string;
  status: string;
  merge_fields: Record<string, unknown>;
  tags: Array<{ id: number; name: string }>;
  last_changed: string;
  full_name: string;
}

interface BatchError {
  email_address: string;
  error: string;
  error_code: string;
  field: string;
  field_message: string;
}

interface BatchResponse {
  new_members: Member[];
  updated_members: Member[];
  errors: BatchError[];
  total_created: number;
  total_updated: number;
  error_count: number;
}

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: Array<{ field: string; message: string }>;
}

describe('Mailchimp emulation', () => {
  let sb: Sandbox;
  let seed: SeedDescription;
  let list: string;

  beforeAll(async () => {
    sb = await startSandbox(OPTIONS);
    seed = describeSeed(OPTIONS);
    list = `${sb.url}/3.0/lists/${sb.credentials.mailchimp.listId}`;
  });

  beforeEach(async () => {
    await call(`${sb.url}/__admin/reset`, { method: 'POST' });
  });

  afterAll(async () => {
    await sb.close();
  });

  const mc = <T>(url: string, init: { method?: string; json?: unknown } = {}) => call<T>(url, { ...init, headers: mailchimpAuth(sb) });
  const batch = (members: unknown[], options: { update_existing?: boolean; query?: string } = {}) =>
    mc<BatchResponse>(`${list}${options.query ?? ''}`, { json: { members, update_existing: options.update_existing ?? false } });
  const member = (email: string) => mc<Member>(`${list}/members/${hash(email)}`);
  const first = (emails: string[]) => emails[0] as string;

  describe('auth and basics', () => {
    it('answers ping with Basic auth (any user) or a Bearer token', async () => {
      const ping = await mc<{ health_status: string }>(`${sb.url}/3.0/ping`);
      expect(ping.body).toEqual({ health_status: "Everything's Chimpy!" });
      const bearer = await call(`${sb.url}/3.0/ping`, { headers: { authorization: `Bearer ${sb.credentials.mailchimp.apiKey}` } });
      expect(bearer.status).toBe(200);
    });

    it.each([
      ['missing', {}, 'API Key Missing'],
      ['wrong', { authorization: basic('user', 'deadbeef-us6') }, 'API Key Invalid'],
    ])('refuses a %s key with a 401 problem document', async (_name, headers, title) => {
      const res = await call<Problem>(`${sb.url}/3.0/ping`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ type: 'https://mailchimp.com/developer/marketing/docs/errors/', title, status: 401 });
      expect(res.body.instance).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('describes the list and 404s an unknown one', async () => {
      const res = await mc<{ id: string; stats: Record<string, number> }>(list);
      const admin = await call<{ members: Array<{ status: string; forgotten: boolean }> }>(`${sb.url}/__admin/mailchimp/lists/${sb.credentials.mailchimp.listId}/members`);
      const visible = admin.body.members.filter((m) => !m.forgotten);
      expect(res.body.id).toBe(sb.credentials.mailchimp.listId);
      expect(res.body.stats.member_count).toBe(visible.filter((m) => m.status === 'subscribed').length);
      expect(res.body.stats.cleaned_count).toBe(seed.cleaned.length);
      expect(res.body.stats.total_contacts).toBe(59);
      const missing = await mc<Problem>(`${sb.url}/3.0/lists/nope`);
      expect(missing.status).toBe(404);
      expect(missing.body.title).toBe('Resource Not Found');
      const unknownPath = await mc<Problem>(`${sb.url}/3.0/automations`);
      expect(unknownPath.status).toBe(404);
    });
  });

  describe('batch subscribe', () => {
    it('creates new members with their status and merge fields', async () => {
      const res = await batch([{ email_address: 'New.Person@mailbox.org', status: 'subscribed', merge_fields: { FNAME: 'New', LNAME: 'Person', PLAN: 'pro', LTV: '12.5' } }]);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total_created: 1, total_updated: 0, error_count: 0, errors: [] });
      const created = res.body.new_members[0] as Member;
      expect(created.id).toBe(hash('new.person@mailbox.org'));
      expect(created.email_address).toBe('New.Person@mailbox.org');
      expect(created.merge_fields).toMatchObject({ FNAME: 'New', LNAME: 'Person', PLAN: 'pro', LTV: 12.5 });
      expect((await member('new.person@MAILBOX.org')).body.email_address).toBe('New.Person@mailbox.org');
    });

    it('reports existing members without update_existing', async () => {
      const email = first(seed.subscribedSame);
      const res = await batch([{ email_address: email, status: 'subscribed', merge_fields: { FNAME: 'X' } }]);
      expect(res.body.errors).toEqual([
        {
          email_address: email,
          error: `${email} is already a list member. Use PUT to insert or update list members.`,
          error_code: 'ERROR_CONTACT_EXISTS',
          field: '',
          field_message: '',
        },
      ]);
    });

    it('overwrites status and merge fields with update_existing, re-subscribing the unsubscribed', async () => {
      const email = first(seed.unsubscribed);
      const res = await batch([{ email_address: email, status: 'subscribed', merge_fields: { FNAME: 'Changed' } }], { update_existing: true });
      expect(res.body.total_updated).toBe(1);
      const after = (await member(email)).body;
      expect(after.status).toBe('subscribed');
      expect(after.merge_fields.FNAME).toBe('Changed');
      expect(after.merge_fields.LNAME).not.toBe('');
    });

    it('refuses to subscribe compliance-locked, cleaned and forgotten members', async () => {
      const locked = first(seed.unsubscribedCompliance);
      const cleaned = first(seed.cleaned);
      const forgotten = first(seed.forgotten);
      const res = await batch(
        [locked, cleaned, forgotten].map((email) => ({ email_address: email, status: 'subscribed' })),
        { update_existing: true },
      );
      expect(res.body.error_count).toBe(3);
      expect(res.body.errors.map((e) => e.error)).toEqual([
        `${locked} is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.`,
        `${cleaned} is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.`,
        `${forgotten} was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.`,
      ]);
      expect(res.body.errors.every((e) => e.error_code === 'ERROR_GENERIC')).toBe(true);
      expect((await member(locked)).body.status).toBe('unsubscribed');
    });

    it('refuses invalid and fake-looking addresses', async () => {
      const res = await batch(
        ['not-an-email', 'bob@@example.org', 'trailing.dot.@x.io', '  padded@proton.me ', 'test@proton.me', 'someone@example.com'].map((email) => ({
          email_address: email,
          status: 'subscribed',
          merge_fields: { FNAME: 'A' },
        })),
      );
      expect(res.body.total_created).toBe(0);
      expect(res.body.errors.map((e) => e.error)).toEqual([
        'Please provide a valid email address.',
        'Please provide a valid email address.',
        'Please provide a valid email address.',
        'Please provide a valid email address.',
        'test@proton.me looks fake or invalid, please enter a real email address.',
        'someone@example.com looks fake or invalid, please enter a real email address.',
      ]);
    });

    it('requires the required merge field for new members unless skip_merge_validation', async () => {
      const input = [{ email_address: 'no.name@acme.io', status: 'subscribed', merge_fields: { LNAME: 'Only' } }];
      const refused = await batch(input);
      expect(refused.body.errors).toEqual([
        { email_address: 'no.name@acme.io', error: 'Your merge fields were invalid.', error_code: 'ERROR_GENERIC', field: 'FNAME', field_message: 'Please enter a value' },
      ]);
      const accepted = await batch(input, { query: '?skip_merge_validation=true' });
      expect(accepted.body.total_created).toBe(1);
    });

    it('checks merge field values by type', async () => {
      const res = await batch([
        { email_address: 'a1@acme.io', status: 'subscribed', merge_fields: { FNAME: 'A', PLAN: 'platinum' } },
        { email_address: 'a2@acme.io', status: 'subscribed', merge_fields: { FNAME: 'A', LTV: 'lots' } },
        { email_address: 'a3@acme.io', status: 'subscribed', merge_fields: { FNAME: 'A', SIGNUP: 'yesterday' } },
        { email_address: 'a4@acme.io', status: 'subscribed', merge_fields: { FNAME: 'A', BIRTHDAY: '13/45' } },
        { email_address: 'a5@acme.io', status: 'subscribed', merge_fields: { FNAME: 'A', PLAN: 'pro', LTV: 3, SIGNUP: '2024-01-02', BIRTHDAY: '02/29' } },
      ]);
      expect(res.body.errors.map((e) => e.field)).toEqual(['PLAN', 'LTV', 'SIGNUP', 'BIRTHDAY']);
      expect(res.body.total_created).toBe(1);
    });

    it('reports duplicates inside one request (case-insensitive) unless skip_duplicate_check', async () => {
      const input = [
        { email_address: 'Dup@acme.io', status: 'subscribed', merge_fields: { FNAME: 'First' } },
        { email_address: 'dup@ACME.io', status: 'unsubscribed', merge_fields: { FNAME: 'Second' } },
      ];
      const reported = await batch(input);
      expect(reported.body.total_created).toBe(1);
      expect(reported.body.errors).toHaveLength(1);
      expect(reported.body.errors[0]?.email_address).toBe('dup@ACME.io');
      await call(`${sb.url}/__admin/reset`, { method: 'POST' });
      const skipped = await batch(input, { query: '?skip_duplicate_check=true' });
      expect(skipped.body).toMatchObject({ total_created: 1, error_count: 0 });
      expect((await member('dup@acme.io')).body.merge_fields.FNAME).toBe('First');
    });

    it('refuses more than 500 members with a 400 and changes nothing', async () => {
      const members = Array.from({ length: 501 }, (_, i) => ({ email_address: `bulk${i}@acme.io`, status: 'subscribed', merge_fields: { FNAME: 'B' } }));
      const res = await mc<Problem>(list, { json: { members } });
      expect(res.status).toBe(400);
      expect(res.body.title).toBe('Invalid Resource');
      expect((await member('bulk0@acme.io')).status).toBe(404);
    });

    it('logs how many members each write carried', async () => {
      await call(`${sb.url}/__admin/requests`, { method: 'DELETE' });
      await batch([{ email_address: 'log1@acme.io', status: 'subscribed', merge_fields: { FNAME: 'L' } }, { email_address: 'log2@acme.io', status: 'subscribed', merge_fields: { FNAME: 'L' } }]);
      const log = await call<{ requests: Array<{ method: string; members?: number; status: number; request_bytes: number }> }>(`${sb.url}/__admin/requests?family=mailchimp`);
      expect(log.body.requests).toHaveLength(1);
      expect(log.body.requests[0]).toMatchObject({ method: 'POST', members: 2, status: 200 });
      expect(log.body.requests[0]?.request_bytes).toBeGreaterThan(100);
    });
  });

  describe('PUT, PATCH and GET of one member', () => {
    const put = (email: string, body: Record<string, unknown>, reference = hash(email)) =>
      mc<Member & Problem>(`${list}/members/${reference}`, { method: 'PUT', json: { email_address: email, ...body } });

    it('creates a new member with status_if_new', async () => {
      const res = await put('fresh@proton.me', { status_if_new: 'pending', merge_fields: { FNAME: 'Fresh' } });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('pending');
    });

    it('ignores status_if_new for existing members: unsubscribed stays unsubscribed', async () => {
      const email = first(seed.unsubscribed);
      const res = await put(email, { status_if_new: 'subscribed', merge_fields: { FNAME: 'Updated' } });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('unsubscribed');
      expect(res.body.merge_fields.FNAME).toBe('Updated');
    });

    it('keeps the stored case when addressed in another case', async () => {
      const email = first(seed.subscribedSame);
      const res = await put(email.toUpperCase(), { status_if_new: 'subscribed', merge_fields: { LNAME: 'Case' } });
      expect(res.body.email_address).toBe(email);
      expect(res.body.id).toBe(hash(email));
    });

    it('answers compliance, forgotten, invalid and fake addresses with 400 problems', async () => {
      const locked = await put(first(seed.unsubscribedCompliance), { status_if_new: 'subscribed', status: 'subscribed' });
      expect(locked.status).toBe(400);
      expect(locked.body.title).toBe('Member In Compliance State');
      const cleaned = await put(first(seed.cleaned), { status_if_new: 'subscribed', status: 'pending' });
      expect(cleaned.body.title).toBe('Member In Compliance State');
      const forgotten = await put(first(seed.forgotten), { status_if_new: 'subscribed' });
      expect(forgotten.status).toBe(400);
      expect(forgotten.body.title).toBe('Forgotten Email Not Subscribed');
      const fake = await put('asdf@acme.io', { status_if_new: 'subscribed', merge_fields: { FNAME: 'A' } });
      expect(fake.body).toMatchObject({ title: 'Invalid Resource', detail: 'asdf@acme.io looks fake or invalid, please enter a real email address.' });
      const invalid = await put('bob@@example.org', { status_if_new: 'subscribed' }, 'bob@@example.org');
      expect(invalid.body).toMatchObject({ title: 'Invalid Resource', detail: 'Please provide a valid email address.' });
    });

    it('lets an unlocked unsubscribed member be re-subscribed with an explicit status', async () => {
      const res = await put(first(seed.unsubscribed), { status_if_new: 'subscribed', status: 'subscribed' });
      expect(res.body.status).toBe('subscribed');
    });

    it('keeps archived members archived', async () => {
      const res = await put(first(seed.archived), { status_if_new: 'subscribed', status: 'subscribed', merge_fields: { FNAME: 'Still' } });
      expect(res.body.status).toBe('archived');
      expect(res.body.merge_fields.FNAME).toBe('Still');
    });

    it('validates the body, the hash and the required merge field', async () => {
      const noStatus = await put('x1@acme.io', { merge_fields: { FNAME: 'X' } });
      expect(noStatus.status).toBe(400);
      expect(noStatus.body.errors?.[0]?.field).toBe('status_if_new');
      const mismatch = await put('x2@acme.io', { status_if_new: 'subscribed' }, hash('other@acme.io'));
      expect(mismatch.status).toBe(400);
      const noName = await put('x3@acme.io', { status_if_new: 'subscribed' });
      expect(noName.body).toMatchObject({ title: 'Invalid Resource', detail: 'Your merge fields were invalid.', errors: [{ field: 'FNAME', message: 'Please enter a value' }] });
      const broken = await fetch(`${list}/members/${hash('x4@acme.io')}`, {
        method: 'PUT',
        headers: { ...mailchimpAuth(sb), 'content-type': 'application/json' },
        body: '{"email_address": "x4@acme.io",',
      });
      expect(broken.status).toBe(400);
      expect(((await broken.json()) as Problem).title).toBe('JSON Parse Exception');
    });

    it('patches existing members only', async () => {
      const missing = await mc<Problem>(`${list}/members/${hash('nobody@acme.io')}`, { method: 'PATCH', json: { merge_fields: { FNAME: 'N' } } });
      expect(missing.status).toBe(404);
      const email = first(seed.pending);
      const res = await mc<Member>(`${list}/members/${hash(email)}`, { method: 'PATCH', json: { status: 'subscribed' } });
      expect(res.body.status).toBe('subscribed');
      const locked = await mc<Problem>(`${list}/members/${hash(first(seed.unsubscribedCompliance))}`, { method: 'PATCH', json: { status: 'subscribed' } });
      expect(locked.body.title).toBe('Member In Compliance State');
    });

    it('404s forgotten and unknown members on GET', async () => {
      expect((await member(first(seed.forgotten))).status).toBe(404);
      expect((await member('nobody@acme.io')).status).toBe(404);
      const byEmail = await mc<Member>(`${list}/members/${encodeURIComponent(first(seed.subscribedSame))}`);
      expect(byEmail.body.email_address).toBe(first(seed.subscribedSame));
    });
  });

  describe('members page, merge fields, tags', () => {
    it('pages members in a stable order, with fields and exclude_fields', async () => {
      const seen: Array<{ email_address: string; status: string }> = [];
      for (let offset = 0; ; offset += 7) {
        const res = await mc<{ members: Array<{ email_address: string; status: string }>; total_items: number }>(
          `${list}/members?count=7&offset=${offset}&fields=members.email_address,members.status,total_items`,
        );
        expect(Object.keys(res.body)).toEqual(['members', 'total_items']);
        for (const m of res.body.members) expect(Object.keys(m)).toEqual(['email_address', 'status']);
        seen.push(...res.body.members);
        if (res.body.members.length < 7) break;
      }
      expect(seen).toHaveLength(59);
      expect(new Set(seen.map((m) => m.email_address)).size).toBe(59);
      expect(seen.some((m) => m.email_address === first(seed.forgotten))).toBe(false);
      expect(seen.find((m) => m.email_address === first(seed.archived))?.status).toBe('archived');
      const excluded = await mc<{ members: Array<Record<string, unknown>> }>(`${list}/members?count=1&exclude_fields=members._links,members.merge_fields`);
      expect(excluded.body.members[0]?.merge_fields).toBeUndefined();
      expect(excluded.body.members[0]?.email_address).toBeDefined();
      const defaultCount = await mc<{ members: unknown[] }>(`${list}/members`);
      expect(defaultCount.body.members).toHaveLength(10);
      expect((await mc(`${list}/members?count=1001`)).status).toBe(400);
    });

    it('filters by status and since_last_changed', async () => {
      const cleaned = await mc<{ members: Member[]; total_items: number }>(`${list}/members?status=cleaned&count=1000`);
      expect(cleaned.body.members.map((m) => m.email_address)).toEqual(seed.cleaned);
      const email = first(seed.subscribedSame);
      await mc(`${list}/members/${hash(email)}`, { method: 'PATCH', json: { merge_fields: { LNAME: 'Touched' } } });
      const since = await mc<{ members: Member[] }>(`${list}/members?since_last_changed=2024-06-10T11:00:00%2B00:00&count=1000`);
      expect(since.body.members.map((m) => m.email_address)).toEqual([email]);
    });

    it('serves merge fields with the required one marked', async () => {
      const res = await mc<{ merge_fields: Array<{ tag: string; type: string; required: boolean; options: { choices?: string[] } }>; total_items: number }>(
        `${list}/merge-fields?count=100`,
      );
      expect(res.body.total_items).toBe(8);
      expect(res.body.merge_fields.map((f) => `${f.tag}:${f.type}`)).toEqual([
        'FNAME:text', 'LNAME:text', 'ADDRESS:address', 'PHONE:phone', 'BIRTHDAY:birthday', 'SIGNUP:date', 'PLAN:dropdown', 'LTV:number',
      ]);
      expect(res.body.merge_fields.filter((f) => f.required).map((f) => f.tag)).toEqual(['FNAME']);
      expect(res.body.merge_fields.find((f) => f.tag === 'PLAN')?.options.choices).toEqual(['free', 'pro', 'enterprise']);
    });

    it('changes only the named tags', async () => {
      const email = first(seed.subscribedSame);
      const url = `${list}/members/${hash(email)}/tags`;
      await mc(url, { json: { tags: [{ name: 'keep', status: 'active' }, { name: 'drop', status: 'active' }], is_syncing: true } });
      const res = await mc(url, { json: { tags: [{ name: 'drop', status: 'inactive' }, { name: 'new', status: 'active' }], is_syncing: true } });
      expect(res.status).toBe(204);
      const tags = await mc<{ tags: Array<{ name: string }>; total_items: number }>(url);
      const names = tags.body.tags.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['keep', 'new']));
      expect(names).not.toContain('drop');
      expect((await member(email)).body.tags.map((t) => t.name)).toEqual(names);
      const bad = await mc<Problem>(url, { json: { tags: [{ name: 'x', status: 'on' }] } });
      expect(bad.status).toBe(400);
    });
  });
});

describe('Mailchimp without a required merge field', () => {
  it('accepts members without FNAME', async () => {
    const sb = await startSandbox({ ...OPTIONS, mailchimp: { requiredMergeField: null, members: 10 } });
    try {
      const list = `${sb.url}/3.0/lists/${sb.credentials.mailchimp.listId}`;
      const fields = await call<{ merge_fields: Array<{ required: boolean }> }>(`${list}/merge-fields`, { headers: mailchimpAuth(sb) });
      expect(fields.body.merge_fields.some((f) => f.required)).toBe(false);
      const res = await call<BatchResponse>(list, { headers: mailchimpAuth(sb), json: { members: [{ email_address: 'plain@acme.io', status: 'subscribed' }] } });
      expect(res.body.total_created).toBe(1);
    } finally {
      await sb.close();
    }
  });
});

describe('Mailchimp connection cap', () => {
  let sb: Sandbox;

  beforeAll(async () => {
    sb = await startSandbox({ ...OPTIONS, latencyMs: { mailchimp: 400 } });
  });

  afterAll(async () => {
    await sb.close();
  });

  it('answers 429 beyond 10 simultaneous requests per key, and recovers', async () => {
    const responses = await Promise.all(Array.from({ length: 15 }, () => call<Problem>(`${sb.url}/3.0/ping`, { headers: mailchimpAuth(sb) })));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    expect(responses.find((r) => r.status === 429)?.body.title).toBe('Too Many Requests');
    expect((await call(`${sb.url}/3.0/ping`, { headers: mailchimpAuth(sb) })).status).toBe(200);
  });
});
