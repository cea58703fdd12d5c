/**
 * New people, 500 to a batch subscribe call (`POST /lists/{id}`, update_existing false),
 * whichever planning batch they come from: a run that adds 50,000 people among a million
 * records makes 100 calls, not one per planning batch. Each person's promise settles with what
 * Mailchimp said of them.
 *
 *   flush     at 500 queued, when the earliest queued person is due (the caller's deadline, or
 *             `flushMs` after they were queued), when asked (the loader waits for room and
 *             no call is on its way), and at once (per turn) once the input has ended;
 *   retries   a person refused with a transient error, or not mentioned in the answer (a silent
 *             answer is not a confirmation), is queued again, `attempts` times in all.
 *
 * update_existing false is what keeps consent safe: Mailchimp refuses, per member, anyone who
 * exists, so this call can only ever create.
 */
import type { Logger } from '../../../log/logger.js';
import type { BatchMemberInput, MailchimpApi, MemberInfo } from '../api/api.js';
import { classifyMemberError } from '../reports/outcomes.js';
import { IdleSignal, SendSchedule } from './send-schedule.js';

export const SUBSCRIBE_BATCH = 500;

export type SubscribeAnswer =
  | { kind: 'created'; member: MemberInfo }
  | { kind: 'exists' }
  | { kind: 'refused'; outcome: 'skipped' | 'rejected'; reason: string; detail: string; field?: string; permanent: boolean }
  | { kind: 'failed'; reason: string; detail?: string };

interface Waiting {
  input: BatchMemberInput;
  attempt: number;
  /** When they must be sent at the latest (ms since the epoch). */
  dueAt: number;
  resolve: (answer: SubscribeAnswer) => void;
  reject: (err: unknown) => void;
}

export interface SubscribeQueueOptions {
  api: MailchimpApi;
  listId: string;
  log: Logger;
  flushMs: number;
  attempts?: number;
}

export class SubscribeQueue {
  private queued: Waiting[] = [];
  private finishing = false;
  private inFlight = 0;
  private readonly idle = new IdleSignal();
  private readonly schedule = new SendSchedule(() => this.flush());
  calls = 0;

  constructor(private readonly o: SubscribeQueueOptions) {}

  /** `dueAt`: when the person must be sent at the latest; by default `flushMs` from now. */
  enqueue(input: BatchMemberInput, dueAt?: number): Promise<SubscribeAnswer> {
    const due = dueAt ?? Date.now() + this.o.flushMs;
    return new Promise((resolve, reject) => this.push({ input, attempt: 1, dueAt: due, resolve, reject }));
  }

  private push(waiting: Waiting): void {
    this.queued.push(waiting);
    if (this.queued.length >= SUBSCRIBE_BATCH) this.flush();
    else if (this.finishing) this.schedule.nextTurn();
    else this.schedule.by(waiting.dueAt);
  }

  /** No more input will come: send what is queued, and from now on at once. */
  finish(): void {
    this.finishing = true;
    this.flush();
  }

  flushIfIdle(): void {
    if (this.idleNow) this.flush();
  }

  /** No call is on its way (people may be queued). */
  get idleNow(): boolean {
    return this.inFlight === 0;
  }

  /** Settles the next time no call is on its way (never at once). */
  nextIdle(): Promise<void> {
    return this.idle.next();
  }

  flush(): void {
    this.schedule.clear();
    // Nobody awaits a send: it never rejects, as whatever fails in it settles its people's promises.
    while (this.queued.length > 0) void this.send(this.queued.splice(0, SUBSCRIBE_BATCH));
  }

  private async send(chunk: Waiting[]): Promise<void> {
    this.inFlight++;
    try {
      this.calls++;
      const answer = await this.o.api.batchSubscribe(this.o.listId, chunk.map((w) => w.input), { updateExisting: false });
      const byKey = new Map(chunk.map((w) => [w.input.email_address.trim().toLowerCase(), w]));
      const retry: Waiting[] = [];
      const attempts = this.o.attempts ?? 3;
      for (const added of answer.new_members ?? []) {
        const w = byKey.get(added.email_address.trim().toLowerCase());
        if (!w) continue;
        byKey.delete(w.input.email_address.trim().toLowerCase());
        w.resolve({ kind: 'created', member: added });
      }
      for (const error of answer.errors ?? []) {
        const key = error.email_address.trim().toLowerCase();
        const w = byKey.get(key);
        if (!w) continue;
        byKey.delete(key);
        const text = error.field ? `${error.error} (${error.field}: ${error.field_message ?? ''})` : error.error;
        const kind = classifyMemberError(error.error, error.error_code);
        if (kind.kind === 'exists') w.resolve({ kind: 'exists' });
        else if (kind.kind === 'transient') {
          if (w.attempt < attempts) retry.push(w);
          else w.resolve({ kind: 'failed', reason: 'Mailchimp kept failing this member', detail: text });
        } else w.resolve({ kind: 'refused', outcome: kind.kind, reason: kind.reason, detail: text, permanent: kind.permanent, ...(error.field ? { field: error.field } : {}) });
      }
      for (const w of byKey.values()) {
        if (w.attempt < attempts) retry.push(w);
        else w.resolve({ kind: 'failed', reason: 'Mailchimp did not confirm this member' });
      }
      if (retry.length > 0) {
        this.o.log.warn(`retrying ${retry.length} members Mailchimp could not take just now`, { attempt: (retry[0] as Waiting).attempt });
        for (const w of retry) this.push({ ...w, attempt: w.attempt + 1, dueAt: Date.now() + this.o.flushMs });
      }
    } catch (err) {
      for (const w of chunk) w.reject(err);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.idle.wake();
    }
  }
}
