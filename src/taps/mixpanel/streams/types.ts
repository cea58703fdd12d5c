/**
 * A stream is a declaration: name, keys, replication, schema, and a sync generator that yields
 * batches of records and bookmarks. The engine (../sync.ts) writes the records, then the state.
 */
import type { Logger } from '../../../log/logger.js';
import type { ReplicationMethod } from '../../../singer/catalog.js';
import type { JsonObject, JsonSchema } from '../../../singer/messages.js';
import type { Bookmark, StateStore } from '../../../singer/state.js';
import type { MixpanelClient } from '../client.js';
import type { TapConfig } from '../config.js';
import type { ProjectTime } from '../time.js';

export interface SyncContext {
  config: TapConfig;
  client: MixpanelClient;
  state: StateStore;
  log: Logger;
  signal: AbortSignal;
  time: ProjectTime;
  replication: { method: ReplicationMethod; key?: string };
  /** Names the window or partition now being read, for the progress lines on stderr. */
  progress?: (label: string) => void;
}

export type StreamOutput =
  /** Records in the order they must be written. */
  | { kind: 'records'; records: JsonObject[] }
  /** Everything yielded before this is covered by the bookmark: the engine emits STATE. */
  | { kind: 'bookmark'; bookmark: Bookmark; context?: JsonObject }
  /** A FULL_TABLE stream finished: its bookmark (if any) is cleared. */
  | { kind: 'complete' };

export interface StreamDefinition {
  name: string;
  keyProperties: string[];
  replicationMethod: ReplicationMethod;
  forcedReplicationMethod?: ReplicationMethod;
  replicationKey?: string;
  validReplicationKeys?: string[];
  selectedByDefault: boolean;
  /** Lets properties the schema does not list through (Mixpanel's user-defined properties). */
  dynamicProperties: boolean;
  /** The schema without calling Mixpanel (used when no catalog is given). */
  baseSchema(config: TapConfig): JsonSchema;
  sync(context: SyncContext): AsyncGenerator<StreamOutput>;
}
