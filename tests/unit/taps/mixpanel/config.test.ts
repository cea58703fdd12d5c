import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../../src/errors/index.js';
import { clearSecrets } from '../../../../src/log/redact.js';
import type { JsonObject } from '../../../../src/singer/messages.js';
import { exportEventNames, loadTapConfig, TAP_STREAM_NAMES, type TapConfig } from '../../../../src/taps/mixpanel/config.js';
import { STREAMS } from '../../../../src/taps/mixpanel/streams/index.js';

let dir: string;
let count = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unit-tap-config-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  clearSecrets();
});

function file(config: JsonObject): string {
  const path = join(dir, `tap-${++count}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function problemsOf(config: JsonObject): string[] {
  try {
    loadTapConfig([file(config)], {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).details];
  }
  return [];
}

const START = { start_date: '2024-01-01T00:00:00Z' };
const SERVICE_ACCOUNT = { service_account_username: 'svc.user', service_account_secret: 'svc-secret-0001', project_id: 42 };

describe('loadTapConfig: credentials', () => {
  it.each<[string, JsonObject, string[]]>([
    ['a service account with project_id', SERVICE_ACCOUNT, []],
    ['the legacy api_secret alone', { api_secret: 'legacy-secret-01' }, []],
    [
      'a username without its secret',
      { service_account_username: 'svc.user', project_id: 42 },
      ['"service_account_secret" is required with service_account_username: it is shown once when the service account is created'],
    ],
    [
      'a secret without its username',
      { service_account_secret: 'svc-secret-0001', project_id: 42 },
      ['"service_account_username" is required with service_account_secret'],
    ],
    [
      'a service account without project_id',
      { service_account_username: 'svc.user', service_account_secret: 'svc-secret-0001' },
      ['"project_id" is required with a service account: find it in Mixpanel under Project Settings > Overview'],
    ],
    [
      'no credentials at all',
      {},
      ['credentials are missing: set service_account_username, service_account_secret and project_id (recommended), or the legacy api_secret'],
    ],
  ])('%s', (_case, credentials, problems) => {
    expect(problemsOf({ ...START, ...credentials })).toEqual(problems);
  });
});

describe('loadTapConfig: other cross-key checks', () => {
  it('rejects a time zone that is not an IANA zone', () => {
    expect(problemsOf({ ...START, ...SERVICE_ACCOUNT, project_timezone: 'Mars/Olympus_Mons' })).toEqual([
      '"project_timezone" must be an IANA time zone such as US/Pacific or Europe/Paris (got "Mars/Olympus_Mons")',
    ]);
  });

  it.each(['UTC', 'US/Pacific', 'Europe/Paris', 'America/Los_Angeles'])('accepts the time zone %s', (zone) => {
    expect(problemsOf({ ...START, ...SERVICE_ACCOUNT, project_timezone: zone })).toEqual([]);
  });

  it('rejects an end_date before the start_date', () => {
    expect(problemsOf({ ...SERVICE_ACCOUNT, start_date: '2024-02-01', end_date: '2024-01-31' })).toEqual([
      '"end_date" (2024-01-31) is before "start_date" (2024-02-01)',
    ]);
  });

  it('accepts an end_date equal to the start_date', () => {
    expect(problemsOf({ ...SERVICE_ACCOUNT, start_date: '2024-02-01', end_date: '2024-02-01' })).toEqual([]);
  });

  it('reports a bad end_date once, as a format problem, not also as "before start_date"', () => {
    expect(problemsOf({ ...SERVICE_ACCOUNT, ...START, end_date: 'soon' })).toEqual([
      '"end_date" must be a date or date-time such as 2024-01-01 or 2024-01-01T00:00:00Z (got "soon")',
    ]);
  });

  it("refuses query_max_concurrent above Mixpanel's 5 concurrent Query API requests, saying why", () => {
    expect(problemsOf({ ...START, ...SERVICE_ACCOUNT, query_max_concurrent: 6 })).toEqual([
      '"query_max_concurrent" must be <= 5 (got 6): Query API requests in flight at once, at most 5: Mixpanel allows 5 concurrent Query API requests per project and answers more with 429.',
    ]);
  });

  it.each([1, 5])('accepts query_max_concurrent %d', (n) => {
    expect(problemsOf({ ...START, ...SERVICE_ACCOUNT, query_max_concurrent: n })).toEqual([]);
  });

  it('reports schema and cross-key problems together', () => {
    expect(problemsOf({ project_timezone: 'Nowhere' })).toEqual([
      '"start_date" is required: Sync events, daily reports and annotations from this date when there is no bookmark, e.g. 2024-01-01T00:00:00Z. Dates more than a year back are fine. People profiles (engage) are not bounded by it: a first run reads every profile.',
      'credentials are missing: set service_account_username, service_account_secret and project_id (recommended), or the legacy api_secret',
      '"project_timezone" must be an IANA time zone such as US/Pacific or Europe/Paris (got "Nowhere")',
    ]);
  });
});

describe('loadTapConfig: the result', () => {
  it('applies the documented defaults', () => {
    const config = loadTapConfig([file({ ...START, ...SERVICE_ACCOUNT })], {});
    expect(config).toEqual({
      ...START,
      ...SERVICE_ACCOUNT,
      region: 'us',
      date_window_size: 30,
      attribution_window: 5,
      ingestion_settle_minutes: 15,
      project_timezone: 'UTC',
      time_semantics: 'utc',
      select_properties_by_default: true,
      denest_properties: true,
      request_timeout: 300,
      connect_timeout: 30,
      max_retries: 5,
      retry_base_delay_seconds: 1,
      export_max_requests_per_second: 3,
      export_max_requests_per_hour: 60,
      query_max_requests_per_hour: 60,
      query_max_concurrent: 5,
      smtp_security: 'starttls',
      alert_retry_threshold: 10,
      notify_timeout_seconds: 30,
      rate_limit_hour_seconds: 3600,
    } satisfies TapConfig);
  });

  it.each<[string, JsonObject, string]>([
    ['eu_residency_server true means region eu', { eu_residency_server: true }, 'eu'],
    ['eu_residency_server "true" (a string, as Python configs hold it) means region eu', { eu_residency_server: 'true' }, 'eu'],
    ['eu_residency_server false keeps us', { eu_residency_server: false }, 'us'],
    ['an explicit region other than us is kept', { eu_residency_server: true, region: 'in' }, 'in'],
  ])('%s', (_case, extra, region) => {
    expect(loadTapConfig([file({ ...START, ...SERVICE_ACCOUNT, ...extra })], {}).region).toBe(region);
  });

  it('reads everything from TAP_MIXPANEL_ variables with --config ENV', () => {
    const config = loadTapConfig(['ENV'], {
      TAP_MIXPANEL_SERVICE_ACCOUNT_USERNAME: 'svc.user',
      TAP_MIXPANEL_SERVICE_ACCOUNT_SECRET: 'svc-secret-0001',
      TAP_MIXPANEL_PROJECT_ID: '42',
      TAP_MIXPANEL_START_DATE: '2024-01-01',
      TAP_MIXPANEL_EU_RESIDENCY_SERVER: 'yes',
      TAP_MIXPANEL_EXPORT_EVENTS: 'Sign Up,Purchase',
    });
    expect(config).toMatchObject({ project_id: 42, region: 'eu', export_events: ['Sign Up', 'Purchase'] });
  });
});

describe('exportEventNames', () => {
  const base = { ...START, region: 'us' } as TapConfig;
  it.each<[string, TapConfig['export_events'], string[] | undefined]>([
    ['not set', undefined, undefined],
    ['an array', ['Sign Up', ' Purchase '], ['Sign Up', 'Purchase']],
    ['a comma-separated string', 'Sign Up, Purchase,', ['Sign Up', 'Purchase']],
    ['an empty string', '', undefined],
    ['an empty array', [], undefined],
  ])('%s', (_case, events, expected) => {
    expect(exportEventNames({ ...base, export_events: events })).toEqual(expected);
  });
});

describe('loadTapConfig: alerts', () => {
  it('TAP_STREAM_NAMES are the streams, in run order', () => {
    expect([...TAP_STREAM_NAMES]).toEqual(STREAMS.map((s) => s.name));
  });

  it('alert_empty_streams names streams of this tap', () => {
    expect(problemsOf({ ...START, ...SERVICE_ACCOUNT, alert_empty_streams: 'export, engag' })).toEqual([
      '"alert_empty_streams" names "engag", which is not a stream: use some of export, engage, funnels, revenue, annotations, cohorts, cohort_members',
    ]);
  });

  it('an SMS alert without a Twilio token names the key and where to find it', () => {
    expect(problemsOf({ ...START, ...SERVICE_ACCOUNT, alert_sms_to: '+14155550100', twilio_account_sid: 'AC0123456789abcdef0123456789abcdef', twilio_from: '+15005550006' })).toEqual([
      '"twilio_auth_token" is required with alert_sms_to: the Auth Token from the Twilio console, next to the Account SID',
    ]);
  });

  it('a malformed Account SID names the key and its shape', () => {
    expect(problemsOf({ ...START, ...SERVICE_ACCOUNT, twilio_account_sid: 'SID123' })).toEqual([
      '"twilio_account_sid" is not valid (got "SID123"): the Account SID from the Twilio console: AC followed by 32 hex digits',
    ]);
  });
});
