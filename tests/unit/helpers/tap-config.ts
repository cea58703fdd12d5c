import type { TapConfig } from '../../../src/taps/mixpanel/config.js';

/** The request, retry and budget settings of a loaded tap config, at their documented defaults. */
export const TAP_REQUEST_DEFAULTS = {
  connect_timeout: 30,
  max_retries: 5,
  retry_base_delay_seconds: 1,
  export_max_requests_per_second: 3,
  export_max_requests_per_hour: 60,
  query_max_requests_per_hour: 60,
  query_max_concurrent: 5,
  rate_limit_hour_seconds: 3600,
} as const satisfies Partial<TapConfig>;
