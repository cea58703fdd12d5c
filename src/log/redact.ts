/**
 * Secret redaction for every line that leaves the process on stderr.
 *
 * Secrets reach the redactor in two ways: values registered at run time (config values whose
 * schema marks them `secret`, credentials derived from them such as a Basic auth token), and
 * patterns that look like credentials wherever they appear (Authorization headers, passwords
 * inside URLs, well-known query parameters).
 */

const MASK = '[REDACTED]';
const MIN_SECRET_LENGTH = 4;

const registered = new Set<string>();
let registeredPattern: RegExp | null = null;

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // Authorization: Basic xxx / Bearer xxx (header dumps, error objects)
  [/\b(authorization["']?\s*[:=]\s*["']?)(basic|bearer)\s+[A-Za-z0-9._~+/=-]+/gi, `$1$2 ${MASK}`],
  [/\b(basic|bearer)\s+[A-Za-z0-9+/._~-]{16,}={0,2}/gi, `$1 ${MASK}`],
  // scheme://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]+@/gi, `$1${MASK}@`],
  // ?api_key=...&secret=... and the signatures of pre-signed URLs (batch results archives)
  [/([?&](?:api[_-]?key|apikey|api[_-]?secret|secret|token|access[_-]?token|password|signature|x-amz-signature|x-amz-credential|x-amz-security-token|awsaccesskeyid)=)[^&\s#"']+/gi, `$1${MASK}`],
  // "api_key": "..." in JSON dumps
  [/("(?:api[_-]?key|api[_-]?secret|service_account_secret|access_token|password|secret|token)"\s*:\s*")[^"]*"/gi, `$1${MASK}"`],
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Remember a secret value so that it never appears in a log line or an error message. */
export function registerSecret(value: unknown): void {
  if (typeof value !== 'string') return;
  const secret = value.trim();
  if (secret.length < MIN_SECRET_LENGTH || registered.has(secret)) return;
  registered.add(secret);
  // URL-encoded and base64 forms travel in query strings and Basic auth headers.
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) registered.add(encoded);
  // Longest first, so a secret that contains another is masked whole.
  const alternatives = [...registered].sort((a, b) => b.length - a.length).map(escapeRegExp);
  registeredPattern = new RegExp(alternatives.join('|'), 'g');
}

/** Forget every registered secret (tests only). */
export function clearSecrets(): void {
  registered.clear();
  registeredPattern = null;
}

/** Returns the text with every registered secret and credential-shaped substring masked. */
export function redact(text: string): string {
  let out = text;
  if (registeredPattern) out = out.replace(registeredPattern, MASK);
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Redacts a URL for messages: credentials in userinfo and secret-looking query values are masked. */
export function redactUrl(url: string | URL): string {
  return redact(typeof url === 'string' ? url : url.toString());
}
