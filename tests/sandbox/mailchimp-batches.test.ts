import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSeed } from '../../src/sandbox/data.js';
import type { SeedDescription } from '../../src/sandbox/data.js';
import { startSandbox } from '../../src/sandbox/server.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/server.js';
import { call, mailchimpAuth, rawGet, readTar, waitFor } from './helpers.js';

const OPTIONS: SandboxOptions = { port: 0, now: '2024-06-10T12:00:00Z', days: 1, eventsPerDay: 0, profiles: 200, mailchimp: { batchesPaused: true } };
const hash = (email: string) => createHash('md5').update(email.toLowerCase()).digest('hex');

interface Batch {
  id: string;
  status: string;
  total_operations: number;
  finished_operations: number;
  errored_operations: number;
  submitted_at: string;
  completed_at: string;
  response_body_url: string;
  _links: unknown[];
}

interface Result {
  status_code: number;
  operation_id: string | null;
  response: string;
}

interface Problem {
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ field: string; message: string }>;
}

interface Operation {
  method: string;
  path: string;
  params?: Record<string, unknown>;
  body?: string;
  operation_id?: string;
}

describe('Mailchimp batch operations', () => {
  let sb: Sandbox;
  let seed: SeedDescription;
  let listId: string;

  beforeAll(async () => {
    sb = await startSandbox(OPTIONS);
    seed = describeSeed(OPTIONS);
    listId = sb.credentials.mailchimp.listId;
  });

  beforeEach(async () => {
    await call(`${sb.url}/__admin/reset`, { method: 'POST' });
  });

  afterAll(async () => {
    await sb.close();
  });

  const mc = <T>(path: string, init: { method?: string; json?: unknown } = {}) => call<T>(`${sb.url}/3.0${path}`, { ...init, headers: mailchimpAuth(sb) });
  const submit = (operations: unknown[]) => mc<Batch & Problem>('/batches', { json: { operations } });
  const batch = (id: string, query = '') => mc<Batch>(`/batches/${id}${query}`);
  const admin = <T>(json: unknown) => call<T>(`${sb.url}/__admin/mailchimp/batches`, { json });
  const advance = (n: number) => admin<{ operations_run: number }>({ advance_operations: n });
  const first = (emails: string[]) => emails[0] as string;
  const memberPath = (email: string) => `/lists/${listId}/members/${hash(email)}`;
  const patch = (email: string, fields: Record<string, unknown>, id?: string): Operation => ({
    method: 'PATCH',
    path: memberPath(email),
    body: JSON.stringify({ merge_fields: fields }),
    ...(id ? { operation_id: id } : {}),
  });

  async function results(doc: Batch): Promise<Result[]> {
    const res = await rawGet(doc.response_body_url);
    expect(res.status).toBe(200);
    return readTar(res.bytes).flatMap((entry) => JSON.parse(entry.content.toString('utf8')) as Result[]);
  }

  async function runToEnd(id: string): Promise<Batch> {
    await advance(1_000_000);
    const doc = (await batch(id)).body;
    expect(doc.status).toBe('finished');
    return doc;
  }

  describe('submitting', () => {
    it('answers 200 with a pending Batch document', async () => {
      const res = await submit([patch(first(seed.subscribedSame), { FNAME: 'A' }, 'a'), { method: 'GET', path: `/lists/${listId}` }]);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{10}$/),
        status: 'pending',
        total_operations: 2,
        finished_operations: 0,
        errored_operations: 0,
        submitted_at: '2024-06-10T12:00:00+00:00',
        completed_at: '',
        response_body_url: '',
        _links: [],
      });
    });

    it.each([
      ['no operations', {}, 'operations', 'Required fields were not provided: operations'],
      ['operations not an array', { operations: { method: 'GET' } }, 'operations', 'Schema describes array, object found instead'],
      ['an operation not an object', { operations: ['GET /lists'] }, 'operations.0', 'Schema describes object, string found instead'],
      ['no path', { operations: [{ method: 'GET' }] }, 'operations.0', 'Required fields were not provided: path'],
      ['a bad method', { operations: [{ method: 'HEAD', path: '/lists' }] }, 'operations.0.method', 'Value must be one of: GET, POST, PUT, PATCH, DELETE'],
      ['a body that is not a string', { operations: [{ method: 'POST', path: '/lists/x/members', body: { email_address: 'a@b.io' } }] }, 'operations.0.body', 'Schema describes string, object found instead'],
      ['an absolute URL as path', { operations: [{ method: 'GET', path: 'https://us6.api.mailchimp.com/3.0/lists' }] }, 'operations.0.path', 'The path must be relative to the API root, e.g. /lists/{list_id}/members'],
      ['params not an object', { operations: [{ method: 'GET', path: '/lists', params: 'count=1' }] }, 'operations.0.params', 'Schema describes object, string found instead'],
    ])('refuses %s with a 400 problem naming the field', async (_name, body, field, message) => {
      const res = await mc<Problem>('/batches', { json: body });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ title: 'Invalid Resource', status: 400, errors: [{ field, message }] });
      expect((await mc<{ total_items: number }>('/batches')).body.total_items).toBe(0);
    });

    it('refuses a body that is not JSON', async () => {
      const res = await fetch(`${sb.url}/3.0/batches`, { method: 'POST', headers: { ...mailchimpAuth(sb), 'content-type': 'application/json' }, body: '{"operations": [' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Problem).title).toBe('JSON Parse Exception');
    });

    it('needs the API key, like every API call', async () => {
      const res = await call<Problem>(`${sb.url}/3.0/batches`, { json: { operations: [] } });
      expect(res.status).toBe(401);
    });

    it('allows 500 unfinished batches per account, then answers 429 until one finishes', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 500; i++) {
        const res = await submit([]);
        expect(res.status).toBe(200);
        ids.push(res.body.id);
      }
      const over = await submit([]);
      expect(over.status).toBe(429);
      expect(over.body.title).toBe('Too Many Requests');
      await mc(`/batches/${ids[0] as string}`, { method: 'DELETE' });
      expect((await submit([])).status).toBe(200);
    });
  });

  describe('processing', () => {
    it('stays pending while paused, then goes started and finished with counts growing', async () => {
      const emails = seed.subscribedSame.slice(0, 5);
      const { id } = (await submit(emails.map((email, i) => patch(email, { LNAME: `Batch${i}` }, `op-${i}`)))).body;
      expect((await batch(id)).body.status).toBe('pending');
      expect((await advance(2)).body.operations_run).toBe(2);
      const halfway = (await batch(id)).body;
      expect(halfway).toMatchObject({ status: 'started', finished_operations: 2, errored_operations: 0, completed_at: '', response_body_url: '' });
      // The operations that ran are written; the others are not, yet.
      expect((await mc<{ merge_fields: Record<string, string> }>(memberPath(emails[1] as string))).body.merge_fields.LNAME).toBe('Batch1');
      expect((await mc<{ merge_fields: Record<string, string> }>(memberPath(emails[2] as string))).body.merge_fields.LNAME).not.toBe('Batch2');
      const done = await runToEnd(id);
      expect(done).toMatchObject({ finished_operations: 5, errored_operations: 0, completed_at: expect.stringMatching(/^2024-06-1\dT/) });
      expect(done.response_body_url).toMatch(new RegExp(`^${sb.url}/mailchimp-api-batch/${id}-response\\.tar\\.gz\\?Expires=\\d+&Signature=`));
    });

    it('runs on its own at the set rate once resumed', async () => {
      const ops = Array.from({ length: 40 }, (_, i) => patch(seed.subscribedSame[i % 10] as string, { LNAME: `Auto${i}` }));
      const { id } = (await submit(ops)).body;
      await call(`${sb.url}/__admin/settings`, { json: { mailchimp_batches: { paused: false, operations_per_second: 2000 } } });
      const done = await waitFor(() => batch(id).then((r) => r.body), (b) => b.status === 'finished');
      expect(done.finished_operations).toBe(40);
      expect((await mc<{ merge_fields: Record<string, string> }>(memberPath(seed.subscribedSame[9] as string))).body.merge_fields.LNAME).toBe('Auto39');
      const settings = await call<{ mailchimp_batches: { paused: boolean; operations_per_second: number } }>(`${sb.url}/__admin/settings`);
      expect(settings.body.mailchimp_batches).toEqual({ paused: false, operations_per_second: 2000 });
    });

    it('runs every operation exactly once when advance_operations and the running processor meet', async () => {
      const ops = Array.from({ length: 3000 }, (_, i) => ({ method: 'GET', path: '/ping', operation_id: `o${i}` }));
      const { id } = (await submit(ops)).body;
      await call(`${sb.url}/__admin/settings`, { json: { mailchimp_batches: { paused: false, operations_per_second: 5000 } } });
      await Promise.all([advance(700), advance(700), advance(700)]);
      const done = await waitFor(() => batch(id).then((r) => r.body), (b) => b.status === 'finished');
      expect(done).toMatchObject({ finished_operations: 3000, errored_operations: 0 });
      const ids = (await results(done)).map((r) => r.operation_id);
      expect(ids).toHaveLength(3000);
      expect(new Set(ids).size).toBe(3000);
    });

    it('runs one batch at a time, oldest first', async () => {
      const a = (await submit([patch(first(seed.subscribedSame), { LNAME: 'A' }), patch(first(seed.subscribedSame), { LNAME: 'A2' })])).body.id;
      const b = (await submit([patch(first(seed.subscribedSame), { LNAME: 'B' })])).body.id;
      await advance(1);
      expect((await batch(a)).body.status).toBe('started');
      expect((await batch(b)).body.status).toBe('pending');
      await advance(2);
      expect((await batch(a)).body.status).toBe('finished');
      expect((await batch(b)).body.status).toBe('finished');
      // B ran after A: its write is the last one.
      expect((await mc<{ merge_fields: Record<string, string> }>(memberPath(first(seed.subscribedSame)))).body.merge_fields.LNAME).toBe('B');
    });

    it('finishes an empty batch with an archive holding one empty file', async () => {
      const { id } = (await submit([])).body;
      const done = await runToEnd(id);
      expect(done).toMatchObject({ total_operations: 0, finished_operations: 0 });
      const res = await rawGet(done.response_body_url);
      expect(readTar(res.bytes).map((e) => e.content.toString())).toEqual(['[]']);
    });
  });

  describe('operations run through the API handlers', () => {
    it('answers each operation as the direct call would, errors included', async () => {
      const subscribed = first(seed.subscribedSame);
      const locked = first(seed.unsubscribedCompliance);
      const archived = first(seed.archived);
      const ops: Operation[] = [
        patch(subscribed, { FNAME: 'Patched' }, 'patch'),
        { method: 'PUT', path: memberPath('new.put@proton.me'), body: JSON.stringify({ email_address: 'new.put@proton.me', status_if_new: 'subscribed', merge_fields: { FNAME: 'Put' } }), operation_id: 'put' },
        { method: 'POST', path: `/lists/${listId}/members`, body: JSON.stringify({ email_address: 'new.post@proton.me', status: 'pending', merge_fields: { FNAME: 'Post' } }), operation_id: 'post' },
        { method: 'GET', path: memberPath(archived), params: { fields: 'email_address,status' }, operation_id: 'get-archived' },
        { method: 'GET', path: memberPath('nobody@proton.me'), operation_id: 'get-missing' },
        { method: 'PATCH', path: memberPath(locked), body: JSON.stringify({ status: 'subscribed' }), operation_id: 'compliance' },
        { method: 'POST', path: `${memberPath(subscribed)}/tags`, body: JSON.stringify({ tags: [{ name: 'from-batch', status: 'active' }], is_syncing: true }), operation_id: 'tags' },
        { method: 'POST', path: `/lists/${listId}`, body: JSON.stringify({ members: [{ email_address: 'bulk.one@proton.me', status: 'subscribed', merge_fields: { FNAME: 'Bulk' } }], update_existing: false }), operation_id: 'subscribe' },
        { method: 'DELETE', path: memberPath(first(seed.pending)), operation_id: 'archive' },
        { method: 'GET', path: `/lists/${listId}/automations`, operation_id: 'unknown-path' },
        { method: 'PUT', path: `/lists/${listId}/members`, body: '{}', operation_id: 'wrong-method' },
        { method: 'POST', path: '/batches', body: JSON.stringify({ operations: [] }), operation_id: 'nested' },
        { method: 'PATCH', path: memberPath(subscribed), body: '{"merge_fields": ', operation_id: 'bad-json' },
        { method: 'GET', path: `lists/${listId}/members`, params: { count: 2, fields: ['members.email_address', 'total_items'] }, operation_id: 'no-slash' },
      ];
      const { id } = (await submit(ops)).body;
      const done = await runToEnd(id);
      expect(done).toMatchObject({ total_operations: ops.length, finished_operations: ops.length, errored_operations: 6 });
      const byId = new Map((await results(done)).map((r) => [r.operation_id, r]));
      const response = (opId: string) => {
        const r = byId.get(opId) as Result;
        return { status: r.status_code, body: r.response === '' ? '' : (JSON.parse(r.response) as Record<string, unknown>) };
      };
      expect(response('patch')).toMatchObject({ status: 200, body: { email_address: subscribed, merge_fields: expect.objectContaining({ FNAME: 'Patched' }) } });
      expect(response('put')).toMatchObject({ status: 200, body: { email_address: 'new.put@proton.me', status: 'subscribed' } });
      expect(response('post')).toMatchObject({ status: 200, body: { email_address: 'new.post@proton.me', status: 'pending' } });
      expect(response('get-archived')).toEqual({ status: 200, body: { email_address: archived, status: 'archived' } });
      expect(response('get-missing')).toMatchObject({ status: 404, body: { title: 'Resource Not Found', status: 404 } });
      expect(response('compliance')).toMatchObject({ status: 400, body: { title: 'Member In Compliance State' } });
      expect(response('tags')).toEqual({ status: 204, body: '' });
      expect(response('subscribe')).toMatchObject({ status: 200, body: { total_created: 1, error_count: 0 } });
      expect(response('archive')).toEqual({ status: 204, body: '' });
      expect(response('unknown-path')).toMatchObject({ status: 404, body: { title: 'Resource Not Found' } });
      expect(response('wrong-method')).toMatchObject({ status: 405, body: { title: 'Method Not Allowed' } });
      expect(response('nested')).toMatchObject({ status: 404 });
      expect(response('bad-json')).toMatchObject({ status: 400, body: { title: 'JSON Parse Exception' } });
      const page = response('no-slash');
      expect(page.status).toBe(200);
      expect(Object.keys(page.body as object)).toEqual(['members', 'total_items']);
      // The writes happened, as direct calls would have made them.
      expect((await mc<{ merge_fields: Record<string, string>; tags: Array<{ name: string }> }>(memberPath(subscribed))).body).toMatchObject({
        merge_fields: expect.objectContaining({ FNAME: 'Patched' }),
        tags: expect.arrayContaining([expect.objectContaining({ name: 'from-batch' })]),
      });
      expect((await mc<{ status: string }>(memberPath(first(seed.pending)))).body.status).toBe('archived');
      expect((await mc<{ status: string }>(memberPath('bulk.one@proton.me'))).status).toBe(200);
      expect((await mc<{ status: string }>(memberPath(locked))).body.status).toBe('unsubscribed');
    });

    it('writes results in files of at most 1000, readable by tar, every operation once', async () => {
      const emails = seed.subscribedSame;
      const ops = Array.from({ length: 2301 }, (_, i) => ({ method: 'GET', path: memberPath(emails[i % emails.length] as string), params: { fields: 'id' }, operation_id: `g${i}` }));
      const { id } = (await submit(ops)).body;
      const done = await runToEnd(id);
      const archive = await rawGet(done.response_body_url);
      expect(archive.headers['content-type']).toBe('application/x-gzip');
      const entries = readTar(archive.bytes);
      expect(entries.map((e) => JSON.parse(e.content.toString()).length)).toEqual([1000, 1000, 301]);
      expect(entries.every((e) => /^[0-9a-f]{32}\.json$/.test(e.name) && e.type === '0')).toBe(true);
      const all = entries.flatMap((e) => JSON.parse(e.content.toString()) as Result[]);
      expect(new Set(all.map((r) => r.operation_id)).size).toBe(2301);
      expect(all.every((r) => r.status_code === 200 && Object.keys(JSON.parse(r.response) as object).join() === 'id')).toBe(true);
      // An independent reader agrees: the system's tar lists the same files.
      const dir = mkdtempSync(join(tmpdir(), 'batch-results-test-'));
      try {
        writeFileSync(join(dir, 'r.tar.gz'), archive.bytes);
        const listed = execFileSync('tar', ['-tzf', join(dir, 'r.tar.gz')]).toString().trim().split('\n');
        expect(listed).toEqual(entries.map((e) => e.name));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('gives operations without an operation_id a null one', async () => {
      const { id } = (await submit([{ method: 'GET', path: '/ping' }])).body;
      const [only] = await results(await runToEnd(id));
      expect(only).toEqual({ status_code: 200, operation_id: null, response: JSON.stringify({ health_status: "Everything's Chimpy!" }) });
    });
  });

  describe('listing, fields and deleting', () => {
    it('lists batches newest first with count and offset, and projects fields', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await submit([])).body.id);
      const page = await mc<{ batches: Batch[]; total_items: number }>('/batches?count=2&offset=1');
      expect(page.body.total_items).toBe(3);
      expect(page.body.batches.map((b) => b.id)).toEqual([ids[1], ids[0]]);
      const projectedDoc = await batch(ids[2] as string, '?fields=id,status');
      expect(projectedDoc.body).toEqual({ id: ids[2], status: 'pending' });
      const excluded = await batch(ids[2] as string, '?exclude_fields=_links,response_body_url');
      expect(Object.keys(excluded.body)).not.toContain('_links');
      expect(Object.keys(excluded.body)).toContain('total_operations');
      expect((await mc<Problem>('/batches/ffffffffff')).status).toBe(404);
    });

    it('stops a batch on DELETE: its remaining operations never run and its results are gone', async () => {
      const emails = seed.subscribedSame.slice(0, 4);
      const { id } = (await submit(emails.map((email) => patch(email, { LNAME: 'Deleted' })))).body;
      await advance(1);
      const res = await mc(`/batches/${id}`, { method: 'DELETE' });
      expect(res.status).toBe(204);
      expect((await batch(id)).status).toBe(404);
      await advance(10);
      const lnames = await Promise.all(emails.map(async (email) => (await mc<{ merge_fields: Record<string, string> }>(memberPath(email))).body.merge_fields.LNAME));
      expect(lnames.filter((n) => n === 'Deleted')).toHaveLength(1);
    });

    it('serves no results after DELETE or reset', async () => {
      const { id } = (await submit([{ method: 'GET', path: '/ping' }])).body;
      const done = await runToEnd(id);
      expect((await rawGet(done.response_body_url)).status).toBe(200);
      await mc(`/batches/${id}`, { method: 'DELETE' });
      const gone = await rawGet(done.response_body_url);
      expect(gone.status).toBe(404);
      expect(gone.bytes.toString()).toContain('<Code>NoSuchKey</Code>');
      const second = await runToEnd((await submit([{ method: 'GET', path: '/ping' }])).body.id);
      await call(`${sb.url}/__admin/reset`, { method: 'POST' });
      expect((await rawGet(second.response_body_url)).status).toBe(404);
    });
  });

  describe('the results URL', () => {
    it('needs no API key but its signature, and expires after 7 days by the sandbox clock', async () => {
      const done = await runToEnd((await submit([{ method: 'GET', path: '/ping' }])).body.id);
      const url = new URL(done.response_body_url);
      const tampered = new URL(url);
      tampered.searchParams.set('Expires', String(Number(url.searchParams.get('Expires')) + 3600));
      const forged = await rawGet(tampered.toString());
      expect(forged.status).toBe(403);
      expect(forged.bytes.toString()).toContain('<Code>SignatureDoesNotMatch</Code>');
      const unsigned = await rawGet(`${url.origin}${url.pathname}`);
      expect(unsigned.status).toBe(403);
      await call(`${sb.url}/__admin/clock`, { json: { advance_ms: 8 * 86_400_000 } });
      const expired = await rawGet(done.response_body_url);
      expect(expired.status).toBe(403);
      expect(expired.bytes.toString()).toContain('Request has expired');
    });
  });

  describe('faults', () => {
    it('fails the next N matching operations inside the results, without running them', async () => {
      await call(`${sb.url}/__admin/settings`, {
        json: { faults: [{ kind: 'batch_operation_status', status: 500, times: 2, when: { method: 'PATCH', path_prefix: `/3.0/lists/${listId}/members/` } }] },
      });
      const emails = seed.subscribedSame.slice(0, 4);
      const ops: Operation[] = [{ method: 'GET', path: '/ping', operation_id: 'ping' }, ...emails.map((email, i) => patch(email, { LNAME: 'Faulty' }, `p${i}`))];
      const done = await runToEnd((await submit(ops)).body.id);
      expect(done.errored_operations).toBe(2);
      const byId = new Map((await results(done)).map((r) => [r.operation_id, r]));
      expect(byId.get('ping')?.status_code).toBe(200);
      expect([0, 1, 2, 3].map((i) => byId.get(`p${i}`)?.status_code)).toEqual([500, 500, 200, 200]);
      expect(JSON.parse(byId.get('p0')?.response ?? '{}')).toMatchObject({ title: 'Internal Server Error', status: 500 });
      const lnames = await Promise.all(emails.map(async (email) => (await mc<{ merge_fields: Record<string, string> }>(memberPath(email))).body.merge_fields.LNAME));
      expect(lnames.map((n) => n === 'Faulty')).toEqual([false, false, true, true]);
      const settings = await call<{ faults_applied: Record<string, number> }>(`${sb.url}/__admin/settings`);
      expect(settings.body.faults_applied.batch_operation_status).toBe(2);
    });

    it('can answer 429 inside the results', async () => {
      await call(`${sb.url}/__admin/settings`, { json: { faults: [{ kind: 'batch_operation_status', status: 429, times: 1 }] } });
      const [result] = await results(await runToEnd((await submit([{ method: 'GET', path: '/ping', operation_id: 'x' }])).body.id));
      expect(result?.status_code).toBe(429);
      expect(JSON.parse(result?.response ?? '{}')).toMatchObject({ title: 'Too Many Requests' });
    });

    it('leaves results downloads alone unless a rule names their path, then cuts them', async () => {
      await call(`${sb.url}/__admin/settings`, { json: { faults: [{ kind: 'status', family: 'mailchimp', status: 503 }] } });
      expect((await mc('/ping')).status).toBe(503);
      await call(`${sb.url}/__admin/settings`, { json: { faults: [] } });
      const done = await runToEnd((await submit(Array.from({ length: 300 }, () => ({ method: 'GET', path: memberPath(first(seed.subscribedSame)) })))).body.id);
      await call(`${sb.url}/__admin/settings`, { json: { faults: [{ kind: 'status', family: 'mailchimp', status: 503 }] } });
      expect((await rawGet(done.response_body_url)).status).toBe(200);
      await call(`${sb.url}/__admin/settings`, { json: { faults: [{ kind: 'truncate_gzip', family: 'mailchimp', after_bytes: 200, times: 1, when: { path_prefix: '/mailchimp-api-batch/' } }] } });
      const truncated = await rawGet(done.response_body_url);
      expect(truncated.status).toBe(200);
      expect(truncated.bytes.length).toBe(200);
      expect(() => readTar(truncated.bytes)).toThrow();
    });
  });

  describe('the request log', () => {
    it('tells submits, polls and downloads apart, and counts operations by route', async () => {
      await call(`${sb.url}/__admin/requests`, { method: 'DELETE' });
      const { id } = (await submit([patch(first(seed.subscribedSame), { LNAME: 'Log' }), { method: 'GET', path: memberPath('nobody@proton.me') }])).body;
      await batch(id);
      const done = await runToEnd(id);
      await rawGet(done.response_body_url);
      const summary = await call<{
        total: number;
        routes: Array<{ family: string; method: string; route: string; count: number; statuses: Record<string, number> }>;
        batch_operations: { total: number; routes: Array<{ method: string; route: string; count: number; statuses: Record<string, number> }> };
      }>(`${sb.url}/__admin/requests/summary`);
      const count = (method: string, route: string) => summary.body.routes.find((r) => r.method === method && r.route === route)?.count;
      expect(count('POST', '/3.0/batches')).toBe(1);
      expect(count('GET', '/3.0/batches/{batch_id}')).toBe(2);
      expect(count('GET', '/mailchimp-api-batch/{file}')).toBe(1);
      expect(summary.body.total).toBe(4);
      expect(summary.body.batch_operations.total).toBe(2);
      expect(summary.body.batch_operations.routes).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ method: 'PATCH', route: '/3.0/lists/{list_id}/members/{hash}', count: 1, statuses: { '200': 1 } }),
          expect.objectContaining({ method: 'GET', route: '/3.0/lists/{list_id}/members/{hash}', count: 1, statuses: { '404': 1 } }),
        ]),
      );
      const log = await call<{ requests: Array<{ method: string; path: string; route?: string; members?: number }> }>(`${sb.url}/__admin/requests?family=mailchimp`);
      expect(log.body.requests[0]).toMatchObject({ method: 'POST', path: '/3.0/batches', route: '/3.0/batches', members: 2 });
    });
  });
});
