import { describe, expect, it } from '@jest/globals';
import { HttpError } from '../../../../src/http/errors.js';
import type { BatchOperation, BatchOperationResult, BatchStatus, MailchimpApi, MemberInfo } from '../../../../src/targets/mailchimp/api/api.js';
import { OperationQueue, type QueueOptions } from '../../../../src/targets/mailchimp/writing/batch-queue.js';
import { mergeFieldsUpdate, tagsUpdate, type OperationAnswer } from '../../../../src/targets/mailchimp/writing/operations.js';
import { subscriberHash } from '../../../../src/targets/mailchimp/members/members.js';
import { capturingLogger } from '../../helpers/capture-log.js';

type Answer = (op: BatchOperation, attempt: number) => { status_code: number; body?: unknown } | 'omit' | undefined;

/**
 * Mailchimp's batch endpoints as a script: a submitted batch reports `polls` unfinished statuses
 * (with progress), then finished; its results come from `answer` ('omit': left out of them).
 */
class FakeBatches {
  readonly submitted: BatchOperation[][] = [];
  readonly polls: string[] = [];
  readonly direct: Array<{ method: string; hash: string }> = [];
  downloads = 0;
  private readonly attempts = new Map<string, number>();
  private readonly pollCount = new Map<string, number>();

  constructor(
    private readonly script: {
      answer?: Answer;
      polls?: number;
      failSubmit?: Error;
      failDownloads?: number;
      directAnswer?: (hash: string) => MemberInfo | Error;
    } = {},
  ) {}

  private key(op: BatchOperation): string {
    return `${op.method} ${op.path}`;
  }

  readonly api = {
    calls: 0,
    callsByKind: {},
    startBatch: async (operations: BatchOperation[]): Promise<BatchStatus> => {
      if (this.script.failSubmit) throw this.script.failSubmit;
      this.submitted.push(operations);
      const id = `b${this.submitted.length}`;
      return { id, status: 'pending', total_operations: operations.length, finished_operations: 0, errored_operations: 0 };
    },
    getBatch: async (id: string): Promise<BatchStatus> => {
      this.polls.push(id);
      const n = (this.pollCount.get(id) ?? 0) + 1;
      this.pollCount.set(id, n);
      const ops = this.submitted[Number(id.slice(1)) - 1] as BatchOperation[];
      const unfinished = this.script.polls ?? 0;
      if (n <= unfinished) {
        return { id, status: n === 1 ? 'pending' : 'started', total_operations: ops.length, finished_operations: Math.floor((ops.length * (n - 1)) / unfinished), errored_operations: 0 };
      }
      return { id, status: 'finished', total_operations: ops.length, finished_operations: ops.length, errored_operations: 0, response_body_url: `http://127.0.0.1/results/${id}.tar.gz` };
    },
    batchResults: (url: string): AsyncIterable<BatchOperationResult> => {
      const id = /\/(b\d+)\.tar\.gz$/.exec(url)?.[1] ?? '';
      const ops = this.submitted[Number(id.slice(1)) - 1] as BatchOperation[];
      const results = async function* (fake: FakeBatches): AsyncGenerator<BatchOperationResult> {
        fake.downloads++;
        if (fake.downloads <= (fake.script.failDownloads ?? 0)) throw new HttpError({ method: 'GET', url, code: 'ECONNRESET' });
        for (const op of ops) {
          const attempt = (fake.attempts.get(fake.key(op)) ?? 0) + 1;
          fake.attempts.set(fake.key(op), attempt);
          const a = fake.script.answer?.(op, attempt) ?? { status_code: 200, body: { email_address: 'x@example.org', status: 'subscribed' } };
          if (a === 'omit') continue;
          yield { status_code: a.status_code, operation_id: op.operation_id, response: a.body === undefined ? '' : JSON.stringify(a.body) };
        }
      };
      return results(this);
    },
    updateMember: async (_list: string, hash: string): Promise<MemberInfo> => {
      this.direct.push({ method: 'PATCH', hash });
      const a = this.script.directAnswer?.(hash) ?? { email_address: 'x@example.org', status: 'subscribed' };
      if (a instanceof Error) throw a;
      return a;
    },
    updateTags: async (_list: string, hash: string): Promise<void> => {
      this.direct.push({ method: 'POST tags', hash });
    },
  };
}

const hashOf = (i: number) => subscriberHash(`p${i}@example.org`);
const ops = (n: number) => Array.from({ length: n }, (_, i) => mergeFieldsUpdate('L1', hashOf(i), { FNAME: `P${i}` }));

function queueOf(fake: FakeBatches, extra: Partial<QueueOptions> = {}) {
  const waits: number[] = [];
  let now = 0;
  const queue = new OperationQueue({
    api: fake.api as unknown as MailchimpApi,
    log: capturingLogger(),
    maxOperations: 100,
    directBelow: 5,
    flushMs: 10_000,
    concurrency: 3,
    now: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
    ...extra,
  });
  return { queue, waits };
}

describe('OperationQueue: when a flush comes', () => {
  it('an operation already due goes out on the next turn, not flushMs later', async () => {
    const fake = new FakeBatches();
    // An hour of flushMs: only the deadline can send these.
    const { queue } = queueOf(fake, { flushMs: 3_600_000, now: Date.now });
    const answers = Promise.all(ops(3).map((op) => queue.enqueue(op, Date.now())));
    expect((await answers).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(fake.direct).toHaveLength(3);
  });
});

describe('OperationQueue: direct or batched', () => {
  it('a flush of fewer than directBelow operations sends them as their own calls', async () => {
    const fake = new FakeBatches();
    const { queue } = queueOf(fake);
    const answers = Promise.all(ops(4).map((op) => queue.enqueue(op)));
    await queue.drain();
    expect((await answers).map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(fake.submitted).toHaveLength(0);
    expect(fake.direct.map((d) => d.hash)).toEqual([0, 1, 2, 3].map(hashOf));
    expect(queue.stats).toMatchObject({ batches: 0, directOperations: 4 });
  });

  it('more go as one batch: each operation with its JSON body and an id, answered from the results', async () => {
    const fake = new FakeBatches({ answer: (op) => (op.path.endsWith(hashOf(2)) ? { status_code: 400, body: { title: 'Invalid Resource', detail: 'Your merge fields were invalid.' } } : undefined) ?? { status_code: 200, body: { status: 'pending' } } });
    const { queue } = queueOf(fake);
    const list = [...ops(5), tagsUpdate('L1', hashOf(9), [{ name: 'plan:pro', status: 'active' }])];
    const answers = Promise.all(list.map((op) => queue.enqueue(op)));
    await queue.drain();
    expect(fake.submitted).toHaveLength(1);
    const sent = fake.submitted[0] as BatchOperation[];
    // The answer needs only the status: the results archive stays small.
    expect(sent[0]).toEqual({ method: 'PATCH', path: `/lists/L1/members/${hashOf(0)}`, params: { fields: 'id,email_address,status' }, body: JSON.stringify({ merge_fields: { FNAME: 'P0' } }), operation_id: expect.any(String) });
    expect(sent[5]).toEqual({ method: 'POST', path: `/lists/L1/members/${hashOf(9)}/tags`, body: JSON.stringify({ tags: [{ name: 'plan:pro', status: 'active' }], is_syncing: true }), operation_id: expect.any(String) });
    expect(new Set(sent.map((o) => o.operation_id)).size).toBe(6);
    // No operation ever carries a status for an existing member.
    for (const op of sent) expect(op.body ?? '').not.toMatch(/"status":"(subscribed|pending|unsubscribed|cleaned|transactional|archived)"/);
    const got = await answers;
    expect(got[2]).toEqual({ status: 400, body: { title: 'Invalid Resource', detail: 'Your merge fields were invalid.' } });
    expect(got[0]).toEqual({ status: 200, body: { status: 'pending' } });
    expect(fake.direct).toHaveLength(0);
  });

  it('splits at maxOperations, and flushes by itself once that many are queued', async () => {
    const fake = new FakeBatches();
    const { queue } = queueOf(fake, { maxOperations: 10 });
    const answers = Promise.all(ops(25).map((op) => queue.enqueue(op)));
    await queue.drain();
    await answers;
    expect(fake.submitted.map((b) => b.length)).toEqual([10, 10, 5]);
  });

  it('polls only until the batch is finished, waiting longer while it is pending and by its progress when started', async () => {
    const fake = new FakeBatches({ polls: 3 });
    const { queue, waits } = queueOf(fake);
    const answers = Promise.all(ops(50).map((op) => queue.enqueue(op)));
    await queue.drain();
    await answers;
    expect(fake.polls).toEqual(['b1', 'b1', 'b1', 'b1']);
    expect(waits[0]).toBe(1000);
    expect(waits[1]).toBe(2000); // pending: doubled
    expect(waits.every((w) => w >= 1000 && w <= 30_000)).toBe(true);
  });
});

describe('OperationQueue: what the results say', () => {
  it('5xx or 429 inside the results: sent again in a later batch, and its answer then is the one returned', async () => {
    const fake = new FakeBatches({ answer: (op, attempt) => (op.path.endsWith(hashOf(1)) && attempt === 1 ? { status_code: 500, body: { title: 'Internal Server Error' } } : op.path.endsWith(hashOf(3)) && attempt < 3 ? { status_code: 429 } : { status_code: 200, body: {} }) });
    const { queue } = queueOf(fake, { directBelow: 1 });
    const answers = Promise.all(ops(6).map((op) => queue.enqueue(op)));
    await queue.drain();
    expect((await answers).map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(fake.submitted.map((b) => b.length)).toEqual([6, 2, 1]);
    expect(queue.stats.retriedOperations).toBe(3);
  });

  it('a transient answer that persists is returned after the attempts (the writer rejects the row)', async () => {
    const fake = new FakeBatches({ answer: () => ({ status_code: 503 }) });
    const { queue } = queueOf(fake, { directBelow: 1, attempts: 3 });
    const answer = queue.enqueue(ops(1)[0] as (ReturnType<typeof ops>)[number]);
    await queue.drain();
    expect(await answer).toEqual({ status: 503, body: undefined });
    expect(fake.submitted).toHaveLength(3);
  });

  it('an operation the results do not mention is not taken as done: it is sent again', async () => {
    const fake = new FakeBatches({ answer: (op, attempt) => (op.path.endsWith(hashOf(0)) && attempt === 1 ? 'omit' : { status_code: 200, body: {} }) });
    const { queue } = queueOf(fake, { directBelow: 1 });
    const answers = Promise.all(ops(3).map((op) => queue.enqueue(op)));
    await queue.drain();
    expect((await answers).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(fake.submitted.map((b) => b.length)).toEqual([3, 1]);
  });

  it('a download that breaks is read again; results already read are not applied twice', async () => {
    const fake = new FakeBatches({ failDownloads: 2 });
    const { queue } = queueOf(fake, { directBelow: 1 });
    const answers = Promise.all(ops(4).map((op) => queue.enqueue(op)));
    await queue.drain();
    expect((await answers).map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(fake.downloads).toBe(3);
    expect(fake.submitted).toHaveLength(1);
  });

  it('results that cannot be read at all fail every operation of that batch', async () => {
    const fake = new FakeBatches({ failDownloads: 99 });
    const { queue } = queueOf(fake, { directBelow: 1 });
    const answer = queue.enqueue(ops(1)[0] as (ReturnType<typeof ops>)[number]);
    const settled = answer.then(
      () => 'answered',
      (err: unknown) => (err as Error).message,
    );
    await queue.drain();
    expect(await settled).toMatch(/could not read the results of Mailchimp batch b1/);
  });

  it('a batch that cannot be submitted fails its operations with the error', async () => {
    const error = new HttpError({ method: 'POST', url: 'http://127.0.0.1/3.0/batches', status: 503 });
    const fake = new FakeBatches({ failSubmit: error });
    const { queue } = queueOf(fake, { directBelow: 1 });
    const answer = queue.enqueue(ops(1)[0] as (ReturnType<typeof ops>)[number]).catch((err: unknown) => err);
    await queue.drain();
    expect(await answer).toBe(error);
  });

  it('should the poll loop itself fail (here: its clock), the batches it polls fail with it; nothing is left waiting or unobserved', async () => {
    const broken = new Error('the clock broke');
    const fake = new FakeBatches();
    const { queue } = queueOf(fake, { directBelow: 1, sleep: () => Promise.reject(broken) });
    const answers = ops(3).map((op) => queue.enqueue(op).catch((err: unknown) => err));
    await queue.drain();
    expect(await Promise.all(answers)).toEqual([broken, broken, broken]);
    expect(queue.idleNow).toBe(true);
  });

  it('a direct call that fails for good fails its operation; a 4xx is an answer', async () => {
    const boom = new HttpError({ method: 'PATCH', url: 'http://127.0.0.1/x', status: 500 });
    const fake = new FakeBatches({ directAnswer: (hash) => (hash === hashOf(0) ? boom : new HttpError({ method: 'PATCH', url: 'http://127.0.0.1/x', status: 404, serviceMessage: 'Resource Not Found' })) });
    const { queue } = queueOf(fake);
    const [a, b] = ops(2).map((op) => queue.enqueue(op).catch((err: unknown) => err as OperationAnswer | Error));
    await queue.drain();
    expect(await a).toBe(boom);
    expect(await b).toEqual({ status: 404, body: { detail: 'Resource Not Found' } });
  });
});
