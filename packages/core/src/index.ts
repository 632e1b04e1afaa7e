export { ChorusError } from './errors/chorus-error.js';
export {
  AbortError,
  DnsNetworkError,
  DnsResponseError,
  DnsTimeoutError,
  DnsWireError,
  InvalidNameError,
  PresentationParseError,
  TsigError,
} from './errors/dns-errors.js';
export type { TsigFailure } from './errors/dns-errors.js';
export type {
  CsyncData,
  DnsClass,
  DnsMessage,
  DnsRecord,
  DnskeyData,
  DsData,
  Edns,
  EdnsOption,
  EmptyRecord,
  HeaderFlags,
  KnownRecordType,
  MxData,
  NameServer,
  Nsec3Data,
  Nsec3ParamData,
  NsecData,
  Opcode,
  Question,
  Rcode,
  RecordDataMap,
  RecordType,
  RRset,
  RrsigData,
  SoaData,
  SrvData,
  TsigData,
  TsigRecord,
  TypedRecord,
  UnknownData,
  UnknownRecord,
} from './dns/types.js';
export {
  CSYNC_FLAG_IMMEDIATE,
  CSYNC_FLAG_SOAMINIMUM,
  DEFAULT_DNS_PORT,
  DNSKEY_FLAG_REVOKE,
  DNSKEY_FLAG_SEP,
  DNSKEY_FLAG_ZONE,
  DigestType,
  DnssecAlgorithm,
  recordTypeName,
  recordTypeNumber,
} from './dns/constants.js';
export {
  canonicalName,
  isSubdomain,
  labelCount,
  nameFromWire,
  nameToWire,
  namesEqual,
  normalizeName,
} from './dns/names.js';
export { isRecordOfType } from './dns/records.js';
export { decodeRdata, decodeTypeBitmap, encodeRdata, encodeTypeBitmap } from './dns/rdata.js';
export { decodeMessage, decodeMessageDetailed, encodeMessage, encodeRecord } from './dns/wire.js';
export type { DecodedMessage } from './dns/wire.js';
export { describeServer } from './dns/transport.js';
export { exchange, groupRRsets, query } from './dns/query.js';
export type { ExchangeOptions, ExchangeResult, QueryOptions, QueryResponse } from './dns/query.js';
export {
  DEFAULT_TSIG_FUDGE,
  createTsigKey,
  parseTsigKeyFile,
  readTsigKeyFile,
  signMessage,
  verifyResponse,
} from './dns/tsig.js';
export type { SignedMessage, TsigAlgorithm, TsigKey } from './dns/tsig.js';
export { UpdateBuilder, sendUpdate } from './dns/update.js';
export type { UpdateOperation, UpdatePrerequisite, UpdateResult } from './dns/update.js';
export { buildNotify, sendNotify } from './dns/notify.js';
export type { NotifyOptions, NotifyType } from './dns/notify.js';

// DNSSEC primitives and presentation format
export { keyTag } from './dnssec/key-tag.js';
export { computeDs, dsMatchesKey } from './dnssec/ds.js';
export type { DsDigestType } from './dnssec/ds.js';
export { canonicalRrsetSigningData, rrsigLabelCount, signedOwnerName } from './dnssec/canonical.js';
export type { RecordData, SignedRrset } from './dnssec/canonical.js';
export { verifyRrsig } from './dnssec/verify.js';
export type { VerifyRrsigInput, VerifyRrsigResult } from './dnssec/verify.js';
export {
  formatRdata,
  formatRecord,
  parseRdata,
  parseRecord,
  parseZone,
} from './dns/presentation.js';
export type { ParseRecordOptions, ParseZoneOptions } from './dns/presentation.js';

// Plugin specification: capabilities, signer, parent channel, observer, planning
export {
  ApiCallError,
  ConfigError,
  ConvergenceError,
  SignerCommandError,
  SignerConfigurationError,
  UnsafePlanError,
  UnsupportedCapabilityError,
} from './errors/plugin-errors.js';
export {
  SIGNER_CAPABILITIES,
  can,
  cannot,
  capabilityStatus,
  capabilityTable,
  unimplemented,
} from './plugin/capabilities.js';
export type {
  CapabilityNote,
  CapabilityStatus,
  SignerCapabilities,
  SignerCapability,
} from './plugin/capabilities.js';
export { defineSignerPlugin } from './plugin/signer.js';
export type {
  ApexSnapshot,
  ApplyResult,
  CallOptions,
  ChangeRecordType,
  DesiredSignerState,
  KeyRole,
  PluginDependencies,
  Signer,
  SignerChange,
  SignerPlan,
  SignerPluginDefinition,
  SigningKey,
  Warning,
  ZoneName,
} from './plugin/signer.js';
export type {
  Delegation,
  ParentCapability,
  ParentChannel,
  ParentRequest,
} from './plugin/parent-channel.js';
export type { ChorusEventEnvelope, Observer } from './plugin/observer.js';
export {
  CAPABILITY_FOR_TYPE,
  assertPlanAllowed,
  csyncIdentity,
  describeChange,
  dnskeyIdentity,
  dsIdentity,
  planSignerChanges,
  reconcileSigner,
} from './plugin/plan.js';
export type { ReconcileResult } from './plugin/plan.js';
export { readApexFromServer } from './plugin/apex.js';
export { desiredStatesForGroup } from './plugin/group.js';
export type { GroupDesiredStateOptions, GroupMember } from './plugin/group.js';

// Coordination: events, the zone fold, processes as data, waits, pre-flight checks, decisions
export { EVENT_SCHEMA_VERSION, zoneStream } from './coordination/events.js';
export type {
  BlockReason,
  DesiredRecipe,
  EventSource,
  GroupSelector,
  ObservedTtls,
  PostconditionSpec,
  ProcessKind,
  SignerReference,
  StepDefinition,
  TimingSettings,
  WaitFormula,
  ZoneEvent,
  ZoneEventOf,
  ZoneEventType,
} from './coordination/events.js';
export { ADD_SIGNER_STEPS, REMOVE_SIGNER_STEPS, stepsFor } from './coordination/processes.js';
export {
  DEFAULT_TIMING,
  ZoneStreamError,
  applyZoneEvent,
  emptyZoneState,
  foldZone,
} from './coordination/state.js';
export type {
  ProcessState,
  ProcessStatus,
  SignerState,
  StepState,
  StepStatus,
  ZoneState,
} from './coordination/state.js';
export { WaitInputError, computeWait } from './coordination/waits.js';
export type { ComputedWait } from './coordination/waits.js';
export {
  GROUP_CSYNC,
  desiredForRecipe,
  expectedDsFor,
  groupOf,
  nameServersOf,
} from './coordination/desired.js';
export { preflightChecks } from './coordination/preflight.js';
export type { PreflightInput, SignerObservation } from './coordination/preflight.js';
export {
  decide,
  defineZone,
  desiredInForce,
  postconditionMet,
  requestProcess,
  signerReconciled,
} from './coordination/decide.js';
export type { DecideContext, Decision, PostconditionCheck } from './coordination/decide.js';

// Event log
export {
  EventLogError,
  SecretInEventError,
  WrongExpectedVersionError,
} from './event-log/errors.js';
export type { EventLogErrorKind } from './event-log/errors.js';
export type {
  AppendResult,
  EventLog,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from './event-log/types.js';
export { assertNoSecrets, assertPlainJson } from './event-log/validate.js';
export { createMemoryEventLog } from './event-log/memory-event-log.js';
export type { MemoryEventLogOptions } from './event-log/memory-event-log.js';
export {
  SQLITE_EVENT_LOG_SCHEMA_VERSION,
  createSqliteEventLog,
} from './event-log/sqlite-event-log.js';
export type { SqliteEventLogOptions } from './event-log/sqlite-event-log.js';
export {
  observePostcondition,
  observeSignerForPreflight,
  walkNsecChain,
} from './coordination/observe.js';
export type { ObserveOptions, PostconditionResult } from './coordination/observe.js';

// Parent channels
export type { DelegationGlue, DelegationServerView } from './plugin/parent-channel.js';
export { ParentAnswerError, ParentServerUnreachableError } from './parent/errors.js';
export type { ParentAnswerProblem } from './parent/errors.js';
export { createObserveOnlyParentChannel, observeDelegation } from './parent/observe-only.js';
export type {
  ObserveDelegationOptions,
  ObserveOnlyParentChannelOptions,
} from './parent/observe-only.js';
export { observeChildServers } from './parent/observe-child.js';
export type { ObserveChildOptions } from './parent/observe-child.js';
export { decideParentUpdate, isDeleteCdnskey, isDeleteCds } from './parent/scanner.js';
export type { CurrentDelegation } from './parent/scanner.js';
export { dsReferencesKey, validateDnskeyRrset, validateRrset } from './parent/validation.js';
export type { DnskeyValidation, RrsetValidationResult } from './parent/validation.js';
export { buildParentUpdate } from './parent/update.js';
export type { ParentUpdateInput } from './parent/update.js';
export { scanDelegation } from './parent/scan.js';
export type { ParentScanOptions, ParentScanResult } from './parent/scan.js';
export type {
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
  UnresolvedNameserver,
} from './parent/types.js';
export { childTraceparent, newTraceparent, traceIdOf } from './coordination/trace.js';

// Observer pipeline
export { createObserverPipeline } from './observers/pipeline.js';
export type {
  ObserverPipeline,
  ObserverPipelineOptions,
  ObserverStats,
} from './observers/pipeline.js';

// Validation observer
export { validateViaProvider } from './observers/validator.js';
export type {
  ValidateViaProviderOptions,
  ValidatorResolve,
  ValidatorResponse,
  Verdict,
} from './observers/validator.js';
export { createValidationObserver } from './observers/validation-observer.js';
export type {
  ProbeName,
  ProbeReport,
  ProviderVerdict,
  ResolverAnswer,
  ValidationFinding,
  ValidationObserver,
  ValidationObserverOptions,
} from './observers/validation-observer.js';

export type { ValidationObserverStats } from './observers/validation-observer.js';
export {
  WireHistory,
  cachedWhileReachable,
  reachableProviders,
  serverLabel,
  versionId,
} from './observers/wire-history.js';
export type {
  CacheMargins,
  ObservedProvider,
  ObservedServer,
  ObservedVersion,
  ServedAnswer,
} from './observers/wire-history.js';
export {
  APEX_TYPES,
  askServed,
  defaultProbes,
  probeNxName,
  sampleWire,
} from './observers/sampler.js';
export type { SampleTargets } from './observers/sampler.js';
export { evaluateInvariants } from './observers/invariants.js';
export type { InvariantInput, InvariantViolation } from './observers/invariants.js';
export { createConsistencyObserver } from './observers/consistency-observer.js';
export type {
  ConsistencyObserver,
  ConsistencyObserverOptions,
  ConsistencyProvider,
  ConsistencyRound,
  ConsistencyStats,
} from './observers/consistency-observer.js';
export { createObservationRecorder } from './observers/observation-recorder.js';
export type { ObservationRecorder } from './observers/observation-recorder.js';
export { observationStream } from './observers/observation-events.js';
export type {
  InvariantId,
  ObservationEvent,
  ObservationEventType,
  ObservedKey,
  ObserverTotals,
} from './observers/observation-events.js';

// telemetry (helper)
export {
  TRACER_NAME,
  activeTraceparent,
  contextFromTraceparent,
  instrumentParentChannel,
  instrumentSigner,
  METER_NAME,
  recordError,
  recordPluginCall,
  recordProcess,
  recordStep,
  recordValidationCheck,
  recordValidationFailure,
  recordWait,
  spanContextFromTraceparent,
  traceparentOf,
  tracer,
  withSpan,
} from './telemetry/index.js';
export type {
  CallOutcome,
  InstrumentOptions,
  ProcessOutcome,
  ValidationVerdict,
  WithSpanOptions,
} from './telemetry/index.js';
// end telemetry (helper)
