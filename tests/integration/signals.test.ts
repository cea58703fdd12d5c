/**
 * The exit codes of a second signal (README: exit codes): the first SIGINT/SIGTERM asks the
 * command to finish at its next safe point; a second one stops the process at once with 130
 * (SIGINT) or 143 (SIGTERM). Run through the compiled src/cli/run.ts, with a command that never
 * reaches a safe point, so that the second signal is what ends it.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN_DIR } from '../../src/demo/pipeline.js';

const RUN_MODULE = pathToFileURL(join(BIN_DIR, '..', 'dist', 'cli', 'run.js')).href;

/** A command that ignores the stop request: only a second signal can end it. */
const STUBBORN = `import { runCli } from ${JSON.stringify(RUN_MODULE)};
runCli('stubborn', () => new Promise(() => { setInterval(() => undefined, 1000); process.stderr.write('started\\n'); }));`;

function runUntilSecondSignal(signal: 'SIGINT' | 'SIGTERM'): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', STUBBORN], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sent = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      // Each signal only once the previous step is visible: no timing guesses.
      if (sent === 0 && stderr.includes('started')) {
        sent = 1;
        child.kill(signal);
      } else if (sent === 1 && stderr.includes(`${signal} received`)) {
        sent = 2;
        child.kill(signal);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('a second signal stops at once', () => {
  it.each<['SIGINT' | 'SIGTERM', number]>([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ])('a second %s exits %i, saying so on stderr', async (signal, code) => {
    const result = await runUntilSecondSignal(signal);
    expect(result.stderr).toContain(`${signal} received: finishing at the next safe point (send it again to stop at once)`);
    expect(result.stderr).toContain(`stubborn: stopped by a second ${signal}`);
    expect(result.code).toBe(code);
  });
});
