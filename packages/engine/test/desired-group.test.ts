import { describe, expect, it } from 'vitest';
import { computeDs } from '@chorus/dns';
import type { DnskeyData, SigningKey } from '@chorus/core';
import { desiredStatesForGroup } from '../src/group.js';

const zone = 'example.test.';
const key = (flags: number, fill: number): DnskeyData => ({
  flags,
  protocol: 3,
  algorithm: 13,
  publicKey: Buffer.alloc(64, fill).toString('base64'),
});
const ownKsk = key(257, 1);
const ownZsk = key(256, 2);
const foreignKsk = key(257, 3);
const foreignZsk = key(256, 4);
const own: SigningKey[] = [
  { role: 'KSK', algorithm: 13, keyTag: 1, dnskey: ownKsk },
  { role: 'ZSK', algorithm: 13, keyTag: 2, dnskey: ownZsk },
];

describe('desiredStatesForGroup', () => {
  const members = [
    { signerId: 'a', ownKeys: own },
    {
      signerId: 'b',
      ownKeys: [
        { role: 'KSK' as const, algorithm: 13, keyTag: 3, dnskey: foreignKsk },
        { role: 'ZSK' as const, algorithm: 13, keyTag: 4, dnskey: foreignZsk },
      ],
    },
  ];

  it('gives every member the others keys and CDS/CDNSKEY, so that all serve the same sets', () => {
    const states = desiredStatesForGroup(members, { zone, ttl: 30 });
    expect(states.a!.foreignDnskeys).toEqual([foreignKsk, foreignZsk]);
    expect(states.b!.foreignDnskeys).toEqual([ownKsk, ownZsk]);
    expect(states.a!.foreignCds).toEqual([computeDs(zone, foreignKsk, 2)]);
    expect(states.b!.foreignCdnskeys).toEqual([ownKsk]);
    // Served by a: own CDS + foreign CDS; served by b: the mirror image. The union is the same.
    const servedByA = [computeDs(zone, ownKsk, 2), ...states.a!.foreignCds]
      .map((ds) => ds.digest)
      .sort();
    const servedByB = [computeDs(zone, foreignKsk, 2), ...states.b!.foreignCds]
      .map((ds) => ds.digest)
      .sort();
    expect(servedByA).toEqual(servedByB);
  });

  it('imports only ZSKs when asked, and no CDS in steady state', () => {
    const states = desiredStatesForGroup(members, {
      zone,
      ttl: 30,
      importKeys: 'zsk',
      publishCds: false,
    });
    expect(states.a!.foreignDnskeys).toEqual([foreignZsk]);
    expect(states.a!.foreignCds).toEqual([]);
    expect(states.a!.foreignCdnskeys).toEqual([]);
  });
});
