import type { ZoneEvent, ZoneEventType } from '../events/zone-events.js';
import { hasValidSignature } from './event-keys.js';

/**
 * Who may write what (docs/security.md). Every fold of a zone stream asks {@link judgeZoneEvent}
 * before it applies an event, so every sidecar reaches the same verdict; an event it refuses
 * changes nothing but the list of security findings.
 */

/** The roles of the principals that write to the log. */
export type PrincipalRole = 'operator' | 'sidecar' | 'observer';

/** Public keys (base64url Ed25519) by principal id, per role. */
export interface TrustedKeys {
  operators: Record<string, string>;
  sidecars: Record<string, string>;
  observers: Record<string, string>;
}

/**
 * What the operator configures on every host, outside the log (a trust file): the operators whose
 * keys are trusted from the start and, optionally, sidecars and observers known in advance.
 * Everything else is granted by the operators' signed `trust-changed` events, never by first use.
 */
export interface TrustAnchor {
  operators: Record<string, string>;
  sidecars?: Record<string, string>;
  observers?: Record<string, string>;
}

/** A change of trust: set a principal's key, or revoke it with null. */
export type TrustGrant = {
  [Group in keyof TrustedKeys]?: Record<string, string | null>;
};

export type SecurityFindingCode =
  | 'unsigned'
  | 'bad-signature'
  | 'unknown-key'
  | 'source-mismatch'
  | 'replayed'
  | 'role-not-allowed'
  | 'speaks-for-another-signer'
  | 'unsafe-skip-waits-refused'
  | 'not-requested'
  | 'owner-signature-invalid';

/** An event the fold refused: recorded, shown, never acted upon. */
export interface SecurityFinding {
  code: SecurityFindingCode;
  /** The stream version the refused event occupies. */
  streamVersion: number;
  eventType: string;
  /** The source the event claims, `kind:id`. */
  claimedSource: string;
  /** The key that signed it, when there was a signature. */
  keyId?: string;
  eventId?: string;
  occurredAt: string;
  message: string;
}

/** The role a source kind speaks as (`cli` is the operator's command line). */
const ROLE_OF_SOURCE_KIND: Record<string, PrincipalRole> = {
  cli: 'operator',
  operator: 'operator',
  sidecar: 'sidecar',
  observer: 'observer',
};

const GROUP_OF_ROLE: Record<PrincipalRole, keyof TrustedKeys> = {
  operator: 'operators',
  sidecar: 'sidecars',
  observer: 'observers',
};

/** The signer an event speaks for, when a sidecar may only write it about its own signer. */
type SpeaksFor = (event: ZoneEvent) => string | undefined;

interface Authority {
  roles: readonly PrincipalRole[];
  /** For sidecars: the signer the event is about, which must be the author's own. */
  speaksFor?: SpeaksFor;
}

const dataSignerId: SpeaksFor = (event) =>
  'signerId' in event.data ? String(event.data.signerId) : undefined;

/** Coordination: any trusted sidecar of the zone records the group's progress. */
const COORDINATION: Authority = { roles: ['sidecar'] };

/** The role table: which role may append which zone event. Observers append no zone event. */
export const ZONE_EVENT_AUTHORITY: Record<ZoneEventType, Authority> = {
  'zone-defined': { roles: ['operator'] },
  'trust-changed': { roles: ['operator'] },
  // A sidecar requests only the roll its own server began (see sidecarMayRequest).
  'process-requested': { roles: ['operator', 'sidecar'], speaksFor: dataSignerId },
  'signer-registered': {
    roles: ['sidecar'],
    speaksFor: (event) => (event.type === 'signer-registered' ? event.data.signer.id : undefined),
  },
  'signer-keys-observed': { roles: ['sidecar'], speaksFor: dataSignerId },
  'signer-content-observed': { roles: ['sidecar'], speaksFor: dataSignerId },
  'signer-zsks-planned': { roles: ['sidecar'], speaksFor: dataSignerId },
  // The owner speaks as an operator; the fold also verifies the owner's DNSSEC signatures.
  'dnskey-set-signed': { roles: ['operator'] },
  'signer-reconciled': { roles: ['sidecar'], speaksFor: dataSignerId },
  'signer-apply-failed': { roles: ['sidecar'], speaksFor: dataSignerId },
  'process-blocked': COORDINATION,
  'process-started': COORDINATION,
  'step-started': COORDINATION,
  'postcondition-met': COORDINATION,
  'parent-change-needed': COORDINATION,
  'parent-notified': COORDINATION,
  'parent-change-submitted': COORDINATION,
  'wait-scheduled': COORDINATION,
  'step-completed': COORDINATION,
  'process-completed': COORDINATION,
  'process-stop-requested': { roles: ['operator'] },
  'process-stopped': COORDINATION,
  'process-failed': COORDINATION,
};

/** What a fold knows when it judges an event. */
export interface JudgeContext {
  /** The anchor's operators merged with the keys the zone's trust events granted. */
  trusted: TrustedKeys;
  /** The stream version the event occupies (the fold's version before it, plus one). */
  streamVersion: number;
  /** Only sidecars started with the explicit unsafe flag accept `unsafeSkipWaits`. */
  allowUnsafeSkipWaits: boolean;
}

export type Verdict =
  | { accepted: true; role: PrincipalRole }
  | { accepted: false; code: SecurityFindingCode; message: string };

const refuse = (code: SecurityFindingCode, message: string): Verdict => ({
  accepted: false,
  code,
  message,
});

/** The principal (`role:id`) that owns `keyId`, if any. */
function ownerOf(trusted: TrustedKeys, keyId: string): string | undefined {
  for (const [role, group] of Object.entries(GROUP_OF_ROLE))
    for (const [id, key] of Object.entries(trusted[group]))
      if (key === keyId) return `${role}:${id}`;
  return undefined;
}

/** Signature, key, source and position: is the event what it claims to be? */
function judgeAuthenticity(event: ZoneEvent, context: JudgeContext): Verdict | PrincipalRole {
  const signed = event;
  const claimed = `${event.source.kind}:${event.source.id}`;
  if (!signed.signature) return refuse('unsigned', `unsigned event claiming ${claimed}`);
  if (!hasValidSignature(event))
    return refuse('bad-signature', `the signature does not verify (claims ${claimed})`);
  const role = ROLE_OF_SOURCE_KIND[event.source.kind];
  const owner = ownerOf(context.trusted, signed.signature.keyId);
  if (!owner)
    return refuse('unknown-key', `signed by a key no operator trusts (claims ${claimed})`);
  const expectedKey = role && context.trusted[GROUP_OF_ROLE[role]][event.source.id];
  if (expectedKey !== signed.signature.keyId)
    return refuse('source-mismatch', `signed by ${owner}'s key but claims ${claimed}`);
  if (signed.streamVersion !== context.streamVersion)
    return refuse(
      'replayed',
      `written for stream version ${String(signed.streamVersion)}, found at ${context.streamVersion}: a replay`,
    );
  return role!;
}

/** A sidecar's own request: a roll of its own signer that its server began. */
function sidecarMayRequest(event: ZoneEvent): boolean {
  return (
    event.type === 'process-requested' &&
    event.data.kind.startsWith('roll-') &&
    event.data.successorTag !== undefined &&
    // The owner's KSK is the operator's to roll, never a sidecar's.
    event.data.ownerKsk === undefined
  );
}

function skippedWaits(event: ZoneEvent): string[] {
  if (event.type !== 'process-requested' && event.type !== 'process-started') return [];
  return event.data.unsafeSkipWaits ?? [];
}

/** Role and subject: may this author write this event? */
function judgeAuthority(event: ZoneEvent, role: PrincipalRole, context: JudgeContext): Verdict {
  const authority = ZONE_EVENT_AUTHORITY[event.type] as Authority | undefined;
  const who = `${role} ${event.source.id}`;
  if (!authority?.roles.includes(role))
    return refuse('role-not-allowed', `${who} may not append ${event.type}`);
  if (role === 'sidecar' && authority.speaksFor) {
    const subject = authority.speaksFor(event);
    if (subject !== event.source.id)
      return refuse(
        'speaks-for-another-signer',
        `${who} may not append ${event.type} for signer ${String(subject)}`,
      );
    if (event.type === 'process-requested' && !sidecarMayRequest(event))
      return refuse('role-not-allowed', `${who} may request only a roll its server began`);
  }
  const skipped = skippedWaits(event);
  if (skipped.length > 0 && !context.allowUnsafeSkipWaits)
    return refuse(
      'unsafe-skip-waits-refused',
      `${event.type} skips waits (${skipped.join(', ')}); sidecars accept that only when started with the unsafe flag`,
    );
  return { accepted: true, role };
}

/** The fold's verdict on one zone event. Pure: the same on every host. */
export function judgeZoneEvent(event: ZoneEvent, context: JudgeContext): Verdict {
  const authentic = judgeAuthenticity(event, context);
  if (typeof authentic !== 'string') return authentic;
  return judgeAuthority(event, authentic, context);
}

/** The keys trusted after applying `grant` (null revokes). */
export function grantTrust(trusted: TrustedKeys, grant: TrustGrant): TrustedKeys {
  const next: TrustedKeys = {
    operators: { ...trusted.operators },
    sidecars: { ...trusted.sidecars },
    observers: { ...trusted.observers },
  };
  for (const group of Object.keys(GROUP_OF_ROLE).map(
    (role) => GROUP_OF_ROLE[role as PrincipalRole],
  ))
    for (const [id, key] of Object.entries(grant[group] ?? {}))
      if (key === null) delete next[group][id];
      else next[group][id] = key;
  return next;
}

/** The keys trusted before any event: the anchor's operators. */
export function trustFromAnchor(anchor: TrustAnchor): TrustedKeys {
  return {
    operators: { ...anchor.operators },
    sidecars: { ...anchor.sidecars },
    observers: { ...anchor.observers },
  };
}
