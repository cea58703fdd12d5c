/**
 * Email through SMTP with nodemailer (STARTTLS, implicit TLS, or plain for a relay on this
 * machine; AUTH PLAIN/LOGIN when a username is set). One message to all recipients of the
 * channel. Every wait is bounded by the notification's deadline.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, RemoteError, errorMessage } from '../../errors/index.js';
import type { Notification } from '../message.js';
import type { SmtpSettings } from '../settings.js';

/** Longest wait for the TCP connection and for the server's greeting, within the deadline. */
const CONNECT_MS = 10_000;

function tlsOptions(smtp: SmtpSettings): { ca: Buffer } | undefined {
  if (!smtp.caFile) return undefined;
  try {
    return { ca: readFileSync(smtp.caFile) };
  } catch (err) {
    throw new ConfigError(`smtp_tls_ca_file ${smtp.caFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`);
  }
}

/** What went wrong, in a sentence (nodemailer's codes: EAUTH, ECONNECTION, ETIMEDOUT, EENVELOPE, EMESSAGE, ETLS). */
function describe(err: unknown, smtp: SmtpSettings): string {
  const code = (err as { code?: unknown } | null)?.code;
  const response = (err as { response?: unknown } | null)?.response;
  const said = typeof response === 'string' ? response : errorMessage(err);
  const where = `${smtp.host}:${smtp.port}`;
  switch (code) {
    case 'EAUTH':
      return `the SMTP server ${where} refused the login of smtp_username (${said}): check smtp_username and smtp_password`;
    case 'ETLS':
      return `TLS with ${where} failed (${said}): check smtp_security (starttls for 587, tls for 465) and smtp_tls_ca_file`;
    case 'ECONNECTION':
    case 'ESOCKET':
    case 'ETIMEDOUT':
    case 'EDNS':
      return `cannot talk to the SMTP server ${where} (${said}): check smtp_host, smtp_port and smtp_security`;
    default:
      return `the SMTP server ${where} refused the message (${said})`;
  }
}

export async function sendEmail(smtp: SmtpSettings, from: string, to: readonly string[], message: Notification, deadlineMs: number): Promise<void> {
  const remaining = () => Math.max(1, deadlineMs - Date.now());
  const tls = tlsOptions(smtp);
  // Loaded when an email is sent: a run that sends none does not carry it (about 10 MB).
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.security === 'tls',
    requireTLS: smtp.security === 'starttls',
    ignoreTLS: smtp.security === 'none',
    ...(smtp.username ? { auth: { user: smtp.username, pass: smtp.password ?? '' } } : {}),
    ...(tls ? { tls } : {}),
    connectionTimeout: Math.min(CONNECT_MS, remaining()),
    greetingTimeout: Math.min(CONNECT_MS, remaining()),
    socketTimeout: remaining(),
    dnsTimeout: Math.min(CONNECT_MS, remaining()),
    // nodemailer's own logger would print the SMTP transcript, AUTH lines included.
    logger: false,
    debug: false,
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RemoteError(`the SMTP server ${smtp.host}:${smtp.port} did not finish within notify_timeout_seconds`)), remaining());
  });
  try {
    await Promise.race([transport.sendMail({ from, to: [...to], subject: message.subject, text: message.text, html: message.html }), deadline]);
  } catch (err) {
    if (err instanceof RemoteError || err instanceof ConfigError) throw err;
    throw new RemoteError(describe(err, smtp), { cause: err });
  } finally {
    clearTimeout(timer);
    transport.close();
  }
}
