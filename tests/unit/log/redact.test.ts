import { afterEach, describe, expect, it } from '@jest/globals';
import { clearSecrets, redact, redactUrl, registerSecret } from '../../../src/log/redact.js';

afterEach(() => {
  clearSecrets();
});

describe('registered secrets', () => {
  it('masks every occurrence of a registered value', () => {
    registerSecret('s3cr3t-value');
    expect(redact('first s3cr3t-value then s3cr3t-value')).toBe('first [REDACTED] then [REDACTED]');
  });

  it('masks the URL-encoded form a secret takes in a query string', () => {
    const secret = 'ab+cd/ef=gh@ij';
    registerSecret(secret);
    const url = new URL('https://api.example.test/export');
    url.searchParams.set('q', secret);
    expect(url.toString()).toContain('ab%2Bcd%2Fef%3Dgh%40ij');
    expect(redactUrl(url)).toBe('https://api.example.test/export?q=[REDACTED]');
  });

  it('registers the value trimmed', () => {
    registerSecret('  padded-secret \n');
    expect(redact('key=padded-secret;')).toBe('key=[REDACTED];');
  });

  it('masks a secret that contains another one as a whole', () => {
    registerSecret('abcd');
    registerSecret('abcd-efgh-ijkl');
    expect(redact('long abcd-efgh-ijkl short abcd')).toBe('long [REDACTED] short [REDACTED]');
  });

  it('treats regular expression characters in a secret literally', () => {
    registerSecret('s3.cr*t(1)');
    expect(redact('s3.cr*t(1) s3Xcrrrt1')).toBe('[REDACTED] s3Xcrrrt1');
  });

  it.each<[string, unknown]>([
    ['shorter than 4 characters (too common to mask)', 'abc'],
    ['blank', '    '],
    ['a number', 12345678],
    ['undefined', undefined],
    ['an object', { secret: 'hidden-value' }],
  ])('ignores a value that is %s', (_case, value) => {
    registerSecret(value);
    expect(redact('abc 12345678 hidden-value')).toBe('abc 12345678 hidden-value');
  });

  it('forgets every secret on clearSecrets', () => {
    registerSecret('forget-me');
    clearSecrets();
    expect(redact('forget-me')).toBe('forget-me');
  });
});

describe('credential-shaped text, registered or not', () => {
  it.each<[string, string, string]>([
    ['an Authorization: Basic header', 'Authorization: Basic dXNlcjpwYXNzd29yZA==', 'Authorization: Basic [REDACTED]'],
    ['an Authorization: Bearer header with a JWT', 'authorization: Bearer eyJhbGciOi.eyJzdWIi.sig-_', 'authorization: Bearer [REDACTED]'],
    ['a JSON header dump', '{"Authorization":"Basic dXNlcjpwYXNzd29yZA=="}', '{"Authorization":"Basic [REDACTED]"}'],
    ['an object dump with single quotes', "{ authorization: 'Bearer abc.def' }", "{ authorization: 'Bearer [REDACTED]' }"],
    ['a raw header list as Node keeps it', '["Authorization","Basic dXNlcjpwYXNzd29yZA=="]', '["Authorization","Basic [REDACTED]"]'],
    ['a Bearer token on its own', 'retrying with Bearer 0123456789abcdefABCDEF', 'retrying with Bearer [REDACTED]'],
    ['a lower-case basic token on its own', 'sent basic dXNlcjpwYXNzd29yZA==', 'sent basic [REDACTED]'],
    ['a password in a URL', 'https://user:hunter22@example.org/path', 'https://user:[REDACTED]@example.org/path'],
    ['a password in a non-http URL', 'connecting to postgres://etl:pw-1234@db:5432/x', 'connecting to postgres://etl:[REDACTED]@db:5432/x'],
    ['api_key in a query string', 'GET /x?api_key=abc123&page=2', 'GET /x?api_key=[REDACTED]&page=2'],
    ['api_secret in a query string', 'https://mixpanel.com/api/2.0/engage?project_id=1&api_secret=deadbeef', 'https://mixpanel.com/api/2.0/engage?project_id=1&api_secret=[REDACTED]'],
    ['apikey, any case', '?APIKEY=abc123#frag', '?APIKEY=[REDACTED]#frag'],
    ['api-secret with a dash', '&api-secret=xyz', '&api-secret=[REDACTED]'],
    ['access_token', '?access_token=tok_123', '?access_token=[REDACTED]'],
    ['password', '?user=a&password=p4ss', '?user=a&password=[REDACTED]'],
    ['"api_key" in a JSON dump', '{"api_key": "0123-us6", "list_id": "abc"}', '{"api_key": "[REDACTED]", "list_id": "abc"}'],
    ['"service_account_secret" in a JSON dump', '{"service_account_secret":"svc-s3cret"}', '{"service_account_secret":"[REDACTED]"}'],
    ['"access_token" in a JSON dump', '{"access_token":"tok"}', '{"access_token":"[REDACTED]"}'],
    ['"password" in a JSON dump', '{"password" : "hunter2"}', '{"password" : "[REDACTED]"}'],
  ])('masks %s', (_case, text, expected) => {
    expect(redact(text)).toBe(expected);
  });

  it.each<[string, string]>([
    ['a URL without credentials', 'https://data.mixpanel.com/api/2.0/export?from_date=2024-01-01&project_id=42'],
    ['a user name without password', 'https://user@example.org/'],
    ['ordinary words', 'the basic plan has a bearer bond'],
    ['a key that only ends like a secret name', '?monkey=banana&tokens_used=3'],
  ])('leaves %s alone', (_case, text) => {
    expect(redact(text)).toBe(text);
  });
});

describe('pre-signed URLs', () => {
  it('the signature and credentials of a pre-signed download URL are masked, the rest is kept', () => {
    const url = 'https://mailchimp-api-batch.s3.amazonaws.com/abc-response.tar.gz?AWSAccessKeyId=AKIAEXAMPLE&Expires=1700000000&Signature=Zm9vYmFyYmF6%2B';
    expect(redactUrl(url)).toBe('https://mailchimp-api-batch.s3.amazonaws.com/abc-response.tar.gz?AWSAccessKeyId=[REDACTED]&Expires=1700000000&Signature=[REDACTED]');
    expect(redactUrl('https://x.s3.amazonaws.com/f?X-Amz-Credential=AK%2F2024&X-Amz-Signature=deadbeef')).toBe('https://x.s3.amazonaws.com/f?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]');
  });
});
