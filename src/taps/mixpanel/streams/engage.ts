/** engage: people profiles, paged with Mixpanel's session_id. */
import type { JsonObject } from '../../../singer/messages.js';
import { loadSchema } from '../../../schemas/index.js';
import type { EngageProfile } from '../client.js';
import { profileDateTime, renameProperty } from '../transform.js';
import type { StreamDefinition, StreamOutput, SyncContext } from './types.js';

export function transformProfile(profile: EngageProfile): JsonObject {
  const record: JsonObject = { distinct_id: String(profile.$distinct_id) };
  const properties = profile.$properties ?? {};
  for (const key in properties) record[renameProperty(key)] = profileDateTime(properties[key]);
  return record;
}

async function* syncEngage(ctx: SyncContext): AsyncGenerator<StreamOutput> {
  let page = 0;
  let sessionId: string | undefined;
  let total = 0;
  for (;;) {
    const response = await ctx.client.engagePage({ page, ...(sessionId ? { sessionId } : {}) });
    const results = response.results ?? [];
    if (results.length > 0) yield { kind: 'records', records: results.map(transformProfile) };
    total += results.length;
    ctx.log.info(`engage: page ${page}`, { records: results.length, so_far: total, of: response.total });
    // Mixpanel pages hold page_size profiles until the last one.
    if (results.length === 0 || results.length < response.page_size) break;
    if (!response.session_id) break;
    sessionId = response.session_id;
    page++;
    if (ctx.signal.aborted) return;
  }
  yield { kind: 'complete' };
}

export const engageStream: StreamDefinition = {
  name: 'engage',
  keyProperties: ['distinct_id'],
  replicationMethod: 'FULL_TABLE',
  validReplicationKeys: ['mp_reserved_last_seen'],
  selectedByDefault: true,
  dynamicProperties: true,
  baseSchema: () => loadSchema('streams/engage.json'),
  sync: syncEngage,
};
