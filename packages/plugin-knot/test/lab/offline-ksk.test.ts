/**
 * Model 1 at Knot (policy `offline-ksk: on`), through the plugin's `presignedDnskey`: Knot
 * pre-generates its ZSKs and lists them (`plannedZsks`); the owner's KSK, made in SoftHSM2,
 * signs one DNSKEY RRset per snapshot with another provider's ZSK in it; the plugin imports it
 * (`keymgr import-skr`, which checks every RRSIG) and knotd serves exactly that RRset. delv,
 * anchored at the owner's KSK alone, fully validates an answer Knot's ZSK signed. Negative
 * controls: a set without Knot's ZSK and a tampered signature are refused, a zone without
 * offline-ksk is refused naming the setting, and delv fails with another anchor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SignerCommandError,
  SignerConfigurationError,
  type DnskeyData,
  type OwnerKey,
  type PlannedZsks,
  type SignedDnskeySnapshot,
} from '@chorus/core';
import { keyTag, query, runCommand, verifyRrsig } from '@chorus/dns';
import {
  dnskeyOf,
  generatePkcs11OwnerKey,
  openPkcs11OwnerKey,
  signDnskeySnapshots,
} from '@chorus/owner';
import { createKnotSigner, type KnotSigner } from '@chorus/plugin-knot';

const ZONE = 'example.test.';
const PLAIN_ZONE = 'plain.test.';
const ADDRESS = process.env.CHORUS_TEST_OWNER_KNOT_ADDRESS ?? '127.93.0.1';
const PORT = 5300;
const SERVER = { address: ADDRESS, port: PORT };
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const DAY = 86_400;

let directory: string;
let owner: OwnerKey;
let signer: KnotSigner;
let knotd: ChildProcess | undefined;
const zsk = (): DnskeyData => ({
  ...dnskeyOf(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, 'a provider'),
  flags: 256,
});
const foreignZsk = zsk();

const knotConf = (dir: string) => `server:
  listen: ${ADDRESS}@${PORT}
  rundir: ${dir}
control:
  listen: ${dir}/knot.sock
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
  - id: own-ksk
    algorithm: ecdsap256sha256
zone:
  - domain: ${ZONE}
    file: ${dir}/example.zone
    dnssec-signing: on
    dnssec-policy: owner-ksk
  - domain: ${PLAIN_ZONE}
    file: ${dir}/plain.zone
    dnssec-signing: on
    dnssec-policy: own-ksk
`;

const zoneText = (origin: string) => `$ORIGIN ${origin}
$TTL 5
@ SOA ns1 admin 1 60 60 600 5
@ NS ns1
ns1 A ${ADDRESS}
www A 192.0.2.1
`;

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

async function servesSignedSoa(): Promise<boolean> {
  try {
    const answer = await query(SERVER, ZONE, 'SOA', { timeoutMs: 500, retries: 0 });
    return answer.answers.some((rrset) => rrset.type === 'SOA' && rrset.signatures.length > 0);
  } catch {
    return false;
  }
}

async function servedDnskeys() {
  const answer = await query(SERVER, ZONE, 'DNSKEY', { transport: 'tcp' });
  return answer.answers.find((set) => set.type === 'DNSKEY');
}

const now = () => Math.floor(Date.now() / 1000);
const validity = {
  inceptionSlackSeconds: 3600,
  overlapSeconds: DAY,
  lastSnapshotSeconds: 30 * DAY,
};
async function ownerSigns(
  planned: PlannedZsks[],
  foreign: DnskeyData,
): Promise<SignedDnskeySnapshot[]> {
  return signDnskeySnapshots([owner], {
    zone: ZONE,
    ttl: 5,
    providers: { knot: planned, other: [{ at: now(), zsks: [foreign] }] },
    now: now(),
    validity,
  });
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-knot-owner-'));
  await writeFile(path.join(directory, 'knot.conf'), knotConf(directory));
  await writeFile(path.join(directory, 'example.zone'), zoneText(ZONE));
  await writeFile(path.join(directory, 'plain.zone'), zoneText(PLAIN_ZONE));
  owner = await ownerInSoftHsm();
  knotd = spawn('knotd', ['-c', path.join(directory, 'knot.conf')], { stdio: 'ignore' });
  signer = createKnotSigner({
    id: 'knot-owner',
    server: SERVER,
    knotc: { configFile: path.join(directory, 'knot.conf') },
    updateMethod: 'knotc',
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = await runCommand('knotc', ['-c', path.join(directory, 'knot.conf'), 'status'], {
      timeoutMs: 5000,
      allowFailure: true,
    });
    if (status.exitCode === 0) break;
    if (Date.now() > deadline) throw new Error(`knotd did not start: ${status.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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

describe("Knot's offline-KSK mode through the plugin, with the owner's KSK in SoftHSM2", () => {
  it('refuses a zone whose policy is not offline-ksk, naming the setting', async () => {
    const refusal = signer.presignedDnskey.plannedZsks(PLAIN_ZONE, now() + DAY, {});
    await expect(refusal).rejects.toBeInstanceOf(SignerConfigurationError);
    await expect(refusal).rejects.toThrow(
      /offline-ksk is off .*set offline-ksk: on in policy own-ksk/s,
    );
  });

  it('lists its planned ZSKs, refuses sets it could not serve, and serves the owner-signed RRset', async () => {
    const planned = await signer.presignedDnskey.plannedZsks(ZONE, now() + 60 * DAY, {});
    expect(planned.length).toBeGreaterThan(1);
    expect(planned[0]!.zsks.length).toBeGreaterThan(0);
    expect(await servesSignedSoa()).toBe(false);

    // Negative control 1: a set without Knot's first ZSK is refused before anything is imported.
    const withoutKnot = await ownerSigns(
      planned.map((entry) => ({ ...entry, zsks: entry.zsks.slice(1) })),
      foreignZsk,
    );
    const lacking = signer.presignedDnskey.publishSignedDnskeys(ZONE, withoutKnot, {});
    await expect(lacking).rejects.toBeInstanceOf(SignerConfigurationError);
    await expect(lacking).rejects.toThrow(
      new RegExp(`lacks Knot's ZSK ${keyTag(planned[0]!.zsks[0]!)}`),
    );

    // Negative control 2: Knot itself refuses a key changed after signing.
    const signed = await ownerSigns(planned, foreignZsk);
    const otherKey = zsk();
    const tampered = signed.map((snapshot) => ({
      ...snapshot,
      dnskeys: snapshot.dnskeys.map((key) =>
        key.publicKey === foreignZsk.publicKey ? otherKey : key,
      ),
    }));
    const refused = signer.presignedDnskey.publishSignedDnskeys(ZONE, tampered, {});
    await expect(refused).rejects.toBeInstanceOf(SignerCommandError);
    await expect(refused).rejects.toThrow(/no valid signature/);
    expect(await servesSignedSoa()).toBe(false);

    await signer.presignedDnskey.publishSignedDnskeys(ZONE, signed, {});
    const deadline = Date.now() + 20_000;
    while (!(await servesSignedSoa())) {
      if (Date.now() > deadline) throw new Error(`knotd did not serve ${ZONE} signed`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const rrset = (await servedDnskeys())!;
    const served = rrset.records as DnskeyData[];
    expect(served.map(keyTag).sort()).toEqual(signed[0]!.dnskeys.map(keyTag).sort());
    expect(rrset.signatures).toEqual(signed[0]!.rrsigs);
    const toVerify = { name: ZONE, type: 'DNSKEY' as const, class: 'IN' as const, records: served };
    expect(
      verifyRrsig({ rrset: toVerify, signature: rrset.signatures[0]!, key: owner.dnskey }),
    ).toEqual({
      ok: true,
    });

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
    const failed = await delv(await anchor({ ...otherKey, flags: 257 }, 'other.anchor'));
    expect(failed.stdout).not.toContain('; fully validated');
  }, 120_000);

  it('serves a new owner-signed RRset after a re-import (another provider rolled its ZSK)', async () => {
    const planned = await signer.presignedDnskey.plannedZsks(ZONE, now() + 60 * DAY, {});
    const successor = zsk();
    const signed = await ownerSigns(planned, successor);
    await signer.presignedDnskey.publishSignedDnskeys(ZONE, signed, {});
    const deadline = Date.now() + 20_000;
    for (;;) {
      const tags = ((await servedDnskeys())?.records as DnskeyData[]).map(keyTag);
      if (tags.includes(keyTag(successor)) && !tags.includes(keyTag(foreignZsk))) break;
      if (Date.now() > deadline) throw new Error(`knotd still serves ${tags.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await servedDnskeys())!.signatures).toEqual(signed[0]!.rrsigs);
  }, 60_000);
});
