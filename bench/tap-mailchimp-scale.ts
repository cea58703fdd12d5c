/**
 * tap-mailchimp at audience scale: the real binary reading list_members of a generated
 * 1,000,000-member audience from the sandbox (its own process, clock pinned), then an
 * incremental run after 1% of the members changed, beside a bare script that only parses the
 * same members pages and re-serialises each member as a RECORD line.
 *
 * Per row: records, Mailchimp calls (pages, slice planning probes), the time those calls would
 * take at 250 ms a call over 10 connections, wall time here and records/s over it (the sandbox
 * builds every page on the same two cores: about 60 ms for 1000 full members), the process's own
 * CPU time and records per CPU second (the tap's work apart from the sandbox's; compared with the
 * baseline's), peak RSS of the tap, and the most requests the sandbox saw in flight at once (its
 * answers carry 20 ms of latency, so requests overlap as they do over a network).
 * The model: the first pages of both passes (one round), the planning probes (ceil(probes/10)
 * rounds), then the pages, 10 at a time (ceil(pages/10) rounds); Mailchimp's own deep-offset
 * slowness left out.
 *   node dist-bench/run.js --only mailchimp-tap [--members N]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMeasured, type Measured } from './measure.js';
import { startSandboxProcess, type SandboxProcess } from './sandbox-process.js';
import { fixed, printMarkdownTable, printTable, thousands } from './table.js';

export interface MailchimpTapBenchOptions {
  root: string;
  work: string;
  members: number;
}

const NOW = '2024-06-10T12:00:00Z';
const CALL_MS = 250;
const CONNECTIONS = 10;
/** Pages saved for the baseline (read over as many times as needed to reach the audience's size). */
const BASELINE_PAGES = 50;
/** Added to every Mailchimp answer of the sandbox, so that requests overlap as they do over a network. */
const LATENCY_MS = 20;

interface Calls {
  total: number;
  pages: number;
  probes: number;
  other: number;
}

/** The tap's own count of its calls, from its last "Mailchimp calls" log line. */
function callsOf(run: Measured): Calls {
  const line = run.stderrTail.split('\n').filter((l) => l.includes('Mailchimp calls')).pop() ?? '';
  const n = (kind: string) => Number(new RegExp(`${kind}=(\\d+)`).exec(line)?.[1] ?? 0);
  const total = n('total');
  const pages = n('members page');
  const probes = n('members probe');
  return { total, pages, probes, other: total - pages - probes };
}

function modelledSeconds(calls: Calls): number {
  const rounds = 1 + Math.ceil(calls.probes / CONNECTIONS) + Math.ceil(Math.max(0, calls.pages - 2) / CONNECTIONS) + calls.other;
  return (rounds * CALL_MS) / 1000;
}

async function admin<T>(sandbox: SandboxProcess, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${sandbox.url}/__admin/${path}`, body === undefined ? undefined : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`/__admin/${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Saves the first pages of the audience, with every field the tap asks for, one answer per line. */
async function savePages(sandbox: SandboxProcess, file: string, fields: string): Promise<number> {
  const auth = `Basic ${Buffer.from(`bench:${String(sandbox.target.api_key)}`).toString('base64')}`;
  const lines: string[] = [];
  let members = 0;
  for (let page = 0; page < BASELINE_PAGES; page++) {
    const url = `${String(sandbox.target.api_base_url)}/lists/${String(sandbox.target.list_id)}/members?count=1000&offset=${page * 1000}&fields=${fields}`;
    const text = await (await fetch(url, { headers: { authorization: auth } })).text();
    members += (JSON.parse(text) as { members: unknown[] }).members.length;
    lines.push(text);
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return members;
}

/** 1% of the generated members change (status and a merge field) through the admin API, in one call. */
async function changeOnePercent(sandbox: SandboxProcess, members: number): Promise<number> {
  const count = Math.max(1, Math.floor(members / 100));
  const chunks = Math.ceil(count / 10_000);
  const stride = Math.floor(members / chunks);
  const changed: Array<Record<string, unknown>> = [];
  for (let k = 0; k < chunks; k++) {
    // Spread over the audience: a run of up to 10,000 members every `stride`.
    const page = await admin<{ members: Array<{ email_address: string; status: string; merge_fields: Record<string, unknown>; tags: string[] }> }>(sandbox, `mailchimp/generated?offset=${k * stride}&count=${Math.min(10_000, count - k * 10_000)}`);
    for (const m of page.members) changed.push({ email_address: m.email_address, status: m.status === 'subscribed' ? 'unsubscribed' : m.status, merge_fields: { ...m.merge_fields, LNAME: `${String(m.merge_fields.LNAME)}-changed` }, tags: m.tags });
  }
  await admin(sandbox, `mailchimp/lists/${String(sandbox.target.list_id)}/members`, { members: changed });
  return changed.length;
}

function records(run: Measured): number {
  return run.recordLines > 0 ? run.recordLines : run.stdoutLines;
}

/** Records per second of the process's own CPU time: the tap's work, apart from the sandbox's serving. */
function perCpuSecond(run: Measured): number | null {
  return run.cpuSeconds === null || run.cpuSeconds === 0 ? null : records(run) / run.cpuSeconds;
}

function row(name: string, run: Measured, calls: Calls | null, baseline: Measured | null, peak: number | null): string[] {
  const cpuRate = perCpuSecond(run);
  const baselineRate = baseline ? perCpuSecond(baseline) : cpuRate;
  return [
    name,
    thousands(records(run)),
    calls ? `${thousands(calls.total)} (${thousands(calls.pages)} pages, ${thousands(calls.probes)} probes)` : 'none',
    calls ? `${fixed(modelledSeconds(calls))} s` : 'n/a',
    `${fixed(run.seconds)} s`,
    thousands(records(run) / run.seconds),
    run.cpuSeconds === null ? 'n/a' : `${fixed(run.cpuSeconds)} s`,
    cpuRate === null ? 'n/a' : thousands(cpuRate),
    cpuRate !== null && baselineRate ? `${fixed(cpuRate / baselineRate, 2)}x` : 'n/a',
    fixed(run.peakRssMb),
    peak === null ? 'n/a' : String(peak),
  ];
}

export async function benchMailchimpTap(options: MailchimpTapBenchOptions): Promise<void> {
  const { root, work, members } = options;
  const tapBin = join(root, 'bin', 'tap-mailchimp.js');
  console.log(`tap-mailchimp: sandbox with a generated audience of ${thousands(members)} members (clock pinned at ${NOW})`);
  const sandbox = await startSandboxProcess(join(root, 'bin', 'mixpanel-mailchimp-sandbox.js'), ['--audience-size', String(members), '--now', NOW, '--latency-mailchimp', String(LATENCY_MS)]);
  try {
    const config = join(work, 'tap-mailchimp.json');
    writeFileSync(config, JSON.stringify({ api_key: sandbox.target.api_key, api_base_url: sandbox.target.api_base_url, max_concurrency: CONNECTIONS }));
    const env = { LOG_LEVEL: 'info' };
    const peak = async () => (await admin<{ mailchimp_peak_in_flight: number }>(sandbox, 'requests/summary')).mailchimp_peak_in_flight;
    await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
    const first = await runMeasured(process.execPath, [tapBin, '--config', config, '--select', 'list_members'], { env });
    if (first.code !== 0) throw new Error(`tap-mailchimp failed (exit ${first.code}):\n${first.stderrTail}`);
    const firstPeak = await peak();
    const statePath = join(work, 'tap-mailchimp-state.json');
    writeFileSync(statePath, first.lastLine.startsWith('{"type":"STATE"') ? JSON.stringify((JSON.parse(first.lastLine) as { value: unknown }).value) : '{}');

    await admin(sandbox, 'clock', { advance_ms: 120_000 });
    const changed = await changeOnePercent(sandbox, members);
    await admin(sandbox, 'clock', { advance_ms: 120_000 });
    await fetch(`${sandbox.url}/__admin/requests`, { method: 'DELETE' });
    const second = await runMeasured(process.execPath, [tapBin, '--config', config, '--select', 'list_members', '--state', statePath], { env });
    if (second.code !== 0) throw new Error(`tap-mailchimp (incremental) failed (exit ${second.code}):\n${second.stderrTail}`);
    const secondPeak = await peak();

    const fields = 'members.consents_to_one_to_one_messaging,members.contact_id,members.email_address,members.email_client,members.email_type,members.full_name,members.id,members.interests,members.ip_opt,members.ip_signup,members.language,members.last_changed,members.last_note,members.location,members.marketing_permissions,members.member_rating,members.merge_fields,members.sms_phone_number,members.sms_subscription_last_updated,members.sms_subscription_status,members.source,members.stats,members.status,members.tags,members.tags_count,members.timestamp_opt,members.timestamp_signup,members.unique_email_id,members.unsubscribe_reason,members.vip,members.web_id,total_items';
    const pagesFile = join(work, 'members-pages.jsonl');
    const saved = await savePages(sandbox, pagesFile, fields);
    const baseline = await runMeasured(process.execPath, [join(root, 'dist-bench', 'member-baseline.js'), pagesFile, String(Math.ceil(members / saved))]);

    const header = ['run', 'records', 'Mailchimp calls', 'modelled (250 ms, 10 conn.)', 'wall', 'records/s (wall)', 'CPU', 'records/CPU s', 'vs baseline', 'peak RSS MB', 'peak in flight'];
    const rows = [
      row(`first run, ${thousands(members)} members`, first, callsOf(first), baseline, firstPeak),
      row(`incremental, ${thousands(changed)} changed`, second, callsOf(second), baseline, secondPeak),
      row('baseline: parse + serialise the same pages', baseline, null, null, null),
    ];
    printTable(`tap-mailchimp list_members, ${thousands(members)}-member audience (every field selected, pages of 1000, max_concurrency ${CONNECTIONS})`, header, rows);
    printMarkdownTable('tap-mailchimp at scale', `${thousands(members)}-member sandbox audience, every field selected, pages of 1000, max_concurrency ${CONNECTIONS}; modelled: 250 ms a call over 10 connections`, header, rows);
    if (first.recordLines < members) console.log(`tap-mailchimp: WARNING the first run emitted ${thousands(first.recordLines)} records for ${thousands(members)} generated members`);
  } finally {
    await sandbox.stop();
  }
}
