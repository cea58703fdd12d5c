/**
 * The npm package as users get it: `npm pack`, then an install of the tarball on a machine that
 * has nothing of this checkout, then the two commands.
 *
 * How the install stays offline: an install of a tarball resolves its dependencies' version
 * ranges from the registry (packuments), which `npm ci` never caches, so `npm install -g
 * <tarball> --offline` cannot work from the cache. Instead the test installs the tarball into a
 * temporary project whose package-lock.json holds the tarball plus the production entries of
 * our own package-lock.json (resolved URL + integrity). `npm ci --offline` then takes every
 * tarball from the npm cache by its integrity (the cache `npm ci`/`make install` filled for this
 * checkout) and never opens a connection. It installs exactly what a user's `npm install -g`
 * gets: the published files, the production dependencies, the bin links; no dev dependencies.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sandboxClientConfigs, sandboxMailchimpTapConfig } from '../../src/sandbox/configs.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { parseSingerOutput, tempDir, writeJson, type RunResult } from '../integration/harness.js';

const execFileAsync = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  [key: string]: unknown;
}

interface PackageJson {
  name: string;
  version: string;
  license: string;
  engines?: Record<string, string>;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const npmCacheHint = 'this test installs offline, from the cache that npm ci fills';
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

/** npm with no outside contact: --offline forbids the network; no audit, fund or update checks. */
async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await execFileAsync('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], {
    cwd,
    env: { ...process.env, npm_config_offline: 'true', npm_config_loglevel: 'error' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

function run(bin: string, args: string[], stdin = '', timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

let dir: string;
let tarball: string;
let files: string[];
let project: string;
let binDir: string;

beforeAll(async () => {
  dir = tempDir('tmt-pack-');
  const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', dir], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const [info] = packed;
  if (!info) throw new Error('npm pack printed no package');
  tarball = join(dir, info.filename);
  files = info.files.map((f) => f.path);

  project = join(dir, 'project');
  mkdirSync(project);
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { lockfileVersion: number; packages: Record<string, LockEntry> };
  const spec = `file:../${info.filename}`;
  const packages: Record<string, unknown> = {
    '': { name: 'pack-test', version: '1.0.0', dependencies: { [pkg.name]: spec } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: spec,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path !== '' && !entry.dev && !entry.devOptional) packages[path] = entry;
  }
  writeJson(dir, 'project/package.json', { name: 'pack-test', version: '1.0.0', private: true, dependencies: { [pkg.name]: spec } });
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ name: 'pack-test', version: '1.0.0', lockfileVersion: lock.lockfileVersion, requires: true, packages }));
  try {
    await npm(['ci', '--ignore-scripts'], project);
  } catch (err) {
    const text = String((err as { stderr?: unknown }).stderr ?? err);
    if (text.includes('ENOTCACHED')) {
      throw new Error(`a production dependency is not in the npm cache (${npmCacheHint}); run \`npm ci\` (or \`make install\`) once, then this test again:\n${text}`);
    }
    throw err;
  }
  binDir = join(project, 'node_modules', '.bin');
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the compiled code, the schemas, README, LICENSE and the integration files', () => {
    for (const path of [
      'package.json',
      'README.md',
      'LICENSE',
      'bin/tap-mixpanel.js',
      'bin/tap-mailchimp.js',
      'bin/target-mailchimp.js',
      'dist/taps/mixpanel/main.js',
      'dist/taps/mailchimp/main.js',
      'dist/schemas/tap-mailchimp.config.json',
      'dist/schemas/streams/mailchimp/list_members.json',
      'meltano/tap-mailchimp.yml',
      'mailchimp-tap-config.example.json',
      'dist/targets/mailchimp/main.js',
      'dist/schemas/tap-mixpanel.config.json',
      'dist/schemas/target-mailchimp.config.json',
      'dist/schemas/streams/export.json',
      'meltano/tap-mixpanel.yml',
      'meltano/target-mailchimp.yml',
    ]) {
      expect(files).toContain(path);
    }
  });

  it('ships no sources, tests, benchmarks, source maps or build configuration', () => {
    const unwanted = files.filter(
      (f) => /^(src|tests|bench|scripts|node_modules|coverage|dist-typecheck)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts') || /^(tsconfig|jest|eslint)/.test(f),
    );
    expect(unwanted).toEqual([]);
  });

  it('declares the Node versions it runs on and keeps build tools out of its dependencies', () => {
    expect(pkg.engines?.node).toMatch(/^>=\s*20/);
    for (const tool of ['typescript', 'jest', 'ts-jest', 'eslint', 'ts-node']) {
      expect(Object.keys(pkg.dependencies)).not.toContain(tool);
    }
  });
});

describe('the installed package', () => {
  it('installed the production dependencies only', () => {
    const installed = readdirSync(join(project, 'node_modules'));
    expect(installed).toEqual(expect.arrayContaining(['commander', 'ajv', 'undici', pkg.name]));
    for (const dev of Object.keys(pkg.devDependencies)) {
      expect(existsSync(join(project, 'node_modules', dev))).toBe(false);
    }
    expect(existsSync(tarball)).toBe(true);
  });

  it('imports at run time only Node built-ins and declared dependencies', () => {
    const root = join(project, 'node_modules', pkg.name, 'dist');
    const files: string[] = [];
    const walk = (folder: string) => {
      for (const name of readdirSync(folder)) {
        const path = join(folder, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.js')) files.push(path);
      }
    };
    walk(root);
    expect(files.length).toBeGreaterThan(20);
    const builtins = new Set(builtinModules);
    const undeclared = new Set<string>();
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)) {
        const specifier = match[1] ?? '';
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? '');
        if (!(name in pkg.dependencies)) undeclared.add(`${name} (${file.slice(root.length + 1)})`);
      }
    }
    expect([...undeclared]).toEqual([]);
  });

  it.each(['tap-mixpanel', 'tap-mailchimp', 'target-mailchimp'])('%s --version prints the package version', async (name) => {
    const result = await run(join(binDir, name), ['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it.each(['tap-mixpanel', 'tap-mailchimp', 'target-mailchimp'])('%s --about --format json lists its settings', async (name) => {
    const result = await run(join(binDir, name), ['--about', '--format', 'json']);
    expect(result.code).toBe(0);
    const about = JSON.parse(result.stdout) as { name: string; version: string; settings: Array<{ name: string }> };
    expect(about.name).toBe(name);
    expect(about.version).toBe(pkg.version);
    expect(about.settings.length).toBeGreaterThan(3);
  });

  describe('against the sandbox', () => {
    let sandbox: Sandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ port: 0, seed: 3, days: 2, eventsPerDay: 30, profiles: 40 });
    });
    afterAll(async () => {
      await sandbox.close();
    });

    it('tap-mixpanel syncs records from the sandbox', async () => {
      const config = writeJson(dir, 'tap.json', { ...sandboxClientConfigs(sandbox).tap, ingestion_settle_minutes: 0 });
      const result = await run(join(binDir, 'tap-mixpanel'), ['--config', config]);
      expect(result.stderr).not.toMatch(/internal error/);
      expect(result.code).toBe(0);
      const messages = parseSingerOutput(result.stdout);
      expect(messages.filter((m) => m.type === 'RECORD').length).toBeGreaterThan(40);
      expect(messages.some((m) => m.type === 'STATE')).toBe(true);
    });

    it('tap-mailchimp reads the audience from the sandbox', async () => {
      const config = writeJson(dir, 'tap-mailchimp.json', sandboxMailchimpTapConfig(sandbox));
      const result = await run(join(binDir, 'tap-mailchimp'), ['--config', config, '--select', 'list_members']);
      expect(result.stderr).not.toMatch(/internal error|Cannot find (module|package)/);
      expect(result.code).toBe(0);
      expect(parseSingerOutput(result.stdout).filter((m) => m.type === 'RECORD').length).toBeGreaterThan(40);
    });

    it('tap-mixpanel | target-mailchimp, both installed, load people and print the state', async () => {
      const configs = sandboxClientConfigs(sandbox);
      const tapConfig = writeJson(dir, 'pipe-tap.json', { ...configs.tap, ingestion_settle_minutes: 0 });
      const targetConfig = writeJson(dir, 'pipe-target.json', configs.target);
      const tap = await run(join(binDir, 'tap-mixpanel'), ['--config', tapConfig]);
      expect(tap.code).toBe(0);
      const target = await run(join(binDir, 'target-mailchimp'), ['--config', targetConfig], tap.stdout);
      expect(target.stderr).not.toMatch(/internal error|Cannot find (module|package)/);
      expect(target.code).toBe(0);
      const lastLine = target.stdout.trim().split('\n').pop() ?? '';
      expect(JSON.parse(lastLine)).toHaveProperty('bookmarks');
    });
  });
});
