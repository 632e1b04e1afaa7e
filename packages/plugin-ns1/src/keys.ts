/** NS1's own keys, and the CDS/CDNSKEY the plugin publishes for them. Pure. */
import type { DnskeyData, SigningKey } from '@chorus/core';
import { computeDs, dnskeyIdentity, keyTag } from '@chorus/dns';
import type { ApexRecord } from './answers.js';
import type { ExternalKeySet } from './responses.js';

/** The state NS1 gives every key it lists: it signs online with all of them. */
export const OWN_KEY_STATE = 'active (NS1 online signing)';

/**
 * The keys NS1 signs with: those of `GET /dnssec` minus every key found in an external key set
 * (whether NS1 lists imported keys there is not documented), KSKs first, then by key tag.
 */
export function ownKeysOf(
  dnssecKeys: readonly DnskeyData[],
  keySets: readonly ExternalKeySet[],
): SigningKey[] {
  const external = new Set(keySets.flatMap((set) => set.keys.map(dnskeyIdentity)));
  const seen = new Set<string>();
  const keys: SigningKey[] = [];
  for (const dnskey of dnssecKeys) {
    const identity = dnskeyIdentity(dnskey);
    if (external.has(identity) || seen.has(identity)) continue;
    seen.add(identity);
    keys.push({
      role: (dnskey.flags & 1) === 1 ? 'KSK' : 'ZSK',
      algorithm: dnskey.algorithm,
      keyTag: keyTag(dnskey),
      dnskey,
      state: OWN_KEY_STATE,
    });
  }
  return keys.sort((a, b) => (a.role === b.role ? a.keyTag - b.keyTag : a.role === 'KSK' ? -1 : 1));
}

function ownKsks(ownKeys: readonly SigningKey[]): SigningKey[] {
  return ownKeys.filter((key) => key.role !== 'ZSK');
}

/** The CDS (SHA-256) of each own KSK. */
export function ownCds(zone: string, ownKeys: readonly SigningKey[]): ApexRecord[] {
  return ownKsks(ownKeys).map((key) => ({ type: 'CDS', data: computeDs(zone, key.dnskey, 2) }));
}

/** The CDNSKEY of each own KSK. */
export function ownCdnskeys(ownKeys: readonly SigningKey[]): ApexRecord[] {
  return ownKsks(ownKeys).map((key) => ({ type: 'CDNSKEY', data: key.dnskey }));
}
