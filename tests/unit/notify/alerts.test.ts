import { describe, expect, it } from '@jest/globals';
import { HttpError } from '../../../src/http/errors.js';
import { RetryCounter } from '../../../src/http/retry-counter.js';
import { composeFailureAlert, composeWarning, runProblems } from '../../../src/notify/alerts.js';
import { SMS_MAX_LENGTH } from '../../../src/notify/message.js';

const RUN = {
  binary: 'tap-mixpanel',
  stoppedAt: 'stream engage',
  counts: [['export records', 1200], ['engage records', 40]] as const,
  lastState: { bookmarks: { export: { replication_key_value: '2026-11-30T00:00:00Z' } } },
  startedAt: new Date('2026-12-01T06:00:00Z'),
  finishedAt: new Date('2026-12-01T06:05:00Z'),
};

describe('composeFailureAlert', () => {
  const alert = composeFailureAlert({ ...RUN, error: 'GET https://mixpanel.com/api/query/engage failed: 503 <Service Unavailable>\nmore', exitCode: 4 });

  it('says what failed, where, the counts so far and the last state printed, in every channel', () => {
    expect(alert.subject).toBe('tap-mixpanel failed (exit 4): GET https://mixpanel.com/api/query/engage failed: 503 <Service Unavailable> more');
    expect(alert.text).toMatch(/Stopped at:\s+stream engage/);
    expect(alert.text).toMatch(/Counts so far:\s+export records 1200, engage records 40/);
    expect(alert.text).toContain(JSON.stringify(RUN.lastState, null, 2));
    expect(alert.html).toContain('&lt;Service Unavailable&gt;');
    expect(alert.html).not.toContain('<Service');
    expect(alert.sms).toBe('tap-mixpanel failed (exit 4) at stream engage: GET https://mixpanel.com/api/query/engage failed: 503 <Service Unavailable> more');
    expect(alert.webhook).toMatchObject({ kind: 'alert', exit_code: 4, stopped_at: 'stream engage', counts: { 'export records': 1200, 'engage records': 40 }, last_state: RUN.lastState });
  });

  it('a very long error stays within the SMS limit and a readable subject', () => {
    const long = composeFailureAlert({ ...RUN, error: 'x'.repeat(5000), exitCode: 5 });
    expect([...long.sms].length).toBeLessThanOrEqual(SMS_MAX_LENGTH);
    expect(long.subject.length).toBeLessThanOrEqual(150);
  });

  it('a run that printed no state says so', () => {
    const { lastState: _lastState, ...withoutState } = RUN;
    expect(composeFailureAlert({ ...withoutState, error: 'boom', exitCode: 1 }).text).toContain('(none printed in this run');
  });
});

describe('warnings', () => {
  const retries = (statuses: number[]) => {
    const counter = new RetryCounter();
    for (const status of statuses) counter.observe({ error: new HttpError({ method: 'GET', url: 'u', status }) });
    counter.observe({ error: new HttpError({ method: 'GET', url: 'u', code: 'ECONNRESET' }) });
    counter.observe({ error: new HttpError({ method: 'GET', url: 'u', status: 400 }) });
    return counter;
  };

  it('RetryCounter counts 5xx and 429 retries only', () => {
    const counter = retries([503, 503, 429, 500]);
    expect(counter.total).toBe(4);
    expect(counter.describe()).toBe('503 x2, 429 x1, 500 x1');
  });

  it('runProblems: empty expected streams of a complete run, and retries over the threshold', () => {
    const input = { expectedStreams: ['export', 'engage'], recordsByStream: new Map([['export', 0]]), retries: retries([503, 503]), retryThreshold: 1, service: 'Mixpanel', complete: true };
    expect(runProblems(input)).toEqual([
      'stream export had 0 records (alert_empty_streams expects some)',
      'stream engage had 0 records (alert_empty_streams expects some)',
      'Mixpanel answered with errors that needed 2 retries (503 x2), more than alert_retry_threshold (1)',
    ]);
    expect(runProblems({ ...input, complete: false, retryThreshold: 2 })).toEqual([]);
  });

  it('composeWarning lists every problem', () => {
    const warning = composeWarning({ ...RUN, problems: ['stream export had 0 records', 'too many retries'] });
    expect(warning.subject).toBe('tap-mixpanel finished with 2 warnings: stream export had 0 records; too many retries');
    expect(warning.text).toMatch(/Warning 1:\s+stream export had 0 records/);
    expect(warning.webhook).toMatchObject({ kind: 'warning', warnings: ['stream export had 0 records', 'too many retries'] });
  });
});
