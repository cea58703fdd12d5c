/**
 * What a stream runs for what its catalog asks (src/singer/replication.ts), with the tap's own
 * stream definitions: export (INCREMENTAL only, on time), engage (FULL_TABLE by default,
 * INCREMENTAL on mp_reserved_last_seen) and cohorts (FULL_TABLE only). LOG_BASED is what
 * PipelineWise writes for every selected stream unless its YAML names a method.
 */
import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../src/errors/index.js';
import type { ReplicationRequest } from '../../../src/singer/catalog.js';
import { resolveReplication, type ResolvedReplication } from '../../../src/singer/replication.js';
import { streamByName } from '../../../src/taps/mixpanel/streams/index.js';
import type { StreamDefinition } from '../../../src/taps/mixpanel/streams/types.js';

const stream = (name: string): StreamDefinition => {
  const found = streamByName(name);
  if (!found) throw new Error(`no stream ${name}`);
  return found;
};

const LAST_SEEN = 'mp_reserved_last_seen';

describe('resolveReplication', () => {
  it.each<[string, string, ReplicationRequest, Omit<ResolvedReplication, 'note'>, 'info' | 'warn' | undefined]>([
    ['nothing asked: export runs its default', 'export', {}, { method: 'INCREMENTAL', key: 'time' }, undefined],
    ['nothing asked: engage runs its default', 'engage', {}, { method: 'FULL_TABLE' }, undefined],
    ['INCREMENTAL on time, as the project YAML asks for export', 'export', { method: 'INCREMENTAL', key: 'time' }, { method: 'INCREMENTAL', key: 'time' }, undefined],
    ['FULL_TABLE, as the project YAML asks for engage', 'engage', { method: 'FULL_TABLE' }, { method: 'FULL_TABLE' }, undefined],
    ['engage INCREMENTAL with its key', 'engage', { method: 'INCREMENTAL', key: LAST_SEEN }, { method: 'INCREMENTAL', key: LAST_SEEN }, undefined],
    ['engage INCREMENTAL without a key takes its valid key', 'engage', { method: 'INCREMENTAL' }, { method: 'INCREMENTAL', key: LAST_SEEN }, undefined],
    ['LOG_BASED on export: its INCREMENTAL, said in an info line', 'export', { method: 'LOG_BASED' }, { method: 'INCREMENTAL', key: 'time' }, 'info'],
    ['LOG_BASED on engage: its default FULL_TABLE, said in an info line', 'engage', { method: 'LOG_BASED' }, { method: 'FULL_TABLE' }, 'info'],
    ['LOG_BASED on cohorts (FULL_TABLE only)', 'cohorts', { method: 'LOG_BASED' }, { method: 'FULL_TABLE' }, 'info'],
    ['FULL_TABLE on export (INCREMENTAL only): a warning', 'export', { method: 'FULL_TABLE' }, { method: 'INCREMENTAL', key: 'time' }, 'warn'],
    ['INCREMENTAL on cohorts (FULL_TABLE only): a warning', 'cohorts', { method: 'INCREMENTAL', key: 'id' }, { method: 'FULL_TABLE' }, 'warn'],
    ['a key the stream does not have: its own key, a warning', 'engage', { method: 'INCREMENTAL', key: '$last_seen' }, { method: 'INCREMENTAL', key: LAST_SEEN }, 'warn'],
    ['a key on FULL_TABLE is not read', 'engage', { method: 'FULL_TABLE', key: 'anything' }, { method: 'FULL_TABLE' }, undefined],
  ])('%s', (_case, name, request, expected, level) => {
    const resolved = resolveReplication(stream(name), request);
    expect({ method: resolved.method, ...(resolved.key ? { key: resolved.key } : {}) }).toEqual(expected);
    expect(resolved.note?.level).toBe(level);
  });

  it('says in one sentence what LOG_BASED became, and how engage can read only changed profiles', () => {
    expect(resolveReplication(stream('export'), { method: 'LOG_BASED' }).note?.text).toBe(
      "replication-method LOG_BASED (PipelineWise's default) asks for a change log, which this source does not have: using the stream's default, INCREMENTAL on time",
    );
    const engage = resolveReplication(stream('engage'), { method: 'LOG_BASED' }).note?.text ?? '';
    expect(engage).toMatch(/using the stream's default, FULL_TABLE \(replication-method INCREMENTAL with replication-key mp_reserved_last_seen reads only rows changed since the bookmark\)$/);
    expect(engage.split('\n')).toHaveLength(1);
  });

  it('names what was asked and what runs when the stream cannot do it', () => {
    expect(resolveReplication(stream('export'), { method: 'FULL_TABLE' }).note?.text).toBe(
      'replication-method FULL_TABLE is not available for this stream (INCREMENTAL only): using INCREMENTAL on time',
    );
    expect(resolveReplication(stream('engage'), { method: 'INCREMENTAL', key: '$last_seen' }).note?.text).toBe(
      `replication-key "$last_seen" is not one of this stream's (${LAST_SEEN}): using ${LAST_SEEN}`,
    );
  });

  it('refuses a method that does not exist, naming the stream, the value and the methods it has', () => {
    const attempt = () => resolveReplication(stream('engage'), { method: 'INCREMENTL' });
    expect(attempt).toThrow(InputError);
    expect(attempt).toThrow(
      'catalog: stream engage asks for replication-method "INCREMENTL", which is not a replication method: use FULL_TABLE or INCREMENTAL (LOG_BASED runs the stream\'s default, FULL_TABLE)',
    );
    expect(() => resolveReplication(stream('cohorts'), { method: 'CDC' })).toThrow(/use FULL_TABLE \(LOG_BASED/);
  });
});
