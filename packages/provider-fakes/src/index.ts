export {
  DESEC_RATE_LIMITS,
  type FakeKind,
  NS1_RATE_LIMITS,
  PROVIDER_API_PORT,
  type DesecRateLimits,
  type Ns1RateLimits,
  type ProviderFakeConfig,
  type ProviderKind,
  type Rate,
} from './config.js';
export { FakeConfigError, HttpError } from './errors.js';
export { presignedBody } from './ns1/presigned.js';
export { REPLAYED_HEADER } from './provider-api.js';
export { startProviderFake, type RunningFake, type StartOptions } from './fake.js';
export { parseProviderFakeConfig, readProviderFakeConfig } from './load-config.js';
export {
  admitAll,
  refillTokens,
  SlidingWindowLimiter,
  TokenBucket,
  verifyRequestLog,
  type BucketAnswer,
  type LimiterCheck,
  type RateRecord,
  type RateViolation,
} from './rate-limit.js';
export type { RequestRecord } from './request-log.js';
export type { FaultSpec } from './faults.js';
export type { TokenState } from './state.js';
export { PowerDnsBackend, type BackendCryptokey, type BackendRrset } from './powerdns-backend.js';
export {
  REGISTRAR_RATE_LIMITS,
  parseRegistrarFakeConfig,
  type RegistrarFakeConfig,
  type RegistrarRateLimits,
} from './registrar/config.js';
export { startRegistrarFake, type RegistrarStartOptions } from './registrar/fake.js';
export { RegistrarApi, type RegistrarApiOptions } from './registrar/api.js';
export {
  NotYetServedError,
  RegistrarParent,
  type DomainView,
  type ParentAccess,
  type RegistrarParentOptions,
} from './registrar/parent.js';
export {
  IdempotencyStore,
  canonicalJson,
  idempotencyKeyOf,
  isKeptAnswer,
  requestFingerprint,
  type IdempotencyLookup,
  type IdempotencyStoreOptions,
  type StoredAnswer,
} from './registrar/idempotency.js';
export {
  ACCEPTED_ALGORITHMS,
  ACCEPTED_DIGEST_TYPES,
  DIGEST_HEX_LENGTH,
  FieldError,
  MAX_DS,
  MAX_GLUE_ADDRESSES,
  MAX_NAMESERVERS,
  canonicalAddress,
  hostName,
  isInDomain,
  parseDsBody,
  parseNameserversBody,
  shownName,
  type GlueEntry,
  type NameserversRequest,
} from './registrar/validation.js';
