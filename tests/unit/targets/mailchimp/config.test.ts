import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../../src/errors/index.js';
import { clearSecrets } from '../../../../src/log/redact.js';
import type { JsonObject } from '../../../../src/singer/messages.js';
import {
  apiBaseUrl,
  configuredStreams,
  dataCenterOf,
  loadTargetConfig,
  type TargetConfig,
} from '../../../../src/targets/mailchimp/config.js';

let dir: string;
let count = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unit-target-config-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  clearSecrets();
});

function file(config: JsonObject): string {
  const path = join(dir, `target-${++count}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function problemsOf(config: JsonObject): string[] {
  try {
    loadTargetConfig([file(config)], {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).details];
  }
  return [];
}

const API_KEY = '0123456789abcdef0123456789abcdef-us6';
const BASE = { list_id: 'a1b2c3', status_if_new: 'pending' };

describe('loadTargetConfig', () => {
  it.each<[string, JsonObject, string[]]>([
    ['an api_key with its data center', { api_key: API_KEY }, []],
    [
      'an api_key without a data center',
      { api_key: '0123456789abcdef' },
      ['"api_key" does not end with a data center such as -us6: copy the whole key from Account > Extras > API keys'],
    ],
    ['an api_key without a data center, but with server', { api_key: '0123456789abcdef', server: 'us6' }, []],
    ['an api_key without a data center, but with api_base_url', { api_key: '0123456789abcdef', api_base_url: 'http://127.0.0.1:8750/3.0' }, []],
    [
      'an access_token without server',
      { access_token: 'oauth-token-value' },
      ['"server" is required with access_token: the data center such as us6 (from the OAuth metadata endpoint)'],
    ],
    ['an access_token with server', { access_token: 'oauth-token-value', server: 'us19' }, []],
    [
      'no credentials',
      {},
      ['credentials are missing: set "api_key" (Account > Extras > API keys), or "access_token" with "server"'],
    ],
  ])('credentials: %s', (_case, credentials, problems) => {
    expect(problemsOf({ ...BASE, ...credentials })).toEqual(problems);
  });

  it('requires status_if_new: the consent decision is the user\'s, never a default', () => {
    expect(problemsOf({ list_id: 'a1b2c3', api_key: API_KEY })).toEqual([
      '"status_if_new" is required: choose subscribed (they consented), pending (Mailchimp sends a confirmation email), transactional or unsubscribed',
    ]);
  });

  it('requires list_id: the target never picks a list', () => {
    expect(problemsOf({ status_if_new: 'pending', api_key: API_KEY })).toEqual([
      '"list_id" is required: the audience ID from Audience > Settings > Audience name and defaults; the target never picks a list for you',
    ]);
  });

  it('rejects a status_if_new Mailchimp does not know', () => {
    expect(problemsOf({ ...BASE, api_key: API_KEY, status_if_new: 'active' })).toEqual([
      '"status_if_new" must be one of "subscribed", "pending", "unsubscribed", "transactional" (got "active")',
    ]);
  });

  it('rejects a server that is not a data center name', () => {
    expect(problemsOf({ ...BASE, access_token: 'oauth-token-value', server: 'https://us6.api.mailchimp.com' })).toEqual([
      '"server" is not valid (got "https://us6.api.mailchimp.com"): Mailchimp data center such as us6 (required with access_token; derived from api_key otherwise).',
    ]);
  });

  it('ignores the settings PipelineWise adds', () => {
    expect(problemsOf({ ...BASE, api_key: API_KEY, batch_size_rows: 1000, validate_records: true, hard_delete: false })).toEqual([]);
  });

  it('applies defaults: the engage stream, upsert, 5 connections, batches of 500, flush every 10 s', () => {
    expect(loadTargetConfig([file({ ...BASE, api_key: API_KEY })], {})).toEqual({
      ...BASE,
      status_if_new: 'pending',
      api_key: API_KEY,
      stream: ['engage'],
      merge_fields: {},
      tags: [],
      tag_properties: [],
      mode: 'upsert',
      cohort_tags: [],
      cohort_tag_prefix: 'Mixpanel: ',
      cohort_tag_names: {},
      cohort_add_missing: false,
      cohort_tag_automations: false,
      cohort_clear_deleted: false,
      archive_missing: false,
      owner_tag: 'Synced by target-mailchimp',
      archive_max_share: 0.05,
      delete_permanently: false,
      max_concurrency: 5,
      batch_size: 500,
      bulk_threshold: 10,
      bulk_batch_size: 5000,
      flush_interval_seconds: 10,
      dry_run: false,
      validate_records: true,
      validate_all_properties: false,
      request_timeout: 120,
      smtp_security: 'starttls',
      digest_send_empty: false,
      digest_email_max_people: 100,
      alert_retry_threshold: 10,
      notify_timeout_seconds: 30,
    } satisfies TargetConfig);
  });

  it('archive_missing: delete_permanently needs it, it needs exactly one stream, archive_max_share is a share', () => {
    expect(problemsOf({ ...BASE, api_key: API_KEY, delete_permanently: true })).toEqual([
      '"delete_permanently" only applies with "archive_missing": true (it erases, instead of archiving, the people who left the source): set both, or remove delete_permanently',
    ]);
    expect(problemsOf({ ...BASE, api_key: API_KEY, archive_missing: true, stream: ['engage', 'users'] })).toEqual([
      '"archive_missing" needs exactly one stream in "stream" (it has "engage", "users"): a complete sweep of one source says who left it; run one target per source, each with its own owner_tag',
    ]);
    expect(problemsOf({ ...BASE, api_key: API_KEY, archive_missing: true, archive_max_share: 5 })[0]).toMatch(/^"archive_max_share" must be <= 1 \(got 5\)/);
    expect(problemsOf({ ...BASE, api_key: API_KEY, archive_missing: true, delete_permanently: true, archive_max_share: 0.2 })).toEqual([]);
  });

  it('caps max_concurrency at Mailchimp\'s 10 connections', () => {
    expect(problemsOf({ ...BASE, api_key: API_KEY, max_concurrency: 11 })[0]).toMatch(/^"max_concurrency" must be <= 10 \(got 11\)/);
  });

  it('accepts only the two modes', () => {
    expect(problemsOf({ ...BASE, api_key: API_KEY, mode: 'sync' })[0]).toMatch(/^"mode" must be one of/);
  });

  it('rejects a merge tag that cannot exist', () => {
    expect(problemsOf({ ...BASE, api_key: API_KEY, merge_fields: { 'first name': 'first_name' } })).toEqual([
      '"merge_fields.first name" is not a merge tag: tags are up to 10 upper-case letters, digits or _ (Audience > Settings > Audience fields)',
    ]);
  });

  it('caps batch_size at Mailchimp\'s 500', () => {
    expect(problemsOf({ ...BASE, api_key: API_KEY, batch_size: 501 })).toEqual(['"batch_size" must be <= 500 (got 501): Members per batch subscribe call for new people (Mailchimp accepts at most 500), and per planning batch.']);
  });

  it('never shows the api_key in a problem line', () => {
    const problems = problemsOf({ ...BASE, api_key: { key: API_KEY } });
    expect(problems[0]).toMatch(/^"api_key" must be string \(got \(hidden\)\)/);
    expect(problems.join('\n')).not.toContain(API_KEY);
  });
});

describe('dataCenterOf', () => {
  it.each<[string, string | undefined]>([
    [API_KEY, 'us6'],
    ['abc-def-us19', 'us19'],
    [`  ${API_KEY}  `, 'us6'],
    ['0123456789abcdef', undefined],
    ['0123456789abcdef-', undefined],
    ['0123456789abcdef-US6', undefined],
    ['0123456789abcdef-us', undefined],
  ])('%j -> %s', (key, dc) => {
    expect(dataCenterOf(key)).toBe(dc);
  });
});

describe('apiBaseUrl', () => {
  const base = { ...BASE, status_if_new: 'pending', stream: ['engage'], batch_size: 500 } as TargetConfig;
  it.each<[string, Partial<TargetConfig>, string]>([
    ['from the api_key data center', { api_key: API_KEY }, 'https://us6.api.mailchimp.com/3.0'],
    ['from server with an access token', { access_token: 't', server: 'us19' }, 'https://us19.api.mailchimp.com/3.0'],
    ['from the override, without trailing slashes', { api_key: API_KEY, api_base_url: 'http://127.0.0.1:8750/3.0//' }, 'http://127.0.0.1:8750/3.0'],
  ])('%s', (_case, extra, url) => {
    expect(apiBaseUrl({ ...base, ...extra })).toBe(url);
  });
});

describe('configuredStreams', () => {
  it.each<[TargetConfig['stream'], string[]]>([
    [['engage'], ['engage']],
    ['engage, cohort_members,', ['engage', 'cohort_members']],
    [['engage', ' export '], ['engage', 'export']],
  ])('%j -> %j', (streams, expected) => {
    expect([...configuredStreams({ ...BASE, status_if_new: 'pending', batch_size: 500, stream: streams } as TargetConfig)]).toEqual(expected);
  });
});
