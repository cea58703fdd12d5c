/**
 * The bookmarks this tap resumes from, checked before the run starts: a bookmark it cannot read
 * is an InputError naming the key (exit 3), not a silent re-read of a whole audience. The Singer
 * shape (objects, partitions) is checked by parseState; this checks list_members' values: one
 * partition per audience ({"list_id": "..."}) whose replication_key_value is a date-time.
 * Streams this tap does not know are left alone (another tap may share the state file).
 */
import { InputError } from '../../errors/index.js';
import { showStateValue, type SingerState } from '../../singer/state.js';
import { parseInstant } from './members/window.js';

export function checkMailchimpTapState(state: SingerState, source: string): void {
  const bookmark = state.bookmarks.list_members;
  if (!bookmark) return;
  const fail = (key: string, must: string, value: unknown): never => {
    throw new InputError(`state ${source}: ${key} must be ${must} (got ${value === undefined ? 'nothing' : showStateValue(value)}); fix or remove it to read that audience from the start`);
  };
  bookmark.partitions?.forEach((partition, index) => {
    const at = `bookmarks.list_members.partitions[${index}]`;
    if (typeof partition.context.list_id !== 'string' || partition.context.list_id === '') fail(`${at}.context.list_id`, 'an Audience ID such as "a1b2c3d4e5"', partition.context.list_id);
    const value = partition.replication_key_value;
    if (value !== undefined && parseInstant(value) === undefined) fail(`${at}.replication_key_value`, 'a date-time such as 2024-01-31T00:00:00Z', value);
  });
}
