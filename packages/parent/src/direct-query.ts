import { AbortError, DnsNetworkError, DnsTimeoutError } from '@chorus/core';
import type { QueryOptions } from '@chorus/dns';

/** How a parent-side observation asks a server directly: TCP, DO=1, RD=0, bounded retries. */
export function directQueryOptions(options: {
  timeoutMs?: number | undefined;
  retries?: number | undefined;
  signal?: AbortSignal | undefined;
}): QueryOptions {
  return {
    transport: 'tcp',
    dnssecOk: true,
    recursionDesired: false,
    timeoutMs: options.timeoutMs ?? 2000,
    retries: options.retries ?? 1,
    ...(options.signal ? { signal: options.signal } : {}),
  };
}

export type QueryFailure = { status: 'unreachable' | 'bad-response'; error: string };

/** Timeout and network errors are `unreachable`, anything else `bad-response`; an abort rethrows. */
export function classifyFailure(error: unknown): QueryFailure {
  if (AbortError.isInstance(error)) throw error;
  const message = error instanceof Error ? error.message : String(error);
  if (DnsTimeoutError.isInstance(error) || DnsNetworkError.isInstance(error)) {
    return { status: 'unreachable', error: message };
  }
  return { status: 'bad-response', error: message };
}
