/**
 * funnels: one row per saved funnel and day, keyed by funnel_id + date.
 *
 * Every funnel from funnels/list, then /funnels per funnel over day windows. Each funnel has its
 * own bookmark (a state partition {"funnel_id": N}): the last complete day read. Rows are
 * aggregates that late events still change, so every run re-reads the last attribution_window
 * days of each funnel and emits them again.
 */
import type { JsonObject } from '../../../singer/messages.js';
import { loadSchema } from '../../../schemas/index.js';
import { bookmarkDay, dayLabel, planDailyWindows, windowBookmarkDay } from './dates.js';
import type { StreamDefinition, StreamOutput, SyncContext } from './types.js';

export interface SavedFunnel {
  funnel_id: number;
  name?: string;
}

export interface FunnelDay {
  steps?: unknown[];
  analysis?: Record<string, unknown>;
}

export interface FunnelResponse {
  meta?: { dates?: string[] };
  data?: Record<string, FunnelDay>;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The rows of one /funnels answer, limited to the days asked for (in date order). */
export function funnelRecords(funnel: SavedFunnel, response: FunnelResponse, fromDay: string, toDay: string): JsonObject[] {
  const data = response.data ?? {};
  return Object.keys(data)
    .filter((day) => DAY.test(day) && day >= fromDay && day <= toDay)
    .sort()
    .map((day) => {
      const row = data[day] as FunnelDay;
      return {
        funnel_id: funnel.funnel_id,
        name: funnel.name ?? null,
        date: day,
        datetime: dayLabel(day),
        steps: (row.steps ?? []) as JsonObject[],
        analysis: (row.analysis ?? null) as JsonObject | null,
      };
    });
}

export function listFunnels(ctx: SyncContext): Promise<SavedFunnel[]> {
  return ctx.client.query.json<SavedFunnel[]>({ path: '/api/query/funnels/list', query: { workspace_id: ctx.config.workspace_id } });
}

async function* syncFunnels(ctx: SyncContext): AsyncGenerator<StreamOutput> {
  const { config, time, log } = ctx;
  const funnels = (await listFunnels(ctx)).filter((f) => Number.isInteger(f.funnel_id));
  log.info(`funnels: ${funnels.length} saved funnels`);
  // A bare date-time bookmark from another Mixpanel tap covers every funnel.
  const streamBookmark = bookmarkDay(ctx.state.get('funnels')?.replication_key_value);
  for (const funnel of funnels) {
    const context = { funnel_id: funnel.funnel_id };
    const bookmark = bookmarkDay(ctx.state.get('funnels', context)?.replication_key_value) ?? streamBookmark;
    for (const window of planDailyWindows(config, time, bookmark)) {
      const response = await ctx.client.query.json<FunnelResponse>({
        path: '/api/query/funnels',
        query: {
          funnel_id: funnel.funnel_id,
          from_date: window.fromDay,
          to_date: window.toDay,
          unit: 'day',
          interval: 1,
          workspace_id: config.workspace_id,
        },
      });
      const records = funnelRecords(funnel, response, window.fromDay, window.toDay);
      log.info(`funnels: ${funnel.funnel_id} ${window.fromDay} to ${window.toDay}`, { records: records.length });
      if (records.length > 0) yield { kind: 'records', records };
      const day = windowBookmarkDay(window, time);
      yield { kind: 'bookmark', bookmark: { replication_key: 'datetime', replication_key_value: dayLabel(day) }, context };
      if (ctx.signal.aborted) return;
    }
  }
}

export const funnelsStream: StreamDefinition = {
  name: 'funnels',
  keyProperties: ['funnel_id', 'date'],
  replicationMethod: 'INCREMENTAL',
  forcedReplicationMethod: 'INCREMENTAL',
  replicationKey: 'datetime',
  validReplicationKeys: ['datetime'],
  selectedByDefault: true,
  dynamicProperties: false,
  baseSchema: () => loadSchema('streams/funnels.json'),
  sync: syncFunnels,
};
