import { query, type QueryOptions } from '../query.js';
import { normalizeName } from '../names.js';
import { describeServer } from '../transport.js';
import {
  DnsResponseError,
  type ApexSnapshot,
  type CallOptions,
  type NameServer,
  type RecordType,
  type RRset,
  type ZoneName,
} from '@chorus/core';

/** The apex RRsets a plan compares: all of a snapshot but the SOA. */
export type PlannedApex = Omit<ApexSnapshot, 'soa'>;

/**
 * One RRset of `name` as `server` serves it, directly (RD=0, DO=1, over TCP so nothing is
 * truncated); null for NODATA. Anything but an authoritative NOERROR is a DnsResponseError.
 */
export async function servedRrset<T extends RecordType>(
  server: NameServer,
  name: string,
  type: T,
  options: CallOptions & Pick<QueryOptions, 'timeoutMs' | 'retries'> = {},
): Promise<RRset<T> | null> {
  const response = await query(server, name, type, { transport: 'tcp', ...options });
  if (response.rcode !== 'NOERROR' || !response.flags.aa) {
    throw new DnsResponseError({
      server: describeServer(server),
      rcode: response.rcode === 'NOERROR' ? 'REFUSED' : response.rcode,
      what: `${name} ${type} (not authoritative for the zone)`,
    });
  }
  const rrset = response.answers.find((set) => set.type === type && set.records.length > 0);
  return (rrset ?? null) as RRset<T> | null;
}

/**
 * Reads the apex RRsets a server serves, directly (RD=0, DO=1, over TCP so nothing is truncated).
 * Requires an authoritative NOERROR for every type; anything else is a DnsResponseError.
 */
export async function readApexFromServer(
  server: NameServer,
  zone: ZoneName,
  options: ApexReadOptions = {},
): Promise<ApexSnapshot> {
  const name = normalizeName(zone);
  const [soa, planned] = await Promise.all([
    servedRrset(server, name, 'SOA', options),
    readPlannedApex(server, name, options),
  ]);
  return { ...planned, soa };
}

/**
 * What a plan compares, read as {@link readApexFromServer} reads it, without the SOA: one query
 * fewer for a check that never looks at the serial (a post-condition, an apply's safety check).
 */
export async function readPlannedApex(
  server: NameServer,
  zone: ZoneName,
  options: ApexReadOptions = {},
): Promise<PlannedApex> {
  const name = normalizeName(zone);
  const [ns, dnskey, cds, cdnskey, csync] = await Promise.all([
    servedRrset(server, name, 'NS', options),
    servedRrset(server, name, 'DNSKEY', options),
    servedRrset(server, name, 'CDS', options),
    servedRrset(server, name, 'CDNSKEY', options),
    servedRrset(server, name, 'CSYNC', options),
  ]);
  return { zone: name, server: describeServer(server), ns, dnskey, cds, cdnskey, csync };
}

type ApexReadOptions = CallOptions & Pick<QueryOptions, 'timeoutMs' | 'retries'>;
