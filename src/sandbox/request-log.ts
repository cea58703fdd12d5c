/**
 * Every request the emulated services receive, for tests and benchmarks to inspect
 * (GET /__admin/requests), and counts by route template (GET /__admin/requests/summary), which
 * cover every request since the last clear, not only the entries kept. Operations run inside
 * Mailchimp batches are counted separately (they are not HTTP calls). Nothing is redacted: the
 * sandbox is local and its secrets are fake.
 */
import type { Family } from './families.js';

export interface RequestLogEntry {
  seq: number;
  /** Sandbox clock time when the request arrived (ISO). */
  time: string;
  family: Family;
  method: string;
  path: string;
  /** The route template that served it, e.g. /3.0/lists/{list_id}/members/{hash}; absent for unknown paths. */
  route?: string;
  query: Record<string, string | string[]>;
  /** Null until the response finishes. */
  status: number | null;
  duration_ms: number | null;
  request_bytes: number;
  /** The client's User-Agent header, when it sent one. */
  user_agent?: string;
  /** Mailchimp writes: members in the body (batch size, or 1; operations for /batches). */
  members?: number;
  /** True when the client went away before the response finished (or a fault cut it). */
  aborted?: boolean;
  /** The injected fault this request received (fault-injection.ts), if any. */
  fault?: string;
}

export interface RouteCount {
  family: Family | 'batch_operation';
  method: string;
  /** Route template, or the path when no route matched. */
  route: string;
  count: number;
  /** By status code; "aborted" for requests that never got a complete answer. */
  statuses: Record<string, number>;
  faults: number;
}

const MAX_ENTRIES = 10_000;

class RouteCounter {
  private readonly counts = new Map<string, RouteCount>();
  total = 0;

  add(family: RouteCount['family'], method: string, route: string, status: string, fault: boolean): void {
    const key = `${family} ${method} ${route}`;
    let entry = this.counts.get(key);
    if (!entry) {
      entry = { family, method, route, count: 0, statuses: {}, faults: 0 };
      this.counts.set(key, entry);
    }
    entry.count++;
    entry.statuses[status] = (entry.statuses[status] ?? 0) + 1;
    if (fault) entry.faults++;
    this.total++;
  }

  list(family?: string): RouteCount[] {
    const rows = [...this.counts.values()].filter((r) => family === undefined || r.family === family);
    return rows.sort((a, b) => b.count - a.count || a.route.localeCompare(b.route) || a.method.localeCompare(b.method)).map((r) => ({ ...r, statuses: { ...r.statuses } }));
  }

  clear(): void {
    this.counts.clear();
    this.total = 0;
  }
}

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;
  private readonly requests = new RouteCounter();
  private readonly operations = new RouteCounter();
  /** Requests logged whose answers are not finished yet, and who waits for there to be none. */
  private open = 0;
  private idleWaiters: Array<() => void> = [];

  add(entry: Omit<RequestLogEntry, 'seq'>): RequestLogEntry {
    const full: RequestLogEntry = { seq: ++this.seq, ...entry };
    this.open++;
    this.entries.push(full);
    // Long benchmarks must not grow memory without bound: keep the most recent entries.
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
    return full;
  }

  /** Counts a finished request (status and abort are known by then). */
  complete(entry: RequestLogEntry): void {
    const status = entry.aborted ? 'aborted' : String(entry.status ?? 'aborted');
    this.requests.add(entry.family, entry.method, entry.route ?? entry.path, status, entry.fault !== undefined);
    this.open = Math.max(0, this.open - 1);
    if (this.open === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /**
   * Settles when every logged request has finished, or after `timeoutMs`. A client can read a
   * whole answer before the server's 'finish' event for it has run (the sandbox often shares a
   * process with its client): the log and the summary wait for that instead of missing it.
   */
  settled(timeoutMs = 2000): Promise<void> {
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== wake);
        resolve();
      }, timeoutMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.idleWaiters.push(wake);
    });
  }

  /** Counts one operation run inside a batch. */
  countOperation(method: string, route: string, status: number, fault: boolean): void {
    this.operations.add('batch_operation', method, route, String(status), fault);
  }

  list(family?: Family): RequestLogEntry[] {
    return family ? this.entries.filter((e) => e.family === family) : [...this.entries];
  }

  summary(family?: Family): { total: number; routes: RouteCount[]; batch_operations: { total: number; routes: RouteCount[] } } {
    const routes = this.requests.list(family);
    return {
      total: routes.reduce((n, r) => n + r.count, 0),
      routes,
      batch_operations: { total: this.operations.total, routes: this.operations.list() },
    };
  }

  clear(): void {
    this.entries = [];
    this.requests.clear();
    this.operations.clear();
  }
}
