/**
 * PowerDNS's own keys as the wire shows them. PowerDNS serves every published key in DNSKEY,
 * signs the DNSKEY RRset with its active KSKs (or CSK) and the rest of the zone with its active
 * ZSKs (or CSK), and serves CDS/CDNSKEY for its KSKs from the zone's metadata. So which keys are
 * published, which are active and what is signalled, all that `listOwnKeys` reports, shows in
 * DNSKEY, the key tags signing DNSKEY and SOA, CDS and CDNSKEY. Pure: unit-tested on answers.
 */
import { createHash } from 'node:crypto';
import type { RRset } from '@chorus/core';

/** The apex RRsets the fingerprint is made of, as served (null: NODATA). */
export interface KeyFingerprintInput {
  dnskey: RRset | null;
  soa: RRset | null;
  cds: RRset | null;
  cdnskey: RRset | null;
}

/** The sorted, distinct key tags of the signatures over `rrset`. */
function signingTags(rrset: RRset | null): number[] {
  const tags = new Set((rrset?.signatures ?? []).map((signature) => signature.keyTag));
  return [...tags].sort((a, b) => a - b);
}

/** The records of `rrset` in a form independent of their order. */
function sortedRecords(rrset: RRset | null): string[] {
  if (!rrset) return [];
  return rrset.records.map((record) => JSON.stringify(record)).sort();
}

/**
 * One string that changes when a key is published or withdrawn, starts or stops signing, or its
 * CDS/CDNSKEY changes. Re-signing (new signature values, same keys) leaves it the same. A SHA-256
 * of the facts, not the facts: the key watch keeps one per zone.
 */
export function keyFingerprintOf(input: KeyFingerprintInput): string {
  return createHash('sha256').update(keyFacts(input)).digest('base64');
}

function keyFacts(input: KeyFingerprintInput): string {
  return JSON.stringify({
    dnskey: sortedRecords(input.dnskey),
    dnskeySigners: signingTags(input.dnskey),
    soaSigners: signingTags(input.soa),
    cds: sortedRecords(input.cds),
    cdnskey: sortedRecords(input.cdnskey),
  });
}
