/**
 * Just enough MIME to read what an SMTP client sends (RFC 5322 headers with folding and
 * RFC 2047 encoded words; multipart bodies, nested; base64, quoted-printable, 7bit and 8bit
 * parts; charsets TextDecoder knows), so the admin API can show each received email's subject,
 * plain text and HTML. Attachments are listed by type only.
 */
import { TextDecoder } from 'node:util';

export interface ParsedEmail {
  /** Header names lower-cased; repeated headers joined with ", "; encoded words decoded. */
  headers: Record<string, string>;
  subject: string;
  text?: string;
  html?: string;
  /** Content types of the other leaf parts (attachments). */
  attachments: string[];
}

interface Part {
  headers: Record<string, string>;
  body: Buffer;
}

function splitHead(raw: Buffer): { head: string; body: Buffer } {
  const text = raw.toString('latin1');
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) return { head: text, body: Buffer.alloc(0) };
  return { head: text.slice(0, match.index), body: raw.subarray(match.index + match[0].length) };
}

function decoderFor(charset: string | undefined): TextDecoder {
  try {
    return new TextDecoder(charset ?? 'utf-8');
  } catch {
    return new TextDecoder('utf-8');
  }
}

/** =?charset?B|Q?text?= words, with the whitespace between two adjacent words dropped. */
export function decodeWords(value: string): string {
  return value.replace(/(=\?[^?]+\?[bBqQ]\?[^?]*\?=)\s+(?==\?)/g, '$1').replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_m, charset: string, encoding: string, text: string) => {
    const bytes =
      encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
    return decoderFor(charset.split('*')[0]).decode(bytes);
  });
}

function parseHeaders(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  // Unfold: a line starting with white space continues the previous one.
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    // Header bytes may be UTF-8 (SMTPUTF8); they were read as latin1 to keep the body's bytes intact.
    const value = decodeWords(Buffer.from(line.slice(colon + 1).trim(), 'latin1').toString('utf8'));
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  return headers;
}

/** The main value and the parameters of a header such as Content-Type. */
function headerParams(value: string | undefined): { value: string; params: Record<string, string> } {
  const [main = '', ...rest] = (value ?? '').split(';');
  const params: Record<string, string> = {};
  for (const piece of rest) {
    const eq = piece.indexOf('=');
    if (eq < 0) continue;
    params[piece.slice(0, eq).trim().toLowerCase()] = piece.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { value: main.trim().toLowerCase(), params };
}

export function decodeQuotedPrintable(text: string): Buffer {
  const bytes: number[] = [];
  const source = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    const hex = source.slice(i + 1, i + 3);
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(source.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function decodeBody(part: Part): string {
  const encoding = (part.headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const { params } = headerParams(part.headers['content-type']);
  const bytes =
    encoding === 'base64'
      ? Buffer.from(part.body.toString('latin1').replace(/\s+/g, ''), 'base64')
      : encoding === 'quoted-printable'
        ? decodeQuotedPrintable(part.body.toString('latin1'))
        : part.body;
  // SMTP carries lines as CRLF; the text is shown with the platform's \n.
  return decoderFor(params.charset).decode(bytes).replace(/\r\n/g, '\n');
}

function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const parts: Buffer[] = [];
  let at = text.indexOf(delimiter);
  while (at >= 0) {
    const start = text.indexOf('\n', at) + 1;
    if (start <= 0 || text.startsWith(`${delimiter}--`, at)) break;
    const next = text.indexOf(`\n${delimiter}`, start);
    const end = next < 0 ? text.length : next;
    parts.push(Buffer.from(text.slice(start, end).replace(/\r$/, ''), 'latin1'));
    at = next < 0 ? -1 : next + 1;
  }
  return parts;
}

function collect(part: Part, into: { text?: string; html?: string; attachments: string[] }): void {
  const type = headerParams(part.headers['content-type'] ?? 'text/plain');
  if (type.value.startsWith('multipart/') && type.params.boundary) {
    for (const raw of splitMultipart(part.body, type.params.boundary)) {
      const { head, body } = splitHead(raw);
      collect({ headers: parseHeaders(head), body }, into);
    }
    return;
  }
  const attachment = (part.headers['content-disposition'] ?? '').toLowerCase().startsWith('attachment');
  if (!attachment && type.value === 'text/plain' && into.text === undefined) into.text = decodeBody(part);
  else if (!attachment && type.value === 'text/html' && into.html === undefined) into.html = decodeBody(part);
  else into.attachments.push(type.value);
}

export function parseEmail(raw: Buffer): ParsedEmail {
  const { head, body } = splitHead(raw);
  const headers = parseHeaders(head);
  const found: { text?: string; html?: string; attachments: string[] } = { attachments: [] };
  collect({ headers, body }, found);
  return {
    headers,
    subject: headers.subject ?? '',
    ...(found.text !== undefined ? { text: found.text } : {}),
    ...(found.html !== undefined ? { html: found.html } : {}),
    attachments: found.attachments,
  };
}
