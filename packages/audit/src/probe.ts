/** The audit's own questions to a child address: NSEC3PARAM and the nonexistent probe name. */
import {
  AbortError,
  DnsNetworkError,
  DnsTimeoutError,
  type NameServer,
  type RRset,
} from '@chorus/core';
import { namesEqual, query, type QueryOptions, type QueryResponse } from '@chorus/dns';
import { AuditAnswerError } from './errors.js';
import type { ProbeAnswer, ServerFailure } from './types.js';

/** TCP, DO=1, RD=0, bounded retries: how every audit question is asked. */
export function directOptions(options: {
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

function requireAuthoritative(
  response: QueryResponse,
  what: string,
  rcodes: readonly string[],
): void {
  if (!rcodes.includes(response.rcode) || !response.flags.aa) {
    throw new AuditAnswerError({
      server: response.server,
      detail: `${what}: ${response.rcode}${response.flags.aa ? '' : ' without AA (not authoritative)'}`,
    });
  }
}

export async function askNsec3param(
  server: NameServer,
  zone: string,
  options: QueryOptions,
): Promise<RRset<'NSEC3PARAM'> | null> {
  const response = await query(server, zone, 'NSEC3PARAM', options);
  requireAuthoritative(response, `${zone} NSEC3PARAM`, ['NOERROR']);
  const found = response.answers.find(
    (set) => set.type === 'NSEC3PARAM' && namesEqual(set.name, zone) && set.records.length > 0,
  );
  return (found as RRset<'NSEC3PARAM'> | undefined) ?? null;
}

/** A name that should not exist: its denial (NSEC or NSEC3) is what the probe is for. */
export async function askProbe(
  server: NameServer,
  name: string,
  options: QueryOptions,
): Promise<ProbeAnswer> {
  const response = await query(server, name, 'A', options);
  requireAuthoritative(response, `${name} A`, ['NOERROR', 'NXDOMAIN']);
  return {
    name,
    rcode: response.rcode,
    answers: response.answers,
    authorities: response.authorities,
  };
}

/** Timeout and network errors are `unreachable`, anything else `bad-response`; an abort rethrows. */
export function failureOf(error: unknown): ServerFailure {
  if (AbortError.isInstance(error)) throw error;
  const message = error instanceof Error ? error.message : String(error);
  if (DnsTimeoutError.isInstance(error) || DnsNetworkError.isInstance(error)) {
    return { status: 'unreachable', error: message };
  }
  return { status: 'bad-response', error: message };
}
