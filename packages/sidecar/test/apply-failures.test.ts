import { describe, expect, it } from 'vitest';
import { AbortError, ApiCallError, DnsTimeoutError, TsigError } from '@chorus/core';
import {
  ApplyFailures,
  RECORD_EVERY_ATTEMPTS,
  describeApplyError,
  retryAfterMs,
} from '../src/apply-failures.js';

const timeout = () =>
  new DnsTimeoutError({ server: '127.0.0.4:53', timeoutMs: 2000, attempts: 3, what: 'UPDATE' });

const badsigError = () =>
  new TsigError({
    server: '127.0.0.4:53',
    failure: 'BADSIG',
    keyName: 'chorus',
    side: 'server-rejected-request',
  });

describe('describeApplyError', () => {
  it('carries the time a rate-limited API allows the next attempt, and only then', () => {
    const throttled = new ApiCallError({
      url: 'http://127.0.0.1:8000/api/v1/domains/example.test/rrsets/',
      method: 'PATCH',
      statusCode: 429,
      responseBody: 'Request was throttled. Expected available in 42 seconds.',
      retryAfterSeconds: 42,
    });
    const now = new Date('2026-12-02T20:00:00.000Z');
    expect(describeApplyError(throttled, now)).toMatchObject({
      retryable: true,
      retryAt: '2026-12-02T20:00:42.000Z',
    });
    expect(retryAfterMs(throttled)).toBe(42_000);
    // Negative controls: no Retry-After, or a non-retryable error, gives no time.
    const serverError = new ApiCallError({ url: 'http://x/', method: 'GET', statusCode: 500 });
    expect(describeApplyError(serverError, now).retryAt).toBeUndefined();
    expect(retryAfterMs(serverError)).toBeUndefined();
    const forbidden = new ApiCallError({
      url: 'http://x/',
      method: 'GET',
      statusCode: 401,
      retryAfterSeconds: 5,
    });
    expect(retryAfterMs(forbidden)).toBeUndefined();
  });

  it('keeps the class and retryability, and never a secret', () => {
    const secret = 'c2VjcmV0S2V5Rm9yVGhlVGVzdHMxMjM0NTY3ODkwQUJDRA==';
    const described = describeApplyError(
      new Error(`knotc failed: key "chorus" { algorithm hmac-sha256; secret "${secret}"; }`),
    );
    expect(described.name).toBe('Error');
    expect(described.retryable).toBe(true);
    expect(described.message).not.toContain(secret);
    expect(described.message).toContain('[redacted]');
    expect(describeApplyError(new Error(`tsig ${secret} refused`)).message).toBe(
      'tsig [redacted] refused',
    );
    expect(describeApplyError(new Error('api_key=abc123 refused')).message).toBe(
      'api_key=[redacted] refused',
    );
  });

  it('leaves hex digests and names alone, and bounds the length', () => {
    const digest = 'a'.repeat(32) + '0123456789abcdef'.repeat(2);
    expect(describeApplyError(new Error(`DS ${digest} at ns.example.test.`)).message).toBe(
      `DS ${digest} at ns.example.test.`,
    );
    expect(describeApplyError(new Error('x '.repeat(1000))).message.length).toBeLessThanOrEqual(
      500,
    );
  });

  it('marks typed non-retryable errors so, and unknown errors retryable', () => {
    expect(describeApplyError(timeout()).retryable).toBe(true);
    const badsig = describeApplyError(badsigError());
    expect(badsig).toMatchObject({ name: 'Chorus_TsigError', retryable: false });
  });
});

describe('ApplyFailures', () => {
  it('records the first failure, a changed error and every N-th repeat, not every retry', () => {
    const failures = new ApplyFailures();
    const recorded: number[] = [];
    for (let index = 0; index < 2 * RECORD_EVERY_ATTEMPTS + 1; index += 1) {
      const verdict = failures.failed('p1', 0, timeout())!;
      if (verdict.record) {
        recorded.push(verdict.attempt);
        failures.recorded('p1', 0, verdict);
      }
    }
    expect(recorded).toEqual([1, 1 + RECORD_EVERY_ATTEMPTS, 1 + 2 * RECORD_EVERY_ATTEMPTS]);
    const changed = failures.failed('p1', 0, new Error('something else'))!;
    expect(changed.record).toBe(true);
  });

  it('continues the count the log already holds (a restarted sidecar)', () => {
    const verdict = new ApplyFailures().failed('p1', 2, timeout(), 7)!;
    expect(verdict).toMatchObject({ attempt: 8, record: true, giveUp: false });
  });

  it('gives up on a non-retryable error, per step, and forgets on success', () => {
    const failures = new ApplyFailures();
    const verdict = failures.failed('p1', 0, badsigError())!;
    expect(verdict.giveUp).toBe(true);
    expect(failures.gaveUp('p1', 0)).toBe(true);
    expect(failures.gaveUp('p1', 1)).toBe(false);
    failures.succeeded('p1', 0);
    expect(failures.gaveUp('p1', 0)).toBe(false);
  });

  it('does not count an abort (the sidecar is stopping)', () => {
    expect(new ApplyFailures().failed('p1', 0, new AbortError('UPDATE'))).toBeUndefined();
  });
});
