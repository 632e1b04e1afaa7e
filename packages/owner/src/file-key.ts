/** An owner KSK in a PKCS#8 PEM file that only its owner may read (mode 0600 or stricter). */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { DnssecAlgorithm, type DnskeyData, type OwnerKey } from '@chorus/core';
import { OwnerKeyError } from './errors.js';
import { algorithmOf, dnskeyOf } from './public-key.js';

/** Refuses a key file that anyone but its owner may read or write. */
async function checkMode(file: string): Promise<void> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (error) {
    throw new OwnerKeyError(`cannot read the owner key file ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if ((mode & 0o077) !== 0)
    throw new OwnerKeyError(
      `the owner key file ${file} has mode ${(mode & 0o777).toString(8)}; others may read it. Run: chmod 600 ${file}`,
    );
}

async function privateKeyIn(file: string): Promise<KeyObject> {
  const pem = await readFile(file);
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    // node:crypto's message says nothing of the key's content.
    throw new OwnerKeyError(
      `${file} is not a PKCS#8 PEM private key (${(error as Error).message})`,
      { cause: error },
    );
  } finally {
    pem.fill(0);
  }
}

/** `sign` per algorithm: ECDSA as raw r‖s (RFC 6605 §4), EdDSA hashing internally. */
function signWith(key: KeyObject, algorithm: number, data: Buffer): Buffer {
  if (algorithm === DnssecAlgorithm.ECDSAP256SHA256)
    return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
  if (algorithm === DnssecAlgorithm.ED25519) return sign(null, data, key);
  return sign('sha256', data, key);
}

/** Opens the key in `file`; fails with OwnerKeyError when it is unsafe or unusable. */
export async function openFileOwnerKey(file: string): Promise<OwnerKey> {
  await checkMode(file);
  const key = await privateKeyIn(file);
  const where = `the owner key file ${file}`;
  const algorithm = algorithmOf(key, where);
  const dnskey: DnskeyData = dnskeyOf(createPublicKey(key), where);
  return {
    description: `file ${file}`,
    dnskey,
    sign: (data) => Promise.resolve(signWith(key, algorithm, data)),
    close: () => Promise.resolve(),
  };
}
