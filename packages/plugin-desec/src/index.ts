export { createDesecSigner, desecPlugin } from './desec-plugin.js';
export { DesecSigner } from './desec-signer.js';
export { desecCapabilities } from './capabilities.js';
export { DEFAULT_API_URL, DEFAULT_REQUEST_TIMEOUT_MS, parseConfig } from './config.js';
export type { DesecConfig, ResolvedDesecConfig } from './config.js';
