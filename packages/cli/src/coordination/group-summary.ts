/** A group's zones summed up: how many are at each step, the wait window, and what failed. */
import type { ProcessState, ZoneState } from '@chorus/engine';

export interface GroupFailure {
  zone: string;
  message: string;
}

export interface GroupSummary {
  group: string;
  zones: number;
  /** Zones per place: `add-signer knot step 3/7 wait-ds`, `pending`, `idle`, `undefined`. */
  byStep: Record<string, number>;
  /** The earliest and latest end of the waits in progress (ISO 8601). */
  earliestNotBefore?: string;
  latestNotBefore?: string;
  /** Zones whose process holds for the operator, or whose last process was refused or failed. */
  failures: GroupFailure[];
}

function openProcess(state: ZoneState): ProcessState | undefined {
  return state.processes.find(
    (process) => process.status === 'running' || process.status === 'needs-operator',
  );
}

/** Where one zone is, as a key to count by. */
function placeOf(state: ZoneState): string {
  if (!state.defined) return 'undefined';
  const process = openProcess(state);
  if (process) {
    const total = process.steps.length;
    const step = Math.min(process.currentStep + 1, total);
    const held = process.status === 'needs-operator' ? ' (needs the operator)' : '';
    return `${process.kind} ${process.signerId} step ${step}/${total} ${process.steps[process.currentStep]?.name ?? 'finishing'}${held}`;
  }
  return state.pendingRequests.length > 0 ? 'pending' : 'idle';
}

function failureOf(state: ZoneState): GroupFailure | undefined {
  const open = openProcess(state);
  if (open?.status === 'needs-operator') {
    const failing = Object.entries(open.signerFailures ?? {})
      .map(([id, failure]) => `${id}: ${failure.message}`)
      .join('; ');
    return {
      zone: state.zone,
      message: `${open.kind} ${open.signerId} needs the operator: ${failing}`,
    };
  }
  const last = state.processes.at(-1);
  if (open || !last || (last.status !== 'blocked' && last.status !== 'failed')) return undefined;
  const reasons = (last.reasons ?? []).map((reason) => `[${reason.code}] ${reason.message}`);
  return {
    zone: state.zone,
    message: `${last.kind} ${last.signerId} ${last.status}: ${reasons.join('; ')}`,
  };
}

/** The summary of `states`, the zones of group `group`. */
export function summarizeGroup(group: string, states: readonly ZoneState[]): GroupSummary {
  const byStep: Record<string, number> = {};
  const waits: string[] = [];
  const failures: GroupFailure[] = [];
  for (const state of states) {
    const place = placeOf(state);
    byStep[place] = (byStep[place] ?? 0) + 1;
    const process = openProcess(state);
    const notBefore = process?.stepStates[process.currentStep]?.wait?.notBefore;
    if (notBefore && process?.stepStates[process.currentStep]?.status === 'waiting')
      waits.push(notBefore);
    const failure = failureOf(state);
    if (failure) failures.push(failure);
  }
  waits.sort();
  return {
    group,
    zones: states.length,
    byStep,
    ...(waits.length > 0 ? { earliestNotBefore: waits[0], latestNotBefore: waits.at(-1) } : {}),
    failures,
  };
}

/** The summary in words, for `chorus status --group`. */
export function groupSummaryLines(summary: GroupSummary, now = new Date()): string[] {
  const places = Object.entries(summary.byStep).sort(([a], [b]) => a.localeCompare(b));
  const left = (at: string) => Math.max(0, Math.round((Date.parse(at) - now.getTime()) / 1000));
  return [
    `group ${summary.group}: ${summary.zones} zone(s)`,
    ...places.map(([place, count]) => `  ${String(count).padStart(6)}  ${place}`),
    ...(summary.earliestNotBefore && summary.latestNotBefore
      ? [
          `  waits end between ${summary.earliestNotBefore} (${left(summary.earliestNotBefore)} s left) and ${summary.latestNotBefore} (${left(summary.latestNotBefore)} s left)`,
        ]
      : []),
    `  ${summary.failures.length} failure(s)${summary.failures.length > 0 ? ':' : ''}`,
    ...summary.failures.slice(0, 20).map((failure) => `    ${failure.zone}: ${failure.message}`),
    ...(summary.failures.length > 20
      ? [`    and ${summary.failures.length - 20} more (--json lists all)`]
      : []),
  ];
}
