export { adoptionFindings, adoptionRecord } from './adoption.js';
export type {
  AdoptionFinding,
  AdoptionObservations,
  UnansweredEndpoint,
  ZoneAdoption,
} from './adoption.js';
export {
  decide,
  decideEach,
  defineZone,
  desiredDigest,
  desiredInForce,
  desiredNow,
  successorOf,
  parentChangeNeeded,
  parentChangeSubmitted,
  parentNotified,
  postconditionMet,
  requestProcess,
  signerApplyFailed,
  signerReconciled,
} from './decide.js';
export type { DecideContext, Decision, PostconditionCheck } from './decide.js';
export { GROUP_CSYNC, desiredForRecipe, expectedDsFor, groupOf, nameServersOf } from './desired.js';
export { desiredStatesForGroup } from './group.js';
export { claimsConflict, conflictingProcess, resourcesOf } from './locks.js';
export type { Resource } from './locks.js';
export type { GroupDesiredStateOptions, GroupMember } from './group.js';
export {
  observeForPreflight,
  observePostcondition,
  observeSignerForPreflight,
  walkNsecChain,
} from './observe.js';
export type { ObserveOptions, PostconditionResult, PreflightObservations } from './observe.js';
export {
  isNewParentChange,
  isParentCheck,
  parentChangeBody,
  parentChangeFor,
  parentChangeSummary,
  requestedChangeOf,
} from './parent-change.js';
export type {
  ParentChangeBody,
  ParentChangeContext,
  ParentCheck,
  RequestedChange,
} from './parent-change.js';
export { preflightChecks, processInFlight } from './preflight.js';
export {
  SCRIBE_FALLBACK_MS,
  bookkeepingReadySince,
  preflightScribeOf,
  scribeOf,
} from './scribe.js';
export { UNDO_KIND, undoRequestFor, whyNotUndoable } from './undo.js';
export type { UndoRequest } from './undo.js';
export {
  prePublicationShortfall,
  requiredPrePublicationSeconds,
  rollChecks,
} from './preflight-rolls.js';
export type { PreflightInput, SignerObservation } from './preflight.js';
export { ADD_SIGNER_STEPS, REMOVE_SIGNER_STEPS, stepsFor } from './processes.js';
export { modelSwitchOrder, modelSwitchRefusal } from './preflight-model-switch.js';
export {
  DEFAULT_TIMING,
  ZoneStreamError,
  applyZoneEvent,
  emptyZoneState,
  foldZone,
  withoutFinishedDetail,
} from './state.js';
export { type FoldPolicy, type ZoneTrustState } from './trust.js';
export type {
  LeavingSigner,
  ProcessState,
  RecordedParentChange,
  ProcessStatus,
  KeyFinding,
  OwnerSignedState,
  RegistrationChange,
  SignerFacts,
  SignerFailure,
  SignerState,
  StepState,
  StepStatus,
  ZoneState,
} from './state.js';
export { instrumentParentChannel, instrumentSigner } from './telemetry/instrument.js';
export type { InstrumentOptions } from './telemetry/instrument.js';
export {
  METER_NAME,
  recordPluginCall,
  recordProcess,
  recordStep,
  recordValidationCheck,
  recordValidationFailure,
  recordWait,
} from './telemetry/metrics.js';
export type { CallOutcome, ProcessOutcome, ValidationVerdict } from './telemetry/metrics.js';
export { WaitInputError, computeWait } from './waits.js';
export type { ComputedWait } from './waits.js';
export {
  OWNER_ID,
  ownerForVerification,
  ownerKskRoll,
  ownerKsksInEffect,
  ownerSignatureProblem,
  ownerSignaturesExpireAt,
  ownerSigningDue,
  ownerSetMembers,
  ownerSetServers,
  ownerSigningPlan,
  refreshTransitSeconds,
  wantedDnskeys,
  type OwnerSigningDecision,
} from './model1.js';
