/**
 * The members window of a run and its slices, as pure functions of the bookmark, the clocks and
 * what Mailchimp answered. Times are epoch milliseconds on whole seconds (Mailchimp's last_changed
 * has no finer grain).
 *
 * A window is [from, to): `from` is the audience's bookmark (the previous window's end), or
 * start_date, or nothing on a first run without one; `to` is fixed when the run starts: the
 * earlier of our clock and Mailchimp's, less last_changed_settle_seconds. A member who changes
 * while the run pages gets a last_changed after `to`, so nobody can enter the window during the
 * run: members can only leave it (see pager.ts for what that means for offsets).
 *
 * A slice is a part [from, to) of a window, read as one listing. Mailchimp does not document
 * whether since_last_changed and before_last_changed are inclusive; the tap asks for
 * since = from - 1 s and before = to (the sandbox reads both strictly, which gives [from, to)
 * exactly), and keeps only members whose last_changed falls in [from, to), so neither reading
 * of the bounds loses a member or sends one twice.
 */

export const SECOND_MS = 1000;

export interface TimeRange {
  /** Inclusive; undefined = no lower bound (a first run). */
  from?: number;
  /** Exclusive. */
  to: number;
}

export function floorSecond(ms: number): number {
  return Math.floor(ms / SECOND_MS) * SECOND_MS;
}

export function isoSecond(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A date-time from a bookmark or a config; undefined when absent or unreadable. */
export function parseInstant(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(value) || value.length <= 10 ? value : `${value}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface WindowInputs {
  /** The audience's replication_key_value, if any. */
  bookmark?: unknown;
  startDate?: string;
  /** Now by the earlier of our clock and Mailchimp's. */
  nowMs: number;
  settleSeconds: number;
}

/** The run's window for one audience; `from >= to` means there is nothing to read yet. */
export function membersWindow(inputs: WindowInputs): TimeRange {
  const to = floorSecond(inputs.nowMs) - inputs.settleSeconds * SECOND_MS;
  const bookmark = parseInstant(inputs.bookmark);
  const start = parseInstant(inputs.startDate);
  const from = bookmark ?? start;
  return from === undefined ? { to } : { from: floorSecond(from), to };
}

export function isEmptyRange(range: TimeRange): boolean {
  return range.from !== undefined && range.from >= range.to;
}

/** The members endpoint's filters for a range. */
export function rangeQuery(range: TimeRange): { since?: string; before: string } {
  return range.from === undefined ? { before: isoSecond(range.to) } : { since: isoSecond(range.from - SECOND_MS), before: isoSecond(range.to) };
}

/** Whether a member's last_changed lies in the range (a member without a readable one is kept). */
export function inRange(range: TimeRange, lastChanged: unknown): boolean {
  const ms = parseInstant(lastChanged);
  if (ms === undefined) return true;
  return (range.from === undefined || ms >= range.from) && ms < range.to;
}

/** Offsets of the members whose last_changed cuts a window of `total` members into slices of `size`. */
export function quantileOffsets(total: number, size: number): number[] {
  const offsets: number[] = [];
  for (let at = size; at < total; at += size) offsets.push(at);
  return offsets;
}

/**
 * Slices of a window cut at the given last_changed values (in any order; repeats, values outside
 * the window and unreadable ones are dropped). The slices partition the window.
 */
export function slicesAt(range: TimeRange, cuts: readonly number[]): TimeRange[] {
  const inside = [...new Set(cuts.map(floorSecond))]
    .filter((c) => Number.isFinite(c) && c < range.to && (range.from === undefined || c > range.from))
    .sort((a, b) => a - b);
  const slices: TimeRange[] = [];
  let from = range.from;
  for (const cut of inside) {
    slices.push(from === undefined ? { to: cut } : { from, to: cut });
    from = cut;
  }
  slices.push(from === undefined ? { to: range.to } : { from, to: range.to });
  return slices;
}

/**
 * Two halves of a slice, or undefined when it spans one second (it cannot be cut finer).
 * `lowest` stands in for a missing lower bound: the earliest last_changed seen in the slice.
 */
export function splitRange(range: TimeRange, lowest?: number): [TimeRange, TimeRange] | undefined {
  const low = range.from ?? (lowest === undefined ? undefined : floorSecond(lowest));
  if (low === undefined || range.to - low <= SECOND_MS) {
    // An open lower end with nothing seen: cut just below the end, where the members are.
    if (range.from === undefined && low === undefined) return [{ to: range.to - SECOND_MS }, { from: range.to - SECOND_MS, to: range.to }];
    if (range.from === undefined && low !== undefined && low < range.to) return [{ to: low }, { from: low, to: range.to }];
    return undefined;
  }
  const mid = floorSecond(low + (range.to - low) / 2);
  const cut = mid <= low ? low + SECOND_MS : mid;
  return [range.from === undefined ? { to: cut } : { from: range.from, to: cut }, { from: cut, to: range.to }];
}

/** "2024-01-01T00:00:00Z..2024-02-01T00:00:00Z" (open start: "..."), for logs. */
export function describeRange(range: TimeRange): string {
  return `${range.from === undefined ? '' : isoSecond(range.from)}..${isoSecond(range.to)}`;
}
