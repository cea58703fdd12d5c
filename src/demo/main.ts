/**
 * `make demo`: starts the sandbox (emulated Mixpanel and Mailchimp on 127.0.0.1), makes a
 * catalog of the streams the target uses (as the README's Quick start does), runs
 * tap-mixpanel | target-mailchimp against it twice (a first run, then a run from the saved state), and prints what happened, including where the digest of new people
 * went (the sandbox's SMTP sink, Twilio endpoint and webhook receiver). The same pipe keeps the
 * Mixpanel cohort "Power users" as a Mailchimp tag (cohort_tags): between the runs the demo
 * changes who is in the cohort through the sandbox's admin API, and each run says who gained and
 * who lost the tag. A third part (mailchimp-part.ts) reads the audience back out with
 * tap-mailchimp, twice, and shows the second run reading exactly the members changed in Mailchimp
 * between the two. Files are left in .demo/.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startSandbox, type Sandbox } from '../sandbox/server.js';
import { sandboxClientConfigs } from '../sandbox/configs.js';
import { sandboxNotifyConfig } from '../sandbox/notify/configs.js';
import type { ReceivedEmail, ReceivedSms, ReceivedWebhook } from '../sandbox/notify/store.js';
import type { CohortSummary } from '../targets/mailchimp/cohorts/cohort-tags.js';
import { mailchimpTapPart } from './mailchimp-part.js';
import { BIN_DIR, runPipeline, runProcess, type PipelineResult } from './pipeline.js';

const DIR = join(process.cwd(), '.demo');
const REPORT = join(DIR, 'report.json');
const STATE = join(DIR, 'state.json');
const STATE_NEXT = join(DIR, 'state.next.json');
/** The cohort the demo keeps as a tag (the sandbox's cohort 1). */
const COHORT = { id: 1, name: 'Power users' };
/** What the target uses: people (engage), and the cohort streams for cohort_tags. */
const DEMO_STREAMS = 'engage,cohorts,cohort_members';
const out = (line = '') => void process.stdout.write(line + '\n');

interface AdminMember {
  email_address: string;
  status: string;
  tags: Array<{ name: string }>;
}

async function audience(sandbox: Sandbox, listId: string): Promise<AdminMember[]> {
  const response = await fetch(`${sandbox.url}/__admin/mailchimp/lists/${listId}/members`);
  const body = (await response.json()) as { members: AdminMember[] };
  return body.members;
}

interface Delivered {
  emails: ReceivedEmail[];
  sms: ReceivedSms[];
  hooks: ReceivedWebhook[];
}

async function delivered(sandbox: Sandbox): Promise<Delivered> {
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${sandbox.url}/__admin/${path}`)).json()) as T;
  const [emails, sms, hooks] = await Promise.all([
    get<{ messages: ReceivedEmail[] }>('smtp/messages'),
    get<{ messages: ReceivedSms[] }>('twilio/messages'),
    get<{ requests: ReceivedWebhook[] }>('webhooks'),
  ]);
  return { emails: emails.messages, sms: sms.messages, hooks: hooks.requests };
}

/** Where this run's digest (or alert) went: what the sandbox's sinks received since `before`. */
function showDelivered(before: Delivered, after: Delivered): void {
  const emails = after.emails.slice(before.emails.length);
  const sms = after.sms.slice(before.sms.length);
  const hooks = after.hooks.slice(before.hooks.length);
  if (emails.length + sms.length + hooks.length === 0) {
    out('   Digest: none sent (nobody new in this run; digest_send_empty is off)');
    return;
  }
  for (const email of emails) {
    out(`   Digest by email: "${email.subject}" to ${email.envelope.to.join(', ')} (${email.tls ? 'STARTTLS' : 'plain'}; SMTP sink holds ${after.emails.length} ${after.emails.length === 1 ? 'message' : 'messages'})`);
  }
  for (const text of sms) out(`   Digest by SMS to ${text.to}: ${text.body.length > 100 ? `${text.body.slice(0, 97)}...` : text.body} (${after.sms.length} SMS received in all)`);
  for (const hook of hooks) out(`   Digest by webhook: POST ${hook.path.replace(/[^/]+$/, '...')} "${String((hook.body as { text?: unknown }).text ?? '')}"`);
}

function byStatus(members: AdminMember[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of members) counts.set(m.status, (counts.get(m.status) ?? 0) + 1);
  return counts;
}

function showLog(source: 'tap' | 'target', line: string): void {
  // The child processes log with timestamps; the demo shows the message part of the lines worth reading.
  const match = /^\S+ (INFO |WARN |ERROR) (\S+) (.*)$/.exec(line);
  if (!match) {
    if (line.trim() !== '') out(`    [${source}] ${line}`);
    return;
  }
  const [, level, , message] = match;
  if (level?.trim() === 'INFO' && !/done|finished|loading into|stopped/.test(message ?? '')) return;
  out(`    [${source}] ${level?.trim() === 'INFO' ? '' : `${level?.trim()}: `}${message}`);
}

/** "cohort 1 "Power users" -> tag "...": gained N / lost M", from the run's report_file. */
function showCohorts(): void {
  const report = JSON.parse(readFileSync(REPORT, 'utf8')) as { cohorts?: CohortSummary[] };
  for (const c of report.cohorts ?? []) {
    const notes = [c.complete ? '' : 'sweep not complete: nobody removed', c.notInAudience ? `${c.notInAudience} not in the audience` : '', c.noEmail ? `${c.noEmail} without an email` : ''].filter((n) => n !== '');
    out(`   cohort ${c.id} "${c.name ?? '?'}" -> tag "${c.tag}": gained ${c.gained} / lost ${c.lost} (now ${c.gained + c.kept} tagged${notes.length ? `; ${notes.join(', ')}` : ''})`);
  }
}

/**
 * Between the runs, as someone in Mixpanel would: three people who hold the cohort's tag leave the
 * cohort, two subscribers who are not in it enter (the sandbox's admin API).
 */
async function changeCohort(sandbox: Sandbox, listId: string): Promise<void> {
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${sandbox.url}/__admin/${path}`)).json()) as T;
  const [cohort, profiles, members] = await Promise.all([
    get<{ members: string[] }>(`mixpanel/cohorts/${COHORT.id}`),
    get<Array<{ $distinct_id: string; $properties: { $email?: unknown } }>>('mixpanel/profiles'),
    audience(sandbox, listId),
  ]);
  const byEmail = new Map(members.map((m) => [m.email_address.toLowerCase(), m]));
  const memberOf = (id: string) => {
    const address = profiles.find((p) => p.$distinct_id === id)?.$properties.$email;
    return typeof address === 'string' ? byEmail.get(address.trim().toLowerCase()) : undefined;
  };
  const inCohort = new Set(cohort.members);
  const tag = `Mixpanel: ${COHORT.name}`;
  const leave = cohort.members.filter((id) => memberOf(id)?.tags.some((t) => t.name === tag)).slice(0, 3);
  const enter = profiles.map((p) => p.$distinct_id).filter((id) => !inCohort.has(id) && memberOf(id)?.status === 'subscribed').slice(0, 2);
  const response = await fetch(`${sandbox.url}/__admin/mixpanel/cohorts/${COHORT.id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ add: enter, remove: leave }),
  });
  if (!response.ok) throw new Error(`changing cohort ${COHORT.id}: ${response.status}`);
  const names = (ids: string[]) => ids.map((id) => memberOf(id)?.email_address ?? id).join(', ');
  out(`== In Mixpanel (sandbox admin API): ${enter.length} people enter cohort "${COHORT.name}" (${names(enter)}), ${leave.length} leave it (${names(leave)})`);
  out();
}

function lastStateLine(result: PipelineResult): string | undefined {
  return result.target.stdout.trim().split('\n').filter((l) => l !== '').pop();
}

/** A path as the user would type it, from the directory they ran the demo in. */
const shown = (arg: string) => (arg.startsWith('/') ? relative(process.cwd(), arg) : arg);

/**
 * The run as shell commands that are safe to copy, the README's pattern: the target writes to a
 * new file, which replaces the state only when both sides succeeded and it holds a state. Never
 * `--state X ... > X`: the shell empties X before the tap reads it.
 */
function showCommand(tapArgs: string[], targetArgs: string[]): void {
  const next = shown(STATE_NEXT);
  out('   $ set -o pipefail');
  out(`   $ tap-mixpanel ${tapArgs.map(shown).join(' ')} \\`);
  out(`       | target-mailchimp ${targetArgs.map(shown).join(' ')} > ${next} \\`);
  out(`       && test -s ${next} && mv ${next} ${shown(STATE)}`);
}

/** What the printed command does with the target's output: state.next.json, moved over state.json on success. */
function keepState(result: PipelineResult): string | undefined {
  writeFileSync(STATE_NEXT, result.target.stdout);
  const ok = result.tap.code === 0 && result.target.code === 0 && result.target.stdout.trim() !== '';
  if (ok) renameSync(STATE_NEXT, STATE);
  return ok ? lastStateLine(result) : undefined;
}

async function run(label: string, tapArgs: string[], targetArgs: string[], sandbox: Sandbox, listId: string): Promise<PipelineResult> {
  const before = await audience(sandbox, listId);
  const sentBefore = await delivered(sandbox);
  out(`== ${label}`);
  showCommand(tapArgs, targetArgs);
  const result = await runPipeline({ tapArgs, targetArgs, onLog: showLog });
  const after = await audience(sandbox, listId);
  const records = [...result.counts.records.entries()].map(([s, n]) => `${s} ${n}`).join(', ') || 'none';
  out(`   Singer messages through the pipe: records ${records}; ${result.counts.schemas} SCHEMA, ${result.counts.states} STATE`);
  out(`   Audience ${listId}: ${before.length} members before, ${after.length} after (${after.length - before.length >= 0 ? '+' : ''}${after.length - before.length})`);
  const statusBefore = byStatus(before);
  const statusAfter = byStatus(after);
  const statuses = [...new Set([...statusBefore.keys(), ...statusAfter.keys()])].sort();
  out(`   By status: ${statuses.map((s) => `${s} ${statusBefore.get(s) ?? 0} -> ${statusAfter.get(s) ?? 0}`).join(', ')}`);
  const state = keepState(result);
  showCohorts();
  showDelivered(sentBefore, await delivered(sandbox));
  out(`   Exit codes: tap ${result.tap.code}, target ${result.target.code}; state saved: ${state ? `${state.slice(0, 110)}${state.length > 110 ? '...' : ''}` : `(none: ${shown(STATE)} kept as it was)`}`);
  out();
  return result;
}

/**
 * The catalog of the job, as the README's Quick start makes it: only the streams the target uses
 * (people, and the cohort streams for cohort_tags), not years of raw events it would ignore.
 */
async function discoverCatalog(tapPath: string): Promise<string> {
  const catalogPath = join(DIR, 'catalog.json');
  const args = ['--config', tapPath, '--discover', '--select', DEMO_STREAMS];
  out('== Catalog: the streams the target uses');
  out(`   $ tap-mixpanel ${args.map(shown).join(' ')} > ${shown(catalogPath)}`);
  const result = await runProcess(join(BIN_DIR, 'tap-mixpanel.js'), args);
  if (result.code !== 0) throw new Error(`tap-mixpanel --discover exited ${String(result.code)}: ${result.stderr.slice(-2000)}`);
  writeFileSync(catalogPath, result.stdout);
  out();
  return catalogPath;
}

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const sandbox = await startSandbox({ port: 0, seed: 42, profiles: 300, eventsPerDay: 150, days: 7 });
  try {
    const { tap, target } = sandboxClientConfigs(sandbox);
    const tapPath = join(DIR, 'tap.json');
    const targetPath = join(DIR, 'target.json');
    writeFileSync(tapPath, JSON.stringify({ ...tap, ingestion_settle_minutes: 0 }, null, 2) + '\n');
    // Digest and alerts to the sandbox's sinks; STARTTLS, trusting the sandbox's certificate.
    const caPath = join(DIR, 'sandbox-smtp-ca.pem');
    writeFileSync(caPath, sandbox.notify.smtp.certificatePem);
    const notify = sandboxNotifyConfig(sandbox, { caFile: caPath });
    writeFileSync(targetPath, JSON.stringify({ ...target, ...notify, cohort_tags: [COHORT.name], report_file: REPORT }, null, 2) + '\n');
    out(`== Sandbox: emulated Mixpanel and Mailchimp at ${sandbox.url} (300 profiles, 7 days of events; configs in .demo/)`);
    out(`   The target loads people (engage) and keeps Mixpanel cohort "${COHORT.name}" as the tag "Mixpanel: ${COHORT.name}" (cohort_tags).`);
    out();
    const catalogPath = await discoverCatalog(tapPath);
    const listId = String(target.list_id);
    const tapArgs = ['--config', tapPath, '--catalog', catalogPath];
    const first = await run('Run 1: first sync', tapArgs, ['--config', targetPath], sandbox, listId);
    await changeCohort(sandbox, listId);
    const second = await run('Run 2: from the saved state', [...tapArgs, '--state', STATE], ['--config', targetPath], sandbox, listId);
    const tapOk = await mailchimpTapPart(sandbox, DIR, listId);
    const ok = [first, second].every((r) => r.tap.code === 0 && r.target.code === 0) && tapOk;
    out(ok ? 'Demo finished: both runs exited 0. Point the configs at real credentials to do the same with your own project.' : 'Demo FAILED: see the lines above.');
    process.exitCode = ok ? 0 : 1;
  } finally {
    await sandbox.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
