export { observeChildServers } from './observe-child.js';
export type { ObserveChildOptions } from './observe-child.js';
export { observeBootstrapSignals, signallingName } from './observe-signals.js';
export type { ObserveBootstrapSignalsOptions } from './observe-signals.js';
export { createObserveOnlyParentChannel, observeDelegation } from './observe-only.js';
export type { ObserveDelegationOptions, ObserveOnlyParentChannelOptions } from './observe-only.js';
export { scanDelegation } from './scan.js';
export type { ParentScanOptions, ParentScanResult } from './scan.js';
export { decideParentUpdate, isDeleteCdnskey, isDeleteCds } from './scanner.js';
export type { CurrentDelegation } from './scanner.js';
export type {
  BootstrapSignals,
  ChildObservations,
  ChildServerData,
  ChildServerObservation,
  DsDecision,
  GlueAddresses,
  HostAddressObservation,
  NsDecision,
  ParentScanPolicy,
  ParentUpdateDecision,
  ScanReason,
  ScanReasonCode,
  ScanStatus,
  SignalAnswer,
  SignalNameObservation,
  UnresolvedNameserver,
} from './types.js';
export { buildParentUpdate } from './update.js';
export type { ParentUpdateInput } from './update.js';
export { dsReferencesKey, validateDnskeyRrset, validateRrset } from './validation.js';
export type { DnskeyValidation, RrsetValidationResult } from './validation.js';
export { discoverDsync, dsyncLookupNames, selectDsyncTargets } from './dsync.js';
export type {
  DiscoverDsyncOptions,
  DsyncDiscovery,
  DsyncIgnored,
  DsyncNotifyType,
  DsyncRecord,
  DsyncSelection,
  DsyncTarget,
} from './dsync.js';
export {
  createRegistrarParentChannel,
  idempotencyKeyFor,
  REGISTRAR_API_ACCEPTS,
  registrarErrorText,
} from './registrar.js';
export type {
  RegistrarAccepts,
  RegistrarNsUpdateOptions,
  RegistrarParentChannel,
  RegistrarParentChannelOptions,
} from './registrar.js';
export { DEFAULT_RETRY_POLICY, retryDelayMs, withRetries } from './registrar-retry.js';
export type { RetryOptions, RetryPolicy } from './registrar-retry.js';
export { classifyFailure, directQueryOptions } from './direct-query.js';
export type { QueryFailure } from './direct-query.js';
