// The checks every EventLog backend applies before writing: no secret-looking keys, plain JSON.
import { describe, expect, it } from 'vitest';
import {
  assertNoSecrets,
  assertPlainJson,
  EventLogError,
  MAX_EVENTS_PER_APPEND,
  SecretInEventError,
  serializeEvents,
} from '../src/index.js';

function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('assertNoSecrets', () => {
  it('names the path of a secret-looking key under the given root', () => {
    expect(() => assertNoSecrets({ a: [{ token: 'abc' }] })).toThrow(/\$\.a\[0\]\.token/);
    expect(() => assertNoSecrets({ a: [{ token: 'abc' }] }, 'desired')).toThrow(
      /desired\.a\[0\]\.token/,
    );
    const error = thrown(() => assertNoSecrets({ 'X-Auth-Token': 'zzz' }));
    expect(SecretInEventError.isInstance(error) && error.path).toBe('$["X-Auth-Token"]');
  });

  it('accepts public DNS data, bare strings and cycles', () => {
    expect(() => assertNoSecrets({ publicKey: 'x', ds: [{ digest: 'ab' }] })).not.toThrow();
    expect(() => assertNoSecrets('password')).not.toThrow();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => assertNoSecrets(cyclic)).not.toThrow();
  });
});

describe('assertPlainJson', () => {
  it('accepts JSON values, including an object shared by two members', () => {
    expect(() => assertPlainJson({ a: [1, 'b', null, { c: true }] })).not.toThrow();
    const shared = { s: 1 };
    expect(() => assertPlainJson({ a: shared, b: shared })).not.toThrow();
  });

  it('refuses what JSON cannot carry with an invalid-argument error naming the path', () => {
    const error = thrown(() => assertPlainJson({ when: new Date(0) }, 'event'));
    expect(EventLogError.isInstance(error) && error.kind).toBe('invalid-argument');
    expect((error as Error).message).toMatch(/event\.when is a Date/);
  });
});

describe('serializeEvents', () => {
  it(`takes 1 to ${MAX_EVENTS_PER_APPEND} events, refusing more as invalid-argument`, () => {
    const events = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'x', i }));
    expect(serializeEvents(events(MAX_EVENTS_PER_APPEND))).toHaveLength(MAX_EVENTS_PER_APPEND);
    const error = thrown(() => serializeEvents(events(MAX_EVENTS_PER_APPEND + 1)));
    expect(EventLogError.isInstance(error) && error.kind).toBe('invalid-argument');
    expect((error as Error).message).toMatch(/at most 1024 events, got 1025/);
  });

  it('makes unavailable (like busy) retryable by default', () => {
    expect(new EventLogError('unavailable', 'event log unavailable: x').isRetryable).toBe(true);
    expect(new EventLogError('permission', 'refused').isRetryable).toBe(false);
  });
});
