export { createPowerDnsSigner, powerdnsPlugin } from './powerdns-plugin.js';
export { PowerDnsSigner } from './powerdns-signer.js';
export { PowerDnsKeyRoller } from './key-roller.js';
export { powerdnsCapabilities, powerdnsCapabilitiesFor } from './capabilities.js';
export { PowerDnsSignaller, signalRrsetChanges } from './signaller.js';
export type { PowerDnsSignallerContext } from './signaller.js';
export { DEFAULT_REQUEST_TIMEOUT_MS, parseConfig } from './config.js';
export type { PowerDnsConfig, ResolvedPowerDnsConfig } from './config.js';
