/** The owner's signature over the one DNSKEY RRset every provider serves (model 1). */
import type { CallOptions, DnskeyData, OwnerKey, RrsigData } from '@chorus/core';
import { canonicalRrsetSigningData, keyTag, rrsigLabelCount } from '@chorus/dns';
import { OwnerKeyError } from './errors.js';

export interface DnskeyRrsetToSign {
  zone: string;
  /** Every provider's ZSKs and the owner's KSK (and, during a KSK roll, its successor). */
  keys: readonly DnskeyData[];
  /** The RRset's TTL: the RRSIG's original TTL. */
  ttl: number;
  /** Seconds since the epoch. */
  inception: number;
  expiration: number;
}

const sameKey = (a: DnskeyData, b: DnskeyData) =>
  a.flags === b.flags && a.algorithm === b.algorithm && a.publicKey === b.publicKey;

/** Signs the DNSKEY RRset with the owner's KSK, which must be in it; returns the RRSIG. */
export async function signDnskeyRrset(
  owner: OwnerKey,
  rrset: DnskeyRrsetToSign,
  options: CallOptions = {},
): Promise<RrsigData> {
  if (!rrset.keys.some((key) => sameKey(key, owner.dnskey)))
    throw new OwnerKeyError(
      `the DNSKEY RRset of ${rrset.zone} does not hold the owner's KSK ${keyTag(owner.dnskey)} (${owner.description}): a resolver could not follow the DS to it`,
    );
  if (!(rrset.inception < rrset.expiration))
    throw new OwnerKeyError(
      `a signature of ${rrset.zone} must begin before it ends (inception ${rrset.inception}, expiration ${rrset.expiration})`,
    );
  const template: RrsigData = {
    typeCovered: 'DNSKEY',
    algorithm: owner.dnskey.algorithm,
    labels: rrsigLabelCount(rrset.zone),
    originalTtl: rrset.ttl,
    expiration: rrset.expiration >>> 0,
    inception: rrset.inception >>> 0,
    keyTag: keyTag(owner.dnskey),
    signerName: rrset.zone,
    signature: '',
  };
  const data = canonicalRrsetSigningData(template, {
    name: rrset.zone,
    type: 'DNSKEY',
    class: 'IN',
    records: rrset.keys,
  });
  const signature = await owner.sign(data, options);
  return { ...template, signature: signature.toString('base64') };
}
