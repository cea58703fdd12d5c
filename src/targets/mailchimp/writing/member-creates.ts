/**
 * New people whose marketing permissions are set. Batch subscribe's member items take no
 * marketing_permissions (the spec; Mailchimp drops them), so these people are created one by one
 * with POST /lists/{id}/members, which takes them and, like batch subscribe with
 * update_existing false, only ever creates: it refuses anyone who exists ("Member Exists"), so
 * nobody's status or consent can change through it. The calls go through the operation queue:
 * their own calls in small runs, Mailchimp batch operations in large ones. Each answer is read
 * as batch subscribe's per-member answer would be.
 */
import type { MemberInfo, NewMemberInput } from '../api/api.js';
import { classifyMemberError } from '../reports/outcomes.js';
import type { OperationQueue } from './batch-queue.js';
import { isTransient, memberCreate, problemText } from './operations.js';
import type { SubscribeAnswer } from './subscribe-queue.js';

export async function createWithPermissions(queue: OperationQueue, listId: string, hash: string, input: NewMemberInput, dueAt?: number): Promise<SubscribeAnswer> {
  const answer = await queue.enqueue(memberCreate(listId, hash, input), dueAt);
  if (isTransient(answer)) return { kind: 'failed', reason: 'Mailchimp kept failing this member', detail: `status ${answer.status}` };
  if (answer.status < 300) {
    const member = answer.body && typeof answer.body === 'object' ? (answer.body as MemberInfo) : undefined;
    return { kind: 'created', member: member ?? { email_address: input.email_address, status: input.status as MemberInfo['status'] } };
  }
  const text = problemText(answer.body) || `status ${answer.status}`;
  const kind = classifyMemberError(text);
  if (kind.kind === 'exists') return { kind: 'exists' };
  if (kind.kind === 'transient') return { kind: 'failed', reason: 'Mailchimp kept failing this member', detail: text };
  return { kind: 'refused', outcome: kind.kind, reason: kind.reason, detail: text, permanent: kind.permanent };
}
