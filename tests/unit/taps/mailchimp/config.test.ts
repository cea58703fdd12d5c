/** tap-mailchimp's configuration and resume state, as tables. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError, InputError } from '../../../../src/errors/index.js';
import { clearSecrets, redact } from '../../../../src/log/redact.js';
import type { JsonObject } from '../../../../src/singer/messages.js';
import { parseState } from '../../../../src/singer/state.js';
import { configuredListIds, loadMailchimpTapConfig, MAILCHIMP_STREAM_NAMES } from '../../../../src/taps/mailchimp/config.js';
import { checkMailchimpTapState } from '../../../../src/taps/mailchimp/state-shape.js';
import { MAILCHIMP_STREAMS } from '../../../../src/taps/mailchimp/streams/index.js';

let dir: string;
let count = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unit-tapmc-config-'));
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

function problemsOf(config: JsonObject, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadMailchimpTapConfig([file(config), ...(Object.keys(env).length > 0 ? ['ENV'] : [])], env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).details];
  }
  return [];
}

const KEY = { api_key: '0123456789abcdef0123456789abcdef-us6' };

describe('loadMailchimpTapConfig', () => {
  it.each<[string, JsonObject, string[]]>([
    ['an API key with its data center', KEY, []],
    ['an OAuth token with its server', { access_token: 'token-0001', server: 'us6' }, []],
    ['no credentials', {}, ['credentials are missing: set "api_key" (Account > Extras > API keys), or "access_token" with "server"']],
    ['a key without its -usN', { api_key: '0123456789abcdef' }, ['"api_key" does not end with a data center such as -us6: copy the whole key from Account > Extras > API keys']],
    ['list_ids as a comma-separated string', { ...KEY, list_ids: 'a1b2c3d4e5, f6a7b8c9d0' }, []],
    ['list_ids empty', { ...KEY, list_ids: [] }, ['"list_ids" is empty: leave it out to read every audience, or name Audience IDs such as a1b2c3d4e5']],
    ['list_ids with a name instead of an ID', { ...KEY, list_ids: ['My Newsletter'] }, ['"list_ids" holds "My Newsletter", which is not an Audience ID: copy the ID from Audience > Settings > Audience name and defaults (e.g. a1b2c3d4e5)']],
    ['max_concurrency above Mailchimp\'s 10', { ...KEY, max_concurrency: 11 }, ['"max_concurrency" must be <= 10 (got 11): Requests in flight at once, shared by the whole run. Mailchimp allows 10 connections per API key and answers more with 429; leave room for other tools that use the same key (target-mailchimp, the Mailchimp app\'s integrations).']],
    ['page_size above 1000', { ...KEY, page_size: 5000 }, ['"page_size" must be <= 1000 (got 5000): Members (and other records) per request: Mailchimp\'s count, at most 1000.']],
    ['a near miss of a setting', { ...KEY, list_id: 'a1b2c3d4e5' }, ['unknown key "list_id": did you mean "list_ids"?']],
    ['a stream that does not exist in alert_empty_streams', { ...KEY, alert_empty_streams: ['members'] }, ['"alert_empty_streams" names "members", which is not a stream: use some of lists, merge_fields, interest_categories, interests, tags, list_members']],
  ])('%s', (_name, config, expected) => {
    expect(problemsOf(config)).toEqual(expected);
  });

  it('applies the defaults', () => {
    const config = loadMailchimpTapConfig([file(KEY)], {});
    expect(config).toMatchObject({ max_concurrency: 5, page_size: 1000, slice_members: 20000, last_changed_settle_seconds: 60, request_timeout: 120, max_retries: 5 });
  });

  it('reads TAP_MAILCHIMP_ variables with --config ENV, later wins, and hides the key', () => {
    const config = loadMailchimpTapConfig([file({ api_key: 'aaaaaaaaaaaaaaaa-us1' }), 'ENV'], { TAP_MAILCHIMP_API_KEY: KEY.api_key, TAP_MAILCHIMP_LIST_IDS: 'a1b2c3d4e5,a1b2c3d4e5,f6a7b8c9d0' });
    expect(config.api_key).toBe(KEY.api_key);
    expect(configuredListIds(config)).toEqual(['a1b2c3d4e5', 'f6a7b8c9d0']);
    expect(redact(`key ${KEY.api_key}`)).not.toContain(KEY.api_key);
  });

  it('names a near miss of a variable', () => {
    expect(problemsOf(KEY, { TAP_MAILCHIMP_LIST_ID: 'a1b2c3d4e5' })).toEqual(['unknown variable TAP_MAILCHIMP_LIST_ID: did you mean TAP_MAILCHIMP_LIST_IDS (setting "list_ids")?']);
  });

  it('the Meltano definition declares only capabilities the binary has', async () => {
    const { MAILCHIMP_TAP_CAPABILITIES } = await import('../../../../src/taps/mailchimp/main.js');
    const yaml = readFileSync(new URL('../../../../meltano/tap-mailchimp.yml', import.meta.url), 'utf8');
    const declared = [...(/^capabilities:\n((?:- \S+\n)+)/m.exec(yaml)?.[1] ?? '').matchAll(/^- (\S+)$/gm)].map((m) => m[1]);
    expect(declared.length).toBeGreaterThan(0);
    for (const c of declared) expect(MAILCHIMP_TAP_CAPABILITIES).toContain(c);
  });

  it('the stream names of the config checks are the streams', () => {
    expect([...MAILCHIMP_STREAM_NAMES]).toEqual(MAILCHIMP_STREAMS.map((s) => s.name));
  });
});

describe('resume state', () => {
  const state = (value: unknown) => parseState({ bookmarks: { list_members: value } }, 'state.json');

  it.each<[string, unknown]>([
    ['a bookmark per audience', { partitions: [{ context: { list_id: 'a1b2c3d4e5' }, replication_key: 'last_changed', replication_key_value: '2024-06-01T00:00:00Z' }] }],
    ['an audience without a value yet', { partitions: [{ context: { list_id: 'a1b2c3d4e5' } }] }],
  ])('accepts %s', (_name, bookmark) => {
    expect(() => checkMailchimpTapState(state(bookmark), 'state.json')).not.toThrow();
  });

  it.each<[string, unknown, RegExp]>([
    ['a value that is not a date-time', { partitions: [{ context: { list_id: 'a1' }, replication_key_value: 'yesterday' }] }, /partitions\[0\]\.replication_key_value must be a date-time .* \(got "yesterday"\)/],
    ['a partition without list_id', { partitions: [{ context: { id: 'a1' }, replication_key_value: '2024-06-01T00:00:00Z' }] }, /partitions\[0\]\.context\.list_id must be an Audience ID/],
  ])('refuses %s (exit 3), naming the key', (_name, bookmark, message) => {
    expect(() => checkMailchimpTapState(state(bookmark), 'state.json')).toThrow(InputError);
    expect(() => checkMailchimpTapState(state(bookmark), 'state.json')).toThrow(message);
  });
});
