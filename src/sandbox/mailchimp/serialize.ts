/**
 * The Mailchimp API's JSON shapes for members, lists, merge fields and tags, and the
 * `fields` / `exclude_fields` projection every GET accepts.
 */
import { memberInterests, memberPermissions } from './groups.js';
import type { Audience, MemberRecord, MemberStatus } from './store.js';
import type { MergeFieldDefinition } from './validation.js';

export function toApiMember(member: MemberRecord, audience: Audience): Record<string, unknown> {
  const mergeFields: Record<string, unknown> = {};
  for (const def of audience.mergeFields) mergeFields[def.tag] = member.merge_fields[def.tag] ?? '';
  const fname = typeof mergeFields.FNAME === 'string' ? mergeFields.FNAME : '';
  const lname = typeof mergeFields.LNAME === 'string' ? mergeFields.LNAME : '';
  return {
    id: member.id,
    email_address: member.email_address,
    unique_email_id: member.unique_email_id,
    contact_id: member.contact_id,
    full_name: `${fname} ${lname}`.trim(),
    web_id: member.web_id,
    email_type: member.email_type,
    status: member.status,
    ...(member.status === 'unsubscribed' ? { unsubscribe_reason: member.unsubscribe_reason } : {}),
    consents_to_one_to_one_messaging: true,
    sms_phone_number: '',
    sms_subscription_status: '',
    sms_subscription_last_updated: '',
    merge_fields: mergeFields,
    interests: memberInterests(audience, member),
    stats: { avg_open_rate: 0, avg_click_rate: 0 },
    ip_signup: member.ip_signup,
    timestamp_signup: member.timestamp_signup,
    ip_opt: member.ip_opt,
    timestamp_opt: member.timestamp_opt,
    member_rating: 2,
    last_changed: member.last_changed,
    language: member.language,
    vip: member.vip,
    email_client: '',
    location: { latitude: 0, longitude: 0, gmtoff: 0, dstoff: 0, country_code: '', timezone: '', region: '' },
    marketing_permissions: memberPermissions(audience, member),
    source: member.source,
    tags_count: member.tags.length,
    // The member document carries at most 50 tags; the member tags endpoint has them all.
    tags: member.tags.slice(0, 50).map((t) => ({ id: t.id, name: t.name })),
    list_id: audience.id,
    _links: [],
  };
}

/** The admin view: everything, the sandbox-only flags included. */
export function toAdminMember(member: MemberRecord, audience: Audience): Record<string, unknown> {
  return {
    ...toApiMember(member, audience),
    position: member.position,
    tags: member.tags,
    compliance_locked: member.complianceLocked,
    forgotten: member.forgotten,
  };
}

export function toApiList(audience: Audience): Record<string, unknown> {
  const counts = audience.countsByStatus();
  const count = (status: MemberStatus) => counts[status];
  const lastOf = (status: MemberStatus) => audience.lastChangedOf(status);
  return {
    id: audience.id,
    web_id: audience.webId,
    name: audience.name,
    contact: { company: 'Sandbox Co.', address1: '1 Sandbox Way', address2: '', city: 'Atlanta', state: 'GA', zip: '30308', country: 'US', phone: '' },
    permission_reminder: 'You signed up on the sandbox site.',
    use_archive_bar: true,
    campaign_defaults: { from_name: 'Sandbox', from_email: 'news@acme.io', subject: '', language: 'en' },
    notify_on_subscribe: '',
    notify_on_unsubscribe: '',
    date_created: audience.dateCreated,
    list_rating: 3,
    email_type_option: false,
    subscribe_url_short: `http://eepurl.com/sandbox`,
    subscribe_url_long: `https://acme.us6.list-manage.com/subscribe?u=sandbox&id=${audience.id}`,
    beamer_address: `us6-sandbox-${audience.id}@inbound.mailchimp.com`,
    visibility: 'prv',
    double_optin: false,
    has_welcome: false,
    marketing_permissions: audience.marketingPermissions.length > 0,
    modules: [],
    stats: {
      member_count: count('subscribed'),
      total_contacts: audience.visibleCount,
      unsubscribe_count: count('unsubscribed'),
      cleaned_count: count('cleaned'),
      member_count_since_send: count('subscribed'),
      unsubscribe_count_since_send: count('unsubscribed'),
      cleaned_count_since_send: count('cleaned'),
      campaign_count: 0,
      campaign_last_sent: '',
      merge_field_count: audience.mergeFields.length,
      avg_sub_rate: 0,
      avg_unsub_rate: 0,
      target_sub_rate: 0,
      open_rate: 0,
      click_rate: 0,
      last_sub_date: lastOf('subscribed'),
      last_unsub_date: lastOf('unsubscribed'),
    },
    _links: [],
  };
}

export function toApiMergeField(def: MergeFieldDefinition, audience: Audience): Record<string, unknown> {
  return { ...def, list_id: audience.id, _links: [] };
}

type FieldTree = { [key: string]: FieldTree | true };

function fieldTree(spec: string): FieldTree {
  const tree: FieldTree = {};
  for (const path of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    let node = tree;
    const parts = path.split('.');
    parts.forEach((part, i) => {
      if (i === parts.length - 1) {
        node[part] = true;
        return;
      }
      const child = node[part];
      if (child === true) return;
      node = node[part] = child ?? {};
    });
  }
  return tree;
}

function pick(value: unknown, tree: FieldTree): unknown {
  if (Array.isArray(value)) return value.map((item) => pick(item, tree));
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of Object.entries(tree)) {
    if (!(key in source)) continue;
    out[key] = sub === true ? source[key] : pick(source[key], sub);
  }
  return out;
}

function omit(value: unknown, tree: FieldTree): unknown {
  if (Array.isArray(value)) return value.map((item) => omit(item, tree));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, sub] of Object.entries(tree)) {
    if (!(key in out)) continue;
    if (sub === true) delete out[key];
    else out[key] = omit(out[key], sub);
  }
  return out;
}

/** Applies `fields` (keep only these dotted paths) then `exclude_fields` (drop these). */
export function projectFields(document: Record<string, unknown>, fields: string | null, excludeFields: string | null): unknown {
  let out: unknown = document;
  if (fields) out = pick(out, fieldTree(fields));
  if (excludeFields) out = omit(out, fieldTree(excludeFields));
  return out;
}
