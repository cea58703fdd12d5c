/**
 * Received mail (issue 18): the sandbox's MIME reader (src/sandbox/notify/mime.ts) against
 * mailparser's simpleParser, on the messages nodemailer writes (the composer our email channel
 * sends with) in the shapes an alert or digest takes and a few it could: what each reader makes of
 * the subject, plain text, HTML and attachments, and how long each takes per message.
 * mailparser is not a dependency: it is loaded from a directory given with --mailparser
 * (`npm i mailparser` there).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixed, printTable } from './table.js';

interface Reading {
  subject: string;
  text?: string;
  html?: string;
  attachments: string[];
}

interface MailOptions {
  subject: string;
  text?: string;
  html?: string;
  textEncoding?: 'quoted-printable' | 'base64';
  attachments?: Array<{ filename: string; content: string | Buffer; contentType: string }>;
}

interface Composer {
  compile(): { build(callback: (err: Error | null, message: Buffer) => void): void };
}

interface ParsedMail {
  subject?: string;
  text?: string;
  html?: string | false;
  attachments: Array<{ contentType: string }>;
}

const long = 'Every run that failed is listed with what to do next. '.repeat(40);

/** The shapes: what an alert and a digest look like, and what a mail server or a user may do to them. */
const SHAPES: Array<[string, MailOptions]> = [
  ['alert: text and HTML', { subject: 'target-mailchimp failed: exit 4', text: `Mailchimp answered 503.\n${long}`, html: `<p>Mailchimp answered 503.</p><p>${long}</p>` }],
  ['digest: UTF-8 subject and body', { subject: 'Nouveaux abonnés: 12 ✓ — résumé', text: 'Zoë, Łukasz, 山田 and 9 more joined.\n', html: '<p>Zoë, Łukasz, 山田 and 9 more joined.</p>' }],
  ['long subject folded in encoded words', { subject: `Résumé: ${'beaucoup de nouveaux abonnés '.repeat(6)}`, text: 'ok' }],
  ['quoted-printable text', { subject: 'qp', text: `café = 100%\n${long}`, textEncoding: 'quoted-printable' }],
  ['base64 text', { subject: 'b64', text: `naïve ${long}`, textEncoding: 'base64' }],
  ['text with a CSV attachment', { subject: 'rejects', text: 'see the file', attachments: [{ filename: 'rejects.csv', content: 'email,reason\nx@example.org,invalid\n', contentType: 'text/csv' }] }],
  ['HTML only', { subject: 'html only', html: '<h1>Run finished</h1><p>500 people</p>' }],
];

function loadComposer(): new (options: MailOptions) => Composer {
  const require = createRequire(import.meta.url);
  return require('nodemailer/lib/mail-composer') as new (options: MailOptions) => Composer;
}

function compose(Composer: new (options: MailOptions) => Composer, options: MailOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    new Composer({ ...options }).compile().build((err, message) => (err ? reject(err) : resolve(message)));
  });
}

type Reader = (raw: Buffer) => Promise<Reading>;

async function loadReaders(root: string, mailparserDir: string | null): Promise<Array<[string, Reader]>> {
  const ours = (await import(pathToFileURL(join(root, 'dist/sandbox/notify/mime.js')).href)) as { parseEmail(raw: Buffer): Reading };
  const readers: Array<[string, Reader]> = [['ours', (raw) => Promise.resolve(ours.parseEmail(raw))]];
  if (mailparserDir !== null) {
    const { simpleParser } = createRequire(join(mailparserDir, 'package.json'))('mailparser') as { simpleParser(raw: Buffer): Promise<ParsedMail> };
    readers.push([
      'mailparser',
      async (raw) => {
        const mail = await simpleParser(raw);
        return { subject: mail.subject ?? '', text: mail.text, html: mail.html === false ? undefined : mail.html, attachments: mail.attachments.map((a) => a.contentType) };
      },
    ]);
  }
  return readers;
}

/** Whether a reader gave back what was sent (text compared without trailing line ends). */
function verdict(sent: MailOptions, read: Reading): string {
  const wrong: string[] = [];
  if (read.subject !== sent.subject) wrong.push('subject');
  if (sent.text !== undefined && read.text?.replace(/\s+$/, '') !== sent.text.replace(/\s+$/, '')) wrong.push('text');
  if (sent.html !== undefined && read.html?.trim() !== sent.html.trim()) wrong.push('html');
  const types = (sent.attachments ?? []).map((a) => a.contentType);
  if (read.attachments.length !== types.length || types.some((t, i) => !read.attachments[i]?.startsWith(t))) wrong.push('attachments');
  return wrong.length === 0 ? 'same' : `differs: ${wrong.join(', ')}`;
}

export async function benchMime(options: { root: string; mailparserDir: string | null; repeat: number }): Promise<void> {
  const Composer = loadComposer();
  const readers = await loadReaders(options.root, options.mailparserDir);
  const messages = await Promise.all(SHAPES.map(([, mail]) => compose(Composer, mail)));
  const rows: string[][] = [];
  for (const [i, [name, mail]] of SHAPES.entries()) {
    const cells = [name];
    for (const [, read] of readers) cells.push(verdict(mail, await read(messages[i] as Buffer)));
    rows.push(cells);
  }
  printTable('Received mail: what each reader gives back of what nodemailer sent', ['message', ...readers.map(([r]) => r)], rows);
  const timing: string[][] = [];
  const rounds = 200 * options.repeat;
  for (const [name, read] of readers) {
    const started = performance.now();
    for (let round = 0; round < rounds; round++) for (const raw of messages) await read(raw);
    timing.push([name, fixed(((performance.now() - started) * 1000) / (rounds * messages.length), 0)]);
  }
  printTable(`Received mail: microseconds per message (${rounds * messages.length} messages)`, ['reader', 'µs/message'], timing);
}
