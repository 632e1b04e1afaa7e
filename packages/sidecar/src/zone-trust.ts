import type { RecordedEvent, ZoneEvent, ChorusEvent } from '@chorus/core';
import { isZoneEvent } from '@chorus/core';
import { applyZoneEvent, emptyZoneState, type FoldPolicy, type ZoneState } from '@chorus/engine';
import type { Logger } from 'pino';

/** Error-level lines for the findings a fold added: a forged or misplaced event was refused. */
export function reportNewFindings(logger: Logger, before: ZoneState, after: ZoneState): void {
  const added = after.securityFindingCount - before.securityFindingCount;
  for (const finding of after.securityFindings.slice(
    -Math.min(added, after.securityFindings.length),
  ))
    logger.error(
      { zone: after.zone, finding },
      `security: refused ${finding.eventType} at version ${finding.streamVersion}: ${finding.message}`,
    );
}

/** True when the zone's trust names `publicKey` as this sidecar's key (always true unverified). */
export function isTrustedSidecar(state: ZoneState, id: string, publicKey?: string): boolean {
  if (!state.trust || publicKey === undefined) return true;
  return state.trust.keys.sidecars[id] === publicKey;
}

/**
 * Passes on only the zone events a verified fold accepts, so the observers learn the group from
 * what the operator and the members wrote, never from forged events.
 */
export class VerifiedFeed {
  private readonly states = new Map<string, ZoneState>();

  constructor(private readonly policy: FoldPolicy | undefined) {}

  accepted(recorded: RecordedEvent<ChorusEvent>): ZoneEvent | undefined {
    const event = recorded.event;
    if (!isZoneEvent(event)) return undefined;
    const before = this.states.get(recorded.stream) ?? emptyZoneState(event.zone, this.policy);
    let after: ZoneState;
    try {
      after = applyZoneEvent(before, event);
    } catch {
      return undefined;
    }
    this.states.set(recorded.stream, after);
    return after.securityFindingCount === before.securityFindingCount ? event : undefined;
  }
}
