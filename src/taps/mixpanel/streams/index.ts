import { annotationsStream } from './annotations.js';
import { cohortMembersStream } from './cohort-members.js';
import { cohortsStream } from './cohorts.js';
import { engageStream } from './engage.js';
import { exportStream } from './export.js';
import { funnelsStream } from './funnels.js';
import { revenueStream } from './revenue.js';
import type { StreamDefinition } from './types.js';

/** Every stream, in the order a run syncs them. */
export const STREAMS: readonly StreamDefinition[] = [
  exportStream,
  engageStream,
  funnelsStream,
  revenueStream,
  annotationsStream,
  cohortsStream,
  cohortMembersStream,
];

export function streamByName(name: string): StreamDefinition | undefined {
  return STREAMS.find((s) => s.name === name);
}
