/**
 * A stream is a declaration: name, keys, replication, schema, and a sync generator that yields
 * batches of records and bookmarks. The engine (../sync.ts) writes the records, then the state.
 */
import type { Logger } from '../../../log/logger.js';
import type { CatalogStreamDeclaration, ReplicationMethod } from '../../../singer/catalog.js';
import type { JsonObject, JsonSchema } from '../../../singer/messages.js';
import type { Bookmark, StateStore } from '../../../singer/state.js';
import type { MixpanelClient } from '../client.js';
import type { TapConfig } from '../config.js';
import type { RunMemo } from '../run-memo.js';
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
  /** Top-level properties the catalog selects for this stream (a stream may ask Mixpanel for only these). */
  selectedProperties: ReadonlySet<string>;
  /** This run's table version for a `versioned` stream: the run's start, epoch milliseconds. */
  tableVersion?: number;
  /** Reads shared by the streams of one run (one cohorts/list call for cohorts and cohort_members). */
  shared: RunMemo;
}

export type StreamOutput =
  /** Records in the order they must be written. */
  | { kind: 'records'; records: JsonObject[] }
  /** Everything yielded before this is covered by the bookmark: the engine emits STATE. */
  | { kind: 'bookmark'; bookmark: Bookmark; context?: JsonObject }
  /**
   * A FULL_TABLE stream finished: its bookmark (if any) is cleared. `activateVersion` (versioned
   * streams): this run's records are the whole table, so the engine writes ACTIVATE_VERSION,
   * then the STATE without the stream's bookmark.
   */
  | { kind: 'complete'; activateVersion?: boolean };

/** A stream's declaration: what its catalog entry shows (CatalogStreamDeclaration), and how it reads. */
export interface StreamDefinition extends CatalogStreamDeclaration {
  /** Lets properties the schema does not list through (Mixpanel's user-defined properties). */
  dynamicProperties: boolean;
  /**
   * Records carry `version` (the run's table version), and the stream may activate it when
   * complete. A function: only under some replication methods (engage: FULL_TABLE, never
   * INCREMENTAL, whose records are not a whole table: a loader that keeps a shadow table per
   * version would keep them there, never activated).
   */
  versioned?: boolean | ((method: ReplicationMethod) => boolean);
  /** Streams that run before this one, also when a run resumes this one first. */
  runsAfter?: readonly string[];
  /** The schema without calling Mixpanel (used when no catalog is given). */
  baseSchema(config: TapConfig): JsonSchema;
  sync(context: SyncContext): AsyncGenerator<StreamOutput>;
}
