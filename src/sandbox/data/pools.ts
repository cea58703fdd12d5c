/**
 * Word lists the generators draw from. Domains are realistic-looking but not anyone's real
 * customers; example.com and test.com are deliberately absent (Mailchimp rejects them as fake).
 */

/** [display, ascii form used in email addresses] */
export const FIRST_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['Ana', 'ana'], ['José', 'jose'], ['Zoë', 'zoe'], ['Liam', 'liam'], ['Olivia', 'olivia'], ['Noah', 'noah'],
  ['Emma', 'emma'], ['Mateo', 'mateo'], ['Sofía', 'sofia'], ['Lukas', 'lukas'], ['Chloé', 'chloe'],
  ['Amélie', 'amelie'], ['Björn', 'bjorn'], ['Priya', 'priya'], ['Arjun', 'arjun'], ['Fatima', 'fatima'],
  ['Omar', 'omar'], ['Kwame', 'kwame'], ['Ngozi', 'ngozi'], ['Søren', 'soren'], ['Inês', 'ines'],
  ['Hannah', 'hannah'], ['Mia', 'mia'], ['Leon', 'leon'], ['Yuki', 'yuki'], ['Dmitri', 'dmitri'],
  ['Łucja', 'lucja'], ['Marta', 'marta'], ['Tomás', 'tomas'], ['Aisha', 'aisha'],
];

export const LAST_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['Silva', 'silva'], ['García', 'garcia'], ['Müller', 'muller'], ['Smith', 'smith'], ['Johnson', 'johnson'],
  ['Dubois', 'dubois'], ['Rossi', 'rossi'], ['Nowak', 'nowak'], ['Ñandú', 'nandu'], ["O'Brien", 'obrien'],
  ['Kowalski', 'kowalski'], ['Okafor', 'okafor'], ['Haddad', 'haddad'], ['Patel', 'patel'], ['Nguyen', 'nguyen'],
  ['Andersson', 'andersson'], ['Fernández', 'fernandez'], ['Costa', 'costa'], ['Schmidt', 'schmidt'],
  ['van der Berg', 'vanderberg'], ['Ødegaard', 'odegaard'], ['Mensah', 'mensah'],
];

/** Names written family name first, with no space. */
export const EAST_ASIAN_NAMES: ReadonlyArray<{ first: string; last: string; ascii: string }> = [
  { first: '雷', last: '李', ascii: 'li.lei' },
  { first: '梅梅', last: '韩', ascii: 'han.meimei' },
  { first: '美咲', last: '佐藤', ascii: 'sato.misaki' },
  { first: '지민', last: '김', ascii: 'kim.jimin' },
];

export const EMAIL_DOMAINS = ['mailbox.org', 'proton.me', 'acme.io', 'example.org', 'globex.io', 'initech.dev'] as const;

export interface Place {
  city: string;
  region: string;
  countryCode: string;
  timezone: string;
  phonePrefix: string;
}

export const PLACES: readonly Place[] = [
  { city: 'San Francisco', region: 'California', countryCode: 'US', timezone: 'America/Los_Angeles', phonePrefix: '+1 415' },
  { city: 'New York', region: 'New York', countryCode: 'US', timezone: 'America/New_York', phonePrefix: '+1 212' },
  { city: 'London', region: 'England', countryCode: 'GB', timezone: 'Europe/London', phonePrefix: '+44 20' },
  { city: 'Berlin', region: 'Berlin', countryCode: 'DE', timezone: 'Europe/Berlin', phonePrefix: '+49 30' },
  { city: 'Paris', region: 'Île-de-France', countryCode: 'FR', timezone: 'Europe/Paris', phonePrefix: '+33 1' },
  { city: 'São Paulo', region: 'São Paulo', countryCode: 'BR', timezone: 'America/Sao_Paulo', phonePrefix: '+55 11' },
  { city: 'Tokyo', region: 'Tokyo', countryCode: 'JP', timezone: 'Asia/Tokyo', phonePrefix: '+81 3' },
  { city: 'Bengaluru', region: 'Karnataka', countryCode: 'IN', timezone: 'Asia/Kolkata', phonePrefix: '+91 80' },
  { city: 'Lagos', region: 'Lagos', countryCode: 'NG', timezone: 'Africa/Lagos', phonePrefix: '+234 1' },
  { city: 'Sydney', region: 'New South Wales', countryCode: 'AU', timezone: 'Australia/Sydney', phonePrefix: '+61 2' },
  { city: 'Toronto', region: 'Ontario', countryCode: 'CA', timezone: 'America/Toronto', phonePrefix: '+1 416' },
  { city: 'Madrid', region: 'Madrid', countryCode: 'ES', timezone: 'Europe/Madrid', phonePrefix: '+34 91' },
  { city: 'Kraków', region: 'Lesser Poland', countryCode: 'PL', timezone: 'Europe/Warsaw', phonePrefix: '+48 12' },
  { city: 'Shanghai', region: 'Shanghai', countryCode: 'CN', timezone: 'Asia/Shanghai', phonePrefix: '+86 21' },
  { city: 'Mexico City', region: 'Mexico City', countryCode: 'MX', timezone: 'America/Mexico_City', phonePrefix: '+52 55' },
  { city: 'Zürich', region: 'Zurich', countryCode: 'CH', timezone: 'Europe/Zurich', phonePrefix: '+41 44' },
];

export const PLANS = ['free', 'pro', 'enterprise'] as const;
export const SIGNUP_SOURCES = ['organic', 'google_ads', 'referral', 'newsletter', 'partner', 'app_store'] as const;
export const PROFILE_TAGS = ['beta', 'vip', 'churn-risk', 'newsletter', 'early-adopter', 'support-heavy'] as const;

export const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'Edge', 'Mobile Safari', 'Samsung Internet'] as const;
export const OPERATING_SYSTEMS = ['Windows', 'Mac OS X', 'iOS', 'Android', 'Linux'] as const;
export const MP_LIBS = ['web', 'web', 'web', 'iphone', 'android', 'python', 'node'] as const;
export const PAGE_PATHS = ['/', '/pricing', '/blog/launch-week', '/docs/getting-started', '/cart', '/checkout', '/account', '/café/menu', '/search?q=sandal'] as const;
export const SEARCH_QUERIES = ['running shoes', 'café', 'サンダル', 'naïve linen shirt', '👟', 'gift card', 'sale', 'Größe 42'] as const;
export const PRODUCTS: ReadonlyArray<readonly [string, string, number]> = [
  ['sku-1001', 'Trail Runner', 89.9],
  ['sku-1002', 'Linen Shirt', 39.5],
  ['sku-1003', 'Espresso Cup Set', 24],
  ['sku-1004', 'Café Crème Beans 1kg', 18.75],
  ['sku-1005', 'Wool Socks (3 pack)', 12.99],
  ['sku-1006', '保温杯 Thermos', 29.9],
];
export const CURRENCIES = ['USD', 'EUR', 'BRL', 'JPY', 'GBP'] as const;
export const CAFES = ['Café de Flore', 'Les Deux Magots', 'Café Tortoni', 'Kaffee Alt Wien'] as const;
