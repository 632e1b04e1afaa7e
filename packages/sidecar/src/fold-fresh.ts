/**
 * What a sidecar does with events it read: fold the ones its cached state has not folded yet.
 * Refreshes overlap (run loop, key watch, a lost append), so another one may have folded some of
 * them while this one read: those are neither folded nor their signatures checked again.
 */
import { isZoneEvent, type ChorusEvent, type RecordedEvent, type ZoneEvent } from '@chorus/core';
import { applyZoneEvent, type ZoneState } from '@chorus/engine';

/** `state` with the events of `fresh` it has not folded; `folded` hears of each one folded. */
export function foldFresh(
  state: ZoneState,
  fresh: readonly RecordedEvent<ChorusEvent>[],
  folded: (event: ZoneEvent, before: ZoneState, after: ZoneState) => void = () => undefined,
): ZoneState {
  let current = state;
  for (const recorded of fresh) {
    if (recorded.streamVersion <= current.version) continue;
    if (!isZoneEvent(recorded.event)) continue;
    const next = applyZoneEvent(current, recorded.event);
    folded(recorded.event, current, next);
    current = next;
  }
  return current;
}

/**
 * Per zone: the changes applied in its current step across attempts (an append that lost a race
 * is retried with an idempotent re-apply of 0 changes). One entry per zone, replaced when the step
 * changes, so a long-running sidecar does not keep one per step it ever reconciled.
 */
export class StepChangeTally {
  private readonly byZone = new Map<string, { step: string; applied: number }>();

  /** Adds `changes` to the zone's tally for `step` (a new step starts from 0); the new total. */
  add(zone: string, step: string, changes: number): number {
    const before = this.byZone.get(zone);
    const applied = (before?.step === step ? before.applied : 0) + changes;
    this.byZone.set(zone, { step, applied });
    return applied;
  }

  /** Zones tallied: one entry each, whatever the number of steps. */
  get size(): number {
    return this.byZone.size;
  }
}
