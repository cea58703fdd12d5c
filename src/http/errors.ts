import { AppError, type ErrorKind } from '../errors/index.js';
import { redact } from '../log/redact.js';

export interface HttpErrorInfo {
  method: string;
  /** Already redacted. */
  url: string;
  status?: number;
  /** The service's own explanation, from the response body. */
  serviceMessage?: string;
  /** Network error code (ECONNRESET, UND_ERR_HEADERS_TIMEOUT, ...). */
  code?: string;
  /** Milliseconds the service asked us to wait (Retry-After). */
  retryAfterMs?: number;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function describe(info: HttpErrorInfo): string {
  const what =
    info.status !== undefined
      ? `${info.status} ${STATUS_TEXT[info.status] ?? ''}`.trim()
      : `${info.code ? `network error ${info.code}` : 'network error'}`;
  const said = info.serviceMessage ? `: ${info.serviceMessage}` : '';
  return `${info.method} ${info.url} failed: ${what}${said}`;
}

/** A request that failed: names method and URL (without secrets) and keeps the cause. */
export class HttpError extends AppError {
  readonly method: string;
  readonly url: string;
  readonly status: number | undefined;
  readonly serviceMessage: string | undefined;
  readonly code: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(info: HttpErrorInfo, options: { cause?: unknown; kind?: ErrorKind; message?: string } = {}) {
    super(options.kind ?? 'remote', options.message ?? describe(info), { cause: options.cause });
    this.method = info.method;
    this.url = info.url;
    this.status = info.status;
    this.serviceMessage = info.serviceMessage;
    this.code = info.code;
    this.retryAfterMs = info.retryAfterMs;
  }
}

/**
 * Pulls the human explanation out of an error body (JSON {error|detail|title|message}, or text),
 * redacted: services echo requests back, secrets included.
 */
export function serviceMessageFrom(body: string): string | undefined {
  const text = redact(body).trim();
  if (text === '') return undefined;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (parsed && typeof parsed === 'object') {
      const parts = [parsed.title, parsed.detail, parsed.error, parsed.message].filter(
        (v): v is string => typeof v === 'string' && v !== '',
      );
      if (parts.length > 0) return [...new Set(parts)].join(': ').slice(0, 500);
    }
  } catch {
    // not JSON: fall through to text
  }
  return text.replace(/\s+/g, ' ').slice(0, 500);
}
