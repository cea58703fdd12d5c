/**
 * Tag additions that would start a tag-triggered automation in Mailchimp (GET
 * /__admin/mailchimp/automations), so tests can prove a sync fired none.
 *
 * Mailchimp documents one way to add tags without firing automations: the member tags endpoint
 * with `is_syncing: true` ("When is_syncing is true, automations based on the tags in the request
 * will not fire"). Every other way a tag is added through the API is counted, conservatively:
 * the member tags endpoint without is_syncing, the static segment endpoints (members_to_add,
 * a new segment's static_segment, PATCH's static_segment), tags on new members in
 * POST /lists/{id}/members and batch subscribe, and any of these inside a batch operation.
 * Only real additions count: a tag the member already had changes nothing and fires nothing.
 */

export type AutomationVia = 'member_tags' | 'add_member' | 'batch_subscribe' | 'segment_members' | 'segment_create' | 'segment_update';

export interface AutomationTrigger {
  seq: number;
  /** Sandbox clock time (ISO). */
  time: string;
  list_id: string;
  email_address: string;
  tag: string;
  via: AutomationVia;
  /** Set when the addition ran inside a batch operation. */
  batch_id?: string;
  operation_id?: string | null;
}

/** Where an API call runs: on its own, or as an operation of a batch. */
export interface CallOrigin {
  batchId?: string;
  operationId?: string | null;
}

const MAX_ENTRIES = 10_000;

export class AutomationLog {
  private entries: AutomationTrigger[] = [];
  private seq = 0;
  private byVia: Partial<Record<AutomationVia, number>> = {};
  private byTag = new Map<string, number>();

  record(entry: Omit<AutomationTrigger, 'seq'>): void {
    this.entries.push({ seq: ++this.seq, ...entry });
    // A mass tagging must not grow memory without bound: keep the latest entries, count all.
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
    this.byVia[entry.via] = (this.byVia[entry.via] ?? 0) + 1;
    this.byTag.set(entry.tag, (this.byTag.get(entry.tag) ?? 0) + 1);
  }

  get total(): number {
    return this.seq;
  }

  summary(): { total: number; by_via: Partial<Record<AutomationVia, number>>; by_tag: Record<string, number> } {
    return { total: this.seq, by_via: { ...this.byVia }, by_tag: Object.fromEntries(this.byTag) };
  }

  list(offset: number, count: number): AutomationTrigger[] {
    return this.entries.slice(offset, offset + count);
  }

  get kept(): number {
    return this.entries.length;
  }

  clear(): void {
    this.entries = [];
    this.seq = 0;
    this.byVia = {};
    this.byTag = new Map();
  }
}
