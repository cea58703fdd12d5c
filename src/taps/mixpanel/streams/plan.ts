/**
 * Streams a Mixpanel plan may not include. Free plans answer the Query API (funnels, revenue,
 * annotations, cohorts) with 402 Payment Required; such a stream is skipped with a warning that
 * says so, and the rest of the run goes on (the engine catches StreamUnavailableError).
 */
import { AppError } from '../../../errors/index.js';
import { HttpError } from '../../../http/errors.js';
import { PlanLimitError } from '../errors.js';
import type { StreamOutput } from './types.js';

export class StreamUnavailableError extends AppError {
  readonly stream: string;

  constructor(stream: string, message: string, options: { cause?: unknown } = {}) {
    super('remote', message, options);
    this.stream = stream;
  }
}

/** Turns a 402 from any request of the stream into StreamUnavailableError; anything else passes unchanged. */
export async function* unlessPlanExcludes(stream: string, outputs: AsyncGenerator<StreamOutput>): AsyncGenerator<StreamOutput> {
  try {
    yield* outputs;
  } catch (err) {
    const http = err instanceof HttpError ? err : err instanceof PlanLimitError && err.cause instanceof HttpError ? err.cause : undefined;
    if (http?.status === 402) {
      const said = http.serviceMessage ? ` (Mixpanel said: ${http.serviceMessage})` : '';
      throw new StreamUnavailableError(
        stream,
        `${stream}: skipped, the Mixpanel project's plan does not include this API (402 Payment Required)${said}; ` +
          `upgrade the plan or deselect the stream to silence this warning`,
        { cause: err },
      );
    }
    throw err;
  }
}
