import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DnsWireError,
  type DnskeyData,
  type DnsRecord,
  type DsData,
  type RrsigData,
} from '@chorus/core';
import {
  canonicalRrsetSigningData,
  rrsigLabelCount,
  signedOwnerName,
  type SignedRrset,
} from '../src/dnssec/canonical.js';
import { computeDs, dsMatchesKey } from '../src/dnssec/ds.js';
import { keyTag } from '../src/dnssec/key-tag.js';
import { parseRecord, parseZone } from '../src/presentation.js';
import { verifyRrsig, type VerifyRrsigResult } from '../src/dnssec/verify.js';

/**
 * Test vectors produced with BIND 9.18.49: `dnssec-keygen -a ALG -f KSK`, `dnssec-signzone -z -S
 * -s 20260101000000 -e 20460101000000`, `dnssec-dsfromkey -2` / `-a SHA-384`, and
 * `ldns-keygen -a RSAMD5` for the algorithm 1 key tag. Copied from the tools' output.
 */

/** The whole `dnssec-signzone` output for a zone signed with one Ed25519 key. */
const ED25519_ZONE = `; File written on Sun Nov 22 13:15:54 2026
; dnssec_signzone version 9.18.49-1~deb12u3-Debian
alg15.test.		3600	IN SOA	ns1.alg15.test. hostmaster.alg15.test. (
					2026010101 ; serial
					7200       ; refresh (2 hours)
					3600       ; retry (1 hour)
					1209600    ; expire (2 weeks)
					300        ; minimum (5 minutes)
					)
			3600	RRSIG	SOA 15 2 3600 (
					20460101000000 20260101000000 14681 alg15.test.
					o+q7CUdFJa0zP+1Ii+u6bY9gKzuhc7+oJCRz
					vDtTQV0+6WaOU35za8f+7M8CwPjeoXSZ/fmd
					l8CBVwV0H9vpAA== )
			3600	NS	ns1.alg15.test.
			3600	RRSIG	NS 15 2 3600 (
					20460101000000 20260101000000 14681 alg15.test.
					OIYSgMArRpneV4I7OBMTJy1xMlfsoBY97gaF
					yF9FDhzeqjeGj7OuIALZ5lqM6PBGk6Ocvp92
					VJxxqnxF4SJ8Cg== )
			3600	MX	10 Mail.ALG15.test.
			3600	RRSIG	MX 15 2 3600 (
					20460101000000 20260101000000 14681 alg15.test.
					23vYkv5h1GnLLNKAVgPs5AAvLV/B4fTAh9BY
					UqWzHdyza28izNz136grXqi3lqh6WU2/YVxI
					le3nqEQX7RxHCQ== )
			300	NSEC	ns1.alg15.test. NS SOA MX RRSIG NSEC DNSKEY
			300	RRSIG	NSEC 15 2 300 (
					20460101000000 20260101000000 14681 alg15.test.
					KTIRWddpreWJEiFwVuRxjRCBf9kgkvAHzVYC
					qe2snk7MGY3c1yM1UJixLnLDiVyU5fTMQnG6
					HDan3ZzqauVeCQ== )
			3600	DNSKEY	257 3 15 (
					r+BrUVJ9/UBois+HQngmyfM+Pod52jdMliS+
					uqAcURw=
					) ; KSK; alg = ED25519 ; key id = 14681
			3600	RRSIG	DNSKEY 15 2 3600 (
					20460101000000 20260101000000 14681 alg15.test.
					SG9xiaWvwIeWZzC7W52mjDf0jEcOLVthYLDZ
					Pc+E7ATtpMt9C+/OU49DOU8vE1+OvAToI/ss
					w07Hnk1ft+daAA== )
ns1.alg15.test.		3600	IN A	192.0.2.1
			3600	RRSIG	A 15 3 3600 (
					20460101000000 20260101000000 14681 alg15.test.
					VdYrotXVT/JE3R6jqP+x+ypbu+gVqqCjG3Fr
					ck23LL/PFQiso8K5p19ApJaT16jto3kUjF6k
					MWTpR6vxOs73DQ== )
			300	NSEC	*.wild.alg15.test. A RRSIG NSEC
			300	RRSIG	NSEC 15 3 300 (
					20460101000000 20260101000000 14681 alg15.test.
					kWQHlB1RUZIYDNCpZakDF69eXwh7kTXmYeCV
					vxcXKRipRPgVCIGygsz9RkEGuxbuXS7n4Q+F
					ZArV1/OpFLx3Ag== )
*.wild.alg15.test.	3600	IN TXT	"wild card"
			3600	RRSIG	TXT 15 3 3600 (
					20460101000000 20260101000000 14681 alg15.test.
					v6cLPFyy8rVp4uKLVopn1QWPPV0ZqD3UpQbG
					RgWVZgp+Jj6UnMl/xqy/svvBzzZK5glnn8Ia
					DKPfiY3mq7xRCw== )
			300	NSEC	www.alg15.test. TXT RRSIG NSEC
			300	RRSIG	NSEC 15 3 300 (
					20460101000000 20260101000000 14681 alg15.test.
					N4XX5TDvvSx0hy3ynIVAoAvzUKxWX6rFPu+r
					J0q+isc4xoE7TuUsEB8I87oniDwKNU2OeJFt
					B2hzxTTJtndqAQ== )
www.alg15.test.		3600	IN A	192.0.2.10
			3600	IN A	192.0.2.11
			3600	RRSIG	A 15 3 3600 (
					20460101000000 20260101000000 14681 alg15.test.
					lyDXmNmmnWpgAX5W1mWpHqUhJs0p6PtVPlQL
					ODfxC5R6SEVQqjEZ19HwcQEz0l+5gcXoF2I3
					Ijz2CJCxQwPODg== )
			300	NSEC	alg15.test. A RRSIG NSEC
			300	RRSIG	NSEC 15 3 300 (
					20460101000000 20260101000000 14681 alg15.test.
					0ZIgfAoOWsiX0xiynmLAe3HK6go3ckhtF7p3
					MJHZGhD6Oq+KBN4lMOJUeMTUVva6cy8C8ee0
					U1mMS1Oi07gkAQ== )
`;

/** A time inside every vector's validity period (2027-01-01). */
const NOW = 1798761600;

interface AlgorithmVector {
  algorithm: number;
  zone: string;
  /** `ldns-read-zone` lines: the DNSKEY, the www A RRset and its RRSIG. */
  text: string;
  /** `dnssec-dsfromkey -2` and `-a SHA-384` lines. */
  ds: [string, string];
}

const VECTORS: AlgorithmVector[] = [
  {
    algorithm: 8,
    zone: 'alg8.test.',
    text: `alg8.test.	3600	IN	DNSKEY	257 3 8 AwEAAeCKq3Hg9YEhNxDRzX5t1xJBzLY/bRwrKY9gEiF6IKTf537qTpfJKiLjjHwM7C48gbsJNzGHl8X0f1OpxDqHUv4jwxoLsYU+ACogcs3mk1dyuL5poqwqE20BpLPQBPQVc5JesLuXgc9nZHgXBfOneaz0po8B1PQixcHuKSg3SRuz ;{id = 48416 (ksk), size = 1024b}
www.alg8.test.	3600	IN	A	192.0.2.10
www.alg8.test.	3600	IN	A	192.0.2.11
www.alg8.test.	3600	IN	RRSIG	A 8 3 3600 20460101000000 20260101000000 48416 alg8.test. fyEc6v2kHqc0ueE/u2oatiiYkfQZ6BLdJNKImLHrRuPxJtaobFS3bRdLs9br4seOFw+DJtovsMJaYKBmCeN6RB4ITdpjxePjTs1mgeqLGhrS7P7g0Hb6bWgb/rugeUe76j3CYalpW4P7Y2tFLzp0/r5rlSpiXOAq5crx9IxCdEE=`,
    ds: [
      'alg8.test. IN DS 48416 8 2 C0472826FEBB1AE6476A9F1720DE68624332A105D93C2DBA93BF59B9C1511A13',
      'alg8.test. IN DS 48416 8 4 F5EBB72B416411320E3E6E4FC4AEFDDF644B94ABF70457420A8CD53CCDBBCDD3BF33500EA577B815BF8C9BA5CBBFF0AB',
    ],
  },
  {
    algorithm: 10,
    zone: 'alg10.test.',
    text: `alg10.test.	3600	IN	DNSKEY	257 3 10 AwEAAe0iMe/X4fHiVVzdZbMSGFVb6S+JWUmUVTeARkBdshf1ZuRkTywZn6OfgcIXlSjg4PDoYEhSQpKG5u56Fkw+92BqiB5dhnUQL8FMfbgT1xZYgRN3/142mGlj6392o7qP7GgIxMGhn3unija9+beZfXQrSed0NHvnrVP9e08WEf+d ;{id = 3687 (ksk), size = 1024b}
www.alg10.test.	3600	IN	A	192.0.2.10
www.alg10.test.	3600	IN	A	192.0.2.11
www.alg10.test.	3600	IN	RRSIG	A 10 3 3600 20460101000000 20260101000000 3687 alg10.test. GxoNXuumnR/pLc/8r89/PQdxPiTati7Yp3EU9NEFbrTXvtD5AeR4DdrgyEOp440Md9NO+2FE1jQQErnFDnL8cs4RKadBsvEu9kOj/hGX5YiRfYbkAxzqokRSKHuLlPwayelq1M1SCuPswwsVYKPWCSsrc2Fq5ks1Rr1ShDmP7pg=`,
    ds: [
      'alg10.test. IN DS 3687 10 2 CE57078A90D6EBCE4F28546163AAA4744509B83760FFC40A9D07BECFD3F80165',
      'alg10.test. IN DS 3687 10 4 12F832C90B4412674480709CCD2CAC1E655FCC3C91C0B4120C44360E4E960E3C3B8FB239C58E91FCB13031A08CE3A332',
    ],
  },
  {
    algorithm: 13,
    zone: 'alg13.test.',
    text: `alg13.test.	3600	IN	DNSKEY	257 3 13 lsO3Z7izeZVKkEab91UUUeuvSuw9bQO4T/M5oHQ/LBBzpX17/AY2VfpuXapwCwgooxDQ6UVh9YozTKnBp47f7Q== ;{id = 51764 (ksk), size = 256b}
www.alg13.test.	3600	IN	A	192.0.2.10
www.alg13.test.	3600	IN	A	192.0.2.11
www.alg13.test.	3600	IN	RRSIG	A 13 3 3600 20460101000000 20260101000000 51764 alg13.test. Gt+h696uik6mxD8HIzLXaNk/lfzSkQAKBfqSar4xgVYF3ehKzsKHwMftvVBQXiGMEIiJ3Iv3J6FQ4JzUOQo56g==`,
    ds: [
      'alg13.test. IN DS 51764 13 2 3A758F19D940B85D39FC4EE9F01D8A76054E6D0A6586578011EFB1FE0D67197C',
      'alg13.test. IN DS 51764 13 4 5925F86BA2E371B60371851CD722BCBF2E01A133FEA7A14370CE16E4AE255068FF344646306572AEA1537C959EEECA96',
    ],
  },
  {
    algorithm: 14,
    zone: 'alg14.test.',
    text: `alg14.test.	3600	IN	DNSKEY	257 3 14 qNm5Fua9QHn4iCtCTbjF3YnZ40UAKl2mwxX09rhxTMEm40K4GNBCGXiumVVWFARFfyg7aF19euzjTA/04wPgKZ2Z/csc2+I4FeRG4qKxFlQQte/nGMKWHG37Cbp/RWOh ;{id = 33136 (ksk), size = 384b}
www.alg14.test.	3600	IN	A	192.0.2.10
www.alg14.test.	3600	IN	A	192.0.2.11
www.alg14.test.	3600	IN	RRSIG	A 14 3 3600 20460101000000 20260101000000 33136 alg14.test. NhOtl+9e3sV5pRgn+eplva/GAua1QyCepCS+v7cZiOE/5f1bowoLKiHDMuJ3GDP2AUVTJcufDh0CjugUdlm5X0/oFDLZB55dgepqjHQ7+1z3y3g53iI60nTbGHpx3GB3`,
    ds: [
      'alg14.test. IN DS 33136 14 2 14CCEA128FDC99CD5DF274CA1CD441F0935AADD9D6518B314F0E79A183903482',
      'alg14.test. IN DS 33136 14 4 687A685001F639D182019AD20C87DFE0353612B37B2261745A1B7AF551AF3FAEEA40F986AE779275342D7A168C9237B9',
    ],
  },
  {
    algorithm: 15,
    zone: 'alg15.test.',
    text: `alg15.test.	3600	IN	DNSKEY	257 3 15 r+BrUVJ9/UBois+HQngmyfM+Pod52jdMliS+uqAcURw=
www.alg15.test.	3600	IN	A	192.0.2.10
www.alg15.test.	3600	IN	A	192.0.2.11
www.alg15.test.	3600	IN	RRSIG	A 15 3 3600 20460101000000 20260101000000 14681 alg15.test. lyDXmNmmnWpgAX5W1mWpHqUhJs0p6PtVPlQLODfxC5R6SEVQqjEZ19HwcQEz0l+5gcXoF2I3Ijz2CJCxQwPODg==`,
    ds: [
      'alg15.test. IN DS 14681 15 2 0F5FC4D1ADF3ED775FD7E2E7422690D14ADBDE5214020EBA8DE6A6DC779C8CB3',
      'alg15.test. IN DS 14681 15 4 E95479C77AD6F9B3AC1E0A6B2493BD417243F9FB83BDBFB0C9811567A5FAFC7E066D3386901F1E31A57BE10AF9A96308',
    ],
  },
  {
    algorithm: 16,
    zone: 'alg16.test.',
    text: `alg16.test.	3600	IN	DNSKEY	257 3 16 eN1h3qnxP4EWRXwHbS3QoORgTcStkN3cuDPrx69YsJgsowaoaTavVX1sqmXhVbyYqzcOTRoioGuA ;{id = 24453 (ksk), size = 456b}
www.alg16.test.	3600	IN	A	192.0.2.10
www.alg16.test.	3600	IN	A	192.0.2.11
www.alg16.test.	3600	IN	RRSIG	A 16 3 3600 20460101000000 20260101000000 24453 alg16.test. nKJrWhXQmWhrp4O8GI2IygFlWg9Y5PBlV4gaDExdmHFBbYCyeG051Ibkz1Z4vqi8g8YPkW1jqMkAESiuVhhs/R7zkzTQF++LhXf1c3zFWbgqq2RausiBtNuS72uz+Ch9EGH5vgc+IAS/09FxsLLjkCcA`,
    ds: [
      'alg16.test. IN DS 24453 16 2 D2E11C36C6575D663393FB8AE4EAE23D5648E8E8029D442E6ADE7925C0AC3516',
      'alg16.test. IN DS 24453 16 4 77E9C6DDBB5476B711E6766A209BF567C6BA2EBF83B2E82DB9447EC45375A49ED8926E116A017BA5F1DD80BAE197DF3A',
    ],
  },
];

/** `ldns-keygen -a RSAMD5 -b 1024 md5.test` printed key id 5279 for this key. */
const RSAMD5_KEY: DnskeyData = {
  flags: 256,
  protocol: 3,
  algorithm: 1,
  publicKey:
    'AwEAAbx3A1u7wg8ASm85fsFplhzqUsUN+XOjEQ9YcLwBnZEOolqQRLsnfrx7CfC9ygjOgJSmsdX3ZZaAXnBppLuMlFYFg1x1Q7zZqVZ01FukWFewlzid0I0KRpA24FU4vDOz3bpIrIxMcxPhj/QASdbu5qUltxpj7M10m694qd6ZFJ8n',
};

interface Loaded {
  key: DnskeyData;
  keyTag: number;
  rrset: SignedRrset;
  signature: RrsigData;
  ds: [DsData, DsData];
}

function load(vector: AlgorithmVector): Loaded {
  const records = parseZone(vector.text, { origin: vector.zone });
  const key = records.find((record) => record.type === 'DNSKEY')!.data as DnskeyData;
  const signature = records.find((record) => record.type === 'RRSIG')!.data as RrsigData;
  const addresses = records.filter((record) => record.type === 'A').map((record) => record.data);
  const ds = vector.ds.map((line) => parseRecord(line, { defaultTtl: 0 }).data as DsData) as [
    DsData,
    DsData,
  ];
  return {
    key,
    keyTag: ds[0].keyTag,
    rrset: { name: `www.${vector.zone}`, type: 'A', class: 'IN', records: addresses },
    signature,
    ds,
  };
}

/** Groups records into RRsets, leaving RRSIGs out. */
function rrsets(
  records: readonly DnsRecord[],
): Map<string, SignedRrset & { records: DnsRecord['data'][] }> {
  const sets = new Map<string, SignedRrset & { records: DnsRecord['data'][] }>();
  for (const record of records) {
    if (record.type === 'RRSIG') continue;
    const id = `${record.name.toLowerCase()} ${record.type}`;
    const set = sets.get(id) ?? {
      name: record.name,
      type: record.type,
      class: record.class,
      records: [],
    };
    set.records.push(record.data);
    sets.set(id, set);
  }
  return sets;
}

function flipBit(base64: string, index = 10): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index]! ^= 0x01;
  return bytes.toString('base64');
}

function expectFailure(result: VerifyRrsigResult, reason: string | RegExp): void {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.reason).toMatch(reason);
}

describe('keyTag', () => {
  it.each(VECTORS)('matches dnssec-keygen for algorithm $algorithm', (vector) => {
    const loaded = load(vector);
    expect(keyTag(loaded.key)).toBe(loaded.keyTag);
    expect(keyTag(loaded.key)).toBe(loaded.signature.keyTag);
  });

  it('uses the modulus octets for algorithm 1 (RFC 4034 App. B.1)', () => {
    expect(keyTag(RSAMD5_KEY)).toBe(5279);
    // The same key under another algorithm gets the checksum tag instead.
    expect(keyTag({ ...RSAMD5_KEY, algorithm: 8 })).not.toBe(5279);
  });

  it('changes when the REVOKE flag is set', () => {
    const { key } = load(VECTORS[4]!);
    expect(keyTag({ ...key, flags: key.flags | 0x80 })).toBe((keyTag(key) + 128) % 65536);
  });

  it('throws DnsWireError for a public key that is not base64', () => {
    expect(() => keyTag({ flags: 257, protocol: 3, algorithm: 13, publicKey: '***' })).toThrow(
      DnsWireError,
    );
  });
});

describe('computeDs and dsMatchesKey', () => {
  it.each(VECTORS)('matches dnssec-dsfromkey for algorithm $algorithm', (vector) => {
    const loaded = load(vector);
    expect(computeDs(vector.zone, loaded.key, 2)).toEqual(loaded.ds[0]);
    expect(computeDs(vector.zone, loaded.key, 4)).toEqual(loaded.ds[1]);
    expect(dsMatchesKey(vector.zone, loaded.ds[0], loaded.key)).toBe(true);
    expect(dsMatchesKey(vector.zone, loaded.ds[1], loaded.key)).toBe(true);
  });

  it('uses the canonical (lower-case) owner name', () => {
    const loaded = load(VECTORS[4]!);
    expect(computeDs('ALG15.Test.', loaded.key, 2)).toEqual(loaded.ds[0]);
    expect(dsMatchesKey('ALG15.TEST.', loaded.ds[1], loaded.key)).toBe(true);
  });

  it('accepts a lower-case digest', () => {
    const loaded = load(VECTORS[4]!);
    expect(
      dsMatchesKey(
        'alg15.test.',
        { ...loaded.ds[0], digest: loaded.ds[0].digest.toLowerCase() },
        loaded.key,
      ),
    ).toBe(true);
  });

  it('rejects a DS for another key, owner, algorithm, tag or digest type', () => {
    const loaded = load(VECTORS[4]!);
    const other = load(VECTORS[2]!);
    const ds = loaded.ds[0];
    expect(dsMatchesKey('alg15.test.', ds, other.key)).toBe(false);
    expect(dsMatchesKey('other.test.', ds, loaded.key)).toBe(false);
    expect(dsMatchesKey('alg15.test.', { ...ds, algorithm: 13 }, loaded.key)).toBe(false);
    expect(dsMatchesKey('alg15.test.', { ...ds, keyTag: ds.keyTag + 1 }, loaded.key)).toBe(false);
    expect(dsMatchesKey('alg15.test.', { ...ds, digestType: 1 }, loaded.key)).toBe(false);
    expect(
      dsMatchesKey('alg15.test.', { ...ds, digest: ds.digest.replace(/^./, '1') }, loaded.key),
    ).toBe(false);
    expect(dsMatchesKey('alg15.test.', ds, { ...loaded.key, publicKey: '***' })).toBe(false);
  });
});

describe('canonical form', () => {
  const signature: RrsigData = {
    typeCovered: 'NS',
    algorithm: 13,
    labels: 2,
    originalTtl: 3600,
    expiration: 0x70000000,
    inception: 0x60000000,
    keyTag: 0x1234,
    signerName: 'Example.TEST.',
    signature: 'AAAA',
  };
  const rrset: SignedRrset = {
    name: 'Example.Test.',
    type: 'NS',
    class: 'IN',
    records: ['NS2.Example.test.', 'ns1.example.test.', 'ns2.example.test.'],
  };

  it('builds RRSIG rdata without signature, then sorted, lower-cased, deduplicated records', () => {
    const signer = Buffer.from('076578616d706c65047465737400', 'hex'); // example.test.
    const rrsigPart = Buffer.concat([
      Buffer.from('0002' + '0d' + '02' + '00000e10' + '70000000' + '60000000' + '1234', 'hex'),
      signer,
    ]);
    const record = (host: string) => {
      const rdata = Buffer.concat([Buffer.from([3]), Buffer.from(host), signer]);
      const fixed = Buffer.from('0002' + '0001' + '00000e10', 'hex');
      return Buffer.concat([signer, fixed, Buffer.from([0, rdata.length]), rdata]);
    };
    expect(canonicalRrsetSigningData(signature, rrset).toString('hex')).toBe(
      Buffer.concat([rrsigPart, record('ns1'), record('ns2')]).toString('hex'),
    );
  });

  it('does not depend on record order', () => {
    const reversed = { ...rrset, records: [...rrset.records].reverse() };
    expect(canonicalRrsetSigningData(signature, reversed)).toEqual(
      canonicalRrsetSigningData(signature, rrset),
    );
  });

  it('expands the owner to a wildcard when the RRSIG has fewer labels (RFC 4035 §5.3.2)', () => {
    expect(signedOwnerName('a.b.example.test.', 3)).toBe('*.b.example.test.');
    expect(signedOwnerName('a.b.example.test.', 4)).toBe('a.b.example.test.');
    expect(signedOwnerName('*.b.example.test.', 3)).toBe('*.b.example.test.');
    expect(signedOwnerName('a.example.', 0)).toBe('*.');
    const synthesised = canonicalRrsetSigningData(
      { ...signature, labels: 1 },
      { ...rrset, name: 'x.y.test.' },
    );
    expect(synthesised.includes(Buffer.from('012a0474657374', 'hex'))).toBe(true); // *.test.
  });

  it('counts labels without a leading wildcard', () => {
    expect(rrsigLabelCount('.')).toBe(0);
    expect(rrsigLabelCount('www.example.test.')).toBe(3);
    expect(rrsigLabelCount('*.example.test.')).toBe(2);
  });

  it('throws for a labels field above the owner label count', () => {
    expect(() => signedOwnerName('example.test.', 3)).toThrow(DnsWireError);
    expect(() => canonicalRrsetSigningData({ ...signature, labels: 3 }, rrset)).toThrow(/exceed/);
  });

  it('throws for an unknown type', () => {
    expect(() => canonicalRrsetSigningData(signature, { ...rrset, type: 'BOGUS' })).toThrow(
      DnsWireError,
    );
  });
});

describe('verifyRrsig with BIND vectors', () => {
  it.each(VECTORS)('verifies the algorithm $algorithm signature', (vector) => {
    const { key, rrset, signature } = load(vector);
    expect(verifyRrsig({ rrset, signature, key, now: NOW })).toEqual({ ok: true });
  });

  it.each(VECTORS)('rejects a flipped signature bit for algorithm $algorithm', (vector) => {
    const { key, rrset, signature } = load(vector);
    const tampered = { ...signature, signature: flipBit(signature.signature) };
    expectFailure(
      verifyRrsig({ rrset, signature: tampered, key, now: NOW }),
      'signature does not verify',
    );
  });

  it.each(VECTORS)('rejects a changed record for algorithm $algorithm', (vector) => {
    const { key, rrset, signature } = load(vector);
    const changed = { ...rrset, records: ['192.0.2.10', '192.0.2.12'] };
    expectFailure(
      verifyRrsig({ rrset: changed, signature, key, now: NOW }),
      'signature does not verify',
    );
  });

  it('verifies every RRSIG of a signed zone, including a wildcard and an NSEC chain', () => {
    const records = parseZone(ED25519_ZONE, { origin: 'alg15.test.' });
    const sets = rrsets(records);
    const key = records.find((record) => record.type === 'DNSKEY')!.data as DnskeyData;
    const signatures = records.filter((record) => record.type === 'RRSIG');
    expect(signatures).toHaveLength(11);
    for (const record of signatures) {
      const signature = record.data as RrsigData;
      const rrset = sets.get(`${record.name.toLowerCase()} ${signature.typeCovered}`)!;
      expect(
        verifyRrsig({ rrset, signature, key, now: NOW }),
        `${record.name} ${signature.typeCovered}`,
      ).toEqual({
        ok: true,
      });
    }
  });

  it('verifies a wildcard-synthesised answer and names in any case', () => {
    const records = parseZone(ED25519_ZONE, { origin: 'alg15.test.' });
    const key = records.find((record) => record.type === 'DNSKEY')!.data as DnskeyData;
    const wildcard = records.find(
      (record) => record.type === 'RRSIG' && record.name.startsWith('*'),
    )!;
    const signature = wildcard.data as RrsigData;
    // `dig some.deep.wild.alg15.test TXT +dnssec` answered with this owner and the same RRSIG.
    const synthesised: SignedRrset = {
      name: 'some.deep.wild.alg15.test.',
      type: 'TXT',
      class: 'IN',
      records: [['wild card']],
    };
    expect(verifyRrsig({ rrset: synthesised, signature, key, now: NOW })).toEqual({ ok: true });
    const upper: SignedRrset = { ...synthesised, name: 'SOME.Deep.WILD.alg15.TEST.' };
    expect(verifyRrsig({ rrset: upper, signature, key, now: NOW })).toEqual({ ok: true });
    expectFailure(
      verifyRrsig({
        rrset: { ...synthesised, name: 'some.deep.other.alg15.test.' },
        signature,
        key,
        now: NOW,
      }),
      'signature does not verify',
    );
  });

  it('ignores record order and duplicates, and uses the original TTL', () => {
    const { key, rrset, signature } = load(VECTORS[2]!);
    const shuffled = {
      ...rrset,
      records: [rrset.records[1]!, rrset.records[0]!, rrset.records[1]!],
    };
    expect(verifyRrsig({ rrset: shuffled, signature, key, now: NOW })).toEqual({ ok: true });
    expectFailure(
      verifyRrsig({ rrset, signature: { ...signature, originalTtl: 60 }, key, now: NOW }),
      'signature does not verify',
    );
  });

  it('checks the validity period with the given time', () => {
    const { key, rrset, signature } = load(VECTORS[4]!);
    expectFailure(
      verifyRrsig({ rrset, signature, key, now: signature.expiration + 1 }),
      'signature expired at 2046-01-01T00:00:00Z (now 2046-01-01T00:00:01Z)',
    );
    expectFailure(
      verifyRrsig({ rrset, signature, key, now: signature.inception - 1 }),
      'signature not valid before 2026-01-01T00:00:00Z',
    );
    expect(verifyRrsig({ rrset, signature, key, now: signature.expiration })).toEqual({ ok: true });
    expect(verifyRrsig({ rrset, signature, key, now: signature.inception })).toEqual({ ok: true });
    expect(verifyRrsig({ rrset, signature, key, now: 0, ignoreTime: true })).toEqual({ ok: true });
  });

  it('reports each mismatch in words', () => {
    const { key, rrset, signature } = load(VECTORS[4]!);
    const other = load(VECTORS[2]!);
    expectFailure(
      verifyRrsig({ rrset, signature, key: other.key, now: NOW }),
      /algorithm mismatch/,
    );
    expectFailure(
      verifyRrsig({ rrset, signature: { ...signature, keyTag: 1 }, key, now: NOW }),
      /key tag mismatch/,
    );
    expectFailure(
      verifyRrsig({ rrset: { ...rrset, type: 'AAAA' }, signature, key, now: NOW }),
      'the RRSIG covers type A, not the RRset type AAAA',
    );
    expectFailure(
      verifyRrsig({ rrset: { ...rrset, name: 'alg15.test.' }, signature, key, now: NOW }),
      /labels field \(3\) exceeds the 2 labels/,
    );
    const revokedFlagsKey = { ...key, flags: 1 };
    expectFailure(
      verifyRrsig({
        rrset,
        signature: { ...signature, keyTag: keyTag(revokedFlagsKey) },
        key: revokedFlagsKey,
        now: NOW,
      }),
      /not a zone key/,
    );
    const badProtocol = { ...key, protocol: 2 };
    expectFailure(
      verifyRrsig({
        rrset,
        signature: { ...signature, keyTag: keyTag(badProtocol) },
        key: badProtocol,
        now: NOW,
      }),
      /protocol is 2/,
    );
  });

  it('reports unsupported algorithms and malformed keys without throwing', () => {
    const { key, rrset, signature } = load(VECTORS[4]!);
    const rsasha1 = { ...key, algorithm: 5 };
    expectFailure(
      verifyRrsig({
        rrset,
        signature: { ...signature, algorithm: 5, keyTag: keyTag(rsasha1) },
        key: rsasha1,
        now: NOW,
      }),
      'unsupported algorithm 5',
    );
    const shortKey = { ...key, publicKey: 'AAAA' };
    expectFailure(
      verifyRrsig({
        rrset,
        signature: { ...signature, keyTag: keyTag(shortKey) },
        key: shortKey,
        now: NOW,
      }),
      /DNSKEY public key is malformed: Ed25519 public key is 3 octets, expected 32/,
    );
    expectFailure(
      verifyRrsig({ rrset, signature, key: { ...key, publicKey: '!!' }, now: NOW }),
      'DNSKEY public key is not valid base64',
    );
    expectFailure(
      verifyRrsig({ rrset, signature: { ...signature, signature: '%%%' }, key, now: NOW }),
      'RRSIG signature is not valid base64',
    );
    expectFailure(
      verifyRrsig({ rrset, signature: { ...signature, signature: 'AAAA' }, key, now: NOW }),
      /signature does not verify/,
    );
    expectFailure(
      verifyRrsig({
        rrset,
        signature: { ...signature, signerName: 'alg15..test.' },
        key,
        now: NOW,
      }),
      /cannot build the signed data: invalid domain name/,
    );
    const ecdsa = load(VECTORS[2]!);
    const badPoint = { ...ecdsa.key, publicKey: Buffer.alloc(64, 1).toString('base64') };
    expectFailure(
      verifyRrsig({
        rrset: ecdsa.rrset,
        signature: { ...ecdsa.signature, keyTag: keyTag(badPoint) },
        key: badPoint,
        now: NOW,
      }),
      /malformed|does not verify/,
    );
  });
});

describe('verifyRrsig with keys made here', () => {
  const rrset: SignedRrset = {
    name: 'host.example.test.',
    type: 'A',
    class: 'IN',
    records: ['192.0.2.7'],
  };

  function signed(
    algorithm: number,
    privateKey: KeyObject,
    publicKey: string,
    times: { inception: number; expiration: number },
    hash: string | null,
  ): { key: DnskeyData; signature: RrsigData } {
    const key: DnskeyData = { flags: 256, protocol: 3, algorithm, publicKey };
    const unsigned: RrsigData = {
      typeCovered: 'A',
      algorithm,
      labels: 3,
      originalTtl: 300,
      ...times,
      keyTag: keyTag(key),
      signerName: 'example.test.',
      signature: '',
    };
    const data = canonicalRrsetSigningData(unsigned, rrset);
    return {
      key,
      signature: { ...unsigned, signature: sign(hash, data, privateKey).toString('base64') },
    };
  }

  function ed25519(times: { inception: number; expiration: number }) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
    return signed(15, privateKey, raw, times, null);
  }

  it('defaults the time to now', () => {
    const now = Math.floor(Date.now() / 1000);
    const fresh = ed25519({ inception: now - 3600, expiration: now + 3600 });
    expect(verifyRrsig({ rrset, ...fresh })).toEqual({ ok: true });
    const stale = ed25519({ inception: now - 7200, expiration: now - 3600 });
    expectFailure(verifyRrsig({ rrset, ...stale }), /signature expired at/);
  });

  it('uses serial-number arithmetic across the 32-bit wrap (RFC 1982)', () => {
    const wrapped = ed25519({ inception: 2 ** 32 - 100, expiration: 50 });
    expect(verifyRrsig({ rrset, ...wrapped, now: 10 })).toEqual({ ok: true });
    expect(verifyRrsig({ rrset, ...wrapped, now: 2 ** 32 - 10 })).toEqual({ ok: true });
    expectFailure(verifyRrsig({ rrset, ...wrapped, now: 60 }), /signature expired/);
    expectFailure(verifyRrsig({ rrset, ...wrapped, now: 2 ** 32 - 200 }), /not valid before/);
    const backwards = ed25519({ inception: 1000, expiration: 500 });
    expectFailure(verifyRrsig({ rrset, ...backwards, now: 700 }), /is before its inception/);
  });

  it('reads an RSA key whose exponent length uses the 3-octet form (RFC 3110 §2)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = publicKey.export({ format: 'jwk' });
    const exponent = Buffer.from(jwk.e!, 'base64url');
    const modulus = Buffer.from(jwk.n!, 'base64url');
    const short = Buffer.concat([Buffer.from([exponent.length]), exponent, modulus]).toString(
      'base64',
    );
    const long = Buffer.concat([Buffer.from([0, 0, exponent.length]), exponent, modulus]).toString(
      'base64',
    );
    const times = { inception: NOW - 10, expiration: NOW + 10 };
    for (const encoded of [short, long]) {
      expect(
        verifyRrsig({ rrset, ...signed(8, privateKey, encoded, times, 'sha256'), now: NOW }),
      ).toEqual({ ok: true });
      expect(
        verifyRrsig({ rrset, ...signed(10, privateKey, encoded, times, 'sha512'), now: NOW }),
      ).toEqual({
        ok: true,
      });
    }
    const truncated = {
      ...signed(8, privateKey, Buffer.from([0, 0]).toString('base64'), times, 'sha256'),
    };
    expectFailure(verifyRrsig({ rrset, ...truncated, now: NOW }), /malformed/);
  });

  it('verifies ECDSA signatures in the raw r‖s form', () => {
    for (const [algorithm, curve, hash] of [
      [13, 'P-256', 'sha256'],
      [14, 'P-384', 'sha384'],
    ] as const) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const jwk = publicKey.export({ format: 'jwk' });
      const raw = Buffer.concat([
        Buffer.from(jwk.x!, 'base64url'),
        Buffer.from(jwk.y!, 'base64url'),
      ]);
      const times = { inception: NOW - 10, expiration: NOW + 10 };
      // node signs in DER by default: that form must be rejected.
      const { key: dnskey, signature } = signed(
        algorithm,
        privateKey,
        raw.toString('base64'),
        times,
        hash,
      );
      const data = canonicalRrsetSigningData(signature, rrset);
      const rawSignature = sign(hash, data, {
        key: privateKey,
        dsaEncoding: 'ieee-p1363',
      }).toString('base64');
      expect(
        verifyRrsig({
          rrset,
          key: dnskey,
          signature: { ...signature, signature: rawSignature },
          now: NOW,
        }),
      ).toEqual({
        ok: true,
      });
      expectFailure(
        verifyRrsig({ rrset, key: dnskey, signature, now: NOW }),
        'signature does not verify',
      );
    }
  });

  it('verifies Ed448', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed448');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
    const made = signed(16, privateKey, raw, { inception: NOW - 10, expiration: NOW + 10 }, null);
    expect(verifyRrsig({ rrset, ...made, now: NOW })).toEqual({ ok: true });
  });
});
