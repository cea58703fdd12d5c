/**
 * Which replication a stream runs, from what its catalog asks for and what the stream can do.
 *
 * - Nothing asked: the stream's default.
 * - FULL_TABLE or INCREMENTAL: honoured when the stream has it; otherwise the stream's only
 *   method, with a warning (a catalog edited by hand, or a Meltano `metadata` override).
 * - LOG_BASED: PipelineWise writes it for every stream it selects unless its YAML names a method
 *   (its default for tap-mixpanel). It asks for a database change log, which an API source does
 *   not have, so the stream runs its default method and one info line says which: reading it as
 *   INCREMENTAL where a stream's default is FULL_TABLE would read less than the user's tables
 *   hold (engage: profile updates sent with $ignore_time never move $last_seen).
 * - Anything else: an input error before the run writes anything, naming the stream and the fix.
 *
 * An INCREMENTAL stream uses the catalog's replication key when it is one of the stream's
 * (valid-replication-keys), else its first valid key, with a warning.
 */
import { InputError } from '../errors/index.js';
import type { ReplicationMethod, ReplicationRequest } from './catalog.js';

/** What a stream declares about its replication (a tap's stream definition has these). */
export interface StreamReplicationSpec {
  name: string;
  replicationMethod: ReplicationMethod;
  forcedReplicationMethod?: ReplicationMethod;
  replicationKey?: string;
  validReplicationKeys?: string[];
}

export interface ReplicationNote {
  level: 'info' | 'warn';
  /** One sentence, without the stream's name (the caller's log line starts with it). */
  text: string;
}

export interface ResolvedReplication {
  method: ReplicationMethod;
  key?: string;
  /** Set when the stream runs something else than the catalog asked for. */
  note?: ReplicationNote;
}

function replicationKeys(stream: StreamReplicationSpec): string[] {
  return stream.replicationKey ? [stream.replicationKey] : (stream.validReplicationKeys ?? []);
}

function supportedMethods(stream: StreamReplicationSpec): ReplicationMethod[] {
  if (stream.forcedReplicationMethod) return [stream.forcedReplicationMethod];
  return replicationKeys(stream).length > 0 ? ['FULL_TABLE', 'INCREMENTAL'] : ['FULL_TABLE'];
}

function describe(method: ReplicationMethod, key: string | undefined): string {
  return method === 'INCREMENTAL' && key ? `INCREMENTAL on ${key}` : method;
}

/** The method to run and, when it is not what was asked, why. */
function chooseMethod(stream: StreamReplicationSpec, asked: string | undefined): { method: ReplicationMethod; why?: ReplicationNote['level'] } {
  const supported = supportedMethods(stream);
  if (asked === undefined) return { method: stream.replicationMethod };
  if (asked === 'FULL_TABLE' || asked === 'INCREMENTAL') {
    return supported.includes(asked) ? { method: asked } : { method: stream.replicationMethod, why: 'warn' };
  }
  if (asked === 'LOG_BASED') return { method: stream.replicationMethod, why: 'info' };
  throw new InputError(
    `catalog: stream ${stream.name} asks for replication-method ${JSON.stringify(asked)}, which is not a replication method: ` +
      `use ${supported.join(' or ')} (LOG_BASED runs the stream's default, ${stream.replicationMethod})`,
  );
}

function methodSentence(stream: StreamReplicationSpec, asked: string, used: string, level: ReplicationNote['level']): string {
  if (level === 'warn') return `replication-method ${asked} is not available for this stream (${supportedMethods(stream).join(', ')} only): using ${used}`;
  const keys = replicationKeys(stream);
  const incrementalToo = stream.replicationMethod === 'FULL_TABLE' && keys.length > 0;
  return (
    `replication-method LOG_BASED (PipelineWise's default) asks for a change log, which this source does not have: using the stream's default, ${used}` +
    (incrementalToo ? ` (replication-method INCREMENTAL with replication-key ${keys[0] ?? ''} reads only rows changed since the bookmark)` : '')
  );
}

export function resolveReplication(stream: StreamReplicationSpec, request: ReplicationRequest): ResolvedReplication {
  const { method, why } = chooseMethod(stream, request.method);
  const keys = replicationKeys(stream);
  const key = method === 'INCREMENTAL' ? (request.key !== undefined && keys.includes(request.key) ? request.key : keys[0]) : undefined;
  const sentences: string[] = [];
  let level: ReplicationNote['level'] = 'info';
  if (why && request.method) {
    sentences.push(methodSentence(stream, request.method, describe(method, key), why));
    level = why;
  }
  if (method === 'INCREMENTAL' && request.key !== undefined && request.key !== key) {
    sentences.push(`replication-key ${JSON.stringify(request.key)} is not one of this stream's (${keys.join(', ')}): using ${key ?? 'none'}`);
    level = 'warn';
  }
  return { method, ...(key ? { key } : {}), ...(sentences.length > 0 ? { note: { level, text: sentences.join('; ') } } : {}) };
}
