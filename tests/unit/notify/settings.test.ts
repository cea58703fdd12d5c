import { afterEach, describe, expect, it } from '@jest/globals';
import { clearSecrets, redact } from '../../../src/log/redact.js';
import { loadSchema } from '../../../src/schemas/index.js';
import { alertChannels, checkNotifyConfig, digestChannels, registerNotifySecrets } from '../../../src/notify/settings.js';
import type { JsonObject } from '../../../src/singer/messages.js';

afterEach(() => clearSecrets());

const SMTP = { smtp_host: 'smtp.example.org', email_from: 'Data <data@example.org>', smtp_username: 'apikey', smtp_password: 'pw-123456' };
const TWILIO = { twilio_account_sid: 'AC0123456789abcdef0123456789abcdef', twilio_auth_token: 'tok-123456', twilio_from: '+15005550006' };

describe('checkNotifyConfig', () => {
  it.each<[string, JsonObject, string[]]>([
    ['nothing set', {}, []],
    ['a complete email and SMS setup', { ...SMTP, ...TWILIO, digest_email_to: ['a@example.org'], alert_sms_to: '+14155550100' }, []],
    [
      'email recipients without a server or a sender',
      { alert_email_to: 'oncall@example.org' },
      [
        '"smtp_host" is required with alert_email_to: the SMTP server of your mail provider, e.g. smtp.sendgrid.net or smtp.office365.com',
        '"email_from" is required with alert_email_to: the sender address, e.g. "Data team <data@example.org>"',
      ],
    ],
    ['a recipient that is not an address', { ...SMTP, digest_email_to: ['ann'] }, ['"digest_email_to" holds "ann", which is not an email address: use name@example.org']],
    ['a username without a password', { ...SMTP, smtp_password: undefined as unknown as string }, ['"smtp_password" is required with smtp_username (your provider\'s SMTP password or API key)']],
    [
      'a password sent in plain to another host',
      { ...SMTP, smtp_security: 'none' },
      ['"smtp_security" is none, which would send smtp_password unencrypted to smtp.example.org: use starttls (port 587) or tls (port 465); none is for a relay on this machine'],
    ],
    ['plain SMTP to a relay on this machine', { ...SMTP, smtp_host: '127.0.0.1', smtp_security: 'none' }, []],
    [
      'SMS without a token or a sender',
      { twilio_account_sid: TWILIO.twilio_account_sid, digest_sms_to: ['+14155550100'] },
      [
        '"twilio_auth_token" is required with digest_sms_to: the Auth Token from the Twilio console, next to the Account SID',
        '"twilio_from" or "twilio_messaging_service_sid" is required with digest_sms_to: a Twilio number such as +14155550100, or a Messaging Service SID (MG...)',
      ],
    ],
    ['a number not in E.164 form', { ...TWILIO, alert_sms_to: ['415-555-0100'] }, ['"alert_sms_to" holds "415-555-0100", which is not a phone number in E.164 form: use + and the country code, e.g. +14155550100']],
  ])('%s', (_what, config, problems) => {
    expect(checkNotifyConfig(config, { digest: true })).toEqual(problems);
  });

  it('the tap has no digest keys: they are not checked there', () => {
    expect(checkNotifyConfig({ digest_email_to: 'x' }, { digest: false })).toEqual([]);
  });
});

describe('channels', () => {
  it('alerts and the digest each go to the channels with their own recipients', () => {
    const config = { ...SMTP, ...TWILIO, digest_email_to: 'a@example.org, b@example.org', alert_sms_to: ['+14155550100'], notify_webhook_url: 'https://hooks.example.org/d' };
    expect(digestChannels(config).map((c) => c.kind)).toEqual(['email', 'webhook']);
    expect(alertChannels(config).map((c) => c.kind)).toEqual(['sms']);
    const [email] = digestChannels(config);
    expect(email).toMatchObject({ kind: 'email', to: ['a@example.org', 'b@example.org'], smtp: { host: 'smtp.example.org', port: 587, security: 'starttls' } });
  });

  it.each<['starttls' | 'tls' | 'none', number]>([
    ['starttls', 587],
    ['tls', 465],
    ['none', 25],
  ])('smtp_security %s defaults to port %d', (security, port) => {
    const [email] = alertChannels({ ...SMTP, smtp_security: security, alert_email_to: 'a@example.org' });
    expect(email).toMatchObject({ smtp: { port } });
  });
});

describe('registerNotifySecrets', () => {
  it('masks the path and query of webhook URLs and the wire forms of the SMTP password', () => {
    registerNotifySecrets({ notify_webhook_url: 'https://hooks.slack.com/services/T0/B0/XYZSECRET', alert_webhook_url: 'https://example.org/hook?sig=QSIG1234', ...SMTP });
    const text = `POST /services/T0/B0/XYZSECRET failed; ?sig=QSIG1234; ${Buffer.from('\u0000apikey\u0000pw-123456').toString('base64')} ${Buffer.from('pw-123456').toString('base64')}`;
    const safe = redact(text);
    for (const secret of ['XYZSECRET', 'QSIG1234', Buffer.from('pw-123456').toString('base64')]) expect(safe).not.toContain(secret);
  });
});

describe('the schemas', () => {
  const ALERT_KEYS = ['smtp_host', 'smtp_port', 'smtp_security', 'smtp_username', 'smtp_password', 'smtp_tls_ca_file', 'email_from', 'alert_email_to', 'twilio_account_sid', 'twilio_auth_token', 'twilio_from', 'twilio_messaging_service_sid', 'twilio_api_base_url', 'alert_sms_to', 'alert_webhook_url', 'alert_empty_streams', 'alert_retry_threshold', 'notify_timeout_seconds'];
  const shape = (prop: Record<string, unknown> | undefined) => {
    const { description: _description, ...rest } = prop ?? {};
    return rest;
  };

  it('both binaries declare the alert keys alike (descriptions may name their own service)', () => {
    const tap = loadSchema('tap-mixpanel.config.json').properties ?? {};
    const target = loadSchema('target-mailchimp.config.json').properties ?? {};
    for (const key of ALERT_KEYS) {
      expect([key, shape(tap[key])]).toEqual([key, shape(target[key])]);
      expect(tap[key]).toBeDefined();
    }
  });

  it('secrets are marked secret in both', () => {
    const target = loadSchema('target-mailchimp.config.json').properties ?? {};
    for (const key of ['smtp_password', 'twilio_auth_token', 'alert_webhook_url', 'notify_webhook_url']) expect([key, target[key]?.secret]).toEqual([key, true]);
  });
});
