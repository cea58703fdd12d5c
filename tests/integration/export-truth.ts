/**
 * Comparing what tap-mixpanel emitted for `export` with the sandbox's ground truth, by key
 * (event, distinct_id, time, insert_id) and as multisets: export does not deduplicate, so the
 * sandbox's exact duplicates must come through as many times as it holds them, no more.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { BIN_DIR } from '../../src/demo/pipeline.js';
import type { SingerMessage } from '../../src/singer/messages.js';
import { groundTruthEvents } from './harness.js';

export interface TruthEvent {
  event: string;
  properties: Record<string, unknown>;
}

export function eventKey(e: TruthEvent): string {
  return JSON.stringify([e.event, String(e.properties.distinct_id ?? ''), e.properties.time, e.properties.$insert_id ?? null]);
}

/** The same key read back from an export record (derived insert ids stand for a missing one). */
export function exportedKey(r: Record<string, unknown>): string {
  const insertId = String(r.mp_reserved_insert_id);
  return JSON.stringify([r.event, r.distinct_id, Date.parse(String(r.time)) / 1000, insertId.startsWith('derived-') ? null : insertId]);
}

export function countKeys(keys: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

/** Keys in `a` more often than in `b`, with how many more. */
export function excess(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, n] of a) {
    const more = n - (b.get(k) ?? 0);
    if (more > 0) out.set(k, more);
  }
  return out;
}

export interface ExportBookmarkState {
  bookmarks: { export: { last_day_read: string; processing_watermark_ms: number; sweep?: unknown } };
  currently_syncing?: string | null;
}

/** The sandbox's events for the range that were ingested at or before `watermarkMs`. */
export async function truthUpTo(sandboxUrl: string, from: string, to: string, watermarkMs: number): Promise<Map<string, number>> {
  const truth = (await groundTruthEvents(sandboxUrl, from, to)) as TruthEvent[];
  return countKeys(truth.filter((e) => Number(e.properties.mp_processing_time_ms) <= watermarkMs).map(eventKey));
}

export function exportKeysOf(messages: SingerMessage[]): string[] {
  return messages.filter((m) => m.type === 'RECORD' && m.stream === 'export').map((m) => exportedKey((m as { record: Record<string, unknown> }).record));
}

/** Complete Singer lines of a (possibly cut) stdout: a partial last line is dropped. */
export function completeMessages(stdout: string): SingerMessage[] {
  const lines = stdout.split('\n');
  lines.pop(); // empty after the final newline, or the partial line a kill left
  return lines.filter((l) => l !== '').map((l) => JSON.parse(l) as SingerMessage);
}

export interface LiveTap {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once `predicate` holds for stdout and stderr so far (checked on every chunk). */
  until(predicate: (stdout: string, stderr: string) => boolean): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts bin/tap-mixpanel.js and lets the test watch its output and signal it. */
export function startTap(args: string[], timeoutMs = 60_000): LiveTap {
  const child = spawn(process.execPath, [join(BIN_DIR, 'tap-mixpanel.js'), ...args], {
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  let out = '';
  let err = '';
  const watchers: Array<{ predicate: (out: string, err: string) => boolean; resolve: () => void }> = [];
  const check = () => {
    for (let i = watchers.length - 1; i >= 0; i--) {
      const w = watchers[i] as (typeof watchers)[number];
      if (w.predicate(out, err)) {
        watchers.splice(i, 1);
        w.resolve();
      }
    }
  };
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c;
    check();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    until: (predicate) =>
      new Promise<void>((resolve, reject) => {
        if (predicate(out, err)) return resolve();
        watchers.push({ predicate, resolve });
        void exited.then(() => {
          if (!predicate(out, err)) reject(new Error(`the tap exited before the expected output; stderr: ${err.slice(-2000)}`));
        });
      }),
  };
}

export function countLines(stdout: string, type: string): number {
  let n = 0;
  let at = 0;
  const needle = `{"type":"${type}"`;
  for (;;) {
    const i = stdout.indexOf(needle, at);
    if (i < 0) return n;
    n++;
    at = i + needle.length;
  }
}
