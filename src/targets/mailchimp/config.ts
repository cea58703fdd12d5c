/** target-mailchimp configuration: the schema in src/schemas, cross-key checks, the typed result. */
import type { ConfigSpec } from '../../singer/config.js';
import { loadConfig } from '../../singer/config.js';
import type { JsonObject } from '../../singer/messages.js';
import { loadSchema } from '../../schemas/index.js';

export type NewMemberStatus = 'subscribed' | 'pending' | 'unsubscribed' | 'transactional';

export interface TargetConfig {
  api_key?: string;
  access_token?: string;
  server?: string;
  list_id: string;
  status_if_new: NewMemberStatus;
  streams: string[] | string;
  email_property?: string;
  batch_size: number;
  api_base_url?: string;
}

export const TARGET_ENV_PREFIX = 'TARGET_MAILCHIMP_';

export function targetConfigSchema() {
  return loadSchema('target-mailchimp.config.json');
}

/** The data center is the API key's suffix after its last '-' (…-us6 -> us6). */
export function dataCenterOf(apiKey: string): string | undefined {
  const match = /-([a-z]+\d+)$/.exec(apiKey.trim());
  return match?.[1];
}

function checkTargetConfig(config: JsonObject): string[] {
  const problems: string[] = [];
  const apiKey = config.api_key;
  if (typeof apiKey === 'string') {
    if (!dataCenterOf(apiKey) && typeof config.server !== 'string' && typeof config.api_base_url !== 'string') {
      problems.push('"api_key" does not end with a data center such as -us6: copy the whole key from Account > Extras > API keys');
    }
  } else if (typeof config.access_token === 'string') {
    if (typeof config.server !== 'string' && typeof config.api_base_url !== 'string') {
      problems.push('"server" is required with access_token: the data center such as us6 (from the OAuth metadata endpoint)');
    }
  } else {
    problems.push('credentials are missing: set "api_key" (Account > Extras > API keys), or "access_token" with "server"');
  }
  return problems;
}

export const TARGET_CONFIG_SPEC = (): ConfigSpec => ({ envPrefix: TARGET_ENV_PREFIX, schema: targetConfigSchema(), check: checkTargetConfig });

export function loadTargetConfig(sources: readonly string[], env?: NodeJS.ProcessEnv): TargetConfig {
  return loadConfig<TargetConfig>(sources, TARGET_CONFIG_SPEC(), env);
}

/** The API root: the override, or https://<dc>.api.mailchimp.com/3.0. */
export function apiBaseUrl(config: TargetConfig): string {
  if (config.api_base_url) return config.api_base_url.replace(/\/+$/, '');
  const dc = config.server ?? (config.api_key ? dataCenterOf(config.api_key) : undefined);
  return `https://${dc}.api.mailchimp.com/3.0`;
}

export function configuredStreams(config: TargetConfig): Set<string> {
  const raw = config.streams;
  return new Set((Array.isArray(raw) ? raw : raw.split(',')).map((s) => s.trim()).filter((s) => s !== ''));
}
