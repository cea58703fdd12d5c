/**
 * Errors that escape every await end the run through the one exit point (src/cli/run.ts) as an
 * internal error: exit 5, "please report it", the failure alert sent; never Node's own crash
 * (exit 1, which the README keeps for configuration). First small commands run through the
 * compiled runCli, then both real binaries with an escaped error injected mid-run (a preload
 * module makes one when the test sends SIGUSR2, once the binary says it is at work).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN_DIR } from '../../src/demo/pipeline.js';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { sandboxNotifyConfig } from '../../src/sandbox/notify/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { getJson, postJson, tempDir, writeJson } from './harness.js';

const DIST = join(BIN_DIR, '..', 'dist');
const RUN_MODULE = pathToFileURL(join(DIST, 'cli', 'run.js')).href;
const ERRORS_MODULE = pathToFileURL(join(DIST, 'errors', 'index.js')).href;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs node with `args`; when stderr first matches `when`, sends SIGUSR2 (if asked). stdin stays
 * open until the process ends, so a target waits for input rather than finishing.
 */
function run(args: string[], options: { when?: RegExp } = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (options.when && !signalled && options.when.test(stderr)) {
        signalled = true;
        child.kill('SIGUSR2');
      }
    });
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A command run through runCli, with a failure hook that says on stderr what it was told. */
function command(body: string, hook = 'process.stderr.write(`hook: exit ${failure.code}: ${failure.message}\\n`);'): string[] {
  const source = `import { runCli } from ${JSON.stringify(RUN_MODULE)};
import { RemoteError } from ${JSON.stringify(ERRORS_MODULE)};
const forever = () => new Promise(() => setInterval(() => undefined, 1000));
runCli('probe', async ({ onFailure }) => {
  onFailure(async (failure) => { ${hook} }, { timeoutMs: 10_000 });
  ${body}
});`;
  return ['--input-type=module', '-e', source];
}

describe('runCli: an error that escapes every await', () => {
  it('a promise failing with nobody waiting for it: exit 5 as an internal error, the failure hook runs', async () => {
    const result = await run(command(`Promise.reject(new Error('orphaned write')); await forever();`));
    expect(result.stderr).toContain('probe: internal error: a promise failed with nobody waiting for it: orphaned write (please report it; LOG_LEVEL=debug shows the stack)');
    expect(result.stderr).toContain('hook: exit 5: internal error: a promise failed with nobody waiting for it: orphaned write');
    expect(result.stderr).not.toMatch(/Node\.js v\d+/);
    expect(result.code).toBe(5);
  });

  it('an exception thrown from a timer: exit 5 the same way', async () => {
    const result = await run(command(`setTimeout(() => { throw new TypeError('x is not a function'); }, 0); await forever();`));
    expect(result.stderr).toContain('probe: internal error: an uncaught exception: x is not a function (please report it');
    expect(result.stderr).toContain('hook: exit 5: internal error: an uncaught exception: x is not a function');
    expect(result.code).toBe(5);
  });

  it('one that escapes while a failed run sends its alert is reported, and neither stops the alert nor changes the exit code', async () => {
    const hook = `Promise.reject(new Error('late orphan'));
    await new Promise((resolve) => setImmediate(resolve));
    process.stderr.write(\`hook finished: exit \${failure.code}\\n\`);`;
    const result = await run(command(`throw new RemoteError('Mailchimp kept failing');`, hook));
    expect(result.stderr).toContain('probe: error: Mailchimp kept failing');
    expect(result.stderr).toContain('probe: internal error: a promise failed with nobody waiting for it: late orphan (please report it');
    expect(result.stderr).toContain('hook finished: exit 4');
    expect(result.code).toBe(4);
  });
});

describe('both binaries: an error escaping mid-run is an internal error with an alert on every channel', () => {
  let sandbox: Sandbox;
  let dir: string;
  let inject: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, seed: 5, profiles: 20, eventsPerDay: 5, days: 2 });
    dir = tempDir('exit-point-');
    inject = join(dir, 'inject.mjs');
    // What a forgotten promise does in the code: it fails while nothing waits for it.
    writeFileSync(inject, `process.on('SIGUSR2', () => { Promise.reject(new Error('injected: a write nobody waits for')); });\n`);
  });

  afterAll(async () => {
    await sandbox.close();
  });

  beforeEach(async () => {
    await postJson(`${sandbox.url}/__admin/reset`, {});
  });

  const alerts = { emailTo: ['oncall@example.org'], smsTo: ['+14155550199'], hookName: { alert: 'escapes' } };

  async function expectAlertEverywhere(binary: string): Promise<void> {
    const [emails, sms, hooks] = await Promise.all([
      getJson<{ messages: Array<{ subject: string }> }>(`${sandbox.url}/__admin/smtp/messages`),
      getJson<{ messages: Array<{ body: string }> }>(`${sandbox.url}/__admin/twilio/messages`),
      getJson<{ requests: Array<{ path: string; body: { exit_code?: number; error?: string } }> }>(`${sandbox.url}/__admin/webhooks`),
    ]);
    expect(emails.messages.map((m) => m.subject)).toEqual([expect.stringMatching(new RegExp(`^${binary} failed \\(exit 5\\): internal error: a promise failed with nobody waiting for it: injected`))]);
    expect(sms.messages.map((m) => m.body)).toEqual([expect.stringMatching(new RegExp(`^${binary} failed \\(exit 5\\)`))]);
    expect(hooks.requests.filter((h) => h.path === '/hooks/escapes').map((h) => h.body)).toEqual([
      expect.objectContaining({ exit_code: 5, error: expect.stringContaining('internal error: a promise failed with nobody waiting for it: injected') }),
    ]);
  }

  it('target-mailchimp, waiting for input', async () => {
    const config = writeJson(dir, 'target.json', { ...sandboxClientConfigs(sandbox).target, ...sandboxNotifyConfig(sandbox, alerts) });
    const result = await run(['--import', pathToFileURL(inject).href, join(BIN_DIR, 'target-mailchimp.js'), '--config', config], { when: /loading into audience/ });
    expect(result.stderr).toContain('target-mailchimp: internal error: a promise failed with nobody waiting for it: injected: a write nobody waits for (please report it');
    expect(result.stdout).toBe('');
    expect(result.code).toBe(5);
    await expectAlertEverywhere('target-mailchimp');
  });

  it('tap-mixpanel, waiting for Mixpanel', async () => {
    // Mixpanel takes its time to answer: the tap is inside its engage sync when the error escapes.
    await postJson(`${sandbox.url}/__admin/settings`, { faults: [{ kind: 'latency', family: 'query', ms: 30_000, when: { path: '/api/query/engage' } }] });
    const config = writeJson(dir, 'tap.json', { ...sandboxClientConfigs(sandbox).tap, ...sandboxNotifyConfig(sandbox, alerts) });
    const result = await run(['--import', pathToFileURL(inject).href, join(BIN_DIR, 'tap-mixpanel.js'), '--config', config, '--select', 'engage'], { when: /engage: reading all profiles/ });
    expect(result.stderr).toContain('tap-mixpanel: internal error: a promise failed with nobody waiting for it: injected: a write nobody waits for (please report it');
    expect(result.code).toBe(5);
    await expectAlertEverywhere('tap-mixpanel');
  });
});
