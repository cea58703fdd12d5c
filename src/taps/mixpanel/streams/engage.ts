/**
 * engage: people profiles, paged with Mixpanel's session_id.
 *
 * FULL_TABLE (the default) reads every profile the `engage_where` filter selects. INCREMENTAL
 * (asked for by the catalog) adds `properties["$last_seen"] >= "<bookmark>"` to the `where`, so
 * a run reads only profiles seen since the last one. The first INCREMENTAL run (no bookmark) reads
 * every profile: start_date is about events, and a person last seen before it is still someone to
 * put in the audience (bounding by it once left out most of a project's people, silently). The
 * bookmark is the latest $last_seen the
 * run read (capped at the run's start), reported once every page has been read: the engine writes
 * it after the records. `>=` re-reads the profiles seen in the bookmark's own second, so a
 * profile updated later in that second is not missed (keys deduplicate them downstream).
 *
 * Table versions (FULL_TABLE only). Every record of a FULL_TABLE run carries `version` (the run's
 * start, epoch milliseconds, as cohorts do), and a run that read every page writes
 * ACTIVATE_VERSION engage <version> after the last record: those records are every profile the
 * filter selects, so a loader may take a profile missing from them as gone (target-mailchimp's
 * archive_missing). A run stopped part way writes none. INCREMENTAL records carry no version and
 * never activate one: they are the profiles seen lately, not the whole table.
 */
import type { JsonObject } from '../../../singer/messages.js';
import { loadSchema } from '../../../schemas/index.js';
import type { EngageProfile } from '../client.js';
import { instantMs } from '../time.js';
import { profileDateTime, renameProperty } from '../transform.js';
import type { StreamDefinition, StreamOutput, SyncContext } from './types.js';

export const ENGAGE_REPLICATION_KEY = 'mp_reserved_last_seen';

export function transformProfile(profile: EngageProfile): JsonObject {
  const record: JsonObject = { distinct_id: String(profile.$distinct_id) };
  const properties = profile.$properties ?? {};
  for (const key in properties) record[renameProperty(key)] = profileDateTime(properties[key]);
  return record;
}

/** Mixpanel's profile date-time shape: UTC, second precision, no zone ("2024-01-02T03:04:05"). */
export function mixpanelProfileDateTime(iso: string): string {
  return new Date(instantMs(iso)).toISOString().slice(0, 19);
}

/** The engage `where`: the user's filter and, when incremental, the $last_seen lower bound. */
export function engageWhere(userWhere: string | undefined, lastSeenFrom: string | undefined): string | undefined {
  const user = userWhere?.trim() ? userWhere.trim() : undefined;
  const since = lastSeenFrom === undefined ? undefined : `properties["$last_seen"] >= "${mixpanelProfileDateTime(lastSeenFrom)}"`;
  if (user && since) return `(${user}) and ${since}`;
  return user ?? since;
}

/** The $last_seen an incremental run reads from: the bookmark; undefined (every profile) without one. */
export function engageLastSeenFrom(bookmark: unknown): string | undefined {
  return typeof bookmark === 'string' && !Number.isNaN(instantMs(bookmark)) ? bookmark : undefined;
}

function lastSeenMs(record: JsonObject): number | undefined {
  const value = record[ENGAGE_REPLICATION_KEY];
  if (typeof value !== 'string') return undefined;
  const ms = instantMs(value);
  return Number.isNaN(ms) ? undefined : ms;
}

async function* syncEngage(ctx: SyncContext): AsyncGenerator<StreamOutput> {
  const incremental = ctx.replication.method === 'INCREMENTAL';
  const from = incremental ? engageLastSeenFrom(ctx.state.get('engage')?.replication_key_value) : undefined;
  if (incremental && from === undefined) {
    ctx.log.info('engage: INCREMENTAL without a bookmark: reading every profile, whatever start_date says (it bounds events, not profiles); later runs read the profiles seen since');
  }
  const where = engageWhere(ctx.config.engage_where, from);
  ctx.progress?.(where ? `profiles where ${where}` : 'all profiles');
  const runStartMs = ctx.time.runStartedAt.toMillis();
  let maxSeenMs = Number.NEGATIVE_INFINITY;
  let page = 0;
  let sessionId: string | undefined;
  let total = 0;
  for (;;) {
    const response = await ctx.client.engagePage({ page, ...(where ? { where } : {}), ...(sessionId ? { sessionId } : {}) });
    const results = response.results ?? [];
    if (results.length > 0) {
      const records = results.map(transformProfile);
      if (incremental) {
        for (const record of records) {
          const ms = lastSeenMs(record);
          if (ms !== undefined && ms > maxSeenMs) maxSeenMs = ms;
        }
      }
      yield { kind: 'records', records };
    }
    total += results.length;
    ctx.log.debug(`engage: page ${page}`, { records: results.length, so_far: total, of: response.total });
    // Mixpanel pages hold page_size profiles until the last one.
    if (results.length === 0 || results.length < response.page_size) break;
    if (!response.session_id) break;
    sessionId = response.session_id;
    page++;
    if (ctx.signal.aborted) return;
  }
  if (!incremental) {
    // Every page was read (the loop returns early on a signal): the records are the whole table.
    yield { kind: 'complete', activateVersion: true };
    return;
  }
  if (Number.isFinite(maxSeenMs)) {
    // A $last_seen in the future (clock skew) must not hide the next run's profiles.
    const value = new Date(Math.min(maxSeenMs, runStartMs)).toISOString();
    yield { kind: 'bookmark', bookmark: { replication_key: ENGAGE_REPLICATION_KEY, replication_key_value: value } };
  }
}

export const engageStream: StreamDefinition = {
  name: 'engage',
  keyProperties: ['distinct_id'],
  replicationMethod: 'FULL_TABLE',
  validReplicationKeys: [ENGAGE_REPLICATION_KEY],
  selectedByDefault: true,
  dynamicProperties: true,
  versioned: (method) => method === 'FULL_TABLE',
  baseSchema: () => loadSchema('streams/engage.json'),
  sync: syncEngage,
};
