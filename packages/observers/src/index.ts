export { createConsistencyObserver } from './consistency-observer.js';
export type {
  ConsistencyObserver,
  ConsistencyObserverOptions,
  ConsistencyProvider,
  ConsistencyRound,
  ConsistencyStats,
  ZoneGroup,
} from './consistency-observer.js';
export { evaluateInvariants } from './invariants.js';
export type { InvariantInput, InvariantViolation } from './invariants.js';
export type { OwnerFacts } from './model1-checks.js';
export { createObservationRecorder } from './observation-recorder.js';
export type { ObservationLog, ObservationRecorder } from './observation-recorder.js';
export { createObserverPipeline } from './pipeline.js';
export type { ObserverPipeline, ObserverPipelineOptions, ObserverStats } from './pipeline.js';
export { APEX_TYPES, askServed, defaultProbes, probeNxName, sampleWire } from './sampler.js';
export type { SampleTargets } from './sampler.js';
export { createValidationObserver } from './validation-observer.js';
export type {
  ProbeName,
  ProbeReport,
  ProviderVerdict,
  ResolverAnswer,
  ValidationFinding,
  ValidationObserver,
  ValidationObserverOptions,
  ValidationObserverStats,
} from './validation-observer.js';
export { validateViaProvider } from './validator.js';
export type {
  ValidateViaProviderOptions,
  ValidatorResolve,
  ValidatorResponse,
  Verdict,
} from './validator.js';
export {
  WireHistory,
  cachedWhileReachable,
  reachableProviders,
  serverLabel,
  versionId,
} from './wire-history.js';
export type {
  CacheMargins,
  ObservedProvider,
  ObservedServer,
  ObservedVersion,
  ServedAnswer,
} from './wire-history.js';
export { createZoneObservers, zoneGroup } from './zone-observers.js';
export type {
  ZoneObserverStats,
  ZoneObservers,
  ZoneObserversLog,
  ZoneObserversOptions,
} from './zone-observers.js';
