import type { ProcessState, ZoneState } from '@chorus/engine';

export interface ProcessSummary {
  kind: string;
  signerId: string;
  /** ISO 8601: processes on disjoint resources may overlap. */
  startedAt: string;
  endedAt?: string;
  seconds: number;
  /** Time spent in mandated waits (from each wait-scheduled event to its notBefore). */
  mandatedWaitSeconds: number;
  /** Time spent waiting for the parent to act (await-parent-* steps before their post-condition held). */
  parentSeconds: number;
  steps: { name: string; seconds: number; wait?: string }[];
}

const seconds = (from?: string, to?: string) =>
  from && to ? Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000) : 0;

export function summarizeProcess(process: ProcessState): ProcessSummary {
  const steps = process.steps.map((step, index) => {
    const state = process.stepStates[index]!;
    return {
      name: step.name,
      seconds: seconds(state.startedAt, state.completedAt),
      ...(state.wait
        ? {
            wait: `${seconds(state.postconditionMetAt, state.wait.notBefore).toFixed(0)} s: ${state.wait.formula}`,
          }
        : {}),
    };
  });
  const mandatedWaitSeconds = process.stepStates.reduce(
    (sum, state) =>
      sum + (state.wait ? seconds(state.postconditionMetAt, state.wait.notBefore) : 0),
    0,
  );
  const parentSeconds = process.steps.reduce(
    (sum, step, index) =>
      step.name.startsWith('await-parent')
        ? sum +
          seconds(
            process.stepStates[index]!.startedAt,
            process.stepStates[index]!.postconditionMetAt,
          )
        : sum,
    0,
  );
  return {
    kind: process.kind,
    signerId: process.signerId,
    startedAt: process.startedAt,
    ...(process.endedAt ? { endedAt: process.endedAt } : {}),
    seconds: seconds(process.startedAt, process.endedAt),
    mandatedWaitSeconds,
    parentSeconds,
    steps,
  };
}

export function summarizeZone(state: ZoneState, since: string): ProcessSummary[] {
  return state.processes
    .filter(
      (process) =>
        process.status === 'completed' && Date.parse(process.startedAt) >= Date.parse(since),
    )
    .map(summarizeProcess);
}
