/**
 * Mixpanel's answers that mean something to the user, as typed errors: a plan limitation (402),
 * and the timezone mistake behind "to_date cannot be later than today" (400).
 */
import { AppError, ConfigError } from '../../errors/index.js';
import type { HttpError } from '../../http/errors.js';
import type { Logger } from '../../log/logger.js';

/**
 * 402 Payment Required: the project's plan does not include this API (free plans have no Query
 * API). The stream is skipped with a warning; the rest of the run goes on.
 */
export class PlanLimitError extends AppError {
  readonly host: string;

  constructor(message: string, host: string, options: { cause?: unknown } = {}) {
    super('remote', message, options);
    this.host = host;
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
 * A stream's outputs, ending quietly instead of failing the run when the stream hit a plan
 * limit (a warning names it; the other streams go on) or when the run is being stopped (a stop
 * request ends waits and requests with an error; the engine then writes the final STATE).
 */
export async function* guardStream<T>(stream: string, signal: AbortSignal, log: Logger, outputs: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* outputs;
  } catch (err) {
    if (signal.aborted) return;
    if (err instanceof PlanLimitError) {
      log.warn(`${stream}: skipped: ${err.message}; upgrade the plan or deselect the stream to silence this warning`);
      return;
    }
    throw err;
  }
}
