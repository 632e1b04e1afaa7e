import { createHash } from 'node:crypto';
import { DnsWireError, type Nsec3Data, type Nsec3ParamData } from '@chorus/core';
import { nameToWire } from '../names.js';
import { base32HexDecode, base32HexEncode } from '../rdata.js';

/** The only NSEC3 hash algorithm defined (RFC 5155 §11): SHA-1. */
export const NSEC3_HASH_SHA1 = 1;

/** The Opt-Out bit of the NSEC3 flags field (RFC 5155 §3.1.2.1). */
export const NSEC3_FLAG_OPT_OUT = 0x01;

/** The hashing inputs shared by NSEC3 and NSEC3PARAM records. */
export type Nsec3Parameters = Pick<
  Nsec3Data | Nsec3ParamData,
  'hashAlgorithm' | 'iterations' | 'salt'
>;

/**
 * The NSEC3 hash of `name` (RFC 5155 §5): SHA-1 over the canonical (lower-case, uncompressed)
 * wire form and the salt, re-hashed with the salt `iterations` more times. Returns the
 * base32hex owner label, upper-case, without padding. Throws DnsWireError for a hash algorithm
 * other than SHA-1 or a salt that is not hex.
 */
export function nsec3Hash(name: string, parameters: Nsec3Parameters): string {
  if (parameters.hashAlgorithm !== NSEC3_HASH_SHA1) {
    throw new DnsWireError(`unknown NSEC3 hash algorithm ${parameters.hashAlgorithm}`);
  }
  const salt = saltBytes(parameters.salt);
  let digest = createHash('sha1')
    .update(nameToWire(name, { lowercase: true }))
    .update(salt)
    .digest();
  for (let round = 0; round < parameters.iterations; round += 1) {
    digest = createHash('sha1').update(digest).update(salt).digest();
  }
  return base32HexEncode(digest);
}

/** The octets of a hashed owner label or next hashed owner name (case-insensitive base32hex). */
export function nsec3HashBytes(hash: string): Buffer {
  return base32HexDecode(hash);
}

/** True when the Opt-Out flag is set. */
export function isOptOut(data: Pick<Nsec3Data, 'flags'>): boolean {
  return (data.flags & NSEC3_FLAG_OPT_OUT) !== 0;
}

function saltBytes(salt: string): Buffer {
  // Presentation format writes an empty salt as "-".
  const hex = salt === '-' ? '' : salt;
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new DnsWireError(`NSEC3 salt ${JSON.stringify(salt)} is not hex`);
  }
  return Buffer.from(hex, 'hex');
}
