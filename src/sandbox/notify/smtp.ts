/**
 * The sandbox's SMTP sink (smtp-server, from nodemailer's authors): one port with plain SMTP
 * and STARTTLS, one with implicit TLS, both on 127.0.0.1 with OS-chosen ports and a
 * certificate made at start (cert.ts). AUTH PLAIN and LOGIN with the configured credentials
 * (allowed without TLS too, for local tests of smtp_security none). Every message is parsed
 * (mime.ts) and kept in the NotifySinks; faults refuse logins, reject DATA or hang.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { delay } from '../http.js';
import { selfSignedCertificate } from './cert.js';
import { parseEmail } from './mime.js';
import type { NotifySinks } from './store.js';

export interface SmtpSink {
  host: '127.0.0.1';
  /** Plain SMTP; STARTTLS is offered. */
  port: number;
  /** TLS from the first byte (like port 465). */
  tlsPort: number;
  username: string;
  password: string;
  /** The certificate both ports present (PEM): what smtp_tls_ca_file should hold. */
  certificatePem: string;
  close(): Promise<void>;
}

const MESSAGE_LIMIT_BYTES = 10 * 1024 * 1024;
/** "Until the client leaves": hangs end when the sandbox closes. */
const FOREVER_MS = 3_600_000;

type SmtpError = Error & { responseCode?: number };

function smtpError(code: number, message: string): SmtpError {
  const err: SmtpError = new Error(message);
  err.responseCode = code;
  return err;
}

function listen(server: SMTPServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
}

export async function startSmtpSink(sinks: NotifySinks, closing: AbortSignal): Promise<SmtpSink> {
  const { username, password } = sinks.config.smtp;
  const { key, cert } = selfSignedCertificate();
  const options = (secure: boolean): SMTPServerOptions => ({
    secure,
    key,
    cert,
    name: 'sandbox.smtp.local',
    banner: 'mixpanel-mailchimp-sandbox SMTP sink',
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    allowInsecureAuth: true,
    disableReverseLookup: true,
    size: MESSAGE_LIMIT_BYTES,
    closeTimeout: 100,
    logger: false,
    onConnect(_session, callback) {
      const hang = sinks.takeFault('smtp', (r) => r.kind === 'hang' && (r.stage ?? 'greeting') === 'greeting');
      if (!hang) return callback();
      void delay(hang.ms ?? FOREVER_MS, closing).then(() => callback());
    },
    onAuth(auth, _session, callback) {
      const refused = sinks.takeFault('smtp', (r) => r.kind === 'refuse_login');
      if (refused || auth.username !== username || auth.password !== password) {
        sinks.refusedLogins++;
        return callback(smtpError(535, refused?.message ?? '5.7.8 Authentication credentials invalid'));
      }
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const finish = () => {
          const reject = sinks.takeFault('smtp', (r) => r.kind === 'reject_data');
          if (reject) return callback(smtpError(reject.status ?? 554, reject.message ?? '5.6.0 Message rejected by the sandbox (fault)'));
          const raw = Buffer.concat(chunks);
          const parsed = parseEmail(raw);
          const envelopeFrom = session.envelope.mailFrom;
          sinks.emails.push({
            id: sinks.nextId(),
            received_at: new Date().toISOString(),
            envelope: { from: envelopeFrom ? envelopeFrom.address : null, to: session.envelope.rcptTo.map((r) => r.address) },
            auth_user: typeof session.user === 'string' ? session.user : null,
            tls: session.secure,
            headers: parsed.headers,
            subject: parsed.subject,
            from: parsed.headers.from ?? null,
            to: parsed.headers.to ?? null,
            text: parsed.text ?? null,
            html: parsed.html ?? null,
            attachments: parsed.attachments,
            size: raw.length,
          });
          callback(null, `2.0.0 Ok: queued as ${sinks.emails.length}`);
        };
        const hang = sinks.takeFault('smtp', (r) => r.kind === 'hang' && r.stage === 'data');
        if (hang) void delay(hang.ms ?? FOREVER_MS, closing).then(finish);
        else finish();
      });
    },
  });
  const plain = new SMTPServer(options(false));
  const tls = new SMTPServer(options(true));
  // A client that leaves mid-session is not the sandbox's error.
  for (const server of [plain, tls]) server.on('error', () => undefined);
  const [port, tlsPort] = await Promise.all([listen(plain), listen(tls)]);
  let closed: Promise<void> | null = null;
  return {
    host: '127.0.0.1',
    port,
    tlsPort,
    username,
    password,
    certificatePem: cert,
    close: () => {
      closed ??= Promise.all([plain, tls].map((server) => new Promise<void>((resolve) => server.close(() => resolve())))).then(() => undefined);
      return closed;
    },
  };
}
