/**
 * Mailchimp's rules for what a member write may contain: address syntax, addresses that look
 * fake, and merge field values by type. Pure functions; messages follow the real API's wording.
 */

export interface MergeFieldDefinition {
  merge_id: number;
  tag: string;
  name: string;
  type: 'text' | 'number' | 'address' | 'phone' | 'date' | 'url' | 'imageurl' | 'radio' | 'dropdown' | 'birthday' | 'zip';
  required: boolean;
  default_value: string;
  public: boolean;
  display_order: number;
  options: { default_country?: number; phone_format?: string; date_format?: string; choices?: string[]; size?: number };
  help_text: string;
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** The seeded audience's merge fields, in Mailchimp's default order; `required` marks one tag required. */
export function seedMergeFields(required: string | null): MergeFieldDefinition[] {
  const base: Array<Omit<MergeFieldDefinition, 'required' | 'display_order' | 'default_value' | 'public' | 'help_text'>> = [
    { merge_id: 1, tag: 'FNAME', name: 'First Name', type: 'text', options: { size: 25 } },
    { merge_id: 2, tag: 'LNAME', name: 'Last Name', type: 'text', options: { size: 25 } },
    { merge_id: 3, tag: 'ADDRESS', name: 'Address', type: 'address', options: { default_country: 164 } },
    { merge_id: 4, tag: 'PHONE', name: 'Phone Number', type: 'phone', options: { phone_format: 'none' } },
    { merge_id: 5, tag: 'BIRTHDAY', name: 'Birthday', type: 'birthday', options: { date_format: 'MM/DD' } },
    { merge_id: 6, tag: 'SIGNUP', name: 'Signup Date', type: 'date', options: { date_format: 'YYYY-MM-DD' } },
    { merge_id: 7, tag: 'PLAN', name: 'Plan', type: 'dropdown', options: { choices: ['free', 'pro', 'enterprise'] } },
    { merge_id: 8, tag: 'LTV', name: 'Lifetime Value', type: 'number', options: {} },
  ];
  return base.map((field, i) => ({
    ...field,
    required: required !== null && field.tag === required.toUpperCase(),
    default_value: '',
    public: field.type !== 'number',
    display_order: i + 1,
    help_text: '',
  }));
}

// Dot-atom local part (no leading, trailing or doubled dots), then a dotted host name.
const EMAIL_SYNTAX =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,}$/;

export function isValidEmailSyntax(email: string): boolean {
  return email.length <= 254 && EMAIL_SYNTAX.test(email);
}

const FAKE_DOMAINS = new Set(['example.com', 'test.com']);
const FAKE_LOCAL_PARTS = new Set(['test', 'asdf', 'fake']);

/** Addresses Mailchimp refuses as "looks fake or invalid". */
export function looksFake(email: string): boolean {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at).toLowerCase();
  const domain = email.slice(at + 1).toLowerCase();
  return FAKE_DOMAINS.has(domain) || FAKE_LOCAL_PARTS.has(local);
}

export const INVALID_EMAIL_MESSAGE = 'Please provide a valid email address.';
export const INVALID_MERGE_FIELDS_MESSAGE = 'Your merge fields were invalid.';

export function fakeEmailMessage(email: string): string {
  return `${email} looks fake or invalid, please enter a real email address.`;
}

/** Why an address cannot be written, or null when it can. */
export function emailProblem(email: string): string | null {
  if (!isValidEmailSyntax(email)) return INVALID_EMAIL_MESSAGE;
  if (looksFake(email)) return fakeEmailMessage(email);
  return null;
}

export interface MergeValidation {
  /** Known tags only, values as they will be stored. */
  values: Record<string, unknown>;
  problems: FieldProblem[];
}

/**
 * Checks merge field values by type. Unknown tags are dropped, as Mailchimp ignores them.
 * `checkRequired` is on for new members unless the caller asked for skip_merge_validation.
 */
export function validateMergeFields(
  definitions: readonly MergeFieldDefinition[],
  input: unknown,
  checkRequired: boolean,
): MergeValidation {
  const values: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  const given = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
  if (input !== undefined && input !== null && given !== input) {
    problems.push({ field: 'merge_fields', message: 'Merge fields must be an object' });
  }
  for (const def of definitions) {
    if (!Object.prototype.hasOwnProperty.call(given, def.tag)) {
      if (checkRequired && def.required) problems.push({ field: def.tag, message: 'Please enter a value' });
      continue;
    }
    const value = given[def.tag];
    if (value === '' || value === null) {
      if (checkRequired && def.required) problems.push({ field: def.tag, message: 'Please enter a value' });
      else values[def.tag] = '';
      continue;
    }
    const message = valueProblem(def, value);
    if (message) problems.push({ field: def.tag, message });
    else values[def.tag] = normalise(def, value);
  }
  return { values, problems };
}

function valueProblem(def: MergeFieldDefinition, value: unknown): string | null {
  switch (def.type) {
    case 'number':
      return typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
        ? null
        : 'Please enter a number';
    case 'date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? null : 'Please enter a date';
    case 'birthday': {
      const m = typeof value === 'string' ? /^(\d{1,2})\/(\d{1,2})$/.exec(value) : null;
      const month = m ? Number(m[1]) : 0;
      const day = m ? Number(m[2]) : 0;
      return month >= 1 && month <= 12 && day >= 1 && day <= 31
        ? null
        : 'Please enter a month (01-12) and day (01-31), separated by a slash';
    }
    case 'dropdown':
    case 'radio': {
      const choices = def.options.choices ?? [];
      return typeof value === 'string' && choices.includes(value) ? null : `Value must be one of: ${choices.join(', ')}`;
    }
    case 'address': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'Please enter a complete address';
      const address = value as Record<string, unknown>;
      const complete = ['addr1', 'city', 'state', 'zip'].every((k) => typeof address[k] === 'string' && address[k] !== '');
      return complete ? null : 'Please enter a complete address';
    }
    case 'url':
    case 'imageurl':
      return typeof value === 'string' && /^https?:\/\/\S+$/i.test(value) ? null : 'Please enter a valid URL';
    default:
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? null : 'Please enter text';
  }
}

function normalise(def: MergeFieldDefinition, value: unknown): unknown {
  if (def.type === 'number') return Number(value);
  if (def.type === 'address') {
    const a = value as Record<string, unknown>;
    return { addr1: a.addr1, addr2: a.addr2 ?? '', city: a.city, state: a.state, zip: a.zip, country: a.country ?? 'US' };
  }
  return typeof value === 'string' ? value : String(value);
}
