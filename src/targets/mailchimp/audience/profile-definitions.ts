/**
 * What the audience has for the profile settings (marketing_permissions, interests,
 * language_property, vip_property), read only when they are set: whether it has GDPR fields
 * (`GET /lists/{id}` says so), its permissions (Mailchimp has no endpoint listing them: they are
 * read from one member) and its interest categories with their interests. The settings are then
 * checked against it (members/profile-settings.ts): a name it lacks stops the run before any
 * write, listing what it has.
 */
import { ConfigError } from '../../../errors/index.js';
import type { ListInfo, MailchimpApi } from '../api/api.js';
import type { TargetConfig } from '../config.js';
import { profileConfigured, resolveProfileRules, type AudienceProfileDefinitions, type ProfileConfig, type ProfileRules } from '../members/profile-settings.js';

async function readDefinitions(api: MailchimpApi, list: ListInfo, config: ProfileConfig): Promise<AudienceProfileDefinitions> {
  const wantsPermissions = Object.keys(config.marketing_permissions ?? {}).length > 0;
  const wantsInterests = Object.keys(config.interests ?? {}).length > 0;
  let permissions: AudienceProfileDefinitions['permissions'];
  let permissionsKnown = false;
  if (wantsPermissions && list.marketing_permissions === true) {
    const page = await api.listMembers(list.id, { count: 1, offset: 0, fields: ['members.marketing_permissions'] });
    const sample = page.members[0]?.marketing_permissions;
    permissionsKnown = sample !== undefined;
    permissions = (sample ?? []).map((p) => ({ id: p.marketing_permission_id, text: p.text ?? p.marketing_permission_id }));
  }
  const categories = wantsInterests ? await api.getInterestCategories(list.id) : [];
  return { permissions, permissionsKnown, categories };
}

/** The profile rules of the run (undefined when none of the settings is set), or a ConfigError naming what does not fit. */
export async function openProfileRules(api: MailchimpApi, list: ListInfo, config: Pick<TargetConfig, keyof ProfileConfig>): Promise<ProfileRules | undefined> {
  if (!profileConfigured(config)) return undefined;
  const definitions = await readDefinitions(api, list, config);
  const { rules, problems } = resolveProfileRules(config, definitions, list.name);
  if (problems.length > 0) {
    throw new ConfigError(`marketing_permissions or interests do not fit audience "${list.name}": nothing was written`, { details: problems });
  }
  return rules;
}
