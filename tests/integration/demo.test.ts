/**
 * `make demo` as a user runs it (node dist/demo/main.js, in a fresh directory): both runs exit 0,
 * and the cohort it keeps as a tag changes between them as the demo changed it in Mixpanel
 * (two people enter, three leave), which each run reports in one line. The commands it prints
 * are safe to copy: none redirects into the state file it reads. Then tap-mailchimp's part reads
 * exactly the members the demo changed in Mailchimp.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN_DIR } from '../../src/demo/pipeline.js';
import { tempDir } from './harness.js';

function runDemo(cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(BIN_DIR, '..', 'dist', 'demo', 'main.js')], { cwd, env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The shell commands the demo prints (`$ ...`, continuation lines joined). */
function printedCommands(stdout: string): string[] {
  const commands: string[] = [];
  let current: string | undefined;
  for (const line of stdout.split('\n')) {
    const start = /^\s+\$ (.*)$/.exec(line);
    if (start) current = start[1] ?? '';
    else if (current !== undefined) current += ` ${line.trim()}`;
    else continue;
    if (current.endsWith('\\')) current = current.slice(0, -1).trimEnd();
    else {
      commands.push(current.replace(/\s+/g, ' '));
      current = undefined;
    }
  }
  return commands;
}

describe('make demo', () => {
  it('runs tap | target twice, and shows the cohort "Power users" becoming a tag and changing between the runs', async () => {
    const cwd = tempDir('demo-');
    const { code, stdout, stderr } = await runDemo(cwd);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('Demo finished: both runs exited 0.');
    const cohortLines = stdout.split('\n').filter((l) => l.includes('cohort 1 "Power users" -> tag "Mixpanel: Power users": gained'));
    expect(cohortLines).toHaveLength(2);
    const [first, second] = cohortLines.map((l) => /gained (\d+) \/ lost (\d+) \(now (\d+) tagged/.exec(l)?.slice(1).map(Number));
    expect(first?.[0]).toBeGreaterThan(10);
    expect(first?.[1]).toBe(0);
    expect(second?.slice(0, 2)).toEqual([2, 3]);
    expect(second?.[2]).toBe((first?.[2] ?? 0) + 2 - 3);
    expect(stdout).toMatch(/2 people enter cohort "Power users" \(.+\), 3 leave it \(.+\)/);
    expect(existsSync(join(cwd, '.demo', 'report.json'))).toBe(true);

    // The commands it prints are safe to copy: none redirects into a file it reads (the shell
    // would empty the state before the tap reads it); each writes a new file and moves it.
    const commands = printedCommands(stdout);
    // The catalog first, selecting only what the target uses (no raw events to throw away).
    expect(commands[0]).toBe('tap-mixpanel --config .demo/tap.json --discover --select engage,cohorts,cohort_members > .demo/catalog.json');
    expect(stdout).not.toMatch(/records export \d/);
    const runs = commands.filter((c) => c.startsWith('tap-mixpanel ') && c.includes(' | '));
    expect(runs).toHaveLength(2);
    for (const command of runs) {
      expect(command).toContain('--catalog .demo/catalog.json');
      const reads = [...command.matchAll(/--(?:state|config|catalog) (\S+)/g)].map((m) => m[1]);
      const writes = [...command.matchAll(/>\s*(\S+)/g)].map((m) => m[1]);
      expect(writes).toHaveLength(1);
      expect({ command, overlap: writes.filter((w) => reads.includes(w)) }).toEqual({ command, overlap: [] });
      expect(command).toMatch(new RegExp(`> ${writes[0]} && test -s ${writes[0]} && mv ${writes[0]} \\.demo/state\\.json$`));
    }
    expect(commands.filter((c) => c === 'set -o pipefail')).toHaveLength(2);
    expect(runs[runs.length - 1]).toContain('--state .demo/state.json');
    // tap-mailchimp's commands read their state and write their output to different files too.
    const mailchimp = commands.filter((c) => c.startsWith('tap-mailchimp '));
    expect(mailchimp).toHaveLength(2);
    for (const command of mailchimp) {
      const reads = [...command.matchAll(/--(?:state|config) (\S+)/g)].map((m) => m[1]);
      const writes = [...command.matchAll(/>\s*(\S+)/g)].map((m) => m[1]);
      expect({ command, overlap: writes.filter((w) => reads.includes(w)) }).toEqual({ command, overlap: [] });
    }
    // And the demo did what it printed: the second run's state replaced state.json.
    expect(existsSync(join(cwd, '.demo', 'state.next.json'))).toBe(false);
    expect(readFileSync(join(cwd, '.demo', 'state.json'), 'utf8')).toMatch(/"bookmarks"/);
    // Part 3: tap-mailchimp reads the audience out twice; the second run reads exactly the four changed members.
    expect(stdout).toMatch(/Run 1: \d+ members \(subscribed \d+/);
    expect(stdout).toContain('Run 2 read 4 members, those changed since run 1');
    expect(stdout).toContain('tap-mailchimp: both runs exited 0; run 2 read exactly the members changed in Mailchimp.');
  }, 120_000);
});
