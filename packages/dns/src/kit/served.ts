/**
 * One RRset as a signer's own nameserver serves it (TCP, RD=0): for what a provider's API does
 * not show (the SOA) and records a plugin cannot parse from presentation format.
 */
import {
  DnsResponseError,
  DnsWireError,
  type DnsRecord,
  type NameServer,
  type RecordType,
} from '@chorus/core';
import { canonicalName, normalizeName } from '../names.js';
import { query } from '../query.js';
import { describeServer } from '../transport.js';
import { signalOption } from './abort.js';

export interface ServedOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * The RRset `owner` `type` as `server` serves it. Rejects with DnsResponseError when the answer
 * is not an authoritative NOERROR, and with a retryable DnsWireError when it holds no such RRset
 * (a provider may publish what its API shows with a delay).
 */
export async function servedRecords(
  server: NameServer,
  owner: string,
  type: RecordType,
  options: ServedOptions,
): Promise<DnsRecord[]> {
  const name = normalizeName(owner);
  const response = await query(server, name, type, {
    transport: 'tcp',
    timeoutMs: options.timeoutMs,
    ...signalOption(options.signal),
  });
  const what = `${name} ${type}`;
  if (response.rcode !== 'NOERROR' || !response.flags.aa)
    throw new DnsResponseError({
      server: describeServer(server),
      rcode: response.rcode === 'NOERROR' ? 'REFUSED' : response.rcode,
      what: `${what} (not authoritative for it)`,
    });
  const set = response.answers.find(
    (candidate) => candidate.type === type && canonicalName(candidate.name) === canonicalName(name),
  );
  if (!set || set.records.length === 0)
    throw new DnsWireError(`${describeServer(server)} does not serve ${what}`, {
      isRetryable: true,
    });
  return (set.records as DnsRecord['data'][]).map(
    (data) => ({ name, type, class: 'IN', ttl: set.ttl, data }) as DnsRecord,
  );
}
