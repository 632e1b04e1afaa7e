import {
  createPublicKey,
  verify as cryptoVerify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import {
  DNSKEY_FLAG_ZONE,
  DnssecAlgorithm,
  recordTypeNumber,
  type DnskeyData,
  type RrsigData,
} from '@chorus/core';
import { canonicalRrsetSigningData, rrsigLabelCount, type SignedRrset } from './canonical.js';
import { keyTag } from './key-tag.js';

/** What {@link verifyRrsig} checks. */
export interface VerifyRrsigInput {
  /** The RRset the signature covers. Its TTL is not used: the RRSIG's original TTL is. */
  rrset: SignedRrset;
  /** The RRSIG rdata. */
  signature: RrsigData;
  /**
   * The DNSKEY to verify with. Checking that the signer name equals the key's owner (and that
   * the key is trusted) is the caller's job.
   */
  key: DnskeyData;
  /** The validation time in seconds since the epoch; defaults to the current time. */
  now?: number;
  /** Skip the inception/expiration check (e.g. when inspecting old signatures). */
  ignoreTime?: boolean;
}

/** The outcome of {@link verifyRrsig}: `reason` says in words why a signature was rejected. */
export type VerifyRrsigResult = { ok: true } | { ok: false; reason: string };

/** A public key ready for node:crypto, with the digest the algorithm signs with. */
interface VerificationKey {
  key: KeyObject;
  /** Digest for `crypto.verify`; null for EdDSA, which hashes internally. */
  hash: string | null;
  /** ECDSA signatures in DNSSEC are raw r‖s (RFC 6605 §4). */
  dsaEncoding?: 'ieee-p1363';
}

const SERIAL_HALF = 2 ** 31;
const SERIAL_MODULUS = 2 ** 32;

/** RFC 1982 serial-number difference `a - b` as a signed 32-bit value. */
function serialDifference(a: number, b: number): number {
  const difference = ((a >>> 0) - (b >>> 0) + SERIAL_MODULUS) % SERIAL_MODULUS;
  return difference >= SERIAL_HALF ? difference - SERIAL_MODULUS : difference;
}

/** Renders a 32-bit RRSIG time as an ISO date, in the 136-year window closest to `now`. */
function describeTime(value: number, now: number): string {
  const absolute = now + serialDifference(value, now);
  return new Date(absolute * 1000).toISOString().replace('.000Z', 'Z');
}

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** Drops leading zero octets, as JWK integers must not have them (RFC 7518 §6.3.1). */
function stripLeadingZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  return bytes.subarray(start);
}

/** RFC 3110 §2: exponent length (1 octet, or 0 then 2 octets), exponent, modulus. */
function rsaJwk(publicKey: Buffer): JsonWebKey {
  if (publicKey.length < 1) throw new Error('empty RSA public key');
  let offset = 1;
  let exponentLength = publicKey[0]!;
  if (exponentLength === 0) {
    if (publicKey.length < 3) throw new Error('truncated RSA exponent length');
    exponentLength = publicKey.readUInt16BE(1);
    offset = 3;
  }
  if (exponentLength === 0 || offset + exponentLength >= publicKey.length) {
    throw new Error('RSA exponent leaves no room for a modulus');
  }
  const exponent = publicKey.subarray(offset, offset + exponentLength);
  const modulus = publicKey.subarray(offset + exponentLength);
  return {
    kty: 'RSA',
    n: base64url(stripLeadingZeros(modulus)),
    e: base64url(stripLeadingZeros(exponent)),
  };
}

/** RFC 6605 §4: the point as X‖Y, each coordinate `size` octets. */
function ecJwk(publicKey: Buffer, curve: 'P-256' | 'P-384', size: number): JsonWebKey {
  if (publicKey.length !== size * 2) {
    throw new Error(`${curve} public key is ${publicKey.length} octets, expected ${size * 2}`);
  }
  return {
    kty: 'EC',
    crv: curve,
    x: base64url(publicKey.subarray(0, size)),
    y: base64url(publicKey.subarray(size)),
  };
}

/** RFC 8080 §3: the raw public key. */
function okpJwk(publicKey: Buffer, curve: 'Ed25519' | 'Ed448', size: number): JsonWebKey {
  if (publicKey.length !== size) {
    throw new Error(`${curve} public key is ${publicKey.length} octets, expected ${size}`);
  }
  return { kty: 'OKP', crv: curve, x: base64url(publicKey) };
}

function jwkKey(jwk: JsonWebKey): KeyObject {
  return createPublicKey({ key: jwk, format: 'jwk' });
}

/** The node:crypto key for a DNSKEY, or undefined when the algorithm is not supported. */
function verificationKey(algorithm: number, publicKey: Buffer): VerificationKey | undefined {
  switch (algorithm) {
    case DnssecAlgorithm.RSASHA256:
      return { key: jwkKey(rsaJwk(publicKey)), hash: 'sha256' };
    case DnssecAlgorithm.RSASHA512:
      return { key: jwkKey(rsaJwk(publicKey)), hash: 'sha512' };
    case DnssecAlgorithm.ECDSAP256SHA256:
      return {
        key: jwkKey(ecJwk(publicKey, 'P-256', 32)),
        hash: 'sha256',
        dsaEncoding: 'ieee-p1363',
      };
    case DnssecAlgorithm.ECDSAP384SHA384:
      return {
        key: jwkKey(ecJwk(publicKey, 'P-384', 48)),
        hash: 'sha384',
        dsaEncoding: 'ieee-p1363',
      };
    case DnssecAlgorithm.ED25519:
      return { key: jwkKey(okpJwk(publicKey, 'Ed25519', 32)), hash: null };
    case DnssecAlgorithm.ED448:
      return { key: jwkKey(okpJwk(publicKey, 'Ed448', 57)), hash: null };
    default:
      return undefined;
  }
}

const SUPPORTED_ALGORITHMS: ReadonlySet<number> = new Set(Object.values(DnssecAlgorithm));

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 decoding; undefined when the text is not base64. */
function decodeBase64(text: string): Buffer | undefined {
  const clean = text.replace(/\s+/g, '');
  return BASE64.test(clean) ? Buffer.from(clean, 'base64') : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function fail(reason: string): VerifyRrsigResult {
  return { ok: false, reason };
}

/**
 * Verifies one RRSIG over an RRset with one DNSKEY (RFC 4035 §5.3), using node:crypto.
 *
 * Supported algorithms: 8 and 10 (RSA), 13 and 14 (ECDSA), 15 and 16 (EdDSA). Checks, in order:
 * algorithm, key tag, that the key is a zone key with protocol 3, type covered, labels, the
 * validity period (RFC 1982 serial arithmetic, unless `ignoreTime`), then the signature itself.
 * A bad or unverifiable signature is reported as `{ ok: false, reason }`, never thrown.
 */
export function verifyRrsig(input: VerifyRrsigInput): VerifyRrsigResult {
  const { rrset, signature, key } = input;

  if (signature.algorithm !== key.algorithm) {
    return fail(
      `algorithm mismatch: the RRSIG uses algorithm ${signature.algorithm}, the DNSKEY algorithm ${key.algorithm}`,
    );
  }
  if (!SUPPORTED_ALGORITHMS.has(signature.algorithm)) {
    return fail(`unsupported algorithm ${signature.algorithm}`);
  }

  const publicKey = decodeBase64(key.publicKey);
  if (publicKey === undefined) return fail('DNSKEY public key is not valid base64');
  const tag = keyTag(key);
  if (tag !== signature.keyTag) {
    return fail(
      `key tag mismatch: the RRSIG names key ${signature.keyTag}, the DNSKEY has tag ${tag}`,
    );
  }
  if (key.protocol !== 3) return fail(`DNSKEY protocol is ${key.protocol}, not 3`);
  if ((key.flags & DNSKEY_FLAG_ZONE) === 0) {
    return fail(`DNSKEY is not a zone key (flags ${key.flags})`);
  }

  const covered = recordTypeNumber(signature.typeCovered);
  if (covered === undefined || covered !== recordTypeNumber(rrset.type)) {
    return fail(`the RRSIG covers type ${signature.typeCovered}, not the RRset type ${rrset.type}`);
  }

  let ownerLabels: number;
  try {
    ownerLabels = rrsigLabelCount(rrset.name);
  } catch (error) {
    return fail(`RRset owner is not a valid name: ${errorText(error)}`);
  }
  if (signature.labels > ownerLabels) {
    return fail(
      `the RRSIG labels field (${signature.labels}) exceeds the ${ownerLabels} labels of ${rrset.name} (a leading * is not counted)`,
    );
  }

  if (input.ignoreTime !== true) {
    const now = Math.floor(input.now ?? Date.now() / 1000);
    if (serialDifference(signature.expiration, signature.inception) < 0) {
      return fail(
        `the RRSIG expiration ${describeTime(signature.expiration, now)} is before its inception ${describeTime(signature.inception, now)}`,
      );
    }
    if (serialDifference(signature.expiration, now) < 0) {
      return fail(
        `signature expired at ${describeTime(signature.expiration, now)} (now ${describeTime(now, now)})`,
      );
    }
    if (serialDifference(now, signature.inception) < 0) {
      return fail(
        `signature not valid before ${describeTime(signature.inception, now)} (now ${describeTime(now, now)})`,
      );
    }
  }

  const signatureBytes = decodeBase64(signature.signature);
  if (signatureBytes === undefined) return fail('RRSIG signature is not valid base64');

  let verification: VerificationKey | undefined;
  try {
    verification = verificationKey(key.algorithm, publicKey);
  } catch (error) {
    return fail(`DNSKEY public key is malformed: ${errorText(error)}`);
  }
  if (verification === undefined) return fail(`unsupported algorithm ${key.algorithm}`);

  let data: Buffer;
  try {
    data = canonicalRrsetSigningData(signature, rrset);
  } catch (error) {
    return fail(`cannot build the signed data: ${errorText(error)}`);
  }

  let valid: boolean;
  try {
    const keyInput =
      verification.dsaEncoding === undefined
        ? verification.key
        : { key: verification.key, dsaEncoding: verification.dsaEncoding };
    valid = cryptoVerify(verification.hash, data, keyInput, signatureBytes);
  } catch (error) {
    return fail(`signature does not verify (${errorText(error)})`);
  }
  return valid ? { ok: true } : fail('signature does not verify');
}
