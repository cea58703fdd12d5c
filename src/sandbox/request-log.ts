/**
 * Every request the emulated services receive, for tests and benchmarks to inspect
 * (GET /__admin/requests). Nothing is redacted: the sandbox is local and its secrets are fake.
 */
import type { Family } from './options.js';

export interface RequestLogEntry {
  seq: number;
  /** Sandbox clock time when the request arrived (ISO). */
  time: string;
  family: Family;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** Null until the response finishes. */
  status: number | null;
  duration_ms: number | null;
  request_bytes: number;
  /** Mailchimp writes: members in the body (batch size, or 1). */
  members?: number;
  /** True when the client went away before the response finished. */
  aborted?: boolean;
  /** The injected fault this request received (faults.ts), if any. */
  fault?: string;
}

const MAX_ENTRIES = 10_000;

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;

  add(entry: Omit<RequestLogEntry, 'seq'>): RequestLogEntry {
    const full: RequestLogEntry = { seq: ++this.seq, ...entry };
    this.entries.push(full);
    // Long benchmarks must not grow memory without bound: keep the most recent entries.
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
    return full;
  }

  list(family?: Family): RequestLogEntry[] {
    return family ? this.entries.filter((e) => e.family === family) : [...this.entries];
  }

  clear(): void {
    this.entries = [];
  }
}
