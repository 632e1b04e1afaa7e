export { eventLogConformance } from './event-log-conformance.js';
export type {
  ConformanceEvent,
  EventLogConformanceOptions,
  OutageHooks,
} from './event-log-conformance.js';
export {
  differencesOnTheWire,
  reconcileOnTheWire,
  signerConformance,
} from './signer-conformance.js';
export type { SignerConformanceOptions, SignerGroupName } from './signer-conformance.js';
export type { BootstrapSignalOptions } from './bootstrap-signal-group.js';
export type { PresignedDnskeyOptions } from './presigned-dnskey-group.js';
export { cdsFor, makeForeignKeys } from './test-keys.js';
export type { ForeignKey } from './test-keys.js';
