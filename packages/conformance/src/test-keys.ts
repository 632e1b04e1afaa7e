import { generateKeyPairSync } from 'node:crypto';
import { computeDs, keyTag } from '@chorus/dns';
import type { DnskeyData, DsData } from '@chorus/core';

/** A DNSKEY of another signer, made up for a test: a real P-256 public key (algorithm 13). */
export interface ForeignKey {
  dnskey: DnskeyData;
  keyTag: number;
}

/** Fresh algorithm-13 public keys whose key tags differ from each other and from `avoidTags`. */
export function makeForeignKeys(
  count: number,
  flags: 256 | 257,
  avoidTags: Iterable<number> = [],
): ForeignKey[] {
  const taken = new Set(avoidTags);
  const keys: ForeignKey[] = [];
  while (keys.length < count) {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const raw = Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    const dnskey: DnskeyData = {
      flags,
      protocol: 3,
      algorithm: 13,
      publicKey: raw.toString('base64'),
    };
    const tag = keyTag(dnskey);
    if (taken.has(tag)) continue;
    taken.add(tag);
    keys.push({ dnskey, keyTag: tag });
  }
  return keys;
}

export function cdsFor(zone: string, key: ForeignKey): DsData {
  return computeDs(zone, key.dnskey, 2);
}
