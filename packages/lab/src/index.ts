export { labDown, labRestart, labStatus, labStopServer, labUp, zoneList } from './lab.js';
export type { DownReport, RestartOptions, UpOptions } from './lab.js';
export {
  ALGORITHM_NAMES,
  BROKEN_ZONE,
  CSK_ZONE,
  DENIAL_METHODS,
  EVENT_LOG_KINDS,
  LAB_ALGORITHMS,
  LAB_DEFAULTS,
  NATS_NODE_IDS,
  NSEC3_PARAMETERS,
  NSEC3PARAM_TEXT,
  PARENT_ZONE,
  PROVIDER_IDS,
  RSA_KEY_BITS,
  SERVER_IDS,
  SIGNER_IDS,
  SIGNER_NAMESERVER_NAMES,
  TRAP_IDS,
  defaultLabDirectory,
  demoEventLogPath,
  parseAlgorithm,
  parseDenial,
  parseDuration,
  parseEventLog,
  parseHostsMode,
  parseKeyLifetimes,
  parseProviders,
  parseRateLimits,
  resolveLabConfig,
  validateInsecureZones,
  validateZones,
  MAX_LAB_ZONES,
  numberedZones,
} from './config.js';
export type {
  EventLogKind,
  KeyLifetimes,
  LabConfig,
  LabOptions,
  ProviderRateLimits,
} from './config.js';
export { signallingZoneName } from './signalling.js';
export { connectToLabNats } from './nats-stream.js';
export type { LabNatsConnectOptions } from './nats-stream.js';
export { findProgram } from './commands.js';
export { checkPrograms } from './programs.js';
export { DEBIAN_PACKAGE_OF, LAB_PROGRAMS, SERVER_KINDS } from './server-kinds.js';
export type {
  LabDaemonKind,
  LabServerKind,
  PrepareContext,
  Programs,
  ServerLayout,
  ZoneDs,
} from './server-kind.js';
export { flushResolverType, flushResolverZone } from './unbound.js';
export type { LabResolverKind } from './unbound.js';
export { LabError } from './errors.js';
export { HOSTS_MODES, netnsSubnet, requireNamespaces } from './hosts.js';
export type { HostsMode } from './hosts.js';
export { ipProgram } from './commands.js';
export { isRunning } from './processes.js';
export { TRAPS } from './traps.js';
export {
  labScanPeriodMs,
  readRegistryAgentConfig,
  registryAgentConfigFromStatus,
  runRegistryAgent,
  runRegistryScanOnce,
} from './registry-agent.js';
export type {
  ErrorSummary,
  RegistryAgentConfig,
  RegistryAgentLogEntry,
  RegistryAgentOptions,
  RegistryScanOptions,
  RegistryScanResult,
} from './registry-agent.js';
export {
  cliRegistryAgentCommand,
  defaultRegistryAgentCommand,
  isRegistryAgentRunning,
  registryAgentConfigFile,
  runRegistryAgentProcess,
  startRegistryAgent,
  stopRegistryAgent,
} from './registry-agent-process.js';
export type { RegistryAgentProcessOptions } from './registry-agent-process.js';
export { listenForNotify } from './registry-agent-notify.js';
export {
  isRegistrarRunning,
  planRegistrar,
  prepareRegistrar,
  registrarCheck,
  registrarEntry,
  registrarFakeConfig,
  REGISTRAR_ID,
  startRegistrar,
  stopRegistrar,
} from './registrar.js';
export type { RegistrarEntryOptions } from './registrar.js';
export type { NotifyListener, NotifyNotice } from './registry-agent-notify.js';
export type { TrapSpec } from './traps.js';
export type {
  DenialMethod,
  DsRecordStatus,
  KeyStore,
  KnotcControl,
  LabAlgorithm,
  LabEventLog,
  LabHost,
  LabHosts,
  LabNatsEventLog,
  LabNatsNode,
  LabFakeProcess,
  LabProviderApi,
  LabRegistrar,
  LabRegistryAgent,
  LabResolver,
  LabServer,
  LabSignallingZone,
  LabSqliteEventLog,
  LabStatus,
  LabTrustAnchor,
  NatsNodeId,
  NatsUser,
  PowerDnsApiControl,
  ProviderId,
  RegistrarId,
  RegistryAgentId,
  ResolverId,
  RndcControl,
  ServerControl,
  ServerId,
  SignerId,
  Software,
  StubZone,
  TrapDescription,
  TrapId,
  TsigKeyReference,
  UnboundControl,
} from './types.js';
