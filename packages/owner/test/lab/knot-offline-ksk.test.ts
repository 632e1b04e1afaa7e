/**
 * Model 1 with Knot's offline-KSK mode (Knot 3.2, `offline-ksk: on`): Knot pre-generates its
 * ZSKs and writes a KeySigningRequest; the owner's KSK, made in SoftHSM2, signs every snapshot's
 * DNSKEY RRset with another provider's ZSK in it (`signKsr`); Knot imports the
 * SignedKeyResponse, checking each signature, and serves exactly that RRset. delv, with the
 * owner's KSK as its only trust anchor, fully validates an answer signed by Knot's ZSK. Negative
 * controls: Knot refuses an SKR changed after signing, and delv fails with another anchor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnskeyData, OwnerKey } from '@chorus/core';
import { keyTag, query, runCommand, verifyRrsig } from '@chorus/dns';
import {
  dnskeyOf,
  generatePkcs11OwnerKey,
  openPkcs11OwnerKey,
  parseKsr,
  signKsr,
} from '@chorus/owner';

const ZONE = 'example.test.';
const ADDRESS = process.env.CHORUS_TEST_OWNER_KNOT_ADDRESS ?? '127.93.0.1';
const PORT = 5300;
const SERVER = { address: ADDRESS, port: PORT };
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';

let directory: string;
let owner: OwnerKey;
let knotd: ChildProcess | undefined;
const foreignZsk: DnskeyData = {
  ...dnskeyOf(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, 'a provider'),
  flags: 256,
};

const knotConf = (dir: string) => `server:
  listen: ${ADDRESS}@${PORT}
  rundir: ${dir}
database:
  storage: ${dir}
template:
  - id: default
    storage: ${dir}
policy:
  - id: owner-ksk
    algorithm: ecdsap256sha256
    offline-ksk: on
    manual: on
    zsk-lifetime: 30d
    propagation-delay: 1s
    dnskey-ttl: 5
    zone-max-ttl: 5
zone:
  - domain: ${ZONE}
    file: ${dir}/example.zone
    dnssec-signing: on
    dnssec-policy: owner-ksk
`;

const ZONE_TEXT = `$ORIGIN ${ZONE}
$TTL 5
@ SOA ns1 admin 1 60 60 600 5
@ NS ns1
ns1 A ${ADDRESS}
www A 192.0.2.1
`;

const keymgr = (args: string[]) =>
  runCommand('keymgr', ['-c', path.join(directory, 'knot.conf'), ZONE, ...args], {
    timeoutMs: 30_000,
    allowFailure: true,
  });

/** The owner's KSK in a SoftHSM2 token of this test's own. */
async function ownerInSoftHsm(): Promise<OwnerKey> {
  const tokens = path.join(directory, 'tokens');
  await runCommand('mkdir', ['-m', '700', tokens], { timeoutMs: 5000 });
  const conf = path.join(directory, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\n`);
  const env = { SOFTHSM2_CONF: conf };
  const pin = 'owner-pin-2468';
  const init = [
    '--init-token',
    '--free',
    '--label',
    'knot-owner',
    '--pin',
    pin,
    '--so-pin',
    '0000',
  ];
  await runCommand('softhsm2-util', init, { timeoutMs: 15_000, env, secrets: [pin] });
  process.env.CHORUS_TEST_KNOT_OWNER_PIN = pin;
  const config = {
    module: MODULE,
    tokenLabel: 'knot-owner',
    keyId: '0a',
    pinEnv: 'CHORUS_TEST_KNOT_OWNER_PIN',
    env,
  };
  generatePkcs11OwnerKey(config, 'owner-ksk');
  return openPkcs11OwnerKey(config);
}

async function answersSoa(): Promise<boolean> {
  try {
    const answer = await query(SERVER, ZONE, 'SOA', { timeoutMs: 500, retries: 0 });
    return answer.answers.some((rrset) => rrset.type === 'SOA' && rrset.signatures.length > 0);
  } catch {
    return false;
  }
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-knot-owner-'));
  await writeFile(path.join(directory, 'knot.conf'), knotConf(directory));
  await writeFile(path.join(directory, 'example.zone'), ZONE_TEXT);
  owner = await ownerInSoftHsm();
}, 60_000);

afterAll(async () => {
  // Stopped by its own PID, and gone before its directory is removed.
  if (knotd?.pid && knotd.exitCode === null) {
    const exited = new Promise((resolve) => knotd!.once('exit', resolve));
    process.kill(knotd.pid, 'SIGTERM');
    await exited;
  }
  await owner?.close();
  delete process.env.CHORUS_TEST_KNOT_OWNER_PIN;
  await rm(directory, { recursive: true, force: true });
});

describe("Knot's offline-KSK mode with the owner's KSK in SoftHSM2", () => {
  it('serves the DNSKEY RRset the owner signed, with a foreign ZSK, and delv validates from the owner KSK', async () => {
    expect((await keymgr(['pregenerate', '+60d'])).exitCode).toBe(0);
    const ksr = await keymgr(['generate-ksr', '+0', '+60d']);
    expect(ksr.exitCode, ksr.stderr).toBe(0);
    const snapshots = parseKsr(ksr.stdout, ZONE);
    expect(snapshots.length).toBeGreaterThan(1);
    const signOptions = {
      zone: ZONE,
      ttl: 5,
      foreignZsks: [foreignZsk],
      overlapSeconds: 86_400,
      lastSnapshotSeconds: 30 * 86_400,
    };
    const skr = await signKsr(owner, snapshots, signOptions);

    // Negative control first: the same SKR with the foreign key changed after signing.
    const tampered = path.join(directory, 'tampered.skr');
    const otherKey = dnskeyOf(
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey,
      'x',
    );
    await writeFile(tampered, skr.split(foreignZsk.publicKey).join(otherKey.publicKey));
    const refused = await keymgr(['import-skr', tampered]);
    expect(refused.exitCode).not.toBe(0);
    expect(`${refused.stdout}${refused.stderr}`).toMatch(/no valid signature/);

    const signed = path.join(directory, 'owner.skr');
    await writeFile(signed, skr);
    const imported = await keymgr(['import-skr', signed]);
    expect(imported.exitCode, `${imported.stdout}${imported.stderr}`).toBe(0);

    knotd = spawn('knotd', ['-c', path.join(directory, 'knot.conf')], { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    while (!(await answersSoa())) {
      if (Date.now() > deadline)
        throw new Error(
          `knotd did not serve ${ZONE} signed: ${await readFile(path.join(directory, 'knot.conf'), 'utf8')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const answer = await query(SERVER, ZONE, 'DNSKEY', { transport: 'tcp' });
    const rrset = answer.answers.find((set) => set.type === 'DNSKEY')!;
    const served = rrset.records as DnskeyData[];
    const tags = served.map(keyTag);
    expect(tags).toContain(keyTag(owner.dnskey));
    expect(tags).toContain(keyTag(foreignZsk));
    expect(rrset.signatures.map((signature) => signature.keyTag)).toEqual([keyTag(owner.dnskey)]);
    const rrsetToVerify = {
      name: ZONE,
      type: 'DNSKEY' as const,
      class: 'IN' as const,
      records: served,
    };
    expect(
      verifyRrsig({ rrset: rrsetToVerify, signature: rrset.signatures[0]!, key: owner.dnskey }),
    ).toEqual({ ok: true });

    // A real validator, anchored at the owner's KSK alone.
    const anchor = async (key: DnskeyData, name: string) => {
      const file = path.join(directory, name);
      await writeFile(
        file,
        `trust-anchors { ${ZONE} static-key ${key.flags} ${key.protocol} ${key.algorithm} "${key.publicKey}"; };\n`,
      );
      return file;
    };
    const delv = async (anchorFile: string) =>
      runCommand(
        'delv',
        ['-a', anchorFile, `@${ADDRESS}`, '-p', String(PORT), `www.${ZONE}`, 'A', `+root=${ZONE}`],
        { timeoutMs: 20_000, allowFailure: true },
      );
    const validated = await delv(await anchor(owner.dnskey, 'owner.anchor'));
    expect(validated.stdout).toContain('; fully validated');
    expect(validated.stdout).toMatch(/www\.example\.test\.\s+5\s+IN\s+A\s+192\.0\.2\.1/);
    const otherKsk = { ...otherKey, flags: 257 };
    const failed = await delv(await anchor(otherKsk, 'other.anchor'));
    expect(failed.stdout).not.toContain('; fully validated');
  }, 120_000);
});
