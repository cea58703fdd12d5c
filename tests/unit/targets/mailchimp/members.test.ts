import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  defaultMergeFields,
  emailKey,
  findEmail,
  isValidEmail,
  mailchimpAddress,
  normaliseEmail,
  subscriberHash,
} from '../../../../src/targets/mailchimp/members/members.js';

describe('normaliseEmail', () => {
  it.each<[unknown, string | undefined]>([
    ['  Ana@Mailbox.org  ', 'Ana@Mailbox.org'],
    ['\tbob@example.org\n', 'bob@example.org'],
    ['', undefined],
    ['   ', undefined],
    [null, undefined],
    [undefined, undefined],
    [42, undefined],
    [['a@example.org'], undefined],
  ])('%j -> %j (the case is kept: Mailchimp stores the address as given)', (raw, email) => {
    expect(normaliseEmail(raw)).toBe(email);
  });
});

describe('isValidEmail', () => {
  it.each([
    'ana@example.org',
    'Ana@Mailbox.org',
    'first.last@example.co.uk',
    'ana+newsletter@example.org',
    "o'brien@example.ie",
    'user_name-1@sub-domain.example.travel',
    '1234@example.org',
    'a@b.io',
  ])('accepts %s', (email) => {
    expect(isValidEmail(email)).toBe(true);
  });

  it.each([
    ['bob@@example.org', 'two @'],
    ['trailing.dot.@x.io', 'a local part ending with a dot'],
    ['.leading@x.io', 'a local part starting with a dot'],
    ['two..dots@x.io', 'consecutive dots'],
    ['not-an-email', 'no @'],
    ['@example.org', 'no local part'],
    ['ana@', 'no domain'],
    ['ana@localhost', 'a domain without a dot'],
    ['ana@example.c', 'a one-letter top-level label'],
    ['ana@example.123', 'a numeric top-level label'],
    ['ana@example.org.', 'a domain ending with a dot'],
    ['ana@-example.org', 'a label starting with a dash'],
    ['ana@example-.org', 'a label ending with a dash'],
    ['ana@exa_mple.org', 'an underscore in the domain'],
    ['ana smith@example.org', 'a space'],
    ['  Ana@Mailbox.org  ', 'surrounding spaces (normalise first)'],
    ['"ana"@example.org', 'a quoted local part'],
    ['ana@[192.168.0.1]', 'an address literal'],
    ['ana@exämple.org', 'a domain that is not ASCII (mailchimpAddress converts it first)'],
    [`${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(60)}.org`, 'more than 254 characters'],
  ])('rejects %s (%s)', (email) => {
    expect(isValidEmail(email)).toBe(false);
  });

  it('accepts "  Ana@Mailbox.org  " once normalised', () => {
    expect(isValidEmail(normaliseEmail('  Ana@Mailbox.org  ') ?? '')).toBe(true);
  });

  it('passes a Unicode local part on to Mailchimp (SMTPUTF8 addresses are real; Mailchimp decides, and its rejection is reported)', () => {
    expect(isValidEmail('josé@example.org')).toBe(true);
    expect(isValidEmail('用户@example.org')).toBe(true);
  });
});

describe('subscriberHash', () => {
  it('is the MD5 of the lower-cased address (Mailchimp\'s documented example)', () => {
    expect(subscriberHash('urist.mcvankab@freddiesjokes.com')).toBe('62eeb292278cc15f5817cb78f7790b08');
  });

  it('does not depend on the case or surrounding spaces of the address', () => {
    expect(subscriberHash('  Urist.McVankab@FreddiesJokes.com ')).toBe('62eeb292278cc15f5817cb78f7790b08');
  });

  it('equals md5(lower-case email) for any address', () => {
    const email = 'Ana.Lopez+News@Mailbox.ORG';
    expect(subscriberHash(email)).toBe(createHash('md5').update(email.toLowerCase()).digest('hex'));
  });
});

describe('emailKey', () => {
  it('treats addresses that differ only in case or spaces as one person', () => {
    expect(emailKey(' Ana@Mailbox.org')).toBe(emailKey('ana@mailbox.ORG '));
  });
});

describe('findEmail', () => {
  it.each<[string, Record<string, unknown>, string | undefined, unknown]>([
    ['the configured property', { work_email: 'w@x.io', mp_reserved_email: 'm@x.io' }, 'work_email', 'w@x.io'],
    ['the configured property, even when empty', { work_email: '', mp_reserved_email: 'm@x.io' }, 'work_email', ''],
    ['mp_reserved_email first', { mp_reserved_email: 'm@x.io', $email: 'd@x.io', email: 'e@x.io' }, undefined, 'm@x.io'],
    ['$email next', { $email: 'd@x.io', email: 'e@x.io' }, undefined, 'd@x.io'],
    ['email last', { email: 'e@x.io' }, undefined, 'e@x.io'],
    ['skipping empty and null values', { mp_reserved_email: '', $email: null, email: 'e@x.io' }, undefined, 'e@x.io'],
    ['nothing', { name: 'Ana' }, undefined, undefined],
  ])('finds %s', (_case, record, property, email) => {
    expect(findEmail(record, property)).toBe(email);
  });
});

describe('defaultMergeFields', () => {
  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['first and last name', { mp_reserved_first_name: 'Ana', mp_reserved_last_name: 'López' }, { FNAME: 'Ana', LNAME: 'López' }],
    ['plain first_name and last_name', { first_name: ' Ana ', last_name: 'López' }, { FNAME: 'Ana', LNAME: 'López' }],
    ['camelCase names', { firstName: 'Ana', lastName: 'López' }, { FNAME: 'Ana', LNAME: 'López' }],
    ['only a first name', { mp_reserved_first_name: 'Ana', mp_reserved_name: 'Ana María López' }, { FNAME: 'Ana' }],
    ['a full name split at its first space', { mp_reserved_name: 'Ana María López' }, { FNAME: 'Ana', LNAME: 'María López' }],
    ['a full name with extra spaces', { name: '  Ana   López ' }, { FNAME: 'Ana', LNAME: 'López' }],
    ['a one-word full name', { name: 'Cher' }, { FNAME: 'Cher' }],
    ['a number as a name', { first_name: 7 }, { FNAME: '7' }],
    ['blank names', { first_name: '  ', name: '' }, {}],
    ['no names', { email: 'a@x.io' }, {}],
    ['names of the wrong type', { first_name: { given: 'Ana' }, name: ['Ana'] }, {}],
  ])('%s', (_case, record, fields) => {
    expect(defaultMergeFields(record)).toEqual(fields);
  });
});

describe('mailchimpAddress: what Mailchimp can take', () => {
  it.each([
    ['ana@bücher.de', 'ana@xn--bcher-kva.de'],
    ['Ana@München.Example', 'Ana@xn--mnchen-3ya.example'],
    ['ivan@пример.рф', 'ivan@xn--e1afmkfd.xn--p1ai'],
    ['ana@example.org', 'ana@example.org'],
    ['ana@xn--bcher-kva.de', 'ana@xn--bcher-kva.de'],
  ])('%s is sent as %s (the domain in punycode)', (raw, sent) => {
    expect(mailchimpAddress(raw)).toEqual({ ok: true, email: sent });
  });

  it.each(['jörg@example.org', '用户@例子.广告', 'zoë@example.org'])('%s is refused: Mailchimp takes only ASCII before the @', (raw) => {
    expect(mailchimpAddress(raw)).toEqual({ ok: false, reason: 'non-ASCII characters before the @', detail: expect.stringContaining('only ASCII') });
  });

  it.each([
    ['ana@exa mple.de', 'not an address'],
    ['ana@', 'needs a local part'],
    ['@bücher.de', 'needs a local part'],
    ['ana@bü_cher.de', 'not an address Mailchimp accepts (as ASCII'],
  ])('%s is an invalid address, with why', (raw, why) => {
    const check = mailchimpAddress(raw);
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : `${check.reason}: ${check.detail}`).toContain(why);
  });
});
