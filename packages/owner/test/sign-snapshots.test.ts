import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnskeyData, OwnerKey } from '@chorus/core';
import { keyTag, verifyRrsig } from '@chorus/dns';
import {
  dnskeyOf,
  openFileOwnerKey,
  signDnskeySnapshots,
  snapshotKeySets,
  type DnskeySetPlan,
} from '@chorus/owner';

const ZONE = 'example.test.';
const zsk = (): DnskeyData => ({
  ...dnskeyOf(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, 'test'),
  flags: 256,
});
const [KNOT_A, KNOT_B, NS1, EXTRA] = [zsk(), zsk(), zsk(), zsk()];
const NOW = 1_800_000_000;
const LATER = NOW + 30 * 86_400;

const plan = (overrides: Partial<DnskeySetPlan> = {}): DnskeySetPlan => ({
  zone: ZONE,
  ttl: 5,
  providers: {
    knot: [
      { at: NOW - 10, zsks: [KNOT_A] },
      { at: LATER, zsks: [KNOT_B, KNOT_A] },
    ],
    ns1: [{ at: NOW, zsks: [NS1] }],
  },
  now: NOW,
  validity: { inceptionSlackSeconds: 3600, overlapSeconds: 86_400, lastSnapshotSeconds: 86_400 },
  ...overrides,
});

let directory: string;
const owners: OwnerKey[] = [];
async function ownerKey(name: string): Promise<OwnerKey> {
  const file = path.join(directory, name);
  await writeFile(
    file,
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    }),
  );
  await chmod(file, 0o600);
  const owner = await openFileOwnerKey(file);
  owners.push(owner);
  return owner;
}
beforeAll(async () => void (directory = await mkdtemp(path.join(tmpdir(), 'chorus-snap-'))));
afterAll(async () => {
  await Promise.all(owners.map((owner) => owner.close()));
  await rm(directory, { recursive: true, force: true });
});

describe('the owner merges the providers’ planned ZSKs and signs each snapshot', () => {
  it('starts a snapshot now and at every later change of a plan, with every key in effect then', async () => {
    const owner = await ownerKey('a.pem');
    const sets = snapshotKeySets(plan({ extraKeys: [EXTRA, NS1] }), [owner.dnskey]);
    expect(sets.map((set) => set.at)).toEqual([NOW, LATER]);
    expect(sets.map((set) => set.dnskeys.map(keyTag))).toEqual([
      [KNOT_A, NS1, EXTRA, owner.dnskey].map(keyTag),
      [KNOT_B, KNOT_A, NS1, EXTRA, owner.dnskey].map(keyTag),
    ]);
  });

  it('signs each with every owner KSK, valid from before its start until the next snapshot plus the overlap', async () => {
    const [old, successor] = [await ownerKey('old.pem'), await ownerKey('new.pem')];
    const snapshots = await signDnskeySnapshots([old, successor], plan());
    expect(snapshots).toHaveLength(2);
    for (const [index, snapshot] of snapshots.entries()) {
      const rrset = {
        name: ZONE,
        type: 'DNSKEY' as const,
        class: 'IN' as const,
        records: snapshot.dnskeys,
      };
      expect(snapshot.rrsigs.map((rrsig) => rrsig.keyTag)).toEqual(
        [old, successor].map((owner) => keyTag(owner.dnskey)),
      );
      const until = index === 0 ? LATER : LATER + 86_400;
      for (const [which, owner] of [old, successor].entries()) {
        const signature = snapshot.rrsigs[which]!;
        expect(signature.inception).toBe(snapshot.at - 3600);
        expect(signature.expiration).toBe(until + 86_400);
        expect(verifyRrsig({ rrset, signature, key: owner.dnskey, ignoreTime: true })).toEqual({
          ok: true,
        });
        // Negative control: one key less and the signature no longer verifies.
        const changed = { ...rrset, records: rrset.records.slice(1) };
        expect(
          verifyRrsig({ rrset: changed, signature, key: owner.dnskey, ignoreTime: true }).ok,
        ).toBe(false);
      }
    }
  });

  it('refuses to sign without an owner KSK', async () => {
    await expect(signDnskeySnapshots([], plan())).rejects.toThrow(
      /no owner KSK to sign example\.test\./,
    );
  });
});
