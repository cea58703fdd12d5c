/** Mixpanel hosts per data residency region, and the credentials that go with every request. */
import type { HttpAuth } from '../../http/client.js';
import type { Region, TapConfig } from './config.js';

export interface MixpanelHosts {
  exportBaseUrl: string;
  queryBaseUrl: string;
}

export const REGION_HOSTS: Record<Region, MixpanelHosts> = {
  us: { exportBaseUrl: 'https://data.mixpanel.com', queryBaseUrl: 'https://mixpanel.com' },
  eu: { exportBaseUrl: 'https://data-eu.mixpanel.com', queryBaseUrl: 'https://eu.mixpanel.com' },
  in: { exportBaseUrl: 'https://data-in.mixpanel.com', queryBaseUrl: 'https://in.mixpanel.com' },
};

export function resolveHosts(config: Pick<TapConfig, 'region' | 'export_base_url' | 'query_base_url'>): MixpanelHosts {
  const region = REGION_HOSTS[config.region] ?? REGION_HOSTS.us;
  return {
    exportBaseUrl: (config.export_base_url ?? region.exportBaseUrl).replace(/\/+$/, ''),
    queryBaseUrl: (config.query_base_url ?? region.queryBaseUrl).replace(/\/+$/, ''),
  };
}

export interface MixpanelCredentials {
  auth: HttpAuth;
  /** What to name in an auth error: the keys the user should check. */
  describe: string;
}

/** Service account (username:secret, project_id required) wins over the legacy project secret (secret:). */
export function resolveCredentials(config: TapConfig): MixpanelCredentials {
  if (config.service_account_username && config.service_account_secret) {
    return {
      auth: { type: 'basic', username: config.service_account_username, password: config.service_account_secret },
      describe: 'service_account_username / service_account_secret (and that the service account has access to project_id)',
    };
  }
  return {
    auth: { type: 'basic', username: config.api_secret ?? '', password: '' },
    describe: 'api_secret (Project Settings > Access Keys; each project has its own)',
  };
}
