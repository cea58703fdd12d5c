/**
 * Runs one batch operation through the same route handlers as a direct call: its path (relative
 * to /3.0) is matched against the API's routes, `params` become the query (so `fields` works),
 * `body` is the JSON body. Unknown paths and methods give the problem a direct call would get.
 * Batches cannot nest: /batches inside a batch is an unknown path.
 */
import { createLogger } from '../../log/logger.js';
import { HttpError, RouteTable } from '../http.js';
import type { ApiAnswer, ApiCall, ApiRoute } from './api.js';
import type { BatchJob, BatchOperation } from './batches.js';
import { MEMBER_API_ROUTES } from './member-routes.js';
import { MemberRejection } from './members.js';
import { jsonParseProblem, mailchimpErrorResponse, mailchimpMethodNotAllowed, mailchimpNotFound } from './problems.js';
import { SEGMENT_API_ROUTES } from './segment-routes.js';
import type { SandboxState } from '../state.js';

const log = createLogger('sandbox');

const OPERATION_ROUTES = new RouteTable<ApiCall, ApiRoute>([...MEMBER_API_ROUTES, ...SEGMENT_API_ROUTES]);

export interface OperationOutcome {
  answer: ApiAnswer;
  /** The route template that served it (null: no route matched). */
  route: string | null;
}

/** The full API path and query of an operation (params merged over a query in the path). */
export function operationTarget(op: BatchOperation): { pathname: string; query: URLSearchParams } {
  const [rawPath = '', rawQuery = ''] = op.path.split('?', 2);
  const pathname = `/3.0${rawPath}`.replace(/\/+$/, '') || '/3.0';
  const query = new URLSearchParams(rawQuery);
  for (const [key, value] of Object.entries(op.params ?? {})) {
    if (value === undefined || value === null) continue;
    query.set(key, Array.isArray(value) ? value.map(String).join(',') : typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return { pathname, query };
}

export async function executeOperation(state: SandboxState, op: BatchOperation, job: BatchJob): Promise<OperationOutcome> {
  const { pathname, query } = operationTarget(op);
  const match = OPERATION_ROUTES.match(op.method, pathname);
  const call: ApiCall = {
    state,
    method: op.method,
    query,
    json: async () => {
      if (op.body === undefined || op.body.trim() === '') return {};
      try {
        return JSON.parse(op.body) as unknown;
      } catch {
        throw jsonParseProblem();
      }
    },
    countMembers: () => undefined,
    origin: { batchId: job.id, operationId: op.operation_id ?? null },
  };
  try {
    if (match.kind === 'not_found') throw mailchimpNotFound();
    if (match.kind === 'method_not_allowed') throw mailchimpMethodNotAllowed(match.allowed);
    return { answer: await match.route.handle(call, match.params), route: match.route.path };
  } catch (err) {
    if (!(err instanceof HttpError) && !(err instanceof MemberRejection)) {
      log.error('batch operation failed', { method: op.method, path: op.path, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
    const response = mailchimpErrorResponse(err);
    return { answer: { status: response.status, body: response.body }, route: match.kind === 'found' ? match.route.path : null };
  }
}
