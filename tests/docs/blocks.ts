/**
 * The doc test's machinery: the fenced blocks of a Markdown file, which of them run the binaries,
 * and a workspace in which a block runs as written with bash.
 *
 * A block is named by its file, the heading it sits under and its position there:
 * `README.md > Quick start with your own accounts [2]`. A block "runs a binary" when it names
 * tap-mixpanel, tap-mailchimp, target-mailchimp (as commands or bin/*.js) or a script of the
 * recipes (*.sh).
 *
 * The workspace (a temp dir) holds:
 * - `bin/` -> the repository's bin/ (the README runs `bin/tap-mixpanel.js`);
 * - a PATH directory with `tap-mixpanel`, `tap-mailchimp` and `target-mailchimp` (symlinks to bin/*.js, as
 *   `npm install -g` or `npm link` makes them) and `target-postgres`, a stand-in Singer target
 *   for the backfill recipe (it appends each RECORD to the JSONL file named by `path` in its
 *   `--config` file and prints each STATE value, as a warehouse target does);
 * - `tap.json` and `target.json` pointed at the sandbox the test started on 127.0.0.1.
 * bash runs each block with that PATH in front of the test's own, HOME set to a temp dir, and the
 * secrets the recipes say are exported (TAP_MIXPANEL_SERVICE_ACCOUNT_SECRET,
 * TARGET_MAILCHIMP_API_KEY) set to the sandbox's.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN_DIR } from '../../src/demo/pipeline.js';

export const REPO_ROOT = join(BIN_DIR, '..');

export interface DocBlock {
  file: string;
  heading: string;
  /** Position among the fenced blocks under the same heading, from 0. */
  index: number;
  id: string;
  lang: string;
  text: string;
}

/** Every fenced block of a Markdown file (``` fences), with the heading it sits under. */
export function fencedBlocks(file: string): DocBlock[] {
  const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  const perHeading = new Map<string, number>();
  let heading = '(top)';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const fence = /^```(\S*)\s*$/.exec(line);
    if (!fence) {
      const h = /^#{1,6}\s+(.*)$/.exec(line);
      if (h?.[1]) heading = h[1].trim();
      continue;
    }
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
    const index = perHeading.get(heading) ?? 0;
    perHeading.set(heading, index + 1);
    blocks.push({ file, heading, index, id: `${file} > ${heading} [${index}]`, lang: fence[1] ?? '', text: body.join('\n') });
  }
  return blocks;
}

const RUNS_A_BINARY = /(^|[\s/|;&(])(tap-mixpanel|tap-mailchimp|target-mailchimp)(\.js)?(\s|$)|\.\/[\w-]+\.sh\b|\bsync\.sh\b/m;

export function runsBinary(block: DocBlock): boolean {
  return RUNS_A_BINARY.test(block.text);
}

export function blockById(blocks: DocBlock[], id: string): DocBlock {
  const block = blocks.find((b) => b.id === id);
  if (!block) throw new Error(`no block ${id}; blocks: ${blocks.map((b) => b.id).join(' | ')}`);
  return block;
}

/** A file block of the recipes (a script): the name in its first comment, e.g. "# sync.sh: ...". */
export function scriptName(block: DocBlock): string {
  const name = /^#!.*\n# ([\w.-]+\.sh)\b/.exec(block.text)?.[1];
  if (!name) throw new Error(`${block.id} is not a script block (#! line, then "# name.sh: ...")`);
  return name;
}

/** The command of a crontab line: the line without its five schedule fields. */
export function cronCommand(block: DocBlock): string {
  const line = block.text.trim();
  const match = /^(\S+\s+){5}(.*)$/.exec(line);
  if (!match?.[2] || line.includes('\n')) throw new Error(`${block.id} is not one crontab line`);
  return match[2];
}

export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const TARGET_POSTGRES_STANDIN = `#!/usr/bin/env node
// Stand-in for a warehouse Singer target: RECORDs appended to config.path, STATE values printed.
const { appendFileSync, readFileSync } = require('node:fs');
const at = process.argv.indexOf('--config');
const config = JSON.parse(readFileSync(process.argv[at + 1], 'utf8'));
let rest = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (rest + chunk).split('\\n');
  rest = lines.pop();
  const records = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const message = JSON.parse(line);
    if (message.type === 'RECORD') records.push(JSON.stringify({ stream: message.stream, record: message.record }) + '\\n');
    if (message.type === 'STATE') {
      if (records.length > 0) appendFileSync(config.path, records.splice(0).join(''));
      process.stdout.write(JSON.stringify(message.value) + '\\n');
    }
  }
  if (records.length > 0) appendFileSync(config.path, records.join(''));
});
process.stdin.on('end', () => process.exit(0));
`;

export class Workspace {
  readonly dir: string;
  private readonly pathDir: string;
  /** HOME of the blocks' bash. */
  readonly home: string;

  constructor(
    prefix: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    const root = mkdtempSync(join(tmpdir(), prefix));
    this.dir = join(root, 'work');
    this.pathDir = join(root, 'path-bin');
    this.home = join(root, 'home');
    for (const d of [this.dir, this.pathDir, this.home]) mkdirSync(d, { recursive: true });
    symlinkSync(BIN_DIR, join(this.dir, 'bin'));
    for (const name of ['tap-mixpanel', 'tap-mailchimp', 'target-mailchimp']) symlinkSync(join(BIN_DIR, `${name}.js`), join(this.pathDir, name));
    // CommonJS: the PATH directory has no package.json, so node reads the script as CommonJS.
    writeFileSync(join(this.pathDir, 'target-postgres'), TARGET_POSTGRES_STANDIN);
    chmodSync(join(this.pathDir, 'target-postgres'), 0o755);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  write(name: string, content: string, mode?: number): string {
    const path = this.path(name);
    writeFileSync(path, content);
    if (mode !== undefined) chmodSync(path, mode);
    return path;
  }

  read(name: string): string {
    return readFileSync(this.path(name), 'utf8');
  }

  /** Runs `script` with bash in the workspace, killed after `timeoutMs`. */
  bash(script: string, timeoutMs = 120_000): Promise<ShellResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('bash', ['--noprofile', '--norc', '-c', script], {
        cwd: this.dir,
        env: { ...process.env, ...this.env, HOME: this.home, PATH: `${this.pathDir}:${process.env.PATH ?? ''}`, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }
}

/** Lines in which one of our binaries reported an error (runCli's one line), in any text. */
export function errorLines(text: string): string[] {
  return text.split('\n').filter((line) => /\b(tap-mixpanel|tap-mailchimp|target-mailchimp): (error|internal error):/.test(line));
}

/**
 * The top-level entries of the workspace that the checkout's .gitignore does not ignore: what a
 * reader following the docs in a clone would see in `git status` (configs with secrets, states).
 * Reads the patterns .gitignore uses: names, `dir/`, a leading `/`, `*` (a negation fails loudly).
 */
export function notIgnored(ws: Workspace, except: readonly string[] = ['bin']): string[] {
  const patterns = readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const ignored = (name: string, isDirectory: boolean) =>
    patterns.some((raw) => {
      if (raw.startsWith('!')) throw new Error(`.gitignore negation ${raw}: notIgnored does not read those`);
      const dirOnly = raw.endsWith('/');
      const pattern = raw.replace(/^\//, '').replace(/\/$/, '');
      if ((dirOnly && !isDirectory) || pattern.includes('/')) return false;
      const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
      return regex.test(name);
    });
  return readdirSync(ws.dir, { withFileTypes: true })
    .filter((entry) => !except.includes(entry.name) && !ignored(entry.name, entry.isDirectory()))
    .map((entry) => entry.name)
    .sort();
}
