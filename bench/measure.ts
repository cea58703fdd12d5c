/**
 * Runs a child process the way a pipeline would (stdout into a pipe we drain) and measures it:
 * wall time, bytes and lines on stdout, and peak resident memory (VmHWM from /proc, polled:
 * the high-water mark only grows, so the last reading before exit is the peak).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measured {
  code: number | null;
  seconds: number;
  stdoutBytes: number;
  stdoutLines: number;
  /** Lines starting with {"type":"RECORD" (Singer RECORD messages). */
  recordLines: number;
  /** Peak RSS in MB, or null where /proc is not available. */
  peakRssMb: number | null;
  /** CPU time of the process (user + system, the last reading before it exited), or null without /proc. */
  cpuSeconds: number | null;
  stderrTail: string;
  /** The last complete stdout line (a target's final state, for example). */
  lastLine: string;
}

/** utime + stime of a process in seconds (/proc/<pid>/stat fields 14 and 15, in clock ticks of 1/100 s on Linux). */
function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function vmHwmKb(pid: number): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

const RECORD_PREFIX = Buffer.from('{"type":"RECORD"');
const NEWLINE = 10;

export function runMeasured(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: NodeJS.ReadableStream | string } = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdoutBytes = 0;
    let stdoutLines = 0;
    let recordLines = 0;
    let atLineStart = true;
    let lineHead = Buffer.alloc(0);
    let lastLine = '';
    let current: Buffer[] = [];
    let peakKb: number | null = null;
    let cpu: number | null = null;
    const stderr: string[] = [];

    const poll = setInterval(() => {
      const kb = child.pid === undefined ? null : vmHwmKb(child.pid);
      if (kb !== null) peakKb = Math.max(peakKb ?? 0, kb);
      const seconds = child.pid === undefined ? null : cpuSecondsOf(child.pid);
      if (seconds !== null) cpu = seconds;
    }, 20);

    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      let from = 0;
      for (;;) {
        const nl = chunk.indexOf(NEWLINE, from);
        const end = nl < 0 ? chunk.length : nl;
        if (atLineStart || lineHead.length < RECORD_PREFIX.length) {
          lineHead = Buffer.concat([lineHead, chunk.subarray(from, Math.min(end, from + RECORD_PREFIX.length))]).subarray(0, RECORD_PREFIX.length);
          atLineStart = false;
        }
        if (nl < 0) {
          // Keep the tail of a line only while it is short (state lines); records are only counted.
          if (current.length < 4) current.push(chunk.subarray(from));
          break;
        }
        current.push(chunk.subarray(from, nl));
        stdoutLines++;
        if (lineHead.equals(RECORD_PREFIX)) recordLines++;
        else lastLine = Buffer.concat(current).toString('utf8');
        current = [];
        lineHead = Buffer.alloc(0);
        atLineStart = true;
        from = nl + 1;
        if (from >= chunk.length) break;
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk.toString('utf8'));
      if (stderr.length > 200) stderr.splice(0, stderr.length - 200);
    });
    child.on('error', reject);
    if (typeof options.stdin === 'string' || options.stdin === undefined) child.stdin.end(options.stdin ?? '');
    else options.stdin.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({
        code,
        seconds,
        stdoutBytes,
        stdoutLines,
        recordLines,
        peakRssMb: peakKb === null ? null : peakKb / 1024,
        cpuSeconds: cpu,
        stderrTail: stderr.join('').slice(-4000),
        lastLine,
      });
    });
  });
}

/** A short command's whole stdout (stderr passes through); fails on a non-zero exit. */
export function captureStdout(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const parts: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => parts.push(c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(parts).toString('utf8')) : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}
