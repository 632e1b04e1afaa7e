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
