/**
 * A stream is a declaration: name, keys, replication, schema, and a sync generator yielding
 * batches of records and bookmarks; the engine (../sync.ts) writes them, records first.
 */
import type { Logger } from '../../../log/logger.js';
import type { CatalogStreamDeclaration, ReplicationMethod } from '../../../singer/catalog.js';
import type { JsonObject, JsonSchema } from '../../../singer/messages.js';
import type { StateStore } from '../../../singer/state.js';
import type { Audiences } from '../audiences.js';
import type { MailchimpReader } from '../client.js';
import type { MailchimpTapConfig } from '../config.js';

export interface MailchimpSyncContext {
  config: MailchimpTapConfig;
  client: MailchimpReader;
  state: StateStore;
  log: Logger;
  signal: AbortSignal;
  replication: { method: ReplicationMethod; key?: string };
  /** The stream's schema as the catalog has it, and as its selection leaves it. */
  schema: { full: JsonSchema; selected: JsonSchema };
  /** Read once per run, shared by the streams. */
  audiences: Audiences;
  /** Names the audience now being read, for the progress lines on stderr. */
  progress?: (label: string) => void;
  /** Something a finished run's warning should say (values that could not be typed, ...). */
  problem: (text: string) => void;
}

export type StreamOutput =
  /** Records in the order they must be written. */
  | { kind: 'records'; records: JsonObject[] }
  /** Everything yielded before this is covered by the bookmark: the engine emits STATE. */
  | { kind: 'bookmark'; bookmark: { replication_key: string; replication_key_value: string }; context: JsonObject }
  /** A FULL_TABLE stream finished: its bookmark (if any) is cleared. */
  | { kind: 'complete' };

/** A stream's declaration: what its catalog entry shows (CatalogStreamDeclaration), and how it reads. */
export interface MailchimpStreamDefinition extends CatalogStreamDeclaration {
  /**
   * Mailchimp is asked for the selected fields only (`fields`), so a record holds no property the
   * schema does not know: the engine then need not copy every record to prune it when everything
   * is selected.
   */
  asksOnlyForSelected?: boolean;
  /** The schema without calling Mailchimp (used when no catalog is given). */
  baseSchema(): JsonSchema;
  sync(context: MailchimpSyncContext): AsyncGenerator<StreamOutput>;
}
