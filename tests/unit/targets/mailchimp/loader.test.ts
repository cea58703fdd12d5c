import { describe, expect, it } from '@jest/globals';
import { classifyMemberError } from '../../../../src/targets/mailchimp/loader.js';

describe('classifyMemberError: what a per-member error from batch subscribe means', () => {
  it.each<[string, { error: string; error_code?: string }, 'skipped' | 'rejected', string]>([
    [
      'a member that exists (error code)',
      { error: 'ana@example.org is already a list member. Use PUT to insert or update list members.', error_code: 'ERROR_CONTACT_EXISTS' },
      'skipped',
      'already in the audience',
    ],
    ['a member that exists (text only)', { error: 'ana@example.org is already a list member.', error_code: 'ERROR_GENERIC' }, 'skipped', 'already in the audience'],
    ['a member that exists (code only)', { error: 'Member Exists', error_code: 'ERROR_CONTACT_EXISTS' }, 'skipped', 'already in the audience'],
    [
      'a member in compliance state',
      { error: 'ana@example.org is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.', error_code: 'ERROR_GENERIC' },
      'skipped',
      'in compliance state (unsubscribed, bounced or under review)',
    ],
    [
      'a permanently deleted member',
      { error: 'ana@example.org was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.' },
      'skipped',
      'permanently deleted',
    ],
    [
      'an address Mailchimp thinks fake',
      { error: 'test@example.org looks fake or invalid, please enter a real email address.', error_code: 'ERROR_GENERIC' },
      'rejected',
      'email rejected by Mailchimp',
    ],
    ['an invalid address', { error: 'Please provide a valid email address.' }, 'rejected', 'email rejected by Mailchimp'],
    ['invalid merge fields', { error: 'Your merge fields were invalid.', error_code: 'ERROR_GENERIC' }, 'rejected', 'merge fields invalid'],
    ['anything else: its own text', { error: 'Something unexpected happened.' }, 'rejected', 'Something unexpected happened.'],
    ['the same, in any case', { error: 'ANA@EXAMPLE.ORG IS IN A COMPLIANCE STATE' }, 'skipped', 'in compliance state (unsubscribed, bounced or under review)'],
  ])('%s', (_case, error, outcome, reason) => {
    expect(classifyMemberError(error)).toEqual({ outcome, reason });
  });

  it('keeps an unknown reason short', () => {
    const reason = classifyMemberError({ error: `Unknown problem: ${'x'.repeat(300)}` }).reason;
    expect(reason).toHaveLength(120);
    expect(reason.startsWith('Unknown problem: ')).toBe(true);
  });
});
