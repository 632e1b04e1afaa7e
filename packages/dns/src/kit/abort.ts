/** Abort helpers shared by plugins: one way to stop early, and one way to bound a call in time. */
import { AbortError } from '@chorus/core';

/** Throws AbortError when the caller's signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AbortError(what, signal.reason);
}

/** `{ signal }` when there is one, `{}` otherwise: for option objects that must not hold undefined. */
export function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

/** A signal that fires when the caller's does or after `timeoutMs`, and which of the two fired. */
export interface BoundedSignal {
  readonly signal: AbortSignal;
  /** True when the time limit fired, not the caller. */
  timedOut(): boolean;
}

/** Combines the caller's signal (if any) with a time limit. */
export function withTimeout(parent: AbortSignal | undefined, timeoutMs: number): BoundedSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = parent ? AbortSignal.any([parent, timeout]) : timeout;
  return { signal, timedOut: () => timeout.aborted && !parent?.aborted };
}
