/** tap-mailchimp configuration: the schema in src/schemas, cross-key checks, and the typed result. */
import { connectionProblems, type MailchimpConnection } from '../../mailchimp/account.js';
import { checkNotifyConfig, listOf, registerNotifySecrets, type NotifyConfig } from '../../notify/settings.js';
import { loadSchema } from '../../schemas/index.js';
import type { ConfigSpec } from '../../singer/config.js';
import { loadConfig } from '../../singer/config.js';
import type { JsonObject } from '../../singer/messages.js';

export interface MailchimpTapConfig extends NotifyConfig, MailchimpConnection {
  list_ids?: string[] | string;
  start_date?: string;
  max_concurrency: number;
  page_size: number;
  slice_members: number;
  last_changed_settle_seconds: number;
  user_agent?: string;
  request_timeout: number;
  connect_timeout: number;
  max_retries: number;
  retry_base_delay_seconds: number;
}

export const MAILCHIMP_TAP_ENV_PREFIX = 'TAP_MAILCHIMP_';

/** The streams' names (streams/index.ts has their definitions; a unit test keeps the two equal). */
export const MAILCHIMP_STREAM_NAMES = ['lists', 'merge_fields', 'interest_categories', 'interests', 'tags', 'list_members'] as const;

export function mailchimpTapConfigSchema() {
  return loadSchema('tap-mailchimp.config.json');
}

/** Audience IDs are short hexadecimal strings (a1b2c3d4e5); anything else is a copy-paste slip. */
const LIST_ID = /^[0-9a-z]{1,32}$/i;

function checkListIds(config: JsonObject): string[] {
  const raw = config.list_ids;
  if (raw === undefined) return [];
  const ids = listOf(raw as string[] | string);
  if (ids.length === 0) return ['"list_ids" is empty: leave it out to read every audience, or name Audience IDs such as a1b2c3d4e5'];
  return ids
    .filter((id) => !LIST_ID.test(id))
    .map((id) => `"list_ids" holds ${JSON.stringify(id)}, which is not an Audience ID: copy the ID from Audience > Settings > Audience name and defaults (e.g. a1b2c3d4e5)`);
}

function checkTapConfig(config: JsonObject): string[] {
  const problems = [...connectionProblems(config), ...checkListIds(config)];
  const known: readonly string[] = MAILCHIMP_STREAM_NAMES;
  const streams = Array.isArray(config.alert_empty_streams) || typeof config.alert_empty_streams === 'string' ? listOf(config.alert_empty_streams as string[] | string) : [];
  for (const stream of streams) {
    if (!known.includes(stream)) problems.push(`"alert_empty_streams" names ${JSON.stringify(stream)}, which is not a stream: use some of ${known.join(', ')}`);
  }
  problems.push(...checkNotifyConfig(config, { digest: false }));
  return problems;
}

export const MAILCHIMP_TAP_CONFIG_SPEC = (): ConfigSpec => ({ envPrefix: MAILCHIMP_TAP_ENV_PREFIX, schema: mailchimpTapConfigSchema(), check: checkTapConfig });

/** Loads and validates the config (files and/or ENV, later wins). */
export function loadMailchimpTapConfig(sources: readonly string[], env?: NodeJS.ProcessEnv): MailchimpTapConfig {
  const config = loadConfig<MailchimpTapConfig>(sources, MAILCHIMP_TAP_CONFIG_SPEC(), env);
  registerNotifySecrets(config);
  return config;
}

/** The audiences named in list_ids, in the order given, without repeats; undefined: every audience. */
export function configuredListIds(config: Pick<MailchimpTapConfig, 'list_ids'>): string[] | undefined {
  if (config.list_ids === undefined) return undefined;
  return [...new Set(listOf(config.list_ids))];
}
