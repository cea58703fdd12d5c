/**
 * Addresses as people type them, end to end: an internationalised domain reaches Mailchimp in
 * punycode, a non-ASCII local part is refused with why, and the files that hold people's
 * addresses are private and safe to open in a spreadsheet.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { subscriberHash } from '../../src/targets/mailchimp/members/members.js';
import { REASONS } from '../../src/targets/mailchimp/reports/outcomes.js';
import { runBinary, tempDir, writeJson } from './harness.js';

let sandbox: Sandbox;
let dir: string;
let target: ReturnType<typeof sandboxClientConfigs>['target'];

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, profiles: 10, days: 1, eventsPerDay: 0 });
  dir = tempDir('target-addresses-');
  target = sandboxClientConfigs(sandbox).target;
});

afterAll(async () => {
  await sandbox.close();
});

const SCHEMA = { type: 'SCHEMA', stream: 'engage', key_properties: ['distinct_id'], schema: { type: 'object', properties: { distinct_id: { type: 'string' }, email: { type: 'string' }, first_name: { type: 'string' } } } };
const rec = (id: string, email: string) => ({ type: 'RECORD', stream: 'engage', record: { distinct_id: id, email, first_name: 'Ana' } });

describe('addresses as people type them', () => {
  it('IDN domains in punycode, non-ASCII local parts refused with why, rejects file 0600 with formula-like cells neutralised', async () => {
    const rejects = join(dir, 'rejects.csv');
    const report = join(dir, 'report.json');
    const config = writeJson(dir, 'target.json', { ...target, rejects_file: rejects, report_file: report });
    const input = [SCHEMA, rec('u1', 'ana@bücher.de'), rec('u2', 'jörg@example.org'), rec('u3', '=1+1@x'), rec('u4', '@SUM(A1)'), { type: 'STATE', value: { n: 1 } }].map((m) => JSON.stringify(m)).join('\n') + '\n';
    const run = await runBinary('target-mailchimp', ['--config', config], { stdin: input });
    expect(run.code).toBe(0);
    const auth = { authorization: `Basic ${Buffer.from(`x:${target.api_key}`).toString('base64')}` };
    const found = await fetch(`${sandbox.url}/3.0/lists/${target.list_id}/members/${subscriberHash('ana@xn--bcher-kva.de')}`, { headers: auth });
    expect(found.status).toBe(200);
    expect(((await found.json()) as { email_address: string }).email_address).toBe('ana@xn--bcher-kva.de');
    const csv = readFileSync(rejects, 'utf8');
    expect(csv).toContain(`jörg@example.org,${REASONS.nonAsciiLocalPart},`);
    expect(csv).toContain("'=1+1@x");
    expect(csv).toContain("'@SUM(A1)");
    expect(csv).not.toMatch(/(^|,)=1\+1@x/m);
    for (const path of [rejects, report]) expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ created: 1, rejected: { [REASONS.nonAsciiLocalPart]: 1, [REASONS.invalidEmail]: 2 } });
  });
});
