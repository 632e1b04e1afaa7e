/**
 * Pacing for NS1's token buckets. Every NS1 response carries `X-Ratelimit-Limit`,
 * `X-Ratelimit-Remaining` and `X-Ratelimit-Period` (seconds); a bucket refills `limit` tokens per
 * `period`. Like ns1-go's "sleep" strategy, when a bucket is nearly empty (remaining < 2) the next
 * request of that class waits for one token (`period / limit` seconds) instead of running into a
 * 429.
 *
 * NS1 counts per route; the plugin counts per class (reads, writes), which waits at least as
 * often as NS1 requires.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError } from '@chorus/core';
import type { Logger } from 'pino';

export type RateClass = 'read' | 'write';

/** One bucket as NS1 last described it. */
export interface RateState {
  limit: number;
  periodSeconds: number;
  remaining: number;
  /** `Date.now()` when it was observed. */
  observedAt: number;
}

/** Below this many tokens the next request waits for a refill. */
export const LOW_REMAINING = 2;
/** Seconds per token when NS1 never said: its documented write rate, 300 per 300 s. */
export const DEFAULT_SECONDS_PER_TOKEN = 1;

export function rateClassOf(method: string): RateClass {
  return method === 'GET' ? 'read' : 'write';
}

/** The three rate-limit headers, or undefined when any is missing or not a number. */
export function readRateHeaders(headers: Headers, now = Date.now()): RateState | undefined {
  const number = (name: string) => {
    const value = headers.get(name);
    if (value === null || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined;
    return Number(value);
  };
  const limit = number('x-ratelimit-limit');
  const remaining = number('x-ratelimit-remaining');
  const periodSeconds = number('x-ratelimit-period');
  if (limit === undefined || remaining === undefined || periodSeconds === undefined)
    return undefined;
  if (limit <= 0 || periodSeconds <= 0) return undefined;
  return { limit, remaining, periodSeconds, observedAt: now };
}

export function secondsPerToken(state: RateState | undefined): number {
  return state ? state.periodSeconds / state.limit : DEFAULT_SECONDS_PER_TOKEN;
}

/** Milliseconds to wait before the next request of a bucket in `state`, at `now`. */
export function pacingDelayMs(state: RateState | undefined, now = Date.now()): number {
  if (!state || state.remaining >= LOW_REMAINING) return 0;
  const ready = state.observedAt + secondsPerToken(state) * 1000;
  return Math.max(0, Math.ceil(ready - now));
}

/** The bucket after one more request: refilled for the time that passed, less one token. */
export function spendOne(state: RateState, now: number): RateState {
  const refilled = Math.floor((now - state.observedAt) / 1000 / secondsPerToken(state));
  const remaining = Math.min(state.limit, state.remaining + Math.max(0, refilled));
  return { ...state, remaining: Math.max(0, remaining - 1), observedAt: now };
}

/** Remembers the buckets of one API client and waits when one is nearly empty. */
export class RatePacer {
  readonly #states = new Map<RateClass, RateState>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  state(rateClass: RateClass): RateState | undefined {
    return this.#states.get(rateClass);
  }

  /** Waits, abortably, until the class's bucket has a token to spare. */
  async beforeRequest(
    rateClass: RateClass,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<void> {
    const delayMs = pacingDelayMs(this.#states.get(rateClass));
    if (delayMs === 0) return;
    this.#logger.debug({ rateClass, delayMs }, 'NS1 rate limit nearly reached: pacing');
    try {
      await sleep(delayMs, undefined, signal ? { signal } : {});
    } catch {
      throw new AbortError(what, signal?.reason);
    }
  }

  /** Records what a response said; a response without the headers spends one remembered token. */
  observe(rateClass: RateClass, headers: Headers | undefined): void {
    const seen = headers ? readRateHeaders(headers) : undefined;
    if (seen) {
      this.#states.set(rateClass, seen);
      return;
    }
    const known = this.#states.get(rateClass);
    if (known) this.#states.set(rateClass, spendOne(known, Date.now()));
  }

  /** A 429: the bucket is empty now. Returns the seconds until it has a token again. */
  exhausted(rateClass: RateClass): number {
    const known = this.#states.get(rateClass);
    const limit = known?.limit ?? 1;
    const periodSeconds = known?.periodSeconds ?? DEFAULT_SECONDS_PER_TOKEN;
    this.#states.set(rateClass, { limit, periodSeconds, remaining: 0, observedAt: Date.now() });
    return Math.max(1, Math.ceil(periodSeconds / limit));
  }
}
