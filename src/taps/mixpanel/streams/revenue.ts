/**
 * revenue: one row per day from engage/revenue (undocumented, kept for the users who rely on it),
 * keyed by date. Incremental by day with the same look-back as funnels: the last complete day
 * is the bookmark and the attribution_window days before it are read again.
 */
import type { JsonObject } from '../../../singer/messages.js';
import { loadSchema } from '../../../schemas/index.js';
import { bookmarkDay, dayLabel, planDailyWindows, windowBookmarkDay } from './dates.js';
import type { StreamDefinition, StreamOutput, SyncContext } from './types.js';

export interface RevenueResponse {
  results?: Record<string, { amount?: number; count?: number; paid_count?: number }>;
  status?: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The daily rows of one answer, without the "$overall" summary, limited to the days asked for. */
export function revenueRecords(response: RevenueResponse, fromDay: string, toDay: string): JsonObject[] {
  const results = response.results ?? {};
  return Object.keys(results)
    .filter((day) => DAY.test(day) && day >= fromDay && day <= toDay)
    .sort()
    .map((day) => {
      const row = results[day] ?? {};
      return { date: day, datetime: dayLabel(day), amount: row.amount ?? null, count: row.count ?? null, paid_count: row.paid_count ?? null };
    });
}

async function* syncRevenue(ctx: SyncContext): AsyncGenerator<StreamOutput> {
  const { config, time, log } = ctx;
  const bookmark = bookmarkDay(ctx.state.get('revenue')?.replication_key_value);
  for (const window of planDailyWindows(config, time, bookmark)) {
    const response = await ctx.client.query.json<RevenueResponse>({
      path: '/api/2.0/engage/revenue',
      query: { from_date: window.fromDay, to_date: window.toDay, unit: 'day', workspace_id: config.workspace_id },
    });
    const records = revenueRecords(response, window.fromDay, window.toDay);
    log.info(`revenue: ${window.fromDay} to ${window.toDay}`, { records: records.length });
    if (records.length > 0) yield { kind: 'records', records };
    yield { kind: 'bookmark', bookmark: { replication_key: 'datetime', replication_key_value: dayLabel(windowBookmarkDay(window, time)) } };
    if (ctx.signal.aborted) return;
  }
}

export const revenueStream: StreamDefinition = {
  name: 'revenue',
  keyProperties: ['date'],
  replicationMethod: 'INCREMENTAL',
  forcedReplicationMethod: 'INCREMENTAL',
  replicationKey: 'datetime',
  validReplicationKeys: ['datetime'],
  selectedByDefault: true,
  dynamicProperties: false,
  baseSchema: () => loadSchema('streams/revenue.json'),
  sync: syncRevenue,
};
