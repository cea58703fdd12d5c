/**
 * Opening the audience before anything is read: the list must exist (a 404 is a config error,
 * never a fallback to another list), merge_fields must fit its merge fields (an unknown tag or a
 * required field nothing fills stops the run before any write), and its size decides how much of
 * it the target can hold and when reading it whole is cheaper than looking people up.
 */
import { ConfigError } from '../../../errors/index.js';
import { HttpError } from '../../../http/errors.js';
import type { Logger } from '../../../log/logger.js';
import type { ListInfo, MailchimpApi, MergeField } from '../api/api.js';
import { ownerTags } from '../archive/settings.js';
import { listSetting, type TargetConfig } from '../config.js';
import { buildMergeMappings, type MergeMapping } from '../members/merge-fields.js';
import type { TagRules } from '../members/tags.js';
import { Audience } from './audience.js';
import { AudienceKnowledge } from './audience-knowledge.js';
import { openProfileRules } from './profile-definitions.js';
import { ProfileLayout } from './profile-layout.js';

export interface OpenAudience {
  list: ListInfo;
  mergeFields: MergeField[];
  mappings: MergeMapping[];
  tagRules: TagRules;
  audience: Audience;
  knowledge: AudienceKnowledge;
}

export async function openAudience(api: MailchimpApi, config: TargetConfig, log: Logger): Promise<OpenAudience> {
  const list = await verifyList(api, config.list_id);
  log.info(`${config.dry_run ? 'planning (dry run) for' : 'loading into'} audience "${list.name}" (${list.id})`, { mode: config.mode, status_if_new: config.status_if_new });
  const mergeFields = await api.getMergeFields(config.list_id);
  const { mappings, problems } = buildMergeMappings(config, mergeFields);
  if (problems.length > 0) {
    throw new ConfigError(`merge_fields do not fit audience "${list.name}": nothing was written`, { details: problems });
  }
  const profileRules = await openProfileRules(api, list, config);
  // archive_missing's owner tag is a static tag like those of `tags`: given to everyone loaded, never removed.
  const tagRules: TagRules = { staticTags: [...listSetting(config.tags), ...ownerTags(config)], properties: listSetting(config.tag_properties) };
  const total = await AudienceKnowledge.countMembers(api, config.list_id);
  const fieldTypes = new Map(mergeFields.map((f) => [f.tag.toUpperCase(), f.type]));
  const audience = new Audience(mappings.map((m) => ({ tag: m.tag, type: fieldTypes.get(m.tag) ?? 'text' })), tagRules, Math.ceil(Math.min(total, 4_000_000) * 1.1) + 1024, profileRules && new ProfileLayout(profileRules));
  const knowledge = new AudienceKnowledge({ api, listId: config.list_id, audience, total, concurrency: config.max_concurrency, log });
  log.info(`audience has ${total} members`, { lookups_before_whole_read: knowledge.lookupLimit });
  return { list, mergeFields, mappings, tagRules, audience, knowledge };
}

async function verifyList(api: MailchimpApi, listId: string): Promise<ListInfo> {
  try {
    return await api.getList(listId);
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) {
      throw new ConfigError(
        `list_id "${listId}" is not an audience of this Mailchimp account: copy the Audience ID from Audience > Settings > Audience name and defaults`,
        { cause: err },
      );
    }
    throw err;
  }
}
