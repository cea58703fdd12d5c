/** tap-mixpanel configuration: the schema in src/schemas, cross-key checks, and the typed result. */
import { DateTime, IANAZone } from 'luxon';
import type { ConfigSpec } from '../../singer/config.js';
import { isDateOrDateTime, loadConfig } from '../../singer/config.js';
import type { JsonObject } from '../../singer/messages.js';
import { loadSchema } from '../../schemas/index.js';
import { checkNotifyConfig, listOf, registerNotifySecrets, type NotifyConfig } from '../../notify/settings.js';

export type Region = 'us' | 'eu' | 'in';
export type TimeSemantics = 'utc' | 'project_timezone';

export interface TapConfig extends NotifyConfig {
  service_account_username?: string;
  service_account_secret?: string;
  project_id?: number;
  workspace_id?: number;
  api_secret?: string;
  region: Region;
  eu_residency_server?: boolean;
  start_date: string;
  end_date?: string;
  date_window_size: number;
  attribution_window: number;
  ingestion_settle_minutes: number;
  project_timezone: string;
  time_semantics: TimeSemantics;
  select_properties_by_default: boolean;
  denest_properties: boolean;
  export_events?: string[] | string;
  engage_where?: string;
  user_agent?: string;
  request_timeout: number;
  connect_timeout: number;
  idle_timeout?: number;
  max_retries: number;
  retry_base_delay_seconds: number;
  export_max_requests_per_second: number;
  export_max_requests_per_hour: number;
  query_max_requests_per_hour: number;
  query_max_concurrent: number;
  rate_limit_hour_seconds: number;
  export_base_url?: string;
  query_base_url?: string;
}

export const TAP_ENV_PREFIX = 'TAP_MIXPANEL_';

/** The streams' names (streams/index.ts has their definitions; a unit test keeps the two equal). */
export const TAP_STREAM_NAMES = ['export', 'engage', 'funnels', 'revenue', 'annotations', 'cohorts', 'cohort_members'] as const;

export function tapConfigSchema() {
  return loadSchema('tap-mixpanel.config.json');
}

function checkTapConfig(config: JsonObject): string[] {
  const problems: string[] = [];
  const hasUser = typeof config.service_account_username === 'string';
  const hasSecret = typeof config.service_account_secret === 'string';
  if (hasUser !== hasSecret) {
    problems.push(
      hasUser
        ? '"service_account_secret" is required with service_account_username: it is shown once when the service account is created'
        : '"service_account_username" is required with service_account_secret',
    );
  } else if (hasUser && config.project_id === undefined) {
    problems.push('"project_id" is required with a service account: find it in Mixpanel under Project Settings > Overview');
  } else if (!hasUser && typeof config.api_secret !== 'string') {
    problems.push(
      'credentials are missing: set service_account_username, service_account_secret and project_id (recommended), or the legacy api_secret',
    );
  }
  const zone = config.project_timezone;
  if (typeof zone === 'string' && !IANAZone.isValidZone(zone)) {
    problems.push(`"project_timezone" must be an IANA time zone such as US/Pacific or Europe/Paris (got ${JSON.stringify(zone)})`);
  }
  if (typeof config.end_date === 'string' && typeof config.start_date === 'string' && isDateOrDateTime(config.end_date)) {
    const utc = { zone: 'utc' };
    if (DateTime.fromISO(config.end_date, utc) < DateTime.fromISO(config.start_date, utc)) {
      problems.push(`"end_date" (${config.end_date}) is before "start_date" (${config.start_date})`);
    }
  }
  const known: readonly string[] = TAP_STREAM_NAMES;
  const streams = Array.isArray(config.alert_empty_streams) || typeof config.alert_empty_streams === 'string' ? listOf(config.alert_empty_streams as string[] | string) : [];
  for (const stream of streams) {
    if (!known.includes(stream)) problems.push(`"alert_empty_streams" names ${JSON.stringify(stream)}, which is not a stream: use some of ${known.join(', ')}`);
  }
  problems.push(...checkNotifyConfig(config, { digest: false }));
  return problems;
}

export const TAP_CONFIG_SPEC = (): ConfigSpec => ({ envPrefix: TAP_ENV_PREFIX, schema: tapConfigSchema(), check: checkTapConfig });

/** Loads, validates and normalises the config (compatibility keys folded into ours). */
export function loadTapConfig(sources: readonly string[], env?: NodeJS.ProcessEnv): TapConfig {
  const config = loadConfig<TapConfig>(sources, TAP_CONFIG_SPEC(), env);
  if (config.eu_residency_server === true && config.region === 'us') config.region = 'eu';
  registerNotifySecrets(config);
  return config;
}

/** The export_events setting as a list (it may be a comma-separated string). */
export function exportEventNames(config: TapConfig): string[] | undefined {
  const raw = config.export_events;
  if (raw === undefined) return undefined;
  const names = (Array.isArray(raw) ? raw : raw.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  return names.length > 0 ? names : undefined;
}
