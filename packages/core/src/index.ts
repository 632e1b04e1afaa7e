export {
  CSYNC_FLAG_IMMEDIATE,
  CSYNC_FLAG_SOAMINIMUM,
  DEFAULT_DNS_PORT,
  DSYNC_SCHEME_NOTIFY,
  DNSKEY_FLAG_REVOKE,
  DNSKEY_FLAG_SEP,
  DNSKEY_FLAG_ZONE,
  DigestType,
  DnssecAlgorithm,
  className,
  classNumber,
  opcodeName,
  opcodeNumber,
  rcodeName,
  rcodeNumber,
  recordTypeName,
  recordTypeNumber,
} from './dns/constants.js';
export type {
  CsyncData,
  DnsClass,
  DnsMessage,
  DnsRecord,
  DnskeyData,
  DsData,
  DsyncData,
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
  RRset,
  Rcode,
  RecordDataMap,
  RecordType,
  RrsigData,
  SoaData,
  SrvData,
  TsigData,
  TsigRecord,
  TypedRecord,
  UnknownData,
  UnknownRecord,
} from './dns/types.js';
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
export {
  EventLogError,
  SecretInEventError,
  WrongExpectedVersionError,
} from './errors/event-log-errors.js';
export type { EventLogErrorKind } from './errors/event-log-errors.js';
export { ParentAnswerError, ParentServerUnreachableError } from './errors/parent-errors.js';
export type { ParentAnswerProblem } from './errors/parent-errors.js';
export {
  ApiCallError,
  ConfigError,
  ConvergenceError,
  SignerCommandError,
  SignerConfigurationError,
  UnsafePlanError,
  UnsupportedCapabilityError,
} from './errors/plugin-errors.js';
export type {
  AppendResult,
  EventLog,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from './event-log/types.js';
export {
  assertInteger,
  assertName,
  assertNoSecrets,
  assertPlainJson,
  MAX_EVENTS_PER_APPEND,
  normalizeFromVersion,
  normalizeReadAll,
  reportSubscriptionError,
  serializeEvents,
} from './event-log/validate.js';
export { observationStream } from './events/observation-events.js';
export type {
  InvariantId,
  ObservationEvent,
  ObservationEventType,
  ObservedKey,
  ObserverTotals,
} from './events/observation-events.js';
export { EVENT_SCHEMA_VERSION, zoneStream } from './events/zone-events.js';
export type {
  ApplyError,
  BlockReason,
  DesiredRecipe,
  EventSource,
  GlueRecords,
  GroupSelector,
  KeyChange,
  ObservedTtls,
  ParentChange,
  ParentChangeNeeded,
  ParentChangeSubmission,
  PostconditionSpec,
  ProcessKind,
  RecordSetChange,
  RollAction,
  RollSubject,
  RolloverTiming,
  SignerLimit,
  SignerReference,
  StepDefinition,
  TimingSettings,
  ZoneOwner,
  WaitFormula,
  ZoneEvent,
  ZoneEventOf,
  ZoneContentDigest,
  ZoneEventType,
} from './events/zone-events.js';
export {
  SIGNER_CAPABILITIES,
  can,
  canAtOnce,
  cannot,
  capabilityStatus,
  capabilityTable,
  concurrentChangeLimit,
  unimplemented,
} from './plugin/capabilities.js';
export type {
  CapabilityNote,
  CapabilityStatus,
  SignerCapabilities,
  SignerCapability,
} from './plugin/capabilities.js';
export type { ChorusEventEnvelope, Observer } from './plugin/observer.js';
export type {
  Delegation,
  DelegationGlue,
  DelegationServerView,
  ParentCapability,
  ParentChannel,
  ParentRequest,
} from './plugin/parent-channel.js';
export type { OwnerKey } from './plugin/owner-key.js';
export type {
  PlannedZsks,
  PresignedDnskeyPublisher,
  SignedDnskeySnapshot,
} from './plugin/presigned-dnskey.js';
export { defineSignerPlugin } from './plugin/signer.js';
export type {
  ApexSnapshot,
  ApplyResult,
  CallOptions,
  ChangeRecordType,
  DesiredSignerState,
  KeyRole,
  KeyRoller,
  BootstrapSignaller,
  BootstrapSignalSet,
  DesiredBootstrapSignals,
  PluginDependencies,
  Signer,
  SignerChange,
  SignerPlan,
  SignerPluginDefinition,
  SigningKey,
  Warning,
  ZoneName,
} from './plugin/signer.js';
export { childTraceparent, newTraceparent, traceIdOf } from './telemetry/traceparent.js';
export {
  TRACER_NAME,
  activeTraceparent,
  contextFromTraceparent,
  recordError,
  spanContextFromTraceparent,
  traceparentOf,
  tracer,
  withSpan,
} from './telemetry/tracing.js';
export type { WithSpanOptions } from './telemetry/tracing.js';
export {
  ZONE_EVENT_AUTHORITY,
  canonicalJson,
  createSigningEventLog,
  eventSigningKey,
  generateEventKey,
  grantTrust,
  hasValidSignature,
  isEventPublicKey,
  judgeZoneEvent,
  signEvent,
  trustFromAnchor,
} from './trust/index.js';
export type {
  EventSignature,
  EventSigningKey,
  JudgeContext,
  PrincipalRole,
  SecurityFinding,
  SecurityFindingCode,
  SignedFields,
  TrustAnchor,
  TrustGrant,
  TrustedKeys,
  Verdict,
} from './trust/index.js';
export {
  groupEvent,
  isGroupEvent,
  isObservationEvent,
  isZoneEvent,
  observationEvent,
  zoneEvent,
} from './events/build.js';
export { GROUP_NAME, groupStream } from './events/group-events.js';
export type {
  GroupEnvelope,
  GroupEvent,
  GroupEventOf,
  GroupEventType,
} from './events/group-events.js';
export type { ChorusEvent, EventFields, ObservationEventOf } from './events/build.js';
