import { engageStream } from './engage.js';
import { exportStream } from './export.js';
import type { StreamDefinition } from './types.js';

/** Every stream, in the order a run syncs them. */
export const STREAMS: readonly StreamDefinition[] = [exportStream, engageStream];

export function streamByName(name: string): StreamDefinition | undefined {
  return STREAMS.find((s) => s.name === name);
}
