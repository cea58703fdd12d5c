/**
 * A sandbox audience and the real tap-mailchimp binary, for the integration tests: the tap's
 * config, runs, their records and states, the audience as it really is (the admin API: ground
 * truth) and changes to it between or during runs. The sandbox clock is pinned (--now) and moved
 * by the tests, never read from the wall.
 */
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import { sandboxMailchimpTapConfig } from '../../src/sandbox/configs.js';
import type { SingerMessage } from '../../src/singer/messages.js';
import { getJson, lastState, parseSingerOutput, postJson, runBinary, tempDir, writeJson, type RunResult } from './harness.js';

export interface TruthMember {
  id: string;
  email_address: string;
  status: string;
  last_changed: string;
  forgotten: boolean;
  tags: Array<{ name: string }>;
  merge_fields: Record<string, unknown>;
}

export interface TapRun extends RunResult {
  messages: SingerMessage[];
  state: Record<string, unknown> | undefined;
}

export const NOW = '2024-06-10T12:00:00Z';

export class MailchimpTapWorld {
  readonly dir = tempDir('tapmc-');
  private runs = 0;

  private constructor(readonly sandbox: Sandbox) {}

  static async start(options: SandboxOptions = {}): Promise<MailchimpTapWorld> {
    return new MailchimpTapWorld(await startSandbox({ port: 0, now: NOW, days: 1, eventsPerDay: 5, profiles: 60, ...options }));
  }

  get listId(): string {
    return this.sandbox.credentials.mailchimp.listId;
  }

  get admin(): string {
    return `${this.sandbox.url}/__admin`;
  }

  /** A config file: the sandbox's key and URL, small pages and slices so paging shows, and `extra`. */
  config(extra: Record<string, unknown> = {}): string {
    return writeJson(this.dir, `tap-${++this.runs}.json`, { ...sandboxMailchimpTapConfig(this.sandbox), page_size: 25, slice_members: 80, retry_base_delay_seconds: 0.05, ...extra });
  }

  file(name: string, value: unknown): string {
    return writeJson(this.dir, name, value);
  }

  /** A run whose stdout is not Singer messages (--discover, --about, --test). */
  command(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    return runBinary('tap-mailchimp', args, { env, timeoutMs: 120_000 });
  }

  async run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<TapRun> {
    const result = await this.command(args, env);
    const messages = result.code === 0 || result.stdout.trim() !== '' ? parseSingerOutput(result.stdout) : [];
    return { ...result, messages, state: lastState(messages) };
  }

  /** The audience as it is: every member the API shows (permanently deleted ones left out). */
  async truth(listId = this.listId): Promise<TruthMember[]> {
    const body = await getJson<{ members: TruthMember[] }>(`${this.admin}/mailchimp/lists/${listId}/members`);
    return body.members.filter((m) => !m.forgotten);
  }

  /** Changes one member as someone in Mailchimp would (the admin API; last_changed: the sandbox's now). */
  change(member: string, body: Record<string, unknown>, listId = this.listId): Promise<TruthMember> {
    return fetch(`${this.admin}/mailchimp/lists/${listId}/members/${encodeURIComponent(member)}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => {
      if (!r.ok) throw new Error(`PATCH ${member}: ${r.status} ${await r.text()}`);
      return (await r.json()) as TruthMember;
    });
  }

  /** Moves the sandbox clock (Mailchimp's clock, as the tap reads it from the Date header). */
  advance(ms: number): Promise<unknown> {
    return postJson(`${this.admin}/clock`, { advance_ms: ms });
  }

  settings(body: Record<string, unknown>): Promise<unknown> {
    return postJson(`${this.admin}/settings`, body);
  }

  clearRequests(): Promise<Response> {
    return fetch(`${this.admin}/requests`, { method: 'DELETE' });
  }

  async requests(): Promise<Array<{ path: string; route?: string; query: Record<string, string>; status: number | null; fault?: string }>> {
    return (await getJson<{ requests: Array<{ path: string; route?: string; query: Record<string, string>; status: number | null; fault?: string }> }>(`${this.admin}/requests?family=mailchimp`)).requests;
  }

  async summary(): Promise<{ mailchimp_peak_in_flight: number; routes: Array<{ route: string; count: number; statuses: Record<string, number> }> }> {
    return getJson(`${this.admin}/requests/summary?family=mailchimp`);
  }

  close(): Promise<void> {
    return this.sandbox.close();
  }
}

export function recordsOf(run: TapRun, stream: string): Array<Record<string, unknown>> {
  return run.messages.filter((m): m is Extract<SingerMessage, { type: 'RECORD' }> => m.type === 'RECORD' && m.stream === stream).map((m) => m.record);
}

export function ids(records: ReadonlyArray<Record<string, unknown>>): string[] {
  return records.map((r) => String(r.id));
}

/** The list_members bookmark of an audience in a state. */
export function bookmarkOf(state: Record<string, unknown> | undefined, listId: string): string | undefined {
  const partitions = ((state?.bookmarks as Record<string, { partitions?: Array<{ context: { list_id: string }; replication_key_value?: string }> }> | undefined)?.list_members?.partitions ?? []);
  return partitions.find((p) => p.context.list_id === listId)?.replication_key_value;
}

export function duplicates(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.filter((v) => (seen.has(v) ? true : (seen.add(v), false)));
}
