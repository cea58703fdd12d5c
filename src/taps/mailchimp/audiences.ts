/**
 * The audiences a run reads and what every stream needs to know about them, each read once per
 * run and shared: the audiences themselves (list_ids, or every audience of the account), their
 * merge fields (the lists_members transform and merge_fields both use them) and their interest
 * categories (interest_categories and interests).
 */
import { ConfigError } from '../../errors/index.js';
import { HttpError } from '../../http/errors.js';
import type { MailchimpReader } from './client.js';
import type { RawInterestCategory, RawList, RawMergeField } from './raw.js';

export class Audiences {
  private listsRead: Promise<RawList[]> | undefined;
  private readonly mergeFieldReads = new Map<string, Promise<RawMergeField[]>>();
  private readonly categoryReads = new Map<string, Promise<RawInterestCategory[]>>();

  constructor(
    private readonly client: MailchimpReader,
    /** From list_ids; undefined: every audience of the account. */
    private readonly listIds: readonly string[] | undefined,
  ) {}

  /** The audiences to read, whole documents, in list_ids order (else Mailchimp's). */
  lists(): Promise<RawList[]> {
    this.listsRead ??= this.listIds === undefined ? this.client.lists() : this.named(this.listIds);
    return this.listsRead;
  }

  private async named(ids: readonly string[]): Promise<RawList[]> {
    const found: RawList[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      try {
        found.push(await this.client.list(id));
      } catch (err) {
        if (err instanceof HttpError && err.status === 404) missing.push(id);
        else throw err;
      }
    }
    if (missing.length > 0) {
      const existing = await this.client.lists(['id', 'name']);
      const has = existing.map((l) => `${l.id} ("${l.name ?? ''}")`).join(', ') || 'none';
      throw new ConfigError(`"list_ids" names ${missing.map((id) => JSON.stringify(id)).join(', ')}, which this Mailchimp account does not have: its audiences are ${has}`);
    }
    return found;
  }

  mergeFields(listId: string): Promise<RawMergeField[]> {
    let read = this.mergeFieldReads.get(listId);
    if (!read) {
      read = this.client.mergeFields(listId);
      this.mergeFieldReads.set(listId, read);
    }
    return read;
  }

  interestCategories(listId: string): Promise<RawInterestCategory[]> {
    let read = this.categoryReads.get(listId);
    if (!read) {
      read = this.client.interestCategories(listId);
      this.categoryReads.set(listId, read);
    }
    return read;
  }
}
