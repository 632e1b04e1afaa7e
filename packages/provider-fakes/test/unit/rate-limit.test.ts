import { describe, expect, test } from 'vitest';
import {
  admitAll,
  SlidingWindowLimiter,
  TokenBucket,
  verifyRequestLog,
  DESEC_RATE_LIMITS,
  type RateRecord,
} from '../../src/index.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function at(ms: number, fields: Partial<RateRecord> = {}): RateRecord {
  return {
    time: new Date(T0 + ms).toISOString(),
    status: 200,
    rateClass: 'perDomainWrite',
    domain: 'a.test',
    ...fields,
  };
}

describe('SlidingWindowLimiter', () => {
  test('enforces every rate at once and says when a slot frees', () => {
    const limiter = new SlidingWindowLimiter([
      { limit: 2, periodSeconds: 1 },
      { limit: 3, periodSeconds: 60 },
    ]);
    expect(limiter.waitMs('k', T0)).toBe(0);
    limiter.record('k', T0);
    limiter.record('k', T0 + 100);
    // third request in the same second: the 2/s rate waits until the first leaves
    expect(limiter.waitMs('k', T0 + 200)).toBe(800);
    limiter.record('k', T0 + 1500);
    // 3 per minute used: the minute rate now decides
    expect(limiter.waitMs('k', T0 + 3000)).toBe(57_000);
    expect(limiter.waitMs('k', T0 + 60_001)).toBe(0);
    // keys are counted apart
    expect(limiter.waitMs('other', T0 + 3000)).toBe(0);
  });

  test('admitAll records nowhere when one limiter refuses', () => {
    const perDomain = new SlidingWindowLimiter([{ limit: 1, periodSeconds: 60 }]);
    const user = new SlidingWindowLimiter([{ limit: 10, periodSeconds: 60 }]);
    const checks = [
      { limiter: user, key: 'account' },
      { limiter: perDomain, key: 'a.test' },
    ];
    expect(admitAll(checks, T0)).toBe(0);
    expect(admitAll(checks, T0 + 1)).toBeGreaterThan(0);
    // the refused request did not use a user slot: 9 more fit on another domain
    for (let index = 0; index < 9; index++)
      expect(admitAll([{ limiter: user, key: 'account' }], T0 + 2 + index)).toBe(0);
    expect(admitAll([{ limiter: user, key: 'account' }], T0 + 20)).toBeGreaterThan(0);
  });
});

describe('TokenBucket', () => {
  test('starts full, empties, refills at limit/period', () => {
    const bucket = new TokenBucket({ limit: 3, periodSeconds: 3 });
    expect(bucket.take(T0)).toEqual({ admitted: true, remaining: 2 });
    expect(bucket.take(T0)).toEqual({ admitted: true, remaining: 1 });
    expect(bucket.take(T0)).toEqual({ admitted: true, remaining: 0 });
    expect(bucket.take(T0 + 500).admitted).toBe(false);
    expect(bucket.take(T0 + 1000)).toEqual({ admitted: true, remaining: 0 });
    expect(bucket.peek(T0 + 10_000)).toBe(3);
  });
});

describe('verifyRequestLog', () => {
  const limits = { ...DESEC_RATE_LIMITS, perDomainWrite: [{ limit: 2, periodSeconds: 60 }] };

  test('a log within the limits has no violation; 429s and other domains do not count', () => {
    const records = [
      at(0),
      at(1000),
      at(2000, { status: 429 }),
      at(3000, { domain: 'b.test' }),
      at(61_000),
      at(61_500, { rateClass: 'unauthenticated', status: 401, domain: undefined }),
    ];
    expect(verifyRequestLog(records, limits)).toEqual([]);
  });

  test('negative control: a third admitted write in the window is reported', () => {
    const violations = verifyRequestLog([at(0), at(1000), at(59_000)], limits);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({
      rateClass: 'perDomainWrite',
      domain: 'a.test',
      count: 3,
    });
  });

  test('NS1 buckets are replayed', () => {
    const ns1 = { read: { limit: 2, periodSeconds: 2 }, write: { limit: 1, periodSeconds: 10 } };
    const ok = [
      at(0, { rateClass: 'read' }),
      at(0, { rateClass: 'read' }),
      at(1000, { rateClass: 'read' }),
    ];
    expect(verifyRequestLog(ok, ns1)).toEqual([]);
    const tooMany = [...ok, at(1000, { rateClass: 'read' })];
    expect(verifyRequestLog(tooMany, ns1)).toHaveLength(1);
    const writes = [at(0, { rateClass: 'write' }), at(5000, { rateClass: 'write' })];
    expect(verifyRequestLog(writes, ns1)).toHaveLength(1);
  });
});
