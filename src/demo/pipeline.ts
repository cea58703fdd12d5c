/**
 * Runs `tap-mixpanel ... | target-mailchimp ...` as two real processes joined by a pipe, the way
 * a shell does, while counting the Singer messages that cross it. Used by the demo and the
 * integration tests.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Transform, type TransformCallback } from 'node:stream';
import { LineSplitter } from '../util/lines.js';

export const BIN_DIR = fileURLToPath(new URL('../../bin/', import.meta.url));

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface PipelineResult {
  tap: ProcessResult;
  target: ProcessResult;
  /** Messages that crossed the pipe, by type and stream. */
  counts: { records: Map<string, number>; schemas: number; states: number };
}

export interface PipelineOptions {
  tapArgs: string[];
  targetArgs: string[];
  env?: NodeJS.ProcessEnv;
  /** Keep what the tap wrote to the pipe (result.tap.stdout), e.g. to compare its states with the target's. */
  captureTapOutput?: boolean;
  /** Called with each stderr line of either process (for live display). */
  onLog?: (source: 'tap' | 'target', line: string) => void;
  timeoutMs?: number;
}

class MessageCounter extends Transform {
  private readonly splitter = new LineSplitter();
  readonly counts = { records: new Map<string, number>(), schemas: 0, states: 0 };

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    for (const line of this.splitter.push(chunk)) this.count(line);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const rest = this.splitter.end();
    if (rest) this.count(rest);
    callback();
  }

  private count(line: string): void {
    if (line.startsWith('{"type":"RECORD"')) {
      const stream = /"stream":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? '?';
      this.counts.records.set(stream, (this.counts.records.get(stream) ?? 0) + 1);
    } else if (line.includes('"type":"SCHEMA"')) this.counts.schemas++;
    else if (line.includes('"type":"STATE"')) this.counts.states++;
  }
}

function collectLines(stream: NodeJS.ReadableStream, sink: string[], onLine?: (line: string) => void): void {
  const splitter = new LineSplitter();
  stream.on('data', (chunk: Buffer) => {
    sink.push(chunk.toString('utf8'));
    if (onLine) for (const line of splitter.push(chunk)) onLine(line);
  });
  stream.on('end', () => {
    const rest = splitter.end();
    if (rest && onLine) onLine(rest);
  });
}

/** Runs one Node script (a bin/ shim) to its end, capturing stdout and stderr. */
export function runProcess(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: string[] = [];
    const stderr: string[] = [];
    collectLines(child.stdout, stdout);
    collectLines(child.stderr, stderr);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: stdout.join(''), stderr: stderr.join('') }));
  });
}

export function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const env = { ...process.env, ...options.env };
  const tap = spawn(process.execPath, [BIN_DIR + 'tap-mixpanel.js', ...options.tapArgs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const target = spawn(process.execPath, [BIN_DIR + 'target-mailchimp.js', ...options.targetArgs], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const counter = new MessageCounter();
  tap.stdout.pipe(counter).pipe(target.stdin);
  // The target may exit early (a config error): the tap then sees EPIPE, as in a shell.
  target.stdin.on('error', () => undefined);

  const out = { tapErr: [] as string[], target: [] as string[], targetErr: [] as string[] };
  collectLines(tap.stderr, out.tapErr, options.onLog && ((line) => options.onLog?.('tap', line)));
  collectLines(target.stderr, out.targetErr, options.onLog && ((line) => options.onLog?.('target', line)));
  collectLines(target.stdout, out.target);
  // Bytes, joined at the end: a character may be split between two chunks.
  const tapOut: Buffer[] = [];
  if (options.captureTapOutput) counter.on('data', (chunk: Buffer) => tapOut.push(chunk));

  const exited = (child: ReturnType<typeof spawn>) =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const timeout = setTimeout(() => {
    tap.kill('SIGKILL');
    target.kill('SIGKILL');
  }, options.timeoutMs ?? 120_000);
  return Promise.all([exited(tap), exited(target)]).then(([t, g]) => {
    clearTimeout(timeout);
    return {
      tap: { ...t, stdout: Buffer.concat(tapOut).toString('utf8'), stderr: out.tapErr.join('') },
      target: { ...g, stdout: out.target.join(''), stderr: out.targetErr.join('') },
      counts: counter.counts,
    };
  });
}
