import { describe, expect, it } from 'vitest';
import { DnsWireError, type DnskeyData, type DnsRecord, type RrsigData } from '@chorus/core';
import { isOptOut, nsec3Hash, nsec3HashBytes } from '../src/dnssec/nsec3.js';
import { verifyRrsig } from '../src/dnssec/verify.js';
import { parseZone } from '../src/presentation.js';
import { decodeRdata, encodeRdata } from '../src/rdata.js';
import { decodeMessage, encodeMessage } from '../src/wire.js';

const RFC5155 = { hashAlgorithm: 1, iterations: 12, salt: 'aabbccdd' };

/**
 * RFC 5155 Appendix A (example zone, salt aabbccdd, 12 iterations); each also checked with
 * BIND's `nsec3hash aabbccdd 1 12 <name>`.
 */
const RFC5155_HASHES: [string, string][] = [
  ['example', '0p9mhaveqvm6t7vbl5lop2u3t2rp3tom'],
  ['a.example', '35mthgpgcu1qg68fab165klnsnk3dpvl'],
  ['ai.example', 'gjeqe526plbf1g8mklp59enfd789njgi'],
  ['ns1.example', '2t7b4g4vsa5smi47k61mv5bv1a22bojr'],
  ['ns2.example', 'q04jkcevqvmu85r014c7dkba38o0ji5r'],
  ['w.example', 'k8udemvp1j2f7eg6jebps17vp3n8i58h'],
  ['*.w.example', 'r53bq7cc2uvmubfu5ocmm6pers9tk9en'],
  ['x.w.example', 'b4um86eghhds6nea196smvmlo4ors995'],
  ['y.w.example', 'ji6neoaepv8b5o6k4ev33abha8ht9fgc'],
  ['xx.example', 't644ebqk9bibcna874givr6joj62mlhv'],
];

/**
 * Records from zones signed with BIND 9.18.49 `dnssec-signzone -3 - -H 0` (nsec3.test.) and
 * `-3 AABBCCDD -H 2 -A` (optout.test.), Ed25519 KSKs; copied from the tool's output.
 */
const BIND_NSEC3 = `
nsec3.test. 3600 IN DNSKEY 257 3 15 qJm+u0stqYohFM4Z7M3H714LytkhSTCoRbFMBRe+lY0=
0MADR2C2O78CQSOQUIEJTBEH6GFGB0FF.nsec3.test. 300 IN NSEC3 1 0 0 - ( 8CLEHVHCL4B1PLBFH591VQ9PQ2I0TT3R
  NS SOA RRSIG DNSKEY NSEC3PARAM )
0MADR2C2O78CQSOQUIEJTBEH6GFGB0FF.nsec3.test. 300 IN RRSIG NSEC3 15 3 300 (
  20460101000000 20260101000000 48609 nsec3.test.
  EwY9ZgDJAddKzNM6cIziNiaqf6N7jJPTBCZoaUModGnJQAwHme7CggDELqssjMYFaZsVl8PMoeAhhwNWPR3mBA== )
optout.test. 3600 IN DNSKEY 257 3 15 d2nYkO7VyLEKyCOB7TDJhcw8VcXhv10sfrHaltoc2eU=
27R5UFRRF8KB64VFGJ515TSV4EH59TKQ.optout.test. 300 IN NSEC3 1 1 2 AABBCCDD ( 482FH52FGTH9QKOKI9MA4PL7N3HL9AB6
  TXT RRSIG )
27R5UFRRF8KB64VFGJ515TSV4EH59TKQ.optout.test. 300 IN RRSIG NSEC3 15 3 300 (
  20460101000000 20260101000000 24267 optout.test.
  Rk9TEF13cA0eSZrl7gTaNNCjWSnUAiHvNZJ9zQamm8XjA6F71tlioijTOHK9PPbJtDa3q3/0agGT28zTm/T5CQ== )
`;

const NOW = 1_800_000_000;

function loadBindVector(zone: string) {
  const records = parseZone(BIND_NSEC3, { origin: '.' }).filter((record) =>
    record.name.toLowerCase().endsWith(zone),
  );
  const byType = (type: string) => records.find((record) => record.type === type)!;
  const nsec3 = byType('NSEC3') as Extract<DnsRecord, { type: 'NSEC3' }>;
  return {
    key: byType('DNSKEY').data as DnskeyData,
    signature: byType('RRSIG').data as RrsigData,
    nsec3,
    rrset: {
      name: nsec3.name,
      type: 'NSEC3' as const,
      class: 'IN' as const,
      records: [nsec3.data],
    },
  };
}

describe('nsec3Hash', () => {
  it.each(RFC5155_HASHES)('hashes %s as in RFC 5155 Appendix A', (name, hash) => {
    expect(nsec3Hash(name, RFC5155)).toBe(hash.toUpperCase());
  });

  it('hashes the canonical form: case and the trailing dot do not matter', () => {
    expect(nsec3Hash('NS1.Example.', RFC5155)).toBe('2T7B4G4VSA5SMI47K61MV5BV1A22BOJR');
    expect(nsec3Hash('ns1.example', { ...RFC5155, salt: 'AABBCCDD' })).toBe(
      '2T7B4G4VSA5SMI47K61MV5BV1A22BOJR',
    );
  });

  it('hashes with no salt and no extra iterations (RFC 9276 settings), salt written "" or "-"', () => {
    // BIND: nsec3hash - 1 0 nsec3.test; the apex NSEC3 of the vector above.
    const expected = '0MADR2C2O78CQSOQUIEJTBEH6GFGB0FF';
    expect(nsec3Hash('nsec3.test.', { hashAlgorithm: 1, iterations: 0, salt: '' })).toBe(expected);
    expect(nsec3Hash('nsec3.test.', { hashAlgorithm: 1, iterations: 0, salt: '-' })).toBe(expected);
  });

  it('depends on salt and iterations', () => {
    const base = nsec3Hash('example', RFC5155);
    expect(nsec3Hash('example', { ...RFC5155, iterations: 11 })).not.toBe(base);
    expect(nsec3Hash('example', { ...RFC5155, salt: 'aabbccde' })).not.toBe(base);
  });

  it('rejects an unknown hash algorithm and a salt that is not hex', () => {
    expect(() => nsec3Hash('example', { ...RFC5155, hashAlgorithm: 2 })).toThrow(DnsWireError);
    expect(() => nsec3Hash('example', { ...RFC5155, salt: 'xyz' })).toThrow(/not hex/);
  });

  it('reads hashes case-insensitively as 20 octets', () => {
    const upper = nsec3HashBytes('0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM');
    expect(upper).toHaveLength(20);
    expect(nsec3HashBytes('0p9mhaveqvm6t7vbl5lop2u3t2rp3tom')).toEqual(upper);
  });

  it('reads the opt-out flag', () => {
    expect(isOptOut({ flags: 1 })).toBe(true);
    expect(isOptOut({ flags: 0 })).toBe(false);
  });
});

describe('NSEC3 rdata', () => {
  // RFC 5155 Appendix A: the NSEC3 of the apex "example", flags 1 (opt-out).
  const APEX_RDATA = Buffer.from(
    '0101000c04aabbccdd14174eb2409fe28bcb4887a1836f957f0a8425e27b000722010000000290',
    'hex',
  );
  const APEX = {
    hashAlgorithm: 1,
    flags: 1,
    iterations: 12,
    salt: 'AABBCCDD',
    nextHashedOwner: '2T7B4G4VSA5SMI47K61MV5BV1A22BOJR',
    types: ['NS', 'SOA', 'MX', 'RRSIG', 'DNSKEY', 'NSEC3PARAM'],
  };

  it('decodes the RFC 5155 example rdata into typed fields', () => {
    expect(decodeRdata('NSEC3', APEX_RDATA, 0, APEX_RDATA.length)).toEqual(APEX);
  });

  it('encodes it back octet for octet, unchanged in canonical form (no names to lower-case)', () => {
    expect(encodeRdata({ type: 'NSEC3', data: APEX })).toEqual(APEX_RDATA);
    const lower = {
      ...APEX,
      salt: 'aabbccdd',
      nextHashedOwner: APEX.nextHashedOwner.toLowerCase(),
    };
    expect(encodeRdata({ type: 'NSEC3', data: lower }, { lowercaseNames: true })).toEqual(
      APEX_RDATA,
    );
  });

  it('round-trips NSEC3 and NSEC3PARAM through a DNS message, empty salt and bitmap included', () => {
    const records: DnsRecord[] = [
      {
        name: '0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.',
        type: 'NSEC3',
        class: 'IN',
        ttl: 300,
        data: APEX,
      },
      {
        name: '8cleHVHCL4B1PLBFH591VQ9PQ2I0TT3R.nsec3.test.',
        type: 'NSEC3',
        class: 'IN',
        ttl: 300,
        data: {
          hashAlgorithm: 1,
          flags: 0,
          iterations: 0,
          salt: '',
          nextHashedOwner: '8PBUADS05MAC49QK5JDNALS59LA6OA4S',
          types: [],
        },
      },
      {
        name: 'nsec3.test.',
        type: 'NSEC3PARAM',
        class: 'IN',
        ttl: 0,
        data: { hashAlgorithm: 1, flags: 0, iterations: 0, salt: '' },
      },
    ];
    const wire = encodeMessage({
      id: 7,
      opcode: 'QUERY',
      flags: { qr: true, aa: true, tc: false, rd: false, ra: false, ad: false, cd: false },
      rcode: 'NXDOMAIN',
      questions: [{ name: 'nope.nsec3.test.', type: 'A', class: 'IN' }],
      answers: [],
      authorities: records,
      additionals: [],
    });
    expect(decodeMessage(wire).authorities).toEqual(records);
  });

  it('rejects NSEC3 rdata whose salt or hash runs past RDLENGTH', () => {
    const truncated = APEX_RDATA.subarray(0, 12);
    expect(() => decodeRdata('NSEC3', truncated, 0, truncated.length)).toThrow(DnsWireError);
  });
});

describe('NSEC3 signatures made by BIND', () => {
  it.each(['nsec3.test.', 'optout.test.'])('verify over %s NSEC3 in canonical form', (zone) => {
    const { key, signature, rrset } = loadBindVector(zone);
    expect(verifyRrsig({ rrset, signature, key, now: NOW })).toEqual({ ok: true });
    // The owner is printed upper-case; canonical form lower-cases it.
    expect(
      verifyRrsig({
        rrset: { ...rrset, name: rrset.name.toLowerCase() },
        signature,
        key,
        now: NOW,
      }),
    ).toEqual({ ok: true });
  });

  it('fail when the next hashed owner or the bitmap changes', () => {
    const { key, signature, rrset, nsec3 } = loadBindVector('nsec3.test.');
    const next = nsec3.data.nextHashedOwner;
    const flippedNext = {
      ...nsec3.data,
      nextHashedOwner: `${next.slice(0, -1)}${next.endsWith('R') ? 'S' : 'R'}`,
    };
    const flippedBitmap = {
      ...nsec3.data,
      types: nsec3.data.types.filter((type) => type !== 'NS'),
    };
    for (const data of [flippedNext, flippedBitmap]) {
      const result = verifyRrsig({
        rrset: { ...rrset, records: [data] },
        signature,
        key,
        now: NOW,
      });
      expect(result.ok).toBe(false);
    }
  });

  it('owner hashes match nsec3Hash of the names they stand for', () => {
    expect(loadBindVector('nsec3.test.').nsec3.name.split('.')[0]).toBe(
      nsec3Hash('nsec3.test.', { hashAlgorithm: 1, iterations: 0, salt: '' }),
    );
    const optOut = loadBindVector('optout.test.').nsec3;
    expect(isOptOut(optOut.data)).toBe(true);
    expect(optOut.name.split('.')[0]).toBe(nsec3Hash('a.b.optout.test.', optOut.data));
  });
});
