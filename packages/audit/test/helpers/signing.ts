/**
 * Keys and signatures made in the test: ECDSA P-256 (algorithm 13) pairs from node:crypto, RRSIGs
 * over core's canonical signing data, so that the audit's real verification accepts them.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { DnskeyData, RecordType, RRset, RrsigData } from '@chorus/core';
import { canonicalRrsetSigningData, keyTag, rrsigLabelCount, type SignedRrset } from '@chorus/dns';

export interface TestKey {
  dnskey: DnskeyData;
  privateKey: KeyObject;
  tag: number;
}

export function makeKey(flags: 256 | 257): TestKey {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = pair.publicKey.export({ format: 'jwk' });
  const raw = Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const dnskey: DnskeyData = {
    flags,
    protocol: 3,
    algorithm: 13,
    publicKey: raw.toString('base64'),
  };
  return { dnskey, privateKey: pair.privateKey, tag: keyTag(dnskey) };
}

/** Fresh keys with pairwise distinct tags, so that no test meets a chance collision. */
export function distinctKeys(flags: readonly (256 | 257)[]): TestKey[] {
  for (;;) {
    const keys = flags.map(makeKey);
    if (new Set(keys.map((key) => key.tag)).size === keys.length) return keys;
  }
}

export interface Validity {
  inception: number;
  expiration: number;
}

function rrsig(
  rrset: SignedRrset & { ttl: number },
  key: TestKey,
  zone: string,
  validity: Validity,
): RrsigData {
  const unsigned: RrsigData = {
    typeCovered: rrset.type,
    algorithm: 13,
    labels: rrsigLabelCount(rrset.name),
    originalTtl: rrset.ttl,
    expiration: validity.expiration >>> 0,
    inception: validity.inception >>> 0,
    keyTag: key.tag,
    signerName: zone,
    signature: '',
  };
  const data = canonicalRrsetSigningData(unsigned, rrset);
  const signature = sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return { ...unsigned, signature: signature.toString('base64') };
}

/** An RRset signed by each of `keys` as `zone`. */
export function signed<T extends RecordType>(
  zone: string,
  rrset: { name: string; type: T; ttl: number; records: RRset<T>['records'] },
  keys: readonly TestKey[],
  validity: Validity,
): RRset<T> {
  const plain = { ...rrset, class: 'IN' as const };
  return { ...plain, signatures: keys.map((key) => rrsig(plain, key, zone, validity)) };
}
