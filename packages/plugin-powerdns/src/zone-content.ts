/**
 * The zone's content from `GET /zones/{zone}`. Pure: the unit tests run it on recorded responses.
 *
 * The API shows the backend records only: PowerDNS signs live, so RRSIG, NSEC/NSEC3 and its own
 * DNSKEY/CDS/CDNSKEY are absent (the content digest leaves DNSSEC records out anyway).
 */
import { canonicalName, parseRecord } from '@chorus/dns';
import type { DnsRecord, SoaData } from '@chorus/core';
import type { PdnsRrset, PdnsZone } from './api.js';

/**
 * Every enabled record of the zone, names absolute. Disabled records are not served, so they
 * are left out. The apex SOA carries the serial PowerDNS serves (`edited_serial`, after SOA-EDIT).
 */
export function zoneContentOf(zone: PdnsZone): DnsRecord[] {
  return zone.rrsets.flatMap((rrset) =>
    rrset.records
      .filter((record) => !record.disabled)
      .map((record) => recordOf(zone, rrset, record.content)),
  );
}

/** Parsed as a whole line, so that a parse error names the owner and type. */
function recordOf(zone: PdnsZone, rrset: PdnsRrset, content: string): DnsRecord {
  const line = `${rrset.name} ${rrset.ttl} IN ${rrset.type} ${content}`;
  const record = parseRecord(line, { origin: zone.name });
  if (!isApexSoa(zone, rrset) || zone.editedSerial === undefined) return record;
  return {
    ...record,
    data: { ...(record.data as SoaData), serial: zone.editedSerial },
  } as DnsRecord;
}

function isApexSoa(zone: PdnsZone, rrset: PdnsRrset): boolean {
  return rrset.type === 'SOA' && canonicalName(rrset.name) === canonicalName(zone.name);
}
