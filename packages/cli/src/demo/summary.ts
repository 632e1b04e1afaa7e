import type { ZoneState } from '@chorus/engine';
import { summarizeProcess, type ProcessSummary } from '../coordination/stats.js';

export type { ProcessSummary } from '../coordination/stats.js';

export function summarizeZone(state: ZoneState, since: string): ProcessSummary[] {
  return state.processes
    .filter(
      (process) =>
        process.status === 'completed' && Date.parse(process.startedAt) >= Date.parse(since),
    )
    .map(summarizeProcess);
}
