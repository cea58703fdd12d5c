/**
 * `--test` on both binaries against the sandbox: good credentials pass (exit 0), and bad ones,
 * an unknown project or audience, or an unreachable host fail with a sentence naming what to
 * fix (exit 1). Nothing goes to stdout and no secret appears in the output.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { getJson, runBinary, tempDir, writeJson } from './harness.js';

let sandbox: Sandbox;
let dir: string;
let closedPortUrl: string;

/** A loopback URL nobody listens on: a port the OS gave us, then closed. */
function closedPort(): Promise<string> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(`http://127.0.0.1:${port}`));
    });
  });
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 5, days: 3, eventsPerDay: 20, profiles: 20 });
  dir = tempDir('tmt-check-');
  closedPortUrl = await closedPort();
});

afterAll(async () => {
  await sandbox.close();
});

async function requestsTo(family: string): Promise<Array<{ method: string; path: string }>> {
  return (await getJson<{ requests: Array<{ method: string; path: string }> }>(`${sandbox.url}/__admin/requests?family=${family}`)).requests;
}

describe('tap-mixpanel --test', () => {
  it('passes with a service account: names the project, checks the export host, prints nothing on stdout', async () => {
    await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
    const config = writeJson(dir, 'tap-sa.json', sandboxClientConfigs(sandbox).tap);
    const result = await runBinary('tap-mixpanel', ['--config', config, '--test']);
    expect(result.stderr).toContain('connection test passed');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/ok\s+credentials: service account \S+ can read project \d+ \("Sandbox Project"/);
    expect(result.stderr).toMatch(/ok\s+export API:/);
    // The cheapest calls: /me and one one-day export.
    const query = await requestsTo('query');
    const exported = await requestsTo('export');
    expect(query.map((r) => r.path)).toEqual(['/api/app/me']);
    expect(exported.map((r) => r.path)).toEqual(['/api/2.0/export']);
  });

  it('passes with the legacy project secret', async () => {
    const config = writeJson(dir, 'tap-secret.json', sandboxClientConfigs(sandbox, { auth: 'api_secret' }).tap);
    const result = await runBinary('tap-mixpanel', ['--config', config, '--test']);
    expect(result.stderr).toContain('project API secret is accepted');
    expect(result.code).toBe(0);
  });

  it('fails with exit 1 and names the setting when the secret is wrong, without printing it', async () => {
    const secret = 'wrong-secret-do-not-print-9f8e7d';
    const config = writeJson(dir, 'tap-bad.json', { ...sandboxClientConfigs(sandbox).tap, service_account_secret: secret });
    const result = await runBinary('tap-mixpanel', ['--config', config, '--test']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/FAIL\s+credentials: Mixpanel refused the credentials \(401\)/);
    expect(result.stderr).toContain('service_account_secret');
    expect(result.stderr).toContain('connection test failed');
    expect(result.stderr).not.toContain(secret);
    expect(result.stdout).toBe('');
  });

  it('fails when the service account cannot see project_id', async () => {
    const config = writeJson(dir, 'tap-project.json', { ...sandboxClientConfigs(sandbox).tap, project_id: 999 });
    const result = await runBinary('tap-mixpanel', ['--config', config, '--test']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot see project_id 999 \(it sees \d+\)/);
  });

  it('fails when the export host does not answer', async () => {
    const config = writeJson(dir, 'tap-host.json', { ...sandboxClientConfigs(sandbox).tap, export_base_url: closedPortUrl });
    const result = await runBinary('tap-mixpanel', ['--config', config, '--test']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ok\s+credentials/);
    expect(result.stderr).toMatch(/FAIL\s+export API: cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/2\.0\/export \(ECONNREFUSED\)/);
  });
});

describe('target-mailchimp --test', () => {
  it('passes with a good key and audience: names the audience, writes nothing', async () => {
    await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
    const config = writeJson(dir, 'target.json', sandboxClientConfigs(sandbox).target);
    const result = await runBinary('target-mailchimp', ['--config', config, '--test']);
    expect(result.stderr).toContain('connection test passed');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/ok\s+credentials: Mailchimp at 127\.0\.0\.1:\d+ accepts the API key/);
    expect(result.stderr).toMatch(/ok\s+audience: list_id \w+ is "/);
    const calls = await requestsTo('mailchimp');
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /3.0/ping', `GET /3.0/lists/${sandboxClientConfigs(sandbox).target.list_id}`]);
  });

  it('fails with exit 1 when the API key is wrong, without printing it', async () => {
    const key = 'ffffffffffffffffffffffffffffffff-us6';
    const config = writeJson(dir, 'target-bad.json', { ...sandboxClientConfigs(sandbox).target, api_key: key });
    const result = await runBinary('target-mailchimp', ['--config', config, '--test']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/FAIL\s+credentials: Mailchimp refused the credentials \(401\)/);
    expect(result.stderr).toContain('api_key');
    expect(result.stderr).not.toContain(key);
  });

  it('fails with exit 1 when the audience does not exist', async () => {
    const config = writeJson(dir, 'target-list.json', { ...sandboxClientConfigs(sandbox).target, list_id: 'nosuchlist' });
    const result = await runBinary('target-mailchimp', ['--config', config, '--test']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ok\s+credentials/);
    expect(result.stderr).toMatch(/FAIL\s+audience: list_id nosuchlist does not exist in this Mailchimp account/);
  });
});
