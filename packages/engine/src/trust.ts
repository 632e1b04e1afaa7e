import {
  grantTrust,
  judgeZoneEvent,
  trustFromAnchor,
  type SecurityFinding,
  type TrustAnchor,
  type TrustedKeys,
  type ZoneEvent,
} from '@chorus/core';

/** How a fold verifies: the operator's anchor, and whether this host accepts skipped waits. */
export interface FoldPolicy {
  anchor: TrustAnchor;
  /** UNSAFE: accept `unsafeSkipWaits` (the demo's and the tests' negative controls only). */
  allowUnsafeSkipWaits?: boolean;
}

/** The trust a verified fold carries along. */
export interface ZoneTrustState {
  keys: TrustedKeys;
  allowUnsafeSkipWaits: boolean;
}

/** One per policy: zones share it until a grant replaces theirs (trust is never changed in place). */
const initialTrustOf = new WeakMap<FoldPolicy, ZoneTrustState>();

export function initialTrust(policy: FoldPolicy): ZoneTrustState {
  let trust = initialTrustOf.get(policy);
  if (!trust) {
    trust = {
      keys: trustFromAnchor(policy.anchor),
      allowUnsafeSkipWaits: policy.allowUnsafeSkipWaits ?? false,
    };
    initialTrustOf.set(policy, trust);
  }
  return trust;
}

/** The trust after an accepted `trust-changed`. */
export function applyGrant(trust: ZoneTrustState, event: ZoneEvent): ZoneTrustState {
  if (event.type !== 'trust-changed') return trust;
  return { ...trust, keys: grantTrust(trust.keys, event.data.grant) };
}

/** What the fold needs to know of the state to judge an event. */
export interface JudgedState {
  version: number;
  pendingRequests: { processId: string }[];
}

/**
 * Why the fold refuses `event`, or undefined to apply it. Beyond the role table, a
 * `process-started` must follow a request the fold accepted.
 */
export function refusalOf(
  state: JudgedState,
  trust: ZoneTrustState,
  event: ZoneEvent,
): SecurityFinding | undefined {
  const streamVersion = state.version + 1;
  const verdict = judgeZoneEvent(event, {
    trusted: trust.keys,
    streamVersion,
    allowUnsafeSkipWaits: trust.allowUnsafeSkipWaits,
  });
  if (verdict.accepted && event.type === 'process-started') {
    const requested = state.pendingRequests.some((r) => r.processId === event.data.processId);
    if (!requested)
      return finding(event, streamVersion, 'not-requested', 'starts a process nobody requested');
  }
  return verdict.accepted
    ? undefined
    : finding(event, streamVersion, verdict.code, verdict.message);
}

function finding(
  event: ZoneEvent,
  streamVersion: number,
  code: SecurityFinding['code'],
  message: string,
): SecurityFinding {
  const signed = event;
  return {
    code,
    streamVersion,
    eventType: String(event.type),
    claimedSource: `${String(event.source?.kind)}:${String(event.source?.id)}`,
    ...(typeof signed.signature?.keyId === 'string' ? { keyId: signed.signature.keyId } : {}),
    ...(typeof signed.id === 'string' ? { eventId: signed.id } : {}),
    occurredAt: String(event.occurredAt),
    message,
  };
}
