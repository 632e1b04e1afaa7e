/** A public key as DNSKEY data (RFC 4034 §2): the key material per algorithm, flags 257. */
import type { KeyObject } from 'node:crypto';
import { DnssecAlgorithm, type DnskeyData } from '@chorus/core';
import { OwnerKeyError } from './errors.js';

/** Zone key and secure entry point: a KSK. */
export const KSK_FLAGS = 257;

/** The algorithms an owner key may use, by the node:crypto key type and curve that make them. */
export type OwnerAlgorithm =
  | typeof DnssecAlgorithm.RSASHA256
  | typeof DnssecAlgorithm.ECDSAP256SHA256
  | typeof DnssecAlgorithm.ED25519;

const fromBase64Url = (value: string | undefined) => Buffer.from(value ?? '', 'base64url');

/** RFC 3110 §2: exponent length (one octet, or zero and two), exponent, modulus. */
function rsaKeyMaterial(exponent: Buffer, modulus: Buffer): Buffer {
  const length =
    exponent.length <= 255
      ? Buffer.from([exponent.length])
      : Buffer.from([0, exponent.length >> 8, exponent.length & 0xff]);
  return Buffer.concat([length, exponent, modulus]);
}

/** The DNSSEC algorithm a key can sign with, or an OwnerKeyError naming what it is. */
export function algorithmOf(key: KeyObject, where: string): OwnerAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return DnssecAlgorithm.ED25519;
  if (type === 'rsa') return DnssecAlgorithm.RSASHA256;
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return DnssecAlgorithm.ECDSAP256SHA256;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  throw new OwnerKeyError(
    `${where} holds a ${type ?? 'unknown'}${curve ? ` ${curve}` : ''} key; an owner KSK must be ECDSA P-256 (algorithm 13), Ed25519 (15) or RSA (8)`,
  );
}

/** The DNSKEY of a public (or private) key object. */
export function dnskeyOf(key: KeyObject, where: string): DnskeyData {
  const algorithm = algorithmOf(key, where);
  const jwk = key.export({ format: 'jwk' });
  const material =
    algorithm === DnssecAlgorithm.ECDSAP256SHA256
      ? Buffer.concat([fromBase64Url(jwk.x), fromBase64Url(jwk.y)])
      : algorithm === DnssecAlgorithm.ED25519
        ? fromBase64Url(jwk.x)
        : rsaKeyMaterial(fromBase64Url(jwk.e), fromBase64Url(jwk.n));
  return { flags: KSK_FLAGS, protocol: 3, algorithm, publicKey: material.toString('base64') };
}
