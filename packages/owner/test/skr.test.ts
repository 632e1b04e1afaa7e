import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnskeyData, RrsigData } from '@chorus/core';
import { keyTag, parseZone, verifyRrsig } from '@chorus/dns';
import { dnskeyOf, openFileOwnerKey, parseKsr, signKsr, type KsrSnapshot } from '@chorus/owner';

const ZONE = 'example.test.';
const zsk = () => ({
  ...dnskeyOf(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, 'test'),
  flags: 256,
});
const [KNOT_A, KNOT_B, FOREIGN] = [zsk(), zsk(), zsk()];

/** A KeySigningRequest as Knot 3.2.6's `keymgr generate-ksr` writes it (two snapshots, a footer). */
const KSR = `;; KeySigningRequest 1.0 1796428230 (2026-12-04T23:50:30Z) =========
example.test.       \t5 DNSKEY 256 3 13 (
\t\t\t\t${KNOT_A.publicKey}
\t\t\t\t) ; ZSK, ECDSAP256SHA256 (256b), id = ${keyTag(KNOT_A)}
;; KeySigningRequest 1.0 1799020228 (2027-01-03T23:50:28Z) =========
example.test.       \t5 DNSKEY 256 3 13 ${KNOT_B.publicKey}
example.test.       \t5 DNSKEY 256 3 13 ${KNOT_A.publicKey}
;; KeySigningRequest 1.0 generated at 2026-12-04T23:50:30Z by Knot DNS 3.2.6
`;

let directory: string;
beforeAll(async () => void (directory = await mkdtemp(path.join(tmpdir(), 'chorus-skr-test-'))));
afterAll(() => rm(directory, { recursive: true, force: true }));

describe("Knot's KeySigningRequest and the owner's SignedKeyResponse", () => {
  it('reads each snapshot: its time and the ZSKs Knot will publish from then on', () => {
    const snapshots: KsrSnapshot[] = parseKsr(KSR, ZONE);
    expect(snapshots.map((snapshot) => snapshot.at)).toEqual([1796428230, 1799020228]);
    expect(snapshots.map((snapshot) => snapshot.zsks.map(keyTag))).toEqual([
      [keyTag(KNOT_A)],
      [keyTag(KNOT_B), keyTag(KNOT_A)],
    ]);
  });

  it('refuses a request without snapshots, or with records other than the zone DNSKEYs', () => {
    expect(() => parseKsr('hello', ZONE)).toThrow(/no KeySigningRequest snapshot/);
    const other = KSR.replace(
      'example.test.       \t5 DNSKEY 256 3 13 (',
      'www.example.test. 5 DNSKEY 256 3 13 (',
    );
    expect(() => parseKsr(other, ZONE)).toThrow(/not only DNSKEYs of example\.test\./);
  });

  it("signs each snapshot's whole RRset (Knot's, the foreign ZSKs, the KSK) until the next one, then a footer", async () => {
    const file = path.join(directory, 'owner.pem');
    await writeFile(
      file,
      generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    await chmod(file, 0o600);
    const owner = await openFileOwnerKey(file);
    const snapshots = parseKsr(KSR, ZONE);
    const skr = await signKsr(owner, snapshots, {
      zone: ZONE,
      ttl: 5,
      foreignZsks: [FOREIGN],
      overlapSeconds: 86_400,
      lastSnapshotSeconds: 30 * 86_400,
    });
    const sections = skr.split(/^;; SignedKeyResponse 1\.0 /m).slice(1);
    expect(sections.at(-1)).toMatch(/^generated at .* by Chorus\n$/);
    for (const [index, section] of sections.slice(0, -1).entries()) {
      expect(section.startsWith(String(snapshots[index]!.at))).toBe(true);
      const records = parseZone(section.slice(section.indexOf('\n') + 1), { origin: ZONE });
      const keys = records
        .filter((record) => record.type === 'DNSKEY')
        .map((r) => r.data as DnskeyData);
      expect(keys.map(keyTag)).toEqual(
        [...snapshots[index]!.zsks, FOREIGN, owner.dnskey].map(keyTag),
      );
      const rrsig = records.find((record) => record.type === 'RRSIG')!.data as RrsigData;
      const until = snapshots[index + 1]?.at ?? snapshots[index]!.at + 30 * 86_400;
      expect(rrsig.expiration).toBe(until + 86_400);
      const rrset = { name: ZONE, type: 'DNSKEY' as const, class: 'IN' as const, records: keys };
      expect(verifyRrsig({ rrset, signature: rrsig, key: owner.dnskey, ignoreTime: true })).toEqual(
        { ok: true },
      );
    }
  });
});
