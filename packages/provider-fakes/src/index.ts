export {
  DESEC_RATE_LIMITS,
  NS1_RATE_LIMITS,
  PROVIDER_API_PORT,
  type DesecRateLimits,
  type Ns1RateLimits,
  type ProviderFakeConfig,
  type ProviderKind,
  type Rate,
} from './config.js';
export { FakeConfigError, HttpError } from './errors.js';
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
