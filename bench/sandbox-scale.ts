/**
 * The sandbox's Mailchimp at audience scale, as its own process (bin/mixpanel-mailchimp-sandbox.js):
 * start time and memory with N generated members, 1000-member page reads at any offset, lookups
 * by subscriber hash, and batch processing at a set rate - its throughput, and how long API calls
 * (a poll and a lookup every 20 ms) wait while batches run - then memory after the writes.
 *   node dist-bench/run.js --only sandbox [--members N] [--operations N] [--batch-rate N]
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startSandboxProcess } from './sandbox-process.js';
import type { SandboxProcess } from './sandbox-process.js';
import { fixed, printTable, thousands } from './table.js';

export interface SandboxScaleOptions {
  root: string;
  /** Generated audience members. */
  members: number;
  /** PATCH operations sent through batches (10,000 per batch). */
  operations: number;
  /** Batch operations per second. */
  batchRate: number;
}

const PAGE_FIELDS = 'members.email_address,members.status,members.merge_fields,members.tags';
const OPS_PER_BATCH = 10_000;
const SEED = 42;

interface Generated {
  index: number;
  email_address: string;
}

function md5(text: string): string {
  return createHash('md5').update(text.toLowerCase()).digest('hex');
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

class Client {
  readonly auth: string;
  readonly list: string;

  constructor(readonly sandbox: SandboxProcess) {
    this.auth = `Basic ${Buffer.from(`bench:${String(sandbox.target.api_key)}`).toString('base64')}`;
    this.list = `${String(sandbox.target.api_base_url)}/lists/${String(sandbox.target.list_id)}`;
  }

  async api<T>(url: string, init: { method?: string; json?: unknown } = {}): Promise<T> {
    const response = await fetch(url, {
      method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
      headers: { authorization: this.auth, ...(init.json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${text.slice(0, 300)}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  async admin<T>(path: string, json?: unknown): Promise<T> {
    const response = await fetch(`${this.sandbox.url}${path}`, json === undefined ? {} : { method: 'POST', body: JSON.stringify(json) });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  async rssMb(): Promise<{ now: number; peak: number }> {
    const health = await this.admin<{ rss_bytes: number; max_rss_bytes: number }>('/__admin/health');
    return { now: health.rss_bytes / 1e6, peak: health.max_rss_bytes / 1e6 };
  }
}

/** The compiled sandbox's generatedEmail (the bench compiles apart from src/, so it loads dist/). */
async function loadGeneratedEmail(root: string): Promise<(index: number, seed: number) => string> {
  const data = (await import(pathToFileURL(join(root, 'dist', 'sandbox', 'data.js')).href)) as { generatedEmail: (index: number, seed: number) => string };
  return data.generatedEmail;
}

async function generated(root: string, count: number, seed: number): Promise<Generated[]> {
  const generatedEmail = await loadGeneratedEmail(root);
  return Array.from({ length: count }, (_, index) => ({ index, email_address: generatedEmail(index, seed) }));
}

export async function benchSandboxScale(options: SandboxScaleOptions): Promise<void> {
  const started = performance.now();
  const sandbox = await startSandboxProcess(join(options.root, 'bin', 'mixpanel-mailchimp-sandbox.js'), [
    '--seed', String(SEED), '--days', '1', '--events-per-day', '0', '--profiles', '10',
    '--audience-size', String(options.members), '--batch-rate', String(options.batchRate), '--batches-paused',
  ]);
  const startSeconds = (performance.now() - started) / 1000;
  const client = new Client(sandbox);
  const rows: string[][] = [];
  try {
    const rssStart = await client.rssMb();
    rows.push(['start with the generated audience', `${fixed(startSeconds, 2)} s`, `${fixed(rssStart.now, 0)} MB RSS (peak ${fixed(rssStart.peak, 0)})`]);

    const pages: number[] = [];
    for (let k = 0; k < 25; k++) {
      const offset = Math.floor((k / 25) * Math.max(0, options.members - 1000));
      pages.push((await timed(() => client.api(`${client.list}/members?count=1000&offset=${offset}&fields=${PAGE_FIELDS}`))).ms);
    }
    rows.push(['page of 1000 with fields, 25 offsets', `p50 ${fixed(quantile(pages, 0.5))} ms`, `max ${fixed(Math.max(...pages))} ms`]);

    const sample = await generated(options.root, Math.min(options.members, Math.max(options.operations, 1000)), SEED);
    const rssReads = await client.rssMb();
    rows.push(['after the page reads', '', `${fixed(rssReads.now, 0)} MB RSS (peak ${fixed(rssReads.peak, 0)})`]);
    const lookups: number[] = [];
    for (let k = 0; k < 500; k++) {
      const member = sample[Math.floor((k * 7919) % sample.length)] as Generated;
      lookups.push((await timed(() => client.api(`${client.list}/members/${md5(member.email_address)}?fields=status`))).ms);
    }
    rows.push(['lookup by subscriber hash, 500 sequential', `p50 ${fixed(quantile(lookups, 0.5), 2)} ms`, `max ${fixed(Math.max(...lookups), 1)} ms`]);

    // Batches: submitted while paused, then run at the set rate while a poller measures how long API calls wait.
    const ids: string[] = [];
    for (let from = 0; from < options.operations; from += OPS_PER_BATCH) {
      const operations = sample.slice(from, Math.min(options.operations, from + OPS_PER_BATCH)).map((m) => ({
        method: 'PATCH',
        path: `/lists/${String(sandbox.target.list_id)}/members/${md5(m.email_address)}`,
        params: { fields: 'id,status' },
        body: JSON.stringify({ merge_fields: { LNAME: `Bench${m.index}` } }),
        operation_id: String(m.index),
      }));
      ids.push((await client.api<{ id: string }>(`${String(sandbox.target.api_base_url)}/batches`, { json: { operations } })).id);
    }
    const last = ids[ids.length - 1] as string;
    const rssSubmitted = await client.rssMb();
    rows.push([`${ids.length} batches submitted, not yet run`, '', `${fixed(rssSubmitted.now, 0)} MB RSS (peak ${fixed(rssSubmitted.peak, 0)})`]);
    await client.admin('/__admin/mailchimp/batches', { paused: false });
    const runStarted = performance.now();
    const waits: number[] = [];
    for (;;) {
      const poll = await timed(() => client.api<{ status: string }>(`${String(sandbox.target.api_base_url)}/batches/${last}?fields=status`));
      waits.push(poll.ms);
      const member = sample[waits.length % sample.length] as Generated;
      waits.push((await timed(() => client.api(`${client.list}/members/${md5(member.email_address)}?fields=status`))).ms);
      if (poll.value.status === 'finished') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const runSeconds = (performance.now() - runStarted) / 1000;
    rows.push([
      `${thousands(options.operations)} PATCH operations in ${ids.length} batches at ${thousands(options.batchRate)}/s`,
      `${thousands(options.operations / runSeconds)} ops/s`,
      `API waits p99 ${fixed(quantile(waits, 0.99))} ms, max ${fixed(Math.max(...waits))} ms`,
    ]);
    const done = await client.api<{ response_body_url: string }>(`${String(sandbox.target.api_base_url)}/batches/${last}`);
    const download = await timed(async () => Buffer.from(await (await fetch(done.response_body_url)).arrayBuffer()).length);
    rows.push(['results archive of one batch (10,000 results)', `${fixed(download.value / 1024, 0)} KiB gzip`, `${fixed(download.ms)} ms`]);
    const rssEnd = await client.rssMb();
    rows.push(['after the writes', '', `${fixed(rssEnd.now, 0)} MB RSS (peak ${fixed(rssEnd.peak, 0)})`]);
  } finally {
    await sandbox.stop();
  }
  printTable(`Sandbox Mailchimp at scale: ${thousands(options.members)} generated members`, ['measure', 'value', 'detail'], rows);
}
