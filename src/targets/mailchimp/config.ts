/** target-mailchimp configuration: the schema in src/schemas, cross-key checks, the typed result. */
import { connectionProblems, mailchimpBaseUrl } from '../../mailchimp/account.js';
import type { ConfigSpec } from '../../singer/config.js';
import { loadConfig } from '../../singer/config.js';
import type { JsonObject } from '../../singer/messages.js';
import { loadSchema } from '../../schemas/index.js';
import { checkNotifyConfig, registerNotifySecrets, type DigestConfig } from '../../notify/settings.js';
import { archiveConfigProblems, type ArchiveConfig } from './archive/settings.js';

export type NewMemberStatus = 'subscribed' | 'pending' | 'unsubscribed' | 'transactional';
export type LoadMode = 'upsert' | 'add_only';

export interface TargetConfig extends DigestConfig, ArchiveConfig {
  api_key?: string;
  access_token?: string;
  server?: string;
  list_id: string;
  status_if_new: NewMemberStatus;
  stream: string[] | string;
  email_property?: string;
  /** Merge tag -> record property; null leaves the tag alone. */
  merge_fields: Record<string, string | null>;
  tags: string[] | string;
  tag_properties: string[] | string;
  /** Marketing permission text (or id) -> boolean record property. */
  marketing_permissions?: Record<string, string>;
  /** "Category / Interest" (or interest id) -> boolean property; category title (or id) -> property naming the interest. */
  interests?: Record<string, string>;
  language_property?: string;
  vip_property?: string;
  mode: LoadMode;
  cohort_tags: Array<string | number> | string;
  cohort_tag_prefix: string;
  cohort_tag_names: Record<string, string>;
  cohort_add_missing: boolean;
  cohort_tag_automations: boolean;
  cohort_clear_deleted: boolean;
  cohort_registry_file?: string;
  max_concurrency: number;
  batch_size: number;
  bulk_threshold: number;
  bulk_batch_size: number;
  flush_interval_seconds: number;
  dry_run: boolean;
  /** Check records against their SCHEMA (the properties the target reads, or all of them). */
  validate_records?: boolean;
  validate_all_properties?: boolean;
  rejects_file?: string;
  report_file?: string;
  suppression_file?: string;
  request_timeout: number;
  api_base_url?: string;
}

export const TARGET_ENV_PREFIX = 'TARGET_MAILCHIMP_';

export function targetConfigSchema() {
  return loadSchema('target-mailchimp.config.json');
}

// The data center of an API key: shared with tap-mailchimp (src/mailchimp).
export { dataCenterOf } from '../../mailchimp/account.js';

function checkTargetConfig(config: JsonObject): string[] {
  const problems: string[] = [...connectionProblems(config)];
  const merge = config.merge_fields;
  if (merge && typeof merge === 'object' && !Array.isArray(merge)) {
    for (const tag of Object.keys(merge)) {
      if (!/^[A-Z0-9_]{1,10}$/.test(tag)) {
        problems.push(`"merge_fields.${tag}" is not a merge tag: tags are up to 10 upper-case letters, digits or _ (Audience > Settings > Audience fields)`);
      }
    }
  }
  if (config.cohort_clear_deleted === true && typeof config.cohort_registry_file !== 'string') {
    problems.push('"cohort_clear_deleted" needs "cohort_registry_file": only the registry knows which tag a deleted cohort had');
  }
  problems.push(...checkNotifyConfig(config, { digest: true }));
  problems.push(...archiveConfigProblems(config, listSetting((config.stream ?? 'engage') as string[] | string)));
  return problems;
}

export const TARGET_CONFIG_SPEC = (): ConfigSpec => ({ envPrefix: TARGET_ENV_PREFIX, schema: targetConfigSchema(), check: checkTargetConfig });

export function loadTargetConfig(sources: readonly string[], env?: NodeJS.ProcessEnv): TargetConfig {
  const config = loadConfig<TargetConfig>(sources, TARGET_CONFIG_SPEC(), env);
  registerNotifySecrets(config);
  return config;
}

/** The API root: the override, or https://<dc>.api.mailchimp.com/3.0. */
export function apiBaseUrl(config: TargetConfig): string {
  return mailchimpBaseUrl(config);
}

/** A setting that may be an array or a comma-separated string, as a clean list. */
export function listSetting(value: string[] | string | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : value.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

export function configuredStreams(config: TargetConfig): Set<string> {
  return new Set(listSetting(config.stream));
}
