export { createNs1Signer, ns1Plugin } from './ns1-plugin.js';
export { Ns1Signer } from './ns1-signer.js';
export { ns1Capabilities } from './capabilities.js';
export {
  DEFAULT_API_URL,
  DEFAULT_EXTERNAL_KEY_SET,
  DEFAULT_REQUEST_TIMEOUT_MS,
  parseConfig,
} from './config.js';
export type { Ns1Config, ResolvedNs1Config } from './config.js';
export { Ns1PresignedDnskey } from './presigned-dnskey.js';
