import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { describeSeed } from '../../src/sandbox/data.js';
import type { SeedDescription } from '../../src/sandbox/data.js';
import { startSandbox } from '../../src/sandbox/server.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/server.js';
import { call, mailchimpAuth, rawRequest } from './helpers.js';

const OPTIONS: SandboxOptions = { port: 0, now: '2024-06-10T12:00:00Z', days: 1, eventsPerDay: 0, profiles: 200, mailchimp: { batchesPaused: true } };
const hash = (email: string) => createHash('md5').update(email.toLowerCase()).digest('hex');

describe('Mailchimp faults', () => {
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

  const faults = (rules: unknown[]) => call<{ faults_applied: Record<string, number> } & { error?: string }>(`${sb.url}/__admin/settings`, { json: { faults: rules } });
  const member = (email: string) => call<{ merge_fields: Record<string, string>; status: string }>(`${list}/members/${hash(email)}`, { headers: mailchimpAuth(sb) });
  const email = () => seed.subscribedSame[0] as string;

  describe('lose_answer', () => {
    it('lets the write happen, then resets the connection without an answer', async () => {
      await faults([{ kind: 'lose_answer', times: 1, when: { method: 'PATCH', path_prefix: '/3.0/lists/' } }]);
      const lost = await rawRequest(`${list}/members/${hash(email())}`, { method: 'PATCH', headers: mailchimpAuth(sb), json: { merge_fields: { LNAME: 'Written' } } });
      expect(lost).toEqual({ error: expect.stringMatching(/ECONNRESET|socket hang up/i) });
      expect((await member(email())).body.merge_fields.LNAME).toBe('Written');
      // times: 1 - the next call is answered.
      const answered = await rawRequest(`${list}/members/${hash(email())}`, { method: 'PATCH', headers: mailchimpAuth(sb), json: { merge_fields: { LNAME: 'Again' } } });
      expect(answered).toMatchObject({ status: 200 });
      const log = await call<{ requests: Array<{ method: string; status: number; aborted?: boolean; fault?: string }> }>(`${sb.url}/__admin/requests?family=mailchimp`);
      expect(log.body.requests.find((r) => r.fault === 'lose_answer')).toMatchObject({ method: 'PATCH', status: 200, aborted: true });
    });

    it('matches by method and path prefix only', async () => {
      await faults([{ kind: 'lose_answer', when: { method: 'POST', path_prefix: '/3.0/lists/' } }]);
      expect(await rawRequest(`${list}/members/${hash(email())}`, { headers: mailchimpAuth(sb) })).toMatchObject({ status: 200 });
      expect(await rawRequest(`${sb.url}/3.0/batches`, { method: 'POST', headers: mailchimpAuth(sb), json: { operations: [] } })).toMatchObject({ status: 200 });
      const lost = await rawRequest(list, { method: 'POST', headers: mailchimpAuth(sb), json: { members: [{ email_address: 'lost.answer@proton.me', status: 'subscribed', merge_fields: { FNAME: 'L' } }] } });
      expect(lost).toHaveProperty('error');
      expect((await member('lost.answer@proton.me')).status).toBe(200);
    });

    it('loses error answers too: the request ran, its refusal never arrives', async () => {
      await faults([{ kind: 'lose_answer', times: 1 }]);
      const lost = await rawRequest(`${list}/members/${hash('nobody@proton.me')}`, { method: 'PATCH', headers: mailchimpAuth(sb), json: { merge_fields: { LNAME: 'x' } } });
      expect(lost).toHaveProperty('error');
    });

    it('loses the answer of a batch submit while the batch is created', async () => {
      await faults([{ kind: 'lose_answer', times: 1, when: { path: '/3.0/batches', method: 'POST' } }]);
      const lost = await rawRequest(`${sb.url}/3.0/batches`, { method: 'POST', headers: mailchimpAuth(sb), json: { operations: [{ method: 'GET', path: '/ping' }] } });
      expect(lost).toHaveProperty('error');
      const listed = await call<{ total_items: number; batches: Array<{ total_operations: number }> }>(`${sb.url}/3.0/batches`, { headers: mailchimpAuth(sb) });
      expect(listed.body).toMatchObject({ total_items: 1, batches: [{ total_operations: 1 }] });
    });

    it('is refused for another family, with a message naming the key', async () => {
      const res = await faults([{ kind: 'lose_answer', family: 'export' }]);
      expect(res.status).toBe(400);
      expect(res.body.error).toContain('faults[0].family must be mailchimp');
      const badWhen = await faults([{ kind: 'lose_answer', when: { method: 'P O S T' } }]);
      expect(badWhen.body.error).toContain('faults[0].when.method');
    });
  });

  describe('status', () => {
    it('answers a Mailchimp problem document, or a bare body when asked', async () => {
      await faults([{ kind: 'status', family: 'mailchimp', status: 500, times: 1 }, { kind: 'status', family: 'mailchimp', status: 403, bare: true, times: 1 }]);
      const problem = await call<{ type: string; title: string; status: number }>(`${sb.url}/3.0/ping`, { headers: mailchimpAuth(sb) });
      expect(problem.status).toBe(500);
      expect(problem.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(problem.body).toMatchObject({ type: 'https://mailchimp.com/developer/marketing/docs/errors/', title: 'Internal Server Error', status: 500 });
      const bare = await call(`${sb.url}/3.0/ping`, { headers: mailchimpAuth(sb) });
      expect(bare.status).toBe(403);
      expect(bare.body).toBe('');
      expect((await call(`${sb.url}/3.0/ping`, { headers: mailchimpAuth(sb) })).status).toBe(200);
    });

    it('sends Retry-After with any status when retry_after_s is given, and none without it', async () => {
      await faults([
        { kind: 'status', family: 'mailchimp', status: 500, retry_after_s: 0, times: 1 },
        { kind: 'status', family: 'mailchimp', status: 503, times: 1 },
      ]);
      const told = await call(`${sb.url}/3.0/ping`, { headers: mailchimpAuth(sb) });
      expect([told.status, told.headers.get('retry-after')]).toEqual([500, '0']);
      const untold = await call(`${sb.url}/3.0/ping`, { headers: mailchimpAuth(sb) });
      expect([untold.status, untold.headers.get('retry-after')]).toEqual([503, null]);
    });
  });
});
