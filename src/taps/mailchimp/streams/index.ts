import { interestCategoriesStream, interestsStream } from './interests.js';
import { listMembersStream } from './list-members.js';
import { listsStream } from './lists.js';
import { mergeFieldsStream } from './merge-fields.js';
import { tagsStream } from './tags.js';
import type { MailchimpStreamDefinition } from './types.js';

/**
 * Every stream, in the order a run syncs them: an audience's definitions (its merge fields,
 * groups and tags) reach a loader before its members.
 */
export const MAILCHIMP_STREAMS: readonly MailchimpStreamDefinition[] = [
  listsStream,
  mergeFieldsStream,
  interestCategoriesStream,
  interestsStream,
  tagsStream,
  listMembersStream,
];
