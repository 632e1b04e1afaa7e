/**
 * One sidecar writes a process's bookkeeping events (`step-started`, `wait-scheduled`,
 * `step-completed`, `process-completed`) and runs a request's pre-flight; the others leave it to
 * that sidecar for SCRIBE_FALLBACK_MS, then write it too. Every sidecar decides the same event,
 * so without a designation they all sign it and race for it, and all but one append in vain.
 */
import type { ProcessState, ZoneState } from './state.js';

/** How long the other sidecars leave a bookkeeping event or a pre-flight to its scribe. */
export const SCRIBE_FALLBACK_MS = 10_000;

type PendingRequest = ZoneState['pendingRequests'][number];

/**
 * The process's scribe: the participant that applied a step last (it is up and just acted),
 * never a signer the process removes; before any has, the process's signer when it is a
 * participant that stays (not model 1's owner, which runs no sidecar), else the first that does.
 */
export function scribeOf(process: ProcessState): string {
  const leaving = process.kind === 'remove-signer' ? process.signerId : undefined;
  const last = Math.min(process.currentStep, process.stepStates.length - 1);
  for (let index = last; index >= 0; index -= 1) {
    const actor = latestReconciler(process.stepStates[index]!.reconciled, leaving);
    if (actor !== undefined) return actor;
  }
  const staying = process.groupAfter.filter((id) => id !== leaving);
  if (staying.includes(process.signerId)) return process.signerId;
  return firstOf(staying) ?? process.signerId;
}

/**
 * Who runs a request's pre-flight: its signer when it is registered (it has a sidecar) and the
 * request does not remove it, else the first member that stays.
 */
export function preflightScribeOf(state: ZoneState, request: PendingRequest): string {
  const removing = request.kind === 'remove-signer';
  if (!removing && state.signers[request.signerId] !== undefined) return request.signerId;
  return firstOf(state.members.filter((id) => id !== request.signerId)) ?? request.signerId;
}

/**
 * When `self` may write what its scribe has not written: undefined when it may now (it is the
 * scribe, or it is no sidecar), else `readySince` plus SCRIBE_FALLBACK_MS.
 */
export function scribeFallbackAt(
  scribe: string,
  self: string | undefined,
  readySince: string | undefined,
): string | undefined {
  if (self === undefined || self === scribe) return undefined;
  const since = Date.parse(readySince ?? '');
  if (Number.isNaN(since)) return undefined;
  return new Date(since + SCRIBE_FALLBACK_MS).toISOString();
}

/** Since when the process's next bookkeeping event could be written. */
export function bookkeepingReadySince(process: ProcessState): string {
  const step = process.stepStates[process.currentStep];
  if (step === undefined || step.status === 'pending') {
    const previous = process.stepStates[process.currentStep - 1];
    return previous?.completedAt ?? process.startedAt;
  }
  if (step.status === 'waiting' && step.wait) return step.wait.notBefore;
  return step.postconditionMetAt ?? step.startedAt ?? process.startedAt;
}

function latestReconciler(
  reconciled: ProcessState['stepStates'][number]['reconciled'],
  excluded: string | undefined,
): string | undefined {
  let best: { id: string; at: number } | undefined;
  for (const [id, { at }] of Object.entries(reconciled)) {
    if (id === excluded) continue;
    const time = Date.parse(at) || 0;
    if (!best || time > best.at || (time === best.at && id < best.id)) best = { id, at: time };
  }
  return best?.id;
}

function firstOf(ids: readonly string[]): string | undefined {
  return [...ids].sort()[0];
}
