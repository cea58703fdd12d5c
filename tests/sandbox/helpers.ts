/**
 * Helpers for the sandbox tests: auth headers, JSON requests, raw bytes (fetch would decode gzip).
 */
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { Sandbox } from '../../src/sandbox/server.js';

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export function secretAuth(sb: Sandbox): Record<string, string> {
  return { authorization: basic(sb.credentials.mixpanel.apiSecret, '') };
}

export function serviceAccountAuth(sb: Sandbox): Record<string, string> {
  const { serviceAccountUsername, serviceAccountSecret } = sb.credentials.mixpanel;
  return { authorization: basic(serviceAccountUsername, serviceAccountSecret) };
}

export function mailchimpAuth(sb: Sandbox): Record<string, string> {
  return { authorization: basic('anystring', sb.credentials.mailchimp.apiKey) };
}

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function call<T = unknown>(
  url: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown; form?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  if (text !== '' && /json/.test(res.headers.get('content-type') ?? '')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** Lines of a JSON Lines body, parsed. */
export function parseLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
}

/** GET without any decoding, to see exactly what went over the wire. */
export function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface MixpanelEventLine {
  event: string;
  properties: Record<string, unknown> & { time: number; distinct_id: string; mp_processing_time_ms: number; $insert_id?: string };
}

export interface ExportParams {
  from_date: string;
  to_date: string;
  [key: string]: string;
}

export function exportUrl(sb: Sandbox, params: ExportParams): string {
  return `${sb.url}/api/2.0/export?${new URLSearchParams(params).toString()}`;
}

export async function exportEvents(sb: Sandbox, params: ExportParams): Promise<MixpanelEventLine[]> {
  const res = await fetch(exportUrl(sb, params), { headers: secretAuth(sb) });
  if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`);
  return parseLines<MixpanelEventLine>(await res.text());
}

export async function groundTruth(sb: Sandbox, params: Record<string, string> = {}): Promise<MixpanelEventLine[]> {
  const res = await fetch(`${sb.url}/__admin/mixpanel/events?${new URLSearchParams(params).toString()}`);
  return parseLines<MixpanelEventLine>(await res.text());
}

export async function setClock(sb: Sandbox, body: { now?: string; advance_ms?: number }): Promise<void> {
  const res = await call(`${sb.url}/__admin/clock`, { json: body });
  if (res.status !== 200) throw new Error(`clock: ${JSON.stringify(res.body)}`);
}

export interface TarEntry {
  name: string;
  type: string;
  content: Buffer;
}

/** Entries of a (gzipped) ustar archive, read independently of the sandbox's writer. */
export function readTar(archive: Buffer, gzipped = true): TarEntry[] {
  const tar = gzipped ? gunzipSync(archive) : archive;
  const entries: TarEntry[] = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const text = (from: number, length: number) => header.subarray(from, from + length).toString('utf8').replace(/\0.*$/s, '');
    let checksum = 0;
    for (let i = 0; i < 512; i++) checksum += i >= 148 && i < 156 ? 32 : (header[i] as number);
    if (parseInt(text(148, 8).trim(), 8) !== checksum) throw new Error(`bad tar checksum at byte ${at}`);
    if (text(257, 6) !== 'ustar') throw new Error(`not a ustar header at byte ${at}`);
    const size = parseInt(text(124, 12).trim(), 8);
    entries.push({ name: text(0, 100), type: text(156, 1), content: tar.subarray(at + 512, at + 512 + size) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

/** Polls `read` until `done` holds or the deadline passes (then throws with the last value). */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A request whose connection may be destroyed unanswered: resolves with the outcome either way. */
export function rawRequest(url: string, init: { method?: string; headers?: Record<string, string>; json?: unknown }): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const payload = init.json === undefined ? undefined : JSON.stringify(init.json);
    const headers: Record<string, string> = { ...(init.headers ?? {}), ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}) };
    const req = request(url, { method: init.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    });
    req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end(payload);
  });
}
