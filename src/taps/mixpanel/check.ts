/**
 * `tap-mixpanel --test`: are the credentials good and both hosts reachable? The cheapest calls:
 * a service account asks GET /api/app/me (not rate limited as a query; it lists the projects
 * the account can see, so a wrong project_id is caught too); a project secret, which /me does
 * not accept, asks the Query API for one event name. Then one export request for one day with
 * limit=1 proves the export host and region. Retries are few: a test should answer quickly.
 */
import { checkLine, describeFailure, type CheckLine } from '../../cli/check-report.js';
import { HttpClient } from '../../http/client.js';
import { HttpError } from '../../http/errors.js';
import type { TapConfig } from './config.js';
import { resolveCredentials, resolveHosts } from './hosts.js';
import { addDays, projectTime } from './time.js';

interface MeAnswer {
  results?: {
    user_name?: string;
    projects?: Record<string, { id?: number; name?: string; timezone?: string }>;
  };
}

const CHECK_RETRY = { maxAttempts: 2, baseDelayMs: 500, maxDelayMs: 2000, maxRetryAfterMs: 5000 };

function clients(config: TapConfig, userAgent: string): { query: HttpClient; exporter: HttpClient; close: () => Promise<void> } {
  const hosts = resolveHosts(config);
  const credentials = resolveCredentials(config);
  const timeoutMs = Math.min(config.request_timeout, 30) * 1000;
  const common = {
    auth: credentials.auth,
    userAgent: config.user_agent ?? userAgent,
    timeouts: { connectMs: timeoutMs, headersMs: timeoutMs, bodyMs: timeoutMs },
    retry: CHECK_RETRY,
    defaultQuery: { project_id: config.project_id },
    describeAuthFailure: (status: number, url: URL) =>
      `Mixpanel refused the credentials (${status}) at ${url.host}: check ${credentials.describe}` +
      (status === 403 ? ', and that the region setting matches the project' : ''),
  };
  const query = new HttpClient({ ...common, name: 'Mixpanel query', baseUrl: hosts.queryBaseUrl });
  const exporter = new HttpClient({ ...common, name: 'Mixpanel export', baseUrl: hosts.exportBaseUrl });
  return { query, exporter, close: async () => void (await Promise.all([query.close(), exporter.close()])) };
}

async function checkCredentials(config: TapConfig, query: HttpClient): Promise<CheckLine> {
  const serviceAccount = Boolean(config.service_account_username && config.service_account_secret);
  try {
    if (serviceAccount) {
      const me = await query.json<MeAnswer>({ path: '/api/app/me' });
      const projects = me.results?.projects ?? {};
      const project = projects[String(config.project_id)];
      if (!project) {
        const visible = Object.keys(projects);
        return checkLine(
          'fail',
          'credentials',
          `service account ${config.service_account_username} is valid but cannot see project_id ${config.project_id}` +
            (visible.length > 0 ? ` (it sees ${visible.join(', ')})` : ' (it sees no project: add it to the project in Organization Settings > Service Accounts)'),
        );
      }
      const zone = project.timezone ? `, time zone ${project.timezone}` : '';
      return checkLine('ok', 'credentials', `service account ${config.service_account_username} can read project ${config.project_id} ("${project.name ?? '?'}"${zone})`);
    }
    await query.json<unknown>({ path: '/api/query/events/names', query: { type: 'general', limit: 1 } });
    return checkLine('ok', 'credentials', 'the project API secret is accepted by the Query API');
  } catch (err) {
    if (err instanceof HttpError && err.status === 402) {
      return checkLine('warn', 'credentials', 'this plan has no Query API (402): engage and other query streams will be skipped; the export check below still tests the secret');
    }
    return checkLine('fail', 'credentials', describeFailure(err));
  }
}

async function checkExport(config: TapConfig, exporter: HttpClient): Promise<CheckLine> {
  const day = addDays(projectTime(config).today, -1);
  try {
    const response = await exporter.stream({ path: '/api/2.0/export', query: { from_date: day, to_date: day, limit: 1 }, gzip: true });
    response.body.destroy();
    return checkLine('ok', 'export API', `${new URL(exporter.buildUrl('/').origin).host} answered a one-event export for ${day}`);
  } catch (err) {
    return checkLine('fail', 'export API', describeFailure(err));
  }
}

/** Runs the checks in order; a failed credentials check skips the export check (it would say the same). */
export async function checkTapConnection(config: TapConfig, userAgent: string): Promise<CheckLine[]> {
  const { query, exporter, close } = clients(config, userAgent);
  try {
    const lines = [await checkCredentials(config, query)];
    if (lines[0]?.status !== 'fail') lines.push(await checkExport(config, exporter));
    return lines;
  } finally {
    await close();
  }
}
