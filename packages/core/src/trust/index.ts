export { canonicalJson } from './canonical-json.js';
export {
  eventSigningKey,
  generateEventKey,
  hasValidSignature,
  isEventPublicKey,
  signEvent,
  type EventSignature,
  type EventSigningKey,
  type SignedFields,
} from './event-keys.js';
export {
  ZONE_EVENT_AUTHORITY,
  grantTrust,
  judgeZoneEvent,
  trustFromAnchor,
  type JudgeContext,
  type PrincipalRole,
  type SecurityFinding,
  type SecurityFindingCode,
  type TrustAnchor,
  type TrustGrant,
  type TrustedKeys,
  type Verdict,
} from './authority.js';
export { createSigningEventLog } from './signing-event-log.js';
