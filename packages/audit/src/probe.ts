/** The audit's own questions to a child address: NSEC3PARAM and the nonexistent probe name. */
import type { NameServer, RRset } from '@chorus/core';
import { namesEqual, query, type QueryOptions, type QueryResponse } from '@chorus/dns';
import { AuditAnswerError } from './errors.js';
import type { ProbeAnswer } from './types.js';

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
