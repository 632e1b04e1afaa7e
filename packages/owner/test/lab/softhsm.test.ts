/**
 * The owner KSK in SoftHSM2 (Debian `softhsm2`), through pkcs11js: a token of its own in a
 * temporary directory, a P-256 key pair made inside it, a DNSKEY RRset signed with it and
 * verified; OpenSC's pkcs11-tool (`opensc`) checks the key's protection independently. The private key is sensitive and never extractable, no file outside the
 * token directory holds it, and the PIN is on no command line and in no error.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnskeyData } from '@chorus/core';
import { runCommand, verifyRrsig } from '@chorus/dns';
import {
  generatePkcs11OwnerKey,
  openPkcs11OwnerKey,
  signDnskeyRrset,
  type Pkcs11OwnerKeyConfig,
} from '@chorus/owner';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '4711-owner-pin';
const ZONE = 'example.test.';
const ZSK: DnskeyData = {
  flags: 256,
  protocol: 3,
  algorithm: 13,
  publicKey: Buffer.alloc(64, 3).toString('base64'),
};

let directory: string;
let config: Pkcs11OwnerKeyConfig;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-softhsm-'));
  const tokens = path.join(directory, 'tokens');
  await runCommand('mkdir', ['-m', '700', tokens], { timeoutMs: 5000 });
  const conf = path.join(directory, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\n`);
  const env = { SOFTHSM2_CONF: conf };
  const init = ['--init-token', '--free', '--label', 'owner', '--pin', PIN, '--so-pin', '0000'];
  await runCommand('softhsm2-util', init, { timeoutMs: 15_000, env, secrets: [PIN] });
  process.env.CHORUS_TEST_OWNER_PIN = PIN;
  config = {
    module: MODULE,
    tokenLabel: 'owner',
    keyId: '01',
    pinEnv: 'CHORUS_TEST_OWNER_PIN',
    env,
  };
  generatePkcs11OwnerKey(config, 'ksk');
});

afterAll(async () => {
  delete process.env.CHORUS_TEST_OWNER_PIN;
  await rm(directory, { recursive: true, force: true });
});

describe('an owner KSK in SoftHSM2', () => {
  it('signs a DNSKEY RRset inside the token, and the signature verifies', async () => {
    const owner = await openPkcs11OwnerKey(config);
    expect(owner.dnskey).toMatchObject({ flags: 257, algorithm: 13 });
    const keys = [owner.dnskey, ZSK];
    const now = Math.floor(Date.now() / 1000);
    const rrsig = await signDnskeyRrset(owner, {
      zone: ZONE,
      keys,
      ttl: 300,
      inception: now - 300,
      expiration: now + 86_400,
    });
    const rrset = { name: ZONE, type: 'DNSKEY' as const, class: 'IN' as const, records: keys };
    expect(verifyRrsig({ rrset, signature: rrsig, key: owner.dnskey })).toEqual({ ok: true });
    const other = { ...rrset, records: [owner.dnskey] };
    expect(verifyRrsig({ rrset: other, signature: rrsig, key: owner.dnskey }).ok).toBe(false);
    // Two signatures at once queue on the one session, and both verify.
    const [first, second] = await Promise.all([
      owner.sign(Buffer.from('a')),
      owner.sign(Buffer.from('b')),
    ]);
    expect([first.length, second.length]).toEqual([64, 64]);
    await owner.close();
  });

  it('keeps the private key sensitive and never extractable, in the token directory only', async () => {
    const { stdout } = await runCommand(
      'pkcs11-tool',
      [
        '--module',
        MODULE,
        '--token-label',
        'owner',
        '--login',
        '--pin',
        'env:CHORUS_TEST_OWNER_PIN',
        '--list-objects',
        '--type',
        'privkey',
      ],
      { timeoutMs: 15_000, env: config.env! },
    );
    expect(stdout).toMatch(/Private Key Object; EC/);
    expect(stdout).toMatch(/never extractable/);
    // Only the configuration and the token directory: signing left no file behind.
    expect((await readdir(directory)).sort()).toEqual(['softhsm2.conf', 'tokens']);
  });

  it('says which variable to set when the PIN is missing, and never shows a wrong PIN', async () => {
    await expect(
      openPkcs11OwnerKey({ ...config, pinEnv: 'CHORUS_TEST_NO_SUCH_PIN' }),
    ).rejects.toThrow(/set CHORUS_TEST_NO_SUCH_PIN to the token's user PIN/);
    // Every session of the first test is closed, so the token is logged out again.
    process.env.CHORUS_TEST_WRONG_PIN = 'wrong-pin-9876';
    const error = (await openPkcs11OwnerKey({ ...config, pinEnv: 'CHORUS_TEST_WRONG_PIN' }).then(
      () => new Error('opened with a wrong PIN'),
      (caught: unknown) => caught,
    )) as Error;
    delete process.env.CHORUS_TEST_WRONG_PIN;
    expect(error.message).toMatch(/CKR_PIN_INCORRECT/);
    expect(error.message).not.toContain('wrong-pin-9876');
  });
});
