import type { RRset, RrsigData } from '@chorus/core';
import { describe, expect, it } from 'vitest';
import { keyFingerprintOf, type KeyFingerprintInput } from '../../src/key-fingerprint.js';

const ZONE = 'example.test.';

function signature(typeCovered: 'DNSKEY' | 'SOA', keyTag: number, value = 'AAAA'): RrsigData {
  return {
    typeCovered,
    algorithm: 13,
    labels: 2,
    originalTtl: 10,
    expiration: 2_000_000_000,
    inception: 1_700_000_000,
    keyTag,
    signerName: ZONE,
    signature: value,
  };
}

function dnskeys(keys: string[], signers: number[], value = 'AAAA'): RRset {
  return {
    name: ZONE,
    type: 'DNSKEY',
    class: 'IN',
    ttl: 10,
    records: keys.map((publicKey) => ({
      flags: publicKey.startsWith('k') ? 257 : 256,
      protocol: 3,
      algorithm: 13,
      publicKey,
    })),
    signatures: signers.map((tag) => signature('DNSKEY', tag, value)),
  };
}

function soa(signers: number[], value = 'AAAA'): RRset {
  return {
    name: ZONE,
    type: 'SOA',
    class: 'IN',
    ttl: 10,
    records: [
      {
        mname: `ns.${ZONE}`,
        rname: `hostmaster.${ZONE}`,
        serial: 1,
        refresh: 60,
        retry: 60,
        expire: 600,
        minimum: 10,
      },
    ],
    signatures: signers.map((tag) => signature('SOA', tag, value)),
  };
}

function cds(keyTag: number): RRset {
  return {
    name: ZONE,
    type: 'CDS',
    class: 'IN',
    ttl: 10,
    records: [{ keyTag, algorithm: 13, digestType: 2, digest: 'AB'.repeat(32) }],
    signatures: [],
  };
}

const served: KeyFingerprintInput = {
  dnskey: dnskeys(['k1', 'z2', 'foreign'], [1]),
  soa: soa([2]),
  cds: cds(1),
  cdnskey: null,
};

describe('the PowerDNS key fingerprint', () => {
  it('is the same for the same keys, whatever the record order and signature values', () => {
    const again: KeyFingerprintInput = {
      ...served,
      dnskey: dnskeys(['foreign', 'z2', 'k1'], [1], 'BBBB'),
      soa: soa([2], 'CCCC'),
    };
    expect(keyFingerprintOf(again)).toBe(keyFingerprintOf(served));
  });

  it('changes when a key is published or withdrawn', () => {
    const published = { ...served, dnskey: dnskeys(['k1', 'z2', 'z3', 'foreign'], [1]) };
    expect(keyFingerprintOf(published)).not.toBe(keyFingerprintOf(served));
    const withdrawn = { ...served, dnskey: dnskeys(['k1', 'foreign'], [1]) };
    expect(keyFingerprintOf(withdrawn)).not.toBe(keyFingerprintOf(served));
  });

  it('changes when a ZSK or a KSK starts or stops signing (active or not)', () => {
    expect(keyFingerprintOf({ ...served, soa: soa([3]) })).not.toBe(keyFingerprintOf(served));
    expect(keyFingerprintOf({ ...served, soa: soa([2, 3]) })).not.toBe(keyFingerprintOf(served));
    expect(
      keyFingerprintOf({ ...served, dnskey: dnskeys(['k1', 'z2', 'foreign'], [1, 4]) }),
    ).not.toBe(keyFingerprintOf(served));
  });

  it('changes when the CDS or CDNSKEY changes', () => {
    expect(keyFingerprintOf({ ...served, cds: cds(4) })).not.toBe(keyFingerprintOf(served));
    expect(keyFingerprintOf({ ...served, cds: null })).not.toBe(keyFingerprintOf(served));
    const cdnskey = { ...dnskeys(['k1'], []), type: 'CDNSKEY' } as RRset;
    expect(keyFingerprintOf({ ...served, cdnskey })).not.toBe(keyFingerprintOf(served));
  });
});
