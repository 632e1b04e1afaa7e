/**
 * The zone's content from deSEC's RRset list. Pure: no I/O, so the unit tests run it on recorded
 * lists.
 *
 * DNSSEC types and CSYNC are left out: the API shows only the user-added DNSKEY/CDS/CDNSKEY, not
 * deSEC's own, and none of them is content. The SOA is not in the list at all (deSEC manages it).
 */
import type { DnsRecord } from '@chorus/core';
import { NON_CONTENT_TYPES, parseRdata } from '@chorus/dns';
import type { DesecRrset } from './api.js';

/** An RRset to read on the wire: this plugin has no presentation parser for its type. */
export interface UnparsedRrset {
  owner: string;
  type: string;
}

export interface ListedContent {
  records: DnsRecord[];
  unparsed: UnparsedRrset[];
}

/** The absolute owner name of a subname (`''` is the apex). */
export function ownerName(zone: string, subname: string): string {
  return subname === '' ? zone : `${subname}.${zone}`;
}

/** The records of one RRset, or undefined when one of them does not parse. */
function parsedRrset(zone: string, rrset: DesecRrset): DnsRecord[] | undefined {
  const name = ownerName(zone, rrset.subname);
  try {
    return rrset.records.map(
      (text) =>
        ({
          name,
          type: rrset.type,
          class: 'IN',
          ttl: rrset.ttl,
          data: parseRdata(rrset.type, text, zone),
        }) as DnsRecord,
    );
  } catch {
    return undefined;
  }
}

/** The content records of `zone` (absolute, with a trailing dot) in an RRset list. */
export function listedContent(zone: string, rrsets: readonly DesecRrset[]): ListedContent {
  const content: ListedContent = { records: [], unparsed: [] };
  for (const rrset of rrsets) {
    if (NON_CONTENT_TYPES.has(rrset.type)) continue;
    const records = parsedRrset(zone, rrset);
    if (records) content.records.push(...records);
    else content.unparsed.push({ owner: ownerName(zone, rrset.subname), type: rrset.type });
  }
  return content;
}
