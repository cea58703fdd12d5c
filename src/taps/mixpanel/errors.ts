/**
 * Mixpanel's answers that mean something to the user, as typed errors: a plan limitation (402),
 * a 404 from an undocumented legacy endpoint, and the timezone mistake behind "to_date cannot
 * be later than today" (400).
 */
import { AppError, ConfigError } from '../../errors/index.js';
import type { HttpError } from '../../http/errors.js';
import type { Logger } from '../../log/logger.js';

/**
 * A stream this project cannot be read from, for a reason the user may accept: the stream is
 * skipped with a warning (and a note in the run summary), and the rest of the run goes on.
 */
export abstract class StreamUnavailableError extends AppError {
  readonly host: string;
  /** Short reason for the summary table, e.g. "402 plan". */
  abstract readonly summary: string;
  /** What the user can do, for the warning. */
  abstract readonly advice: string;

  constructor(message: string, host: string, options: { cause?: unknown } = {}) {
    super('remote', message, options);
    this.host = host;
  }
}

/** 402 Payment Required: the project's plan does not include this API (free plans have no Query API). */
export class PlanLimitError extends StreamUnavailableError {
  readonly summary = 'skipped: 402, not in the plan';
  readonly advice = 'upgrade the plan or deselect the stream to silence this warning';
}

/**
 * Undocumented endpoints that some streams and discovery rely on: they are absent from
 * Mixpanel's current specification, so a 404 from one means it was retired for this project.
 */
export const LEGACY_ENDPOINTS: readonly string[] = ['/api/2.0/engage/revenue', '/api/2.0/engage/properties'];

/** 404 from an undocumented legacy endpoint: skipped like a 402, instead of failing the run. */
export class LegacyEndpointGoneError extends StreamUnavailableError {
  readonly summary = 'skipped: 404, endpoint retired';
  readonly advice = 'deselect the stream to silence this warning';
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname.replace(/\/+$/, '');
  } catch {
    return url;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Mixpanel's reading of a request that failed for good; undefined keeps the HttpError as it is. */
export function translateMixpanelError(err: HttpError, settings: { timeSemantics: string; projectTimezone: string }): Error | undefined {
  if (err.status === 402) {
    return new PlanLimitError(
      `Mixpanel answered 402 Payment Required for ${err.method} ${err.url}: the project's plan does not include this API ` +
        `(free plans have no Query API)${err.serviceMessage ? ` (Mixpanel said: ${err.serviceMessage})` : ''}`,
      hostOf(err.url),
      { cause: err },
    );
  }
  if (err.status === 404 && LEGACY_ENDPOINTS.includes(pathOf(err.url))) {
    return new LegacyEndpointGoneError(
      `Mixpanel answered 404 Not Found for ${err.method} ${err.url}: this undocumented legacy endpoint is not in Mixpanel's ` +
        `current API and is not available for this project${err.serviceMessage ? ` (Mixpanel said: ${err.serviceMessage})` : ''}`,
      hostOf(err.url),
      { cause: err },
    );
  }
  if (err.status === 400 && /to_date cannot be later than today/i.test(err.serviceMessage ?? '')) {
    const zone = settings.timeSemantics === 'project_timezone' ? `the project time zone ${settings.projectTimezone}` : 'UTC';
    return new ConfigError(
      `Mixpanel refused a to_date of today (${err.method} ${err.url}: "to_date cannot be later than today"): the tap computes ` +
        `"today" in ${zone} (time_semantics=${settings.timeSemantics}), but Mixpanel's today for this project is earlier. ` +
        'Projects created before 2023 read dates in the project time zone: set time_semantics to "project_timezone" and ' +
        'project_timezone to the zone in Project Settings (e.g. US/Pacific); also check end_date.',
      { cause: err },
    );
  }
  return undefined;
}

/**
 * A stream's outputs, ending quietly instead of failing the run when the stream cannot be read
 * here (a 402 plan limit, a retired legacy endpoint: a warning names it, `onSkip` gets the short
 * reason for the summary, and the other streams go on) or when the run is being stopped (a stop
 * request ends waits and requests with an error; the engine then writes the final STATE).
 */
export async function* guardStream<T>(
  stream: string,
  signal: AbortSignal,
  log: Logger,
  outputs: AsyncGenerator<T>,
  onSkip?: (reason: string) => void,
): AsyncGenerator<T> {
  try {
    yield* outputs;
  } catch (err) {
    if (signal.aborted) return;
    if (err instanceof StreamUnavailableError) {
      log.warn(`${stream}: skipped: ${err.message}; ${err.advice}`);
      onSkip?.(err.summary);
      return;
    }
    throw err;
  }
}
