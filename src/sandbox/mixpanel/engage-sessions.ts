/**
 * Engage sessions: page 0 snapshots the filtered list, later pages read the snapshot with the
 * session_id, so paging is consistent even if profiles change in between. Sessions expire
 * after some idle minutes, as Mixpanel's do.
 */
import { randomBytes } from 'node:crypto';

/** A profile position in the population, or a bare distinct_id with no profile (cohort members). */
export type EngageEntry = number | string;

export interface EngageSession {
  readonly id: string;
  readonly entries: readonly EngageEntry[];
  lastUsedMs: number;
}

export const SESSION_TTL_MS = 10 * 60_000;

export class EngageSessions {
  private readonly sessions = new Map<string, EngageSession>();

  constructor(private readonly realNow: () => number = Date.now) {}

  create(entries: readonly EngageEntry[]): EngageSession {
    this.purge();
    const now = this.realNow();
    const id = `${Math.floor(now / 1000)}-${randomBytes(3).toString('hex').toUpperCase()}`;
    const session: EngageSession = { id, entries, lastUsedMs: now };
    this.sessions.set(id, session);
    return session;
  }

  get(id: string): EngageSession | undefined {
    this.purge();
    const session = this.sessions.get(id);
    if (session) session.lastUsedMs = this.realNow();
    return session;
  }

  clear(): void {
    this.sessions.clear();
  }

  private purge(): void {
    const cutoff = this.realNow() - SESSION_TTL_MS;
    for (const [id, session] of this.sessions) if (session.lastUsedMs < cutoff) this.sessions.delete(id);
  }
}
