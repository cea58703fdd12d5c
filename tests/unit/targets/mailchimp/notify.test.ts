import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { configureLogging, createLogger } from '../../../../src/log/logger.js';
import { clearSecrets } from '../../../../src/log/redact.js';
import type { Logger } from '../../../../src/log/logger.js';
import { notify } from '../../../../src/notify/index.js';
import { registerNotifySecrets } from '../../../../src/notify/settings.js';
import { AddedDigest, composeDigest, DIGEST_LIMIT, digestSms } from '../../../../src/targets/mailchimp/reports/notify.js';

interface Received {
  method: string;
  url: string;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

/** A webhook on 127.0.0.1 that answers each request with the next scripted status. */
let server: Server;
let base: string;
let received: Received[] = [];
let script: Array<{ status: number; headers?: Record<string, string> }> = [];
let logLines: string[] = [];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void readBody(req).then((text) => {
      received.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body: JSON.parse(text) as Record<string, unknown> });
      const next = script.shift() ?? { status: 200 };
      res.writeHead(next.status, { 'content-type': 'text/plain', ...next.headers });
      res.end(next.status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  configureLogging({ sink: { write: (line) => void process.stderr.write(line) }, level: 'info' });
});

beforeEach(() => {
  received = [];
  script = [];
  logLines = [];
  clearSecrets();
  configureLogging({ level: 'debug', format: 'text', sink: { write: (line) => void logLines.push(line) } });
});

afterEach(() => clearSecrets());

const log = createLogger('target-mailchimp');
const FINISHED = '2026-12-01T06:00:00.000Z';

function digestOf(count: number): AddedDigest {
  const digest = new AddedDigest();
  for (let i = 0; i < count; i++) digest.add({ email: `p${i}@example.org`, merge_fields: { FNAME: `P${i}` } });
  return digest;
}

/** The digest by the webhook channel alone, as the target sends it (secrets registered as the config loader does). */
async function sendDigest(url: string, body: { list_id: string; list_name: string; digest: AddedDigest; finished_at: string }, logger: Logger): Promise<void> {
  registerNotifySecrets({ notify_webhook_url: url });
  const message = composeDigest({ listId: body.list_id, listName: body.list_name, digest: body.digest, finishedAt: body.finished_at, emailMaxPeople: 100 });
  await notify([{ kind: 'webhook', url, setting: 'notify_webhook_url' }], message, { log: logger, timeoutMs: 30_000 });
}

describe('the digest by webhook', () => {
  it('POSTs the digest as JSON to the URL, query included', async () => {
    await sendDigest(`${base}/hooks/abc?team=growth`, { list_id: 'L1', list_name: 'Newsletter', digest: digestOf(2), finished_at: FINISHED }, log);
    expect(received).toEqual([
      {
        method: 'POST',
        url: '/hooks/abc?team=growth',
        contentType: expect.stringContaining('application/json'),
        body: {
          text: '2 new people added to Mailchimp audience "Newsletter"',
          list_id: 'L1',
          list_name: 'Newsletter',
          finished_at: FINISHED,
          added_count: 2,
          added: [
            { email: 'p0@example.org', merge_fields: { FNAME: 'P0' } },
            { email: 'p1@example.org', merge_fields: { FNAME: 'P1' } },
          ],
          truncated: false,
        },
      },
    ]);
    expect(logLines.join('')).toContain('sent the digest to notify_webhook_url');
  });

  it('says "person" for one', async () => {
    await sendDigest(`${base}/hook`, { list_id: 'L1', list_name: 'N', digest: digestOf(1), finished_at: FINISHED }, log);
    expect(received[0]?.body.text).toBe('1 new person added to Mailchimp audience "N"');
  });

  it(`lists at most ${DIGEST_LIMIT} people and says it truncated, with the true count`, async () => {
    const digest = digestOf(DIGEST_LIMIT + 5);
    expect(digest.total).toBe(DIGEST_LIMIT + 5);
    expect(digest.people).toHaveLength(DIGEST_LIMIT);
    await sendDigest(`${base}/hook`, { list_id: 'L1', list_name: 'N', digest, finished_at: FINISHED }, log);
    const body = received[0]?.body;
    expect(body?.added_count).toBe(DIGEST_LIMIT + 5);
    expect((body?.added as unknown[]).length).toBe(DIGEST_LIMIT);
    expect(body?.truncated).toBe(true);
    expect(body?.text).toBe(`${DIGEST_LIMIT + 5} new people added to Mailchimp audience "N"`);
  });

  it('exactly the limit is not truncated', async () => {
    await sendDigest(`${base}/hook`, { list_id: 'L1', list_name: 'N', digest: digestOf(DIGEST_LIMIT), finished_at: FINISHED }, log);
    expect(received[0]?.body.truncated).toBe(false);
  });

  it('a refusal is a warning, not a failure of the run', async () => {
    script = [{ status: 400 }];
    await expect(sendDigest(`${base}/hook`, { list_id: 'L1', list_name: 'N', digest: digestOf(1), finished_at: FINISHED }, log)).resolves.toBeUndefined();
    expect(received).toHaveLength(1);
    expect(logLines.filter((l) => l.includes(' WARN '))).toEqual([expect.stringContaining('could not send the digest to notify_webhook_url')]);
  });

  it('a webhook that cannot be reached is a warning, not a failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    // A refused connection is retried with the client's back-off (about 2 s in all) before the warning.
    await expect(
      sendDigest(`http://127.0.0.1:${port}/hook`, { list_id: 'L1', list_name: 'N', digest: digestOf(1), finished_at: FINISHED }, log),
    ).resolves.toBeUndefined();
    expect(logLines.some((l) => l.includes('could not send the digest'))).toBe(true);
  }, 20_000);

  it.each([
    ['in the path', '/services/T0000/B0000/XXXXSECRETXXXX', 'XXXXSECRETXXXX'],
    ['in the path, with a query', '/services/T0000/B0000/XXXXSECRETXXXX?thread=1', 'XXXXSECRETXXXX'],
    ['in the query', '/hook?sig=QQQQSIGNATUREQQQQ', 'QQQQSIGNATUREQQQQ'],
  ])('the secret %s never appears in the log, through retries and the final failure', async (_where, path, secret) => {
    script = [
      { status: 503, headers: { 'retry-after': '0' } },
      { status: 503, headers: { 'retry-after': '0' } },
      { status: 503, headers: { 'retry-after': '0' } },
    ];
    await sendDigest(`${base}${path}`, { list_id: 'L1', list_name: 'N', digest: digestOf(1), finished_at: FINISHED }, log);
    expect(received.length).toBe(3);
    expect(received.every((r) => r.url === path)).toBe(true);
    const output = logLines.join('');
    expect(output).toContain('could not send the digest');
    expect(output).toMatch(/retry 1 of 2/);
    expect(output).not.toContain(secret);
  });
});

describe('composeDigest', () => {
  const people = [
    { email: 'ann@example.org', merge_fields: { FNAME: 'Ann', LNAME: 'Lee', PLAN: 'pro' } },
    { email: 'bob@example.org', merge_fields: { FNAME: '<script>alert(1)</script>', LNAME: '', LTV: 12.5 } },
    { email: 'cy@example.org', merge_fields: { FNAME: 'Cy', ADDRESS: { addr1: '1 Main St', city: 'Springfield' } } },
  ];
  const digestOfPeople = (list: typeof people) => {
    const digest = new AddedDigest();
    for (const p of list) digest.add(p);
    return digest;
  };
  const compose = (emailMaxPeople = 100) =>
    composeDigest({ listId: 'L1', listName: 'Newsletter', digest: digestOfPeople(people), finishedAt: FINISHED, emailMaxPeople, runSummary: '3 records read; created 3' });

  it('the email tables list name, email and every mapped merge field', () => {
    const message = compose();
    expect(message.subject).toBe('3 new people in Mailchimp audience "Newsletter"');
    expect(message.text).toContain(
      [
        'Name                       Email            ADDRESS                 LTV   PLAN',
        '-------------------------  ---------------  ----------------------  ----  ----',
        'Ann Lee                    ann@example.org                                pro',
        '<script>alert(1)</script>  bob@example.org                          12.5',
        'Cy                         cy@example.org   1 Main St, Springfield',
      ].join('\n'),
    );
    expect(message.text).toContain('This run: 3 records read; created 3.');
    expect(message.html).toContain('<td style="padding:4px 8px">&lt;script&gt;alert(1)&lt;/script&gt;</td>');
    expect(message.html).not.toContain('<script>');
  });

  it('names the people archive_missing archived, in the text, the HTML and the webhook JSON', () => {
    const message = composeDigest({
      listId: 'L1',
      listName: 'Newsletter',
      digest: new AddedDigest(),
      finishedAt: FINISHED,
      emailMaxPeople: 2,
      archived: { total: 3, emails: ['gone1@example.org', 'gone2@example.org', 'gone3@example.org'], action: 'archive' },
    });
    expect(message.text).toContain('3 people who left the source were archived: gone1@example.org, gone2@example.org and 1 more.');
    expect(message.html).toContain('3 people who left the source were archived: gone1@example.org, gone2@example.org and 1 more.');
    expect(message.webhook).toMatchObject({ added_count: 0, archived_count: 3, archived: ['gone1@example.org', 'gone2@example.org', 'gone3@example.org'] });
    expect(compose().webhook).not.toHaveProperty('archived_count');
  });

  it('lists the first N in the email and gives the total', () => {
    const message = compose(2);
    expect(message.text).toContain('bob@example.org');
    expect(message.text).not.toContain('cy@example.org');
    expect(message.text).toContain('Listed: the first 2 of 3 (digest_email_max_people).');
    expect(message.webhook.added).toHaveLength(3);
  });

  it.each([
    [1, ['ann@example.org'], '1 new user in "Newsletter": ann@example.org'],
    [2, ['ann@example.org', 'bob@example.org'], '2 new users in "Newsletter": ann@example.org, bob@example.org'],
    [12, ['ann@x.io', 'bob@x.io', 'cy@x.io', 'dee@x.io'], '12 new users in "Newsletter": ann@x.io, bob@x.io, cy@x.io and 9 more'],
    [0, [], 'No new users in "Newsletter" this run'],
  ])('the SMS line for %d people', (total, emails, line) => {
    expect(digestSms('Newsletter', total, emails)).toBe(line);
  });

  it('the SMS line stays within 1600 characters with very long addresses and audience names', () => {
    const emails = [1, 2, 3].map((i) => `${'a'.repeat(240)}${i}@example.org`);
    for (const name of ['N', 'A'.repeat(3000)]) {
      const line = digestSms(name, 5000, emails);
      expect([...line].length).toBeLessThanOrEqual(1600);
      expect(line).toMatch(/^5000 new users in "/);
    }
    expect(digestSms('A'.repeat(3000), 5000, emails)).toContain('and 4997 more');
  });
});
