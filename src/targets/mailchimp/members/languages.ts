/**
 * The languages Mailchimp knows a contact by (Audience > contact > Language; the API's member
 * `language`): its own codes, not free text. A value Mailchimp does not know would be refused
 * or ignored by it, so a record's language is checked here, in the plan, and rejected per row.
 */

/** Mailchimp's contact language codes (mailchimp.com/help/view-and-edit-contact-languages). */
export const MAILCHIMP_LANGUAGES: readonly string[] = [
  'af', 'ar', 'be', 'bg', 'ca', 'cs', 'da', 'de', 'el', 'en', 'es', 'es_ES', 'et', 'fa', 'fi', 'fr', 'fr_CA', 'ga', 'he', 'hi', 'hr', 'hu',
  'id', 'is', 'it', 'ja', 'km', 'ko', 'lt', 'lv', 'mk', 'ms', 'mt', 'nl', 'no', 'pl', 'pt', 'pt_PT', 'ro', 'ru', 'sk', 'sl', 'sr', 'sv',
  'sw', 'ta', 'th', 'tr', 'uk', 'vi', 'zh',
];

const BY_LOWER = new Map(MAILCHIMP_LANGUAGES.map((code) => [code.toLowerCase(), code]));

/**
 * Mailchimp's code for a language value, or undefined when it has none: its own codes in any
 * case, with `-` for `_` (`pt-PT`, `fr-ca`), and locales it has no code for by their language
 * (`en-US` and `en_GB` are `en`, `pt-BR` is `pt`, Mailchimp's Portuguese of Brazil).
 */
export function mailchimpLanguage(value: string): string | undefined {
  const text = value.trim().replace(/-/g, '_').toLowerCase();
  const exact = BY_LOWER.get(text);
  if (exact !== undefined) return exact;
  const locale = /^([a-z]{2,3})_[a-z0-9]{2,8}$/.exec(text);
  return locale ? BY_LOWER.get(locale[1] as string) : undefined;
}
