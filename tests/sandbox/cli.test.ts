import { describe, expect, it } from '@jest/globals';
import { DEFAULT_CLI_PORT, parseSandboxArgs } from '../../src/sandbox/cli.js';
import { sandboxClientConfigs } from '../../src/sandbox/configs.js';
import { resolveOptions } from '../../src/sandbox/options.js';

describe('sandbox command line', () => {
  it('maps every flag to a sandbox option', () => {
    const args = parseSandboxArgs([
      '--port', '8751', '--seed', '7', '--now', '2024-06-10T12:00:00Z', '--from-date', '2024-05-01', '--days', '14',
      '--events-per-day', '1000', '--profiles', '2000', '--engage-page-size', '250', '--project-timezone', 'America/Los_Angeles',
      '--project-id', '99', '--api-secret', 's', '--service-account-username', 'u', '--service-account-secret', 'p',
      '--mailchimp-api-key', 'k-us9', '--list-id', 'l1', '--members', '20', '--required-merge-field', 'none',
      '--latency-export', '1', '--latency-query', '2', '--latency-mailchimp', '50', '--tap-auth', 'api_secret', '--json',
    ]);
    expect(args).toEqual({
      options: {
        port: 8751,
        seed: 7,
        now: '2024-06-10T12:00:00Z',
        fromDate: '2024-05-01',
        days: 14,
        eventsPerDay: 1000,
        profiles: 2000,
        engagePageSize: 250,
        projectTimezone: 'America/Los_Angeles',
        mixpanel: { projectId: 99, apiSecret: 's', serviceAccountUsername: 'u', serviceAccountSecret: 'p' },
        mailchimp: { apiKey: 'k-us9', listId: 'l1', members: 20, requiredMergeField: null },
        latencyMs: { export: 1, query: 2, mailchimp: 50 },
      },
      tapAuth: 'api_secret',
      json: true,
    });
  });

  it('maps the rate-limit and fault flags', () => {
    expect(parseSandboxArgs(['--rate-limits']).options.rateLimits).toBe(true);
    const args = parseSandboxArgs(['--rate-limit-hour-ms', '6000', '--faults', '[{"kind":"status","status":503,"times":2}]']);
    expect(args.options).toMatchObject({ rateLimits: { hour_ms: 6000 }, faults: [{ kind: 'status', status: 503, times: 2 }] });
    expect(resolveOptions(args.options).rateLimits).toMatchObject({ enabled: true, hourMs: 6000, export: { perSecond: 3, perHour: 60 } });
  });

  it('maps the audience-scale and batch flags', () => {
    const args = parseSandboxArgs(['--audience-size', '1000000', '--batch-rate', '10000', '--batches-paused']);
    expect(args.options.mailchimp).toEqual({ audienceSize: 1_000_000, batchOperationsPerSecond: 10_000, batchesPaused: true });
    expect(resolveOptions(args.options).mailchimp).toMatchObject({ audienceSize: 1_000_000, batchOperationsPerSecond: 10_000, batchesPaused: true });
    expect(resolveOptions({}).mailchimp).toMatchObject({ audienceSize: 0, batchOperationsPerSecond: 1000, batchesPaused: false });
    const messages: string[] = [];
    const output = { writeOut: (text: string) => messages.push(text), writeErr: (text: string) => messages.push(text) };
    expect(() => parseSandboxArgs(['--batch-rate', '0'], output)).toThrow();
    expect(messages.join('')).toMatch(/--batch-rate <ops\/s>.*expected a number > 0/);
    expect(() => resolveOptions({ mailchimp: { batchOperationsPerSecond: -1 } })).toThrow(/mailchimp.batchOperationsPerSecond/);
    expect(() => resolveOptions({ mailchimp: { audienceSize: 1.5 } })).toThrow(/mailchimp.audienceSize/);
  });

  it('leaves unset options to the sandbox defaults', () => {
    expect(parseSandboxArgs([])).toEqual({ options: { port: DEFAULT_CLI_PORT }, tapAuth: 'service_account', json: false });
  });

  it('rejects malformed numbers', () => {
    const messages: string[] = [];
    const output = { writeOut: (text: string) => messages.push(text), writeErr: (text: string) => messages.push(text) };
    expect(() => parseSandboxArgs(['--days', 'many'], output)).toThrow();
    expect(messages.join('')).toMatch(/--days <n>.*expected an integer/);
    expect(() => parseSandboxArgs(['--tap-auth', 'oauth'], output)).toThrow(/tap-auth/);
  });
});

describe('options and client configs', () => {
  it('applies the documented defaults', () => {
    const config = resolveOptions({ now: '2024-06-10T12:00:00Z' });
    expect(config).toMatchObject({
      port: 0,
      seed: 42,
      days: 30,
      eventsPerDay: 200,
      profiles: 500,
      engagePageSize: 1000,
      projectTimezone: 'UTC',
      mixpanel: { projectId: 1234567, apiSecret: 'sandbox-project-secret', serviceAccountUsername: 'sandbox-sa.0a1b2c.mp-service-account', serviceAccountSecret: 'sandbox-sa-secret' },
      mailchimp: { apiKey: '0123456789abcdef0123456789abcdef-us6', dc: 'us6', listId: 'a1b2c3d4e5', members: 60, requiredMergeField: 'FNAME' },
    });
  });

  it.each([
    [{ projectTimezone: 'Mars/Olympus' }, /projectTimezone/],
    [{ days: 0 }, /days/],
    [{ fromDate: '2024-13-01' }, /fromDate/],
    [{ now: 'yesterday' }, /now/],
    [{ eventsPerDay: 1.5 }, /eventsPerDay/],
  ])('rejects %p', (options, message) => {
    expect(() => resolveOptions(options)).toThrow(message);
  });

  it('builds tap and target configs in both auth flavours', () => {
    const config = resolveOptions({ now: '2024-06-10T12:00:00Z', days: 10 });
    const sandbox = {
      url: 'http://127.0.0.1:9',
      credentials: { mixpanel: config.mixpanel, mailchimp: { apiKey: config.mailchimp.apiKey, listId: config.mailchimp.listId, dc: 'us6' } },
      dataRange: { fromDate: '2024-06-01', toDate: '2024-06-10' },
    };
    expect(sandboxClientConfigs(sandbox)).toEqual({
      tap: {
        service_account_username: 'sandbox-sa.0a1b2c.mp-service-account',
        service_account_secret: 'sandbox-sa-secret',
        project_id: 1234567,
        start_date: '2024-06-01T00:00:00Z',
        export_base_url: 'http://127.0.0.1:9',
        query_base_url: 'http://127.0.0.1:9',
      },
      target: { api_key: '0123456789abcdef0123456789abcdef-us6', list_id: 'a1b2c3d4e5', api_base_url: 'http://127.0.0.1:9/3.0', status_if_new: 'subscribed' },
    });
    expect(sandboxClientConfigs(sandbox, { auth: 'api_secret' }).tap).toEqual({
      api_secret: 'sandbox-project-secret',
      project_id: 1234567,
      start_date: '2024-06-01T00:00:00Z',
      export_base_url: 'http://127.0.0.1:9',
      query_base_url: 'http://127.0.0.1:9',
    });
  });
});
