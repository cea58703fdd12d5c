import { describe, expect, it } from '@jest/globals';
import { RequestLog } from '../../src/sandbox/request-log.js';

const entry = () => ({ time: '2026-01-01T00:00:00.000Z', family: 'mailchimp' as const, method: 'GET', path: '/3.0/ping', query: {}, status: null, duration_ms: null, request_bytes: 0 });

describe('RequestLog.settled', () => {
  it('settles at once when no request is open', async () => {
    await expect(new RequestLog().settled(10_000)).resolves.toBeUndefined();
  });

  it('waits for the open requests to finish, so a summary counts them', async () => {
    const log = new RequestLog();
    const a = log.add(entry());
    const b = log.add(entry());
    let settled = false;
    const waiting = log.settled(10_000).then(() => (settled = true));
    log.complete({ ...a, status: 200 });
    await Promise.resolve();
    expect(settled).toBe(false);
    log.complete({ ...b, status: 200 });
    await waiting;
    expect(log.summary().total).toBe(2);
  });

  it('gives up after its timeout when a request never finishes', async () => {
    const log = new RequestLog();
    log.add(entry());
    await expect(log.settled(5)).resolves.toBeUndefined();
  });
});
