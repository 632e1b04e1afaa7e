/**
 * The two throttling models: deSEC's sliding windows (several rates at once, DRF
 * `ScopedRateThrottle`) and NS1's token buckets. Times are epoch milliseconds passed in by the
 * caller, so the request log records exactly the instant a request was admitted at, and
 * `verifyRequestLog` can replay it.
 */
import type { DesecRateLimits, Ns1RateLimits, Rate } from './config.js';

/** What a request log record must carry for `verifyRequestLog`. */
export interface RateRecord {
  time: string;
  status: number;
  rateClass: string;
  domain?: string;
}

/** A window (or bucket state) in which more requests were admitted than a rate allows. */
export interface RateViolation {
  rateClass: string;
  /** The domain for deSEC's per-domain class. */
  domain?: string;
  rate: Rate;
  /** The admitted request that exceeded the rate. */
  time: string;
  /** Admitted requests in the window ending at `time` (deSEC), or tokens left before it (NS1). */
  count: number;
}

/** Sliding windows over the admitted requests of each key, all `rates` enforced together. */
export class SlidingWindowLimiter {
  readonly rates: readonly Rate[];
  readonly #history = new Map<string, number[]>();
  readonly #longestMs: number;

  constructor(rates: readonly Rate[]) {
    this.rates = rates;
    this.#longestMs = Math.max(0, ...rates.map((rate) => rate.periodSeconds * 1000));
  }

  /** Milliseconds until `key` may make one more request at `now`; 0 when it may now. */
  waitMs(key: string, now: number): number {
    const times = this.#prune(key, now);
    let wait = 0;
    for (const rate of this.rates) {
      const periodMs = rate.periodSeconds * 1000;
      const inWindow = times.filter((time) => time > now - periodMs);
      if (inWindow.length < rate.limit) continue;
      // The oldest request that has to leave the window before one more fits.
      const leaving = inWindow[inWindow.length - rate.limit] ?? now;
      wait = Math.max(wait, leaving + periodMs - now);
    }
    return wait;
  }

  /** Records an admitted request of `key` at `now`. */
  record(key: string, now: number): void {
    const times = this.#prune(key, now);
    times.push(now);
    this.#history.set(key, times);
  }

  #prune(key: string, now: number): number[] {
    const times = (this.#history.get(key) ?? []).filter((time) => time > now - this.#longestMs);
    this.#history.set(key, times);
    return times;
  }
}

/** One limiter check: which limiter, under which key. */
export interface LimiterCheck {
  limiter: SlidingWindowLimiter;
  key: string;
}

/**
 * Checks every limiter first and records in all of them only when all admit: a throttled request
 * counts nowhere. Returns the wait in milliseconds (0 = admitted and recorded).
 */
export function admitAll(checks: readonly LimiterCheck[], now: number): number {
  const wait = Math.max(0, ...checks.map((check) => check.limiter.waitMs(check.key, now)));
  if (wait > 0) return wait;
  for (const check of checks) check.limiter.record(check.key, now);
  return 0;
}

/** Tokens after refilling from `updatedAt` to `now` (pure: `verifyRequestLog` replays it). */
export function refillTokens(rate: Rate, tokens: number, updatedAt: number, now: number): number {
  const elapsed = Math.max(0, now - updatedAt);
  return Math.min(rate.limit, tokens + (elapsed * rate.limit) / (rate.periodSeconds * 1000));
}

/** What a token bucket says about one request. */
export interface BucketAnswer {
  admitted: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
}

/** NS1's token bucket: `limit` tokens, refilled at `limit` per `periodSeconds`, starts full. */
export class TokenBucket {
  readonly rate: Rate;
  #tokens: number;
  #updatedAt: number | undefined;

  constructor(rate: Rate) {
    this.rate = rate;
    this.#tokens = rate.limit;
  }

  /** Takes a token when there is one. */
  take(now: number): BucketAnswer {
    this.#refill(now);
    if (this.#tokens < 1) return { admitted: false, remaining: 0 };
    this.#tokens -= 1;
    return { admitted: true, remaining: Math.floor(this.#tokens) };
  }

  /** Milliseconds until one whole token is available at `now`; 0 when there is one. */
  msUntilToken(now: number): number {
    this.#refill(now);
    if (this.#tokens >= 1) return 0;
    return Math.ceil(((1 - this.#tokens) * this.rate.periodSeconds * 1000) / this.rate.limit);
  }

  /** Whole tokens available at `now`, taking none. */
  peek(now: number): number {
    this.#refill(now);
    return Math.floor(this.#tokens);
  }

  #refill(now: number): void {
    if (this.#updatedAt !== undefined)
      this.#tokens = refillTokens(this.rate, this.#tokens, this.#updatedAt, now);
    this.#updatedAt = now;
  }
}

function isDesecLimits(limits: DesecRateLimits | Ns1RateLimits): limits is DesecRateLimits {
  return 'perDomainWrite' in limits;
}

/** deSEC classes of the request log; `unauthenticated` and admin requests count nowhere. */
const DESEC_CLASSES = new Set(['read', 'perDomainWrite', 'user']);

function admitted(record: RateRecord): boolean {
  return record.status !== 429;
}

/** Every admitted time of `group` that ends a window holding more than `rate.limit` requests. */
function slidingViolations(
  group: readonly RateRecord[],
  rate: Rate,
  rateClass: string,
  domain?: string,
): RateViolation[] {
  const times = group.map((record) => Date.parse(record.time)).sort((a, b) => a - b);
  const periodMs = rate.periodSeconds * 1000;
  const violations: RateViolation[] = [];
  let first = 0;
  for (let index = 0; index < times.length; index++) {
    const time = times[index] ?? 0;
    while ((times[first] ?? time) <= time - periodMs) first++;
    const count = index - first + 1;
    if (count > rate.limit)
      violations.push({
        rateClass,
        ...(domain === undefined ? {} : { domain }),
        rate,
        time: new Date(time).toISOString(),
        count,
      });
  }
  return violations;
}

function desecViolations(records: readonly RateRecord[], limits: DesecRateLimits): RateViolation[] {
  const counted = records.filter(
    (record) => admitted(record) && DESEC_CLASSES.has(record.rateClass),
  );
  const violations: RateViolation[] = [];
  const reads = counted.filter((record) => record.rateClass === 'read');
  for (const rate of limits.read) violations.push(...slidingViolations(reads, rate, 'read'));
  const byDomain = new Map<string, RateRecord[]>();
  for (const record of counted.filter((entry) => entry.rateClass === 'perDomainWrite')) {
    const domain = record.domain ?? '';
    byDomain.set(domain, [...(byDomain.get(domain) ?? []), record]);
  }
  for (const [domain, group] of byDomain)
    for (const rate of limits.perDomainWrite)
      violations.push(...slidingViolations(group, rate, 'perDomainWrite', domain));
  for (const rate of limits.user) violations.push(...slidingViolations(counted, rate, 'user'));
  return violations;
}

/** Replays the admitted requests of one NS1 class through a bucket that starts full. */
function bucketViolations(
  records: readonly RateRecord[],
  rate: Rate,
  rateClass: string,
): RateViolation[] {
  const times = records.map((record) => Date.parse(record.time)).sort((a, b) => a - b);
  const violations: RateViolation[] = [];
  let tokens = rate.limit;
  let updatedAt = times[0] ?? 0;
  for (const time of times) {
    tokens = refillTokens(rate, tokens, updatedAt, time);
    updatedAt = time;
    if (tokens < 1 - 1e-9)
      violations.push({ rateClass, rate, time: new Date(time).toISOString(), count: tokens });
    tokens -= 1;
  }
  return violations;
}

/**
 * The windows in which more requests were admitted than a limit allows (empty = the log is
 * within its limits). A 429 is not admitted; deSEC requests of class `unauthenticated` count
 * nowhere. The limits reset when the fake restarts: check one run's records at a time.
 */
export function verifyRequestLog(
  records: readonly RateRecord[],
  limits: DesecRateLimits | Ns1RateLimits,
): RateViolation[] {
  if (isDesecLimits(limits)) return desecViolations(records, limits);
  const violations: RateViolation[] = [];
  for (const rateClass of ['read', 'write'] as const) {
    const group = records.filter((record) => admitted(record) && record.rateClass === rateClass);
    violations.push(...bucketViolations(group, limits[rateClass], rateClass));
  }
  return violations;
}
