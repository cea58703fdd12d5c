/**
 * archive_missing's settings: who the target owns (owner_tag), how much one run may archive
 * (archive_max_share), whether leavers are archived or erased (delete_permanently), and where the
 * list of what was done goes (archive_file). Kept apart from config.ts, which imports the types
 * and the cross-key checks from here.
 */
import type { JsonObject } from '../../../singer/messages.js';

export interface ArchiveConfig {
  archive_missing?: boolean;
  owner_tag?: string;
  archive_max_share?: number;
  delete_permanently?: boolean;
  archive_file?: string;
}

export const DEFAULT_OWNER_TAG = 'Synced by target-mailchimp';
export const DEFAULT_ARCHIVE_MAX_SHARE = 0.05;

export interface ArchiveSettings {
  ownerTag: string;
  maxShare: number;
  deletePermanently: boolean;
  file?: string;
}

/** The settings when archive_missing is on, else undefined. */
export function archiveSettings(config: ArchiveConfig): ArchiveSettings | undefined {
  if (config.archive_missing !== true) return undefined;
  return {
    ownerTag: (config.owner_tag ?? DEFAULT_OWNER_TAG).trim(),
    maxShare: config.archive_max_share ?? DEFAULT_ARCHIVE_MAX_SHARE,
    deletePermanently: config.delete_permanently === true,
    ...(config.archive_file ? { file: config.archive_file } : {}),
  };
}

/**
 * The tags that mark ownership, for the tag rules: a static managed tag, so the planner gives it
 * to every member it creates or finds (members already carrying it cost nothing: the audience
 * read knows their managed tags) and never removes it.
 */
export function ownerTags(config: ArchiveConfig): string[] {
  const settings = archiveSettings(config);
  return settings ? [settings.ownerTag] : [];
}

/** Cross-key problems (config.ts adds them to the schema's). */
export function archiveConfigProblems(config: JsonObject, streams: readonly string[]): string[] {
  const problems: string[] = [];
  const on = config.archive_missing === true;
  if (config.delete_permanently === true && !on) {
    problems.push('"delete_permanently" only applies with "archive_missing": true (it erases, instead of archiving, the people who left the source): set both, or remove delete_permanently');
  }
  if (on && streams.length !== 1) {
    problems.push(
      `"archive_missing" needs exactly one stream in "stream" (it has ${streams.length === 0 ? 'none' : streams.map((s) => `"${s}"`).join(', ')}): a complete sweep of one source says who left it; run one target per source, each with its own owner_tag`,
    );
  }
  if (on && typeof config.owner_tag === 'string' && config.owner_tag.trim() === '') {
    problems.push('"owner_tag" is empty: name the tag that marks the members this target owns, e.g. "Synced by target-mailchimp"');
  }
  return problems;
}
