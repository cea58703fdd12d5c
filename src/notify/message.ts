/**
 * A notification as every channel renders it (email subject, plain text and HTML; one SMS;
 * the webhook's JSON), and the pieces the compositions share: tables in plain text and HTML,
 * HTML escaping, and the SMS length rule. Every text passes through the redactor before it
 * leaves the process (`redactNotification`).
 */
import { redact } from '../log/redact.js';

export type NotificationKind = 'digest' | 'alert' | 'warning';

export interface Notification {
  kind: NotificationKind;
  subject: string;
  text: string;
  html: string;
  /** One SMS, at most SMS_MAX_LENGTH characters. */
  sms: string;
  /** The webhook's JSON body; `text` is what Slack and Teams show. */
  webhook: Record<string, unknown> & { text: string };
}

/** Twilio's limit for one message body. */
export const SMS_MAX_LENGTH = 1600;
/** Longest cell in the plain-text table: wider values are cut with an ellipsis. */
export const TEXT_CELL_MAX = 40;

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Cuts text to `max` characters (code points, so no half emoji), ending with an ellipsis when cut. */
export function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, Math.max(0, max - 1)).join('') + '…';
}

/** One line: newlines and runs of spaces folded, as in an email subject or an SMS. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A cell value as text: objects (an address merge field) as their values joined, null as empty. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') {
    return Object.values(value as Record<string, unknown>)
      .map(cellText)
      .filter((v) => v !== '')
      .join(', ');
  }
  return oneLine(String(value));
}

const width = (text: string) => [...text].length;

/** A plain-text table: a header row, a rule, one row per entry; columns padded to their widest cell. */
export function textTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const cells = [header, ...rows].map((row) => header.map((_, i) => cut(row[i] ?? '', TEXT_CELL_MAX)));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => width(row[i] ?? ''))));
  const render = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell))))
      .join('  ')
      .trimEnd();
  const [head, ...body] = cells;
  return [render(head ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(render)].join('\n');
}

/** An HTML table; every cell is escaped. */
export function htmlTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const th = header.map((h) => `<th style="text-align:left;padding:4px 8px;border-bottom:1px solid #ccc">${escapeHtml(h)}</th>`).join('');
  const trs = rows.map((row) => `<tr>${header.map((_, i) => `<td style="padding:4px 8px">${escapeHtml(row[i] ?? '')}</td>`).join('')}</tr>`);
  return `<table style="border-collapse:collapse;font-family:sans-serif;font-size:14px"><thead><tr>${th}</tr></thead><tbody>${trs.join('')}</tbody></table>`;
}

/** An HTML document around a body (the parts are HTML already). */
export function htmlDocument(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif">${body}</body></html>`;
}

function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)]));
  return value;
}

/** The notification with every registered secret and credential-shaped text masked, the SMS within its limit. */
export function redactNotification(message: Notification): Notification {
  return {
    kind: message.kind,
    subject: oneLine(redact(message.subject)),
    text: redact(message.text),
    html: redact(message.html),
    sms: cut(oneLine(redact(message.sms)), SMS_MAX_LENGTH),
    webhook: redactDeep(message.webhook) as Notification['webhook'],
  };
}
