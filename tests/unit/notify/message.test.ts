import { afterEach, describe, expect, it } from '@jest/globals';
import { clearSecrets, registerSecret } from '../../../src/log/redact.js';
import { cellText, cut, escapeHtml, htmlTable, redactNotification, SMS_MAX_LENGTH, TEXT_CELL_MAX, textTable, type Notification } from '../../../src/notify/message.js';

afterEach(() => clearSecrets());

describe('tables', () => {
  it('a plain-text table pads every column to its widest cell and rules the header', () => {
    expect(textTable(['Name', 'Email'], [['Ann', 'ann@example.org'], ['Bartholomew', 'b@x.io']])).toBe(
      ['Name         Email', '-----------  ---------------', 'Ann          ann@example.org', 'Bartholomew  b@x.io'].join('\n'),
    );
  });

  it('counts characters, not UTF-16 units, and cuts cells wider than the limit with an ellipsis', () => {
    const long = 'x'.repeat(TEXT_CELL_MAX + 10);
    const table = textTable(['N', 'E'], [['Zoë 😀', long]]).split('\n');
    expect(table[2]).toBe(`Zoë 😀  ${'x'.repeat(TEXT_CELL_MAX - 1)}…`);
  });

  it('an HTML table escapes every header and cell', () => {
    const html = htmlTable(['<b>Name</b>'], [['<script>alert("x")</script>'], ["O'Brien & Co"]]);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('O&#39;Brien &amp; Co');
  });

  it.each([
    [null, ''],
    [undefined, ''],
    [42, '42'],
    ['two\nlines', 'two lines'],
    [{ addr1: '1 Main St', city: 'Springfield', zip: '' }, '1 Main St, Springfield'],
  ])('cellText(%p) is %p', (value, text) => {
    expect(cellText(value)).toBe(text);
  });

  it('escapeHtml and cut', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(cut('abcdef', 4)).toBe('abc…');
    expect(cut('abc', 4)).toBe('abc');
    expect(cut('😀😀😀', 2)).toBe('😀…');
  });
});

describe('redactNotification', () => {
  const message = (secret: string): Notification => ({
    kind: 'alert',
    subject: `failed: token ${secret}\nsecond line`,
    text: `text ${secret}`,
    html: `<p>${secret}</p>`,
    sms: `sms ${secret} ${'y'.repeat(2000)}`,
    webhook: { text: `hook ${secret}`, nested: { list: [`a ${secret}`, 3] }, authorization: 'Basic dXNlcjpwYXNzd29yZHBhc3N3b3Jk' },
  });

  it('masks registered secrets in every field, folds the subject, and keeps the SMS within 1600 characters', () => {
    registerSecret('s3cr3t-value');
    const safe = redactNotification(message('s3cr3t-value'));
    expect(JSON.stringify(safe)).not.toContain('s3cr3t-value');
    expect(safe.subject).toBe('failed: token [REDACTED] second line');
    expect(safe.webhook).toEqual({ text: 'hook [REDACTED]', nested: { list: ['a [REDACTED]', 3] }, authorization: 'Basic [REDACTED]' });
    expect([...safe.sms].length).toBe(SMS_MAX_LENGTH);
  });
});
