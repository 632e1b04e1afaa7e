/**
 * Retries of registrar API calls: a retryable ApiCallError (network, 408, 409, 429, 5xx) is tried
 * again after the server's `Retry-After`, else after an exponential back-off with jitter, up to a
 * bounded number of attempts. Anything else, and the last failure, is thrown as it is.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError, ApiCallError } from '@chorus/core';

export interface RetryPolicy {
  /** Attempts in all, the first included. Default 5. */
  attempts: number;
  /** The first back-off; each next one doubles. Default 500 ms. */
  baseDelayMs: number;
  /** The longest back-off. Default 8000 ms. */
  maxDelayMs: number;
  /** A longer `Retry-After` is not waited for: the error goes to the caller. Default 60 s. */
  maxRetryAfterSeconds: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterSeconds: 60,
};

/**
 * How long to wait before attempt `attempt + 1` after `error`, or undefined when it is not tried
 * again. `random` (0 ≤ r < 1) spreads the back-off over its upper half.
 */
export function retryDelayMs(
  error: unknown,
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (!ApiCallError.isInstance(error) || !error.isRetryable || attempt >= policy.attempts)
    return undefined;
  const retryAfter = error.retryAfterSeconds;
  if (retryAfter !== undefined)
    return retryAfter > policy.maxRetryAfterSeconds ? undefined : retryAfter * 1000;
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(backoff / 2 + (backoff / 2) * random());
}

/** The same ApiCallError (status, retryability, Retry-After) saying how many attempts were made. */
function afterAttempts(error: unknown, attempts: number, method: string): unknown {
  if (attempts <= 1 || !ApiCallError.isInstance(error)) return error;
  return new ApiCallError({
    url: error.url,
    method,
    ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
    responseBody: `${error.responseBody} (after ${attempts} attempts)`,
    ...(error.retryAfterSeconds === undefined
      ? {}
      : { retryAfterSeconds: error.retryAfterSeconds }),
    cause: error,
  });
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** For the error after the last attempt (ApiCallError keeps the method in its message only). */
  method: string;
  signal?: AbortSignal | undefined;
  /** Told before each wait. */
  onRetry?: (details: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** Runs `call` (given the attempt number, from 1) until it succeeds or may not be retried. */
export async function withRetries<T>(
  call: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call(attempt);
    } catch (error) {
      const delayMs = retryDelayMs(error, attempt, options.policy);
      if (delayMs === undefined) throw afterAttempts(error, attempt, options.method);
      options.onRetry?.({ attempt, delayMs, error });
      try {
        await sleep(delayMs, undefined, options.signal ? { signal: options.signal } : {});
      } catch {
        throw new AbortError(`${options.method} retry`, options.signal?.reason);
      }
    }
  }
}
