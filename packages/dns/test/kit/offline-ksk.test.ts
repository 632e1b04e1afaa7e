import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DnskeyData, RrsigData, SignedDnskeySnapshot } from '@chorus/core';
import {
  formatSkr,
  inEffectAt,
  keyTag,
  missingPlannedZsks,
  parseKsr,
  parseZone,
  withoutRepeats,
} from '@chorus/dns';

const ZONE = 'example.test.';
const key = (flags: number): DnskeyData => {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
    format: 'jwk',
  });
  const raw = Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  return { flags, protocol: 3, algorithm: 13, publicKey: raw.toString('base64') };
};
const [KNOT_A, KNOT_B, FOREIGN, OWNER] = [key(256), key(256), key(256), key(257)];

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

const rrsig: RrsigData = {
  typeCovered: 'DNSKEY',
  algorithm: 13,
  labels: 2,
  originalTtl: 5,
  expiration: 1799100000,
  inception: 1796420000,
  keyTag: keyTag(OWNER),
  signerName: ZONE,
  signature: Buffer.alloc(64, 7).toString('base64'),
};
const snapshot = (at: number, dnskeys: DnskeyData[]): SignedDnskeySnapshot => ({
  at,
  ttl: 5,
  dnskeys,
  rrsigs: [rrsig],
});

describe("Knot's offline-KSK exchange", () => {
  it('reads each KSR snapshot: its time and the ZSKs Knot will publish from then on', () => {
    const planned = parseKsr(KSR, ZONE);
    expect(planned.map((entry) => entry.at)).toEqual([1796428230, 1799020228]);
    expect(planned.map((entry) => entry.zsks.map(keyTag))).toEqual([
      [keyTag(KNOT_A)],
      [keyTag(KNOT_B), keyTag(KNOT_A)],
    ]);
  });

  it('takes the entry in effect at a time: the latest begun, else the first', () => {
    const [a, b] = [snapshot(100, []), snapshot(200, [])];
    expect(inEffectAt([a, b], 150)).toBe(a);
    expect(inEffectAt([a, b], 200)).toBe(b);
    expect(inEffectAt([a, b], 50)).toBe(a);
    expect(inEffectAt([], 50)).toBeUndefined();
  });

  it('drops a snapshot that repeats the key set before it (the end of the requested period)', () => {
    const planned = parseKsr(KSR, ZONE);
    const repeated = [...planned, { at: 1799999999, zsks: [KNOT_A, KNOT_B] }];
    expect(withoutRepeats(repeated)).toEqual(planned);
    expect(withoutRepeats(planned)).toEqual(planned);
  });

  it('refuses a KSR with records other than the zone DNSKEYs', () => {
    const other = KSR.replace(
      'example.test.       \t5 DNSKEY 256 3 13 (',
      'www.example.test. 5 DNSKEY 256 3 13 (',
    );
    expect(() => parseKsr(other, ZONE)).toThrow(/not only DNSKEYs of example\.test\./);
  });

  it('writes each snapshot with its time, keys and RRSIGs, then the footer Knot needs', () => {
    const text = formatSkr(ZONE, [snapshot(1796428230, [KNOT_A, OWNER])], Date.UTC(2026, 11, 5));
    const [first, footer] = text.split(/^;; SignedKeyResponse 1\.0 /m).slice(1);
    expect(first!.startsWith('1796428230 (2026-12-04T23:50:30Z)')).toBe(true);
    const records = parseZone(first!.slice(first!.indexOf('\n') + 1), { origin: ZONE });
    expect(records.map((record) => record.type)).toEqual(['DNSKEY', 'DNSKEY', 'RRSIG']);
    expect(records[2]!.data).toEqual(rrsig);
    expect(footer).toBe('generated at 2026-12-05T00:00:00Z by Chorus\n');
  });

  it('finds a snapshot that lacks a ZSK Knot signs with at its time, and passes a complete one', () => {
    const planned = parseKsr(KSR, ZONE);
    const complete = [
      snapshot(1796428230, [KNOT_A, FOREIGN, OWNER]),
      snapshot(1799020228, [KNOT_B, KNOT_A, FOREIGN, OWNER]),
    ];
    expect(missingPlannedZsks(planned, complete, keyTag)).toEqual([]);
    // The second ZSK pre-published by Knot's plan is missing from a set that lasts too long.
    const gaps = missingPlannedZsks(planned, [snapshot(1796428230, [KNOT_A, OWNER])], keyTag);
    expect(gaps).toEqual([
      `the snapshot from 2026-12-04T23:50:30Z lacks Knot's ZSK ${keyTag(KNOT_B)}, which signs from 2027-01-03T23:50:28Z`,
    ]);
  });
});
