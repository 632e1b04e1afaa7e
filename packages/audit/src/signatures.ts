/** Real RRSIG verification over observed RRsets (core's verifyRrsig), by key set. */
import { DNSKEY_FLAG_REVOKE, type DnskeyData, type RRset, type RrsigData } from '@chorus/core';
import { keyTag, namesEqual, verifyRrsig } from '@chorus/dns';

function unsigned(rrset: RRset) {
  return { name: rrset.name, type: rrset.type, class: rrset.class, records: rrset.records };
}

/** The zone's own signatures over `rrset` (other signer names are not the zone's keys). */
export function zoneSignatures(zone: string, rrset: RRset): RrsigData[] {
  return rrset.signatures.filter((signature) => namesEqual(signature.signerName, zone));
}

/** Keys of `keys` that `signature` names: same tag and algorithm, not revoked. */
function namedKeys(keys: readonly DnskeyData[], signature: RrsigData): DnskeyData[] {
  return keys.filter(
    (key) =>
      key.algorithm === signature.algorithm &&
      (key.flags & DNSKEY_FLAG_REVOKE) === 0 &&
      keyTag(key) === signature.keyTag,
  );
}

/**
 * The keys of `keys` with an RRSIG over `rrset` that verifies. Time is not checked here: the
 * signature-lifetimes rule judges it, so each fault is reported once.
 */
export function verifyingKeys(
  zone: string,
  rrset: RRset,
  keys: readonly DnskeyData[],
): DnskeyData[] {
  const found: DnskeyData[] = [];
  for (const signature of zoneSignatures(zone, rrset)) {
    for (const key of namedKeys(keys, signature)) {
      const result = verifyRrsig({ rrset: unsigned(rrset), signature, key, ignoreTime: true });
      if (result.ok && !found.includes(key)) found.push(key);
    }
  }
  return found;
}

/** The key tags an RRset's zone RRSIGs name, sorted. */
export function signatureTags(zone: string, rrset: RRset): number[] {
  return [...new Set(zoneSignatures(zone, rrset).map((signature) => signature.keyTag))].sort(
    (left, right) => left - right,
  );
}
