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

const APEX_TYPES = ['SOA', 'NS', 'DNSKEY', 'CDS', 'CDNSKEY', 'CSYNC'] as const;

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
  options: CallOptions & Pick<QueryOptions, 'timeoutMs' | 'retries'> = {},
): Promise<ApexSnapshot> {
  const name = normalizeName(zone);
  const answers = await Promise.all(
    APEX_TYPES.map((type) => servedRrset(server, name, type, options)),
  );
  const pick = <T extends RecordType>(index: number) => (answers[index] ?? null) as RRset<T> | null;
  return {
    zone: name,
    server: describeServer(server),
    soa: pick<'SOA'>(0),
    ns: pick<'NS'>(1),
    dnskey: pick<'DNSKEY'>(2),
    cds: pick<'CDS'>(3),
    cdnskey: pick<'CDNSKEY'>(4),
    csync: pick<'CSYNC'>(5),
  };
}
