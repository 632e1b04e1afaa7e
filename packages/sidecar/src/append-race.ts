/**
 * Several writers share a zone's stream, so an append can lose the race to another writer's
 * event. The work behind it (a reconcile, a wire observation) need not be redone when the newer
 * state still asks for the very same work: only the event is written again, for the new version.
 */
import type { Decision } from '@chorus/engine';

/** The identity of a decision's wire work; undefined for decisions without any. */
export function workKey(decision: Decision): string | undefined {
  switch (decision.kind) {
    case 'reconcile':
      return JSON.stringify([
        decision.kind,
        decision.processId,
        decision.stepIndex,
        decision.signerId,
        decision.desired,
        decision.desiredDigest ?? null,
      ]);
    case 'observe':
    case 'check-precondition':
      return JSON.stringify([
        decision.kind,
        decision.processId,
        decision.stepIndex,
        decision.check,
      ]);
    case 'append':
    case 'await-others':
    case 'idle':
    case 'preflight':
    case 'roll-action':
    case 'sleep-until':
      return undefined;
  }
}

/** The decision among `fresh` that asks for the same work as `done`, if one still does. */
export function sameWorkIn<D extends Decision>(done: D, fresh: readonly Decision[]): D | undefined {
  const key = workKey(done);
  if (key === undefined) return undefined;
  return fresh.find((decision): decision is D => workKey(decision) === key);
}
