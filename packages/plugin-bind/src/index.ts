export { bindPlugin, createBindSigner } from './bind-plugin.js';
export { BIND_PLUGIN_KIND, BindSigner } from './bind-signer.js';
export type { CheckDsInput, CheckDsResult } from './bind-signer.js';
export { bindCapabilities } from './capabilities.js';
export { parseBindConfig } from './config.js';
export type { BindConfig, BindEndpoint, BindRndcConfig } from './config.js';
export { parseCheckDs, parseDnssecStatus, parseZoneStatus, summarizeStates } from './rndc.js';
export type {
  BindKeyRole,
  CheckDsOutput,
  DnssecStatus,
  DnssecStatusKey,
  ZoneStatus,
} from './rndc.js';
