export { bindPlugin, createBindSigner } from './bind-plugin.js';
export { BIND_PLUGIN_KIND, BindSigner } from './bind-signer.js';
export type { CheckDsInput, CheckDsResult } from './bind-signer.js';
export { bindCapabilities, bindCapabilitiesFor } from './capabilities.js';
export { parseBindConfig } from './config.js';
export type { BindConfig, BindEndpoint, BindRndcConfig } from './config.js';
export { BindKeyRoller, findSuccessor } from './key-roller.js';
export type { BindKeyRollerContext } from './key-roller.js';
export {
  BIND_POLICY_DEFAULTS,
  parseBindDuration,
  parseNamedConf,
  readPolicyTiming,
} from './named-conf.js';
export type { ConfStatement, PolicyProblem, PolicyTiming } from './named-conf.js';
export type { OwnKey } from './own-keys.js';
export { BindSignaller } from './signaller.js';
export type { BindSignallerContext } from './signaller.js';
export {
  parseCheckDs,
  parseDnssecStatus,
  parseRollover,
  parseZoneStatus,
  summarizeStates,
} from './rndc.js';
export type {
  BindKeyRole,
  CheckDsOutput,
  DnssecStatus,
  DnssecStatusKey,
  RolloverOutput,
  ZoneStatus,
} from './rndc.js';
