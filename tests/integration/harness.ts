/**
 * Integration harness: the real compiled binaries (bin/*.js -> dist/) against the sandbox over
 * 127.0.0.1. Each suite starts its own sandbox on an OS-chosen port and stops it afterwards.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN_DIR } from '../../src/demo/pipeline.js';
import type { SingerMessage } from '../../src/singer/messages.js';

export { runPipeline } from '../../src/demo/pipeline.js';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Bytes (a Buffer) for input that is not valid UTF-8 or is large. */
  stdin?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs bin/<name>.js to completion (killed after timeoutMs) and captures everything. */
export function runBinary(name: 'tap-mixpanel' | 'tap-mailchimp' | 'target-mailchimp', args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(BIN_DIR, `${name}.js`), ...args], {
      env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

export function tempDir(prefix = 'tmt-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

/** Parses stdout of a tap: every non-empty line must be a Singer message. */
export function parseSingerOutput(stdout: string): SingerMessage[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line, index) => {
      try {
        return JSON.parse(line) as SingerMessage;
      } catch {
        throw new Error(`stdout line ${index + 1} is not JSON: ${line.slice(0, 200)}`);
      }
    });
}

export function recordsOf(messages: SingerMessage[], stream: string): Record<string, unknown>[] {
  return messages.filter((m): m is Extract<SingerMessage, { type: 'RECORD' }> => m.type === 'RECORD' && m.stream === stream).map((m) => m.record);
}

export function lastState(messages: SingerMessage[]): Record<string, unknown> | undefined {
  const states = messages.filter((m): m is Extract<SingerMessage, { type: 'STATE' }> => m.type === 'STATE');
  // The tap's states are objects (Singer allows any JSON value; a target passes others through).
  return states[states.length - 1]?.value as Record<string, unknown> | undefined;
}

export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return (await response.json()) as T;
}

export async function postJson<T>(url: string, body: unknown): Promise<T> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Ground truth: every event the sandbox would export for [from, to] right now. */
export async function groundTruthEvents(sandboxUrl: string, from: string, to: string): Promise<Array<{ event: string; properties: Record<string, unknown> }>> {
  const response = await fetch(`${sandboxUrl}/__admin/mixpanel/events?from_date=${from}&to_date=${to}`);
  const text = await response.text();
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { event: string; properties: Record<string, unknown> });
}
