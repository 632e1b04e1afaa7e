export { knotCapabilities, knotCapabilitiesFor } from './capabilities.js';
export { parseKnotConfig } from './config.js';
export type { KnotControl, KnotSignerConfig, KnotUpdateMethod } from './config.js';
export { KnotSigner } from './knot-signer.js';
export type { KnotSignerOptions } from './knot-signer.js';
export { createKnotSigner, knotPlugin } from './knot-plugin.js';
export type { KnotSignerDependencies } from './knot-plugin.js';
export { KASP_TIMERS, parseKeymgrDnskey, parseKeymgrList, roleOf, stateOf } from './keymgr.js';
export type { KaspKey, KaspTimer } from './keymgr.js';
export { interpretKskSubmitted, outputErrors, parseConfRead, parseZoneRead } from './knotc.js';
export type { ConfEntry, KskSubmittedResult } from './knotc.js';
export { KNOT_DEFAULTS, findMisconfigurations, resolveZoneConfig } from './zone-config.js';
export type { Misconfiguration, ResolvedValue, ResolvedZoneConfig } from './zone-config.js';
export { KnotKeyRoller } from './key-roller.js';
export { KnotSignaller } from './signaller.js';
export type { KnotSignallerContext } from './signaller.js';
export type { KnotKeyRollerOptions, KnotRollerHost } from './key-roller.js';
export {
  findSuccessor,
  parseKnotTime,
  rolloverKeyType,
  rolloverPolicyOf,
  rolloverTimingOf,
  runningRollover,
} from './rollover.js';
export type { RolloverPolicy } from './rollover.js';
