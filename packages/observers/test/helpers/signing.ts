/**
 * Real DNSSEC signatures for tests: ECDSA P-256 (algorithm 13) or Ed25519 (algorithm 15) keys
 * made with node:crypto, RRsets signed over core's canonical signing data so that core's
 * `verifyRrsig` accepts them.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  canonicalRrsetSigningData,
  computeDs,
  keyTag,
  rrsigLabelCount,
  type SignedRrset,
} from '@chorus/dns';
import type { DnskeyData, DsData, RecordType, RRset, RrsigData } from '@chorus/core';

export const ZSK_FLAGS = 256;
export const KSK_FLAGS = 257;

export interface TestKey {
  dnskey: DnskeyData;
  privateKey: KeyObject;
  tag: number;
}

/** A fresh key pair; algorithm 13 (ECDSA P-256, signatures raw r‖s) unless 15 (Ed25519) is asked. */
export function makeKey(flags: number, algorithm: 13 | 15 = 13): TestKey {
  const pair =
    algorithm === 13
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('ed25519');
  const jwk = pair.publicKey.export({ format: 'jwk' });
  const raw =
    algorithm === 13
      ? Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')])
      : Buffer.from(jwk.x!, 'base64url');
  const dnskey: DnskeyData = { flags, protocol: 3, algorithm, publicKey: raw.toString('base64') };
  return { dnskey, privateKey: pair.privateKey, tag: keyTag(dnskey) };
}

/** The SHA-256 DS of `key` at `owner`. */
export function dsOf(owner: string, key: TestKey): DsData {
  return computeDs(owner, key.dnskey, 2);
}

export interface SignOptions {
  /** Seconds since the epoch. */
  inception: number;
  expiration: number;
  /** The signer name (the zone apex). */
  signer: string;
}

/** One RRSIG over `rrset` by `key`. */
export function signature(
  rrset: SignedRrset & { ttl: number },
  key: TestKey,
  options: SignOptions,
): RrsigData {
  const unsigned: RrsigData = {
    typeCovered: rrset.type,
    algorithm: key.dnskey.algorithm,
    labels: rrsigLabelCount(rrset.name),
    originalTtl: rrset.ttl,
    expiration: options.expiration >>> 0,
    inception: options.inception >>> 0,
    keyTag: key.tag,
    signerName: options.signer,
    signature: '',
  };
  const data = canonicalRrsetSigningData(unsigned, rrset);
  const bytes =
    key.dnskey.algorithm === 13
      ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
      : sign(null, data, key.privateKey);
  return { ...unsigned, signature: bytes.toString('base64') };
}

/** An RRset signed by every key in `keys` (none: unsigned). */
export function signedRrset<T extends RecordType>(
  name: string,
  type: T,
  records: RRset<T>['records'],
  ttl: number,
  keys: readonly TestKey[],
  options: SignOptions,
): RRset<T> {
  const rrset = { name, type, class: 'IN' as const, ttl, records };
  return { ...rrset, signatures: keys.map((key) => signature(rrset, key, options)) };
}
