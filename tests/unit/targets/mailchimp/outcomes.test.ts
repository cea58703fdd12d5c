import { describe, expect, it } from '@jest/globals';
import { HttpError } from '../../../../src/http/errors.js';
import { classifyMemberError, httpErrorText, REASONS, rowKey, Tally, type RowOutcome } from '../../../../src/targets/mailchimp/reports/outcomes.js';

// The texts below are Mailchimp's own, as the sandbox (src/sandbox/mailchimp/members.ts, validation.ts) returns them.
describe('classifyMemberError', () => {
  it('"Member Exists" by error code, whatever the text', () => {
    expect(classifyMemberError('something else entirely', 'ERROR_CONTACT_EXISTS')).toEqual({ kind: 'exists' });
  });

  it.each([
    'ada@example.org is already a list member. Use PUT to insert or update list members.',
    'Member Exists: ada@example.org is already a list member.',
  ])('"Member Exists" by text: %s', (text) => {
    expect(classifyMemberError(text, 'ERROR_GENERIC')).toEqual({ kind: 'exists' });
  });

  it('compliance state: skipped, not permanent (the person may re-subscribe)', () => {
    const text = 'ada@example.org is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.';
    expect(classifyMemberError(text, 'ERROR_GENERIC')).toEqual({ kind: 'skipped', reason: REASONS.compliance, permanent: false, detail: text });
  });

  it.each([
    'ada@example.org was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.',
    'Forgotten Email Not Subscribed: ada@example.org',
  ])('forgotten (permanently deleted): skipped, permanent: %s', (text) => {
    expect(classifyMemberError(text)).toEqual({ kind: 'skipped', reason: REASONS.forgotten, permanent: true, detail: text });
  });

  it('fake: rejected, permanent', () => {
    const text = 'test@gmail.com looks fake or invalid, please enter a real email address.';
    expect(classifyMemberError(text, 'ERROR_GENERIC')).toEqual({ kind: 'rejected', reason: REASONS.fake, permanent: true, detail: text });
  });

  it('invalid address: rejected, permanent', () => {
    const text = 'Please provide a valid email address.';
    expect(classifyMemberError(text, 'ERROR_GENERIC')).toEqual({ kind: 'rejected', reason: REASONS.invalidEmail, permanent: true, detail: text });
  });

  it.each(['Your merge fields were invalid.', 'Invalid Resource: Your merge fields were invalid.', 'The merge field LTV must be a number'])(
    'merge fields: rejected, not permanent (the data can be fixed): %s',
    (text) => {
      expect(classifyMemberError(text, 'ERROR_GENERIC')).toEqual({ kind: 'rejected', reason: REASONS.mergeFields, permanent: false, detail: text });
    },
  );

  it.each([
    'An unexpected internal error has occurred. Please contact Support for more information.',
    'Please try again later.',
    'Service temporarily unavailable',
    'The request timed out',
  ])('transient: %s', (text) => {
    expect(classifyMemberError(text, 'ERROR_GENERIC')).toEqual({ kind: 'transient', detail: text });
  });

  it('anything else: rejected with the text as the reason, not permanent', () => {
    const text = 'ada@example.org appears more than once in this request.';
    expect(classifyMemberError(text, 'ERROR_GENERIC')).toEqual({ kind: 'rejected', reason: text, permanent: false, detail: text });
  });

  it('a long unknown text is cut to 100 characters for the reason, and kept whole in the detail', () => {
    const text = `Weird: ${'x'.repeat(200)}`;
    const kind = classifyMemberError(text);
    expect(kind).toMatchObject({ kind: 'rejected', permanent: false, detail: text });
    if (kind.kind === 'rejected') {
      expect(kind.reason).toHaveLength(100);
      expect(kind.reason.endsWith('...')).toBe(true);
    }
  });

  it('is case-insensitive', () => {
    expect(classifyMemberError('IS IN A COMPLIANCE STATE')).toMatchObject({ kind: 'skipped', reason: REASONS.compliance });
  });
});

describe('httpErrorText', () => {
  it('the service message when there is one, else the message', () => {
    expect(httpErrorText(new HttpError({ method: 'PATCH', url: 'u', status: 400, serviceMessage: 'Invalid Resource: Your merge fields were invalid.' }))).toBe(
      'Invalid Resource: Your merge fields were invalid.',
    );
    expect(httpErrorText(new HttpError({ method: 'PATCH', url: 'http://h/x', status: 400 }))).toBe('PATCH http://h/x failed: 400 Bad Request');
  });
});

describe('Tally', () => {
  const row = (outcome: RowOutcome['outcome'], reason?: string): RowOutcome => ({ outcome, source: { line: 1, stream: 'engage', key: '[]' }, ...(reason ? { reason } : {}) });

  it('counts each outcome, skipped and rejected by reason, and the totals add up', () => {
    const tally = new Tally();
    tally.read = 9;
    for (const r of [
      row('created'),
      row('created'),
      row('updated'),
      row('unchanged'),
      row('skipped', REASONS.unsubscribed),
      row('skipped', REASONS.unsubscribed),
      row('skipped', REASONS.addOnly),
      row('rejected', REASONS.invalidEmail),
      row('rejected'),
    ]) {
      tally.add(r);
    }
    expect(tally).toMatchObject({ created: 2, updated: 1, unchanged: 1 });
    expect(tally.skipped).toEqual({ [REASONS.unsubscribed]: 2, [REASONS.addOnly]: 1 });
    expect(tally.rejected).toEqual({ [REASONS.invalidEmail]: 1, rejected: 1 });
    expect(tally.skippedTotal).toBe(3);
    expect(tally.rejectedTotal).toBe(2);
    expect(tally.accounted).toBe(9);
    expect(tally.accounted).toBe(tally.read);
  });

  it('starts at zero', () => {
    const tally = new Tally();
    expect([tally.accounted, tally.skippedTotal, tally.rejectedTotal, tally.read]).toEqual([0, 0, 0, 0]);
  });
});

describe('rowKey: a record key as text a spreadsheet shows as it is', () => {
  it.each<[string, string[], Record<string, unknown>, string]>([
    ['one key property', ['distinct_id'], { distinct_id: 'u123' }, 'u123'],
    ['a number', ['id'], { id: 42 }, '42'],
    ['a missing value', ['distinct_id'], {}, ''],
    ['a compound key', ['cohort_id', 'distinct_id'], { cohort_id: 7, distinct_id: 'u1' }, 'cohort_id=7, distinct_id=u1'],
    ['no key properties', [], { a: 1 }, ''],
    ['an object value', ['k'], { k: { a: 1 } }, '{"a":1}'],
  ])('%s', (_case, keys, record, expected) => {
    expect(rowKey(keys, record)).toBe(expected);
  });
});
