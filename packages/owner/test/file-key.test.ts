import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnskeyData } from '@chorus/core';
import { keyTag, verifyRrsig } from '@chorus/dns';
import { openFileOwnerKey, OwnerKeyError, signDnskeyRrset } from '@chorus/owner';

const ZONE = 'example.test.';
const NOW = 1_800_000_000;
/** A provider's ZSK (flags 256), as it would publish it. */
const ZSK: DnskeyData = {
  flags: 256,
  protocol: 3,
  algorithm: 13,
  publicKey: Buffer.alloc(64, 7).toString('base64'),
};

let directory: string;
beforeAll(async () => void (directory = await mkdtemp(path.join(tmpdir(), 'chorus-owner-test-'))));
afterAll(() => rm(directory, { recursive: true, force: true }));

async function keyFile(name: string, privateKey: KeyObject, mode = 0o600): Promise<string> {
  const file = path.join(directory, name);
  await writeFile(file, privateKey.export({ format: 'pem', type: 'pkcs8' }));
  await chmod(file, mode);
  return file;
}

const pairs = {
  'ECDSA P-256 (13)': () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }),
  'Ed25519 (15)': () => generateKeyPairSync('ed25519'),
  'RSA (8)': () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
};

describe('an owner KSK in a PKCS#8 file', () => {
  it.each(Object.entries(pairs))(
    'signs a DNSKEY RRset with %s that the verifier accepts, and not a changed one',
    async (name, generate) => {
      const owner = await openFileOwnerKey(await keyFile(`${name}.pem`, generate().privateKey));
      expect(owner.dnskey.flags).toBe(257);
      const keys = [owner.dnskey, ZSK];
      const rrsig = await signDnskeyRrset(owner, {
        zone: ZONE,
        keys,
        ttl: 3600,
        inception: NOW - 3600,
        expiration: NOW + 14 * 86_400,
      });
      expect(rrsig).toMatchObject({
        typeCovered: 'DNSKEY',
        labels: 2,
        keyTag: keyTag(owner.dnskey),
      });
      const rrset = { name: ZONE, type: 'DNSKEY' as const, class: 'IN' as const, records: keys };
      const check = (records: DnskeyData[]) =>
        verifyRrsig({
          rrset: { ...rrset, records },
          signature: rrsig,
          key: owner.dnskey,
          now: NOW,
        });
      expect(check(keys)).toEqual({ ok: true });
      // Negative control: one key of the RRset differs by one octet.
      const changed = { ...ZSK, publicKey: Buffer.alloc(64, 8).toString('base64') };
      expect(check([owner.dnskey, changed]).ok).toBe(false);
    },
  );

  it('refuses a key file others may read, naming the file and the fix', async () => {
    const file = await keyFile('open.pem', pairs['ECDSA P-256 (13)']().privateKey, 0o644);
    await expect(openFileOwnerKey(file)).rejects.toThrow(/mode 644.*chmod 600/);
  });

  it('refuses a curve DNSSEC cannot use here, and a file that is no key, without showing it', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
    await expect(openFileOwnerKey(await keyFile('p384.pem', p384))).rejects.toThrow(
      /secp384r1 key; an owner KSK must be/,
    );
    const file = path.join(directory, 'garbage.pem');
    await writeFile(file, 'not a key at all: secret-looking-text', { mode: 0o600 });
    const error = await openFileOwnerKey(file).catch((caught: unknown) => caught);
    expect(OwnerKeyError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('is not a PKCS#8 PEM private key');
    expect((error as Error).message).not.toContain('secret-looking-text');
  });

  it('refuses to sign an RRset without the owner KSK, or a signature that ends before it begins', async () => {
    const owner = await openFileOwnerKey(
      await keyFile('lone.pem', pairs['Ed25519 (15)']().privateKey),
    );
    const base = { zone: ZONE, ttl: 60, inception: NOW, expiration: NOW + 60 };
    await expect(signDnskeyRrset(owner, { ...base, keys: [ZSK] })).rejects.toThrow(
      /does not hold the owner's KSK/,
    );
    await expect(
      signDnskeyRrset(owner, { ...base, keys: [owner.dnskey], expiration: NOW - 1 }),
    ).rejects.toThrow(/must begin before it ends/);
  });
});
