export { labDown, labStatus, labUp } from './lab.js';
export type { DownReport, UpOptions } from './lab.js';
export {
  BROKEN_ZONE,
  LAB_DEFAULTS,
  PARENT_ZONE,
  defaultLabDirectory,
  resolveLabConfig,
  validateZones,
} from './config.js';
export type { LabConfig, LabOptions } from './config.js';
export { DEBIAN_PACKAGE_OF, LAB_PROGRAMS, checkPrograms, findProgram } from './commands.js';
export { LabError } from './errors.js';
export { isRunning } from './processes.js';
export type {
  DsRecordStatus,
  KeyStore,
  KnotcControl,
  LabResolver,
  LabServer,
  LabStatus,
  LabTrustAnchor,
  PowerDnsApiControl,
  ResolverId,
  RndcControl,
  ServerControl,
  ServerId,
  SignerId,
  Software,
  StubZone,
  TsigKeyReference,
  UnboundControl,
} from './types.js';
