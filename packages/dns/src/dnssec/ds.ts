import { createHash } from 'node:crypto';
import { DigestType, type DnskeyData, type DsData } from '@chorus/core';
import { nameToWire } from '../names.js';
import { dnskeyRdata, keyTag } from './key-tag.js';

/** DS digest types Chorus computes: 2 = SHA-256, 4 = SHA-384. */
export type DsDigestType = (typeof DigestType)[keyof typeof DigestType];

const HASH_BY_DIGEST_TYPE: Readonly<Record<DsDigestType, string>> = {
  [DigestType.SHA256]: 'sha256',
  [DigestType.SHA384]: 'sha384',
};

export function isSupportedDigestType(value: number): value is DsDigestType {
  return value === DigestType.SHA256 || value === DigestType.SHA384;
}

/**
 * The DS record data for `key` at `owner` (RFC 4034 §5.1.4, RFC 4509, RFC 6605): the digest is
 * taken over the canonical (lower-case) owner name in wire form followed by the DNSKEY rdata.
 * The digest is upper-case hex, as `dnssec-dsfromkey` prints it.
 */
export function computeDs(owner: string, key: DnskeyData, digestType: DsDigestType): DsData {
  const hashName = HASH_BY_DIGEST_TYPE[digestType];
  if (hashName === undefined)
    throw new RangeError(`unsupported DS digest type ${String(digestType)}`);
  const digest = createHash(hashName)
    .update(nameToWire(owner, { lowercase: true }))
    .update(dnskeyRdata(key))
    .digest('hex')
    .toUpperCase();
  return { keyTag: keyTag(key), algorithm: key.algorithm, digestType, digest };
}

/**
 * True when `ds` (a DS or CDS record at `owner`) refers to `key`: same key tag, same algorithm
 * and the same digest. A DS with a digest type Chorus does not compute (e.g. SHA-1) never matches.
 */
export function dsMatchesKey(owner: string, ds: DsData, key: DnskeyData): boolean {
  if (!isSupportedDigestType(ds.digestType)) return false;
  if (ds.algorithm !== key.algorithm) return false;
  let expected: DsData;
  try {
    expected = computeDs(owner, key, ds.digestType);
  } catch {
    return false; // a key whose public key is not base64 matches nothing
  }
  return (
    expected.keyTag === ds.keyTag && expected.digest === ds.digest.replace(/\s+/g, '').toUpperCase()
  );
}
