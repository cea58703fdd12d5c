/**
 * `make demo`, third part: tap-mailchimp reads the audience back out, as a warehouse would load
 * it. A first run reads every member; then, as people do in Mailchimp, two unsubscribe, one is
 * archived and one changes plan (the sandbox's admin API); a second run from the first's state
 * prints exactly those four. A run's window ends last_changed_settle_seconds (60) before it
 * starts; the demo sets 0 so it need not wait a minute, and starts each run on a new second, so
 * that changes made just before a run fall in its window (last_changed has whole seconds).
 * Output in .demo/.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxMailchimpTapConfig } from '../sandbox/configs.js';
import type { Sandbox } from '../sandbox/server.js';
import { BIN_DIR, runProcess } from './pipeline.js';

const out = (line = '') => void process.stdout.write(line + '\n');

interface Member {
  id: string;
  email_address: string;
  status: string;
  merge_fields: Record<string, unknown>;
}

interface TapRun {
  code: number | null;
  records: Map<string, Array<Record<string, unknown>>>;
  state: string | undefined;
  calls: string;
}

async function runTap(args: string[], outputPath: string): Promise<TapRun> {
  const { code, stdout, stderr } = await runProcess(join(BIN_DIR, 'tap-mailchimp.js'), args, { ...process.env, LOG_LEVEL: 'info' });
  writeFileSync(outputPath, stdout);
  const records = new Map<string, Array<Record<string, unknown>>>();
  let state: string | undefined;
  for (const line of stdout.split('\n').filter((l) => l !== '')) {
    const message = JSON.parse(line) as { type: string; stream?: string; record?: Record<string, unknown>; value?: unknown };
    if (message.type === 'RECORD' && message.stream && message.record) records.set(message.stream, [...(records.get(message.stream) ?? []), message.record]);
    if (message.type === 'STATE') state = JSON.stringify(message.value);
  }
  if (code !== 0) out(`   tap-mailchimp failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const calls = /Mailchimp calls total=(\d+)/.exec(stderr)?.[1] ?? '?';
  return { code, records, state, calls };
}

/** Waits for the next whole second: everything changed so far is then before the run's window end. */
function nextSecond(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1020 - (Date.now() % 1000)));
}

async function admin<T>(sandbox: Sandbox, path: string, init?: { method: string; body: unknown }): Promise<T> {
  const response = await fetch(`${sandbox.url}/__admin/${path}`, init ? { method: init.method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) } : undefined);
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} /__admin/${path}: ${response.status}`);
  return (await response.json()) as T;
}

function counts(records: ReadonlyArray<Record<string, unknown>>, key: string): string {
  const byValue = new Map<string, number>();
  for (const r of records) byValue.set(String(r[key]), (byValue.get(String(r[key])) ?? 0) + 1);
  return [...byValue.entries()].sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} ${n}`).join(', ');
}

/** Two unsubscribe, one is archived, one moves from the free plan to pro: "as someone in Mailchimp would". */
async function changeMembers(sandbox: Sandbox, listId: string): Promise<Array<{ member: Member; what: string }>> {
  const { members } = await admin<{ members: Member[] }>(sandbox, `mailchimp/lists/${listId}/members?status=subscribed`);
  const free = members.filter((m) => m.merge_fields.PLAN === 'free');
  const [a, b, c] = members.filter((m) => m.merge_fields.PLAN !== 'free');
  const d = free[0];
  const changes: Array<[Member | undefined, Record<string, unknown>, string]> = [
    [a, { status: 'unsubscribed' }, 'unsubscribed'],
    [b, { status: 'unsubscribed' }, 'unsubscribed'],
    [c, { status: 'archived' }, 'archived'],
    [d, { merge_fields: { PLAN: 'pro' } }, 'PLAN free -> pro'],
  ];
  const done: Array<{ member: Member; what: string }> = [];
  for (const [member, body, what] of changes) {
    if (!member) continue;
    await admin(sandbox, `mailchimp/lists/${listId}/members/${member.id}`, { method: 'PATCH', body });
    done.push({ member, what });
  }
  return done;
}

/** Part 3 of the demo; true when both runs exited 0 and the second read exactly the changed members. */
export async function mailchimpTapPart(sandbox: Sandbox, dir: string, listId: string): Promise<boolean> {
  const configPath = join(dir, 'mailchimp-tap.json');
  writeFileSync(configPath, JSON.stringify({ ...sandboxMailchimpTapConfig(sandbox), last_changed_settle_seconds: 0 }, null, 2) + '\n');
  out('== Part 3: tap-mailchimp reads the audience back out (unsubscribes, archives, changed fields), as a warehouse would load it');
  out('   (last_changed_settle_seconds is 0 here so the demo need not wait the default minute between runs)');
  await nextSecond();
  out('   $ tap-mailchimp --config .demo/mailchimp-tap.json > .demo/mailchimp-run-1.jsonl');
  const first = await runTap(['--config', configPath], join(dir, 'mailchimp-run-1.jsonl'));
  const members = first.records.get('list_members') ?? [];
  out(`   Run 1: ${members.length} members (${counts(members, 'status')}); ${[...first.records.keys()].filter((s) => s !== 'list_members').map((s) => `${s} ${first.records.get(s)?.length ?? 0}`).join(', ')}; ${first.calls} Mailchimp calls`);
  const statePath = join(dir, 'mailchimp-state.json');
  writeFileSync(statePath, (first.state ?? '{}') + '\n');

  const changed = await changeMembers(sandbox, listId);
  out(`== In Mailchimp (sandbox admin API): ${changed.map((c) => `${c.member.email_address} ${c.what}`).join('; ')}`);
  await nextSecond();
  out('   $ tap-mailchimp --config .demo/mailchimp-tap.json --state .demo/mailchimp-state.json > .demo/mailchimp-run-2.jsonl');
  const second = await runTap(['--config', configPath, '--state', statePath], join(dir, 'mailchimp-run-2.jsonl'));
  const again = second.records.get('list_members') ?? [];
  out(`   Run 2 read ${again.length} members, those changed since run 1 (${second.calls} Mailchimp calls):`);
  for (const m of again) out(`     ${String(m.email_address).padEnd(36)} ${String(m.status).padEnd(13)} PLAN ${String((m.merge_fields as Record<string, unknown> | undefined)?.PLAN ?? '')}`);
  const exact = again.length === changed.length && changed.every((c) => again.some((m) => m.id === c.member.id));
  const ok = first.code === 0 && second.code === 0 && exact;
  out(ok ? '   tap-mailchimp: both runs exited 0; run 2 read exactly the members changed in Mailchimp.' : '   tap-mailchimp: FAILED (see above).');
  out();
  return ok;
}
