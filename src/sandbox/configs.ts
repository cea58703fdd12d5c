/**
 * Ready-to-use client configs for a running sandbox: what the tap and the target need to talk
 * to it (and what `make demo` and the integration tests pass them).
 */
import type { MailchimpCredentials, MixpanelCredentials } from './options.js';

export interface SandboxCredentials {
  mixpanel: MixpanelCredentials;
  mailchimp: MailchimpCredentials;
}

/** The parts of a running sandbox the configs are built from. */
export interface SandboxEndpoint {
  url: string;
  credentials: SandboxCredentials;
  /** First and last day with generated events (YYYY-MM-DD, project time zone). */
  dataRange: { fromDate: string; toDate: string };
}

interface TapConfigBase {
  project_id: number;
  start_date: string;
  export_base_url: string;
  query_base_url: string;
}

export type SandboxTapConfig =
  | (TapConfigBase & { service_account_username: string; service_account_secret: string })
  | (TapConfigBase & { api_secret: string });

export interface SandboxTargetConfig {
  api_key: string;
  list_id: string;
  api_base_url: string;
  status_if_new: 'subscribed';
}

export interface SandboxClientConfigOptions {
  /** Which Mixpanel credentials the tap config carries; default the service account. */
  auth?: 'service_account' | 'api_secret';
}

export function sandboxClientConfigs(
  sandbox: SandboxEndpoint,
  options: SandboxClientConfigOptions = {},
): { tap: SandboxTapConfig; target: SandboxTargetConfig } {
  const { mixpanel, mailchimp } = sandbox.credentials;
  const base: TapConfigBase = {
    project_id: mixpanel.projectId,
    start_date: `${sandbox.dataRange.fromDate}T00:00:00Z`,
    export_base_url: sandbox.url,
    query_base_url: sandbox.url,
  };
  const tap: SandboxTapConfig =
    options.auth === 'api_secret'
      ? { api_secret: mixpanel.apiSecret, ...base }
      : { service_account_username: mixpanel.serviceAccountUsername, service_account_secret: mixpanel.serviceAccountSecret, ...base };
  return {
    tap,
    target: { api_key: mailchimp.apiKey, list_id: mailchimp.listId, api_base_url: `${sandbox.url}/3.0`, status_if_new: 'subscribed' },
  };
}

/** A tap-mailchimp config for a running sandbox: its API key and URL (every audience is read). */
export function sandboxMailchimpTapConfig(sandbox: SandboxEndpoint): { api_key: string; api_base_url: string } {
  return { api_key: sandbox.credentials.mailchimp.apiKey, api_base_url: `${sandbox.url}/3.0` };
}
