import { describe, expect, it } from 'vitest';
import { computeDs, keyTag } from '@chorus/dns';
import type { DnskeyData, SigningKey } from '@chorus/core';
import { cdsOfKey, desiredForRecipe, expectedDsFor } from '../src/desired.js';
import { emptyZoneState, type ZoneState } from '../src/state.js';

const zone = 'example.test.';

function ksk(fill: number, extra: Partial<SigningKey> = {}): SigningKey {
  const dnskey: DnskeyData = {
    flags: 257,
    protocol: 3,
    algorithm: 13,
    publicKey: Buffer.alloc(64, fill).toString('base64'),
  };
  return { role: 'CSK', algorithm: 13, keyTag: keyTag(dnskey), dnskey, ...extra };
}

describe('the group mirrors each owner’s CDS digest types', () => {
  it('adds SHA-384 for a key whose server publishes it (deSEC), SHA-256 alone otherwise', () => {
    const desec = ksk(1, { cdsPublished: true, cdsDigestTypes: [2, 4] });
    expect(cdsOfKey(zone, desec)).toEqual([
      computeDs(zone, desec.dnskey, 2),
      computeDs(zone, desec.dnskey, 4),
    ]);
    const plain = ksk(2, { cdsPublished: true });
    expect(cdsOfKey(zone, plain)).toEqual([computeDs(zone, plain.dnskey, 2)]);
    // A digest type Chorus cannot compute (SHA-1) is left out, never guessed.
    expect(cdsOfKey(zone, ksk(3, { cdsDigestTypes: [1] }))).toEqual([
      computeDs(zone, ksk(3).dnskey, 2),
    ]);
  });

  it('expects the parent to hold the same digest types', () => {
    const state: ZoneState = {
      ...emptyZoneState(zone),
      signers: {
        desec: { keys: [ksk(1, { cdsPublished: true, cdsDigestTypes: [2, 4] })] },
        bind: { keys: [ksk(2, { cdsPublished: true })] },
      } as unknown as ZoneState['signers'],
    };
    expect(expectedDsFor(state, ['desec', 'bind']).map((ds) => ds.digestType)).toEqual([2, 4, 2]);
  });
});

describe('a signer that cannot publish other signers\u2019 CDS', () => {
  it('is asked for the other keys\u2019 DNSKEYs but no foreign CDS or CDNSKEY; the others still publish its CDS', () => {
    const bindKey = ksk(1, { cdsPublished: true });
    const cloudKey = ksk(2, { cdsPublished: true });
    const state: ZoneState = {
      ...emptyZoneState(zone),
      recordTtlSeconds: 30,
      signers: {
        bind: { id: 'bind', keys: [bindKey], nameServerNames: [], endpoints: [] },
        cloud: {
          id: 'cloud',
          keys: [cloudKey],
          nameServerNames: [],
          endpoints: [],
          limits: [{ capability: 'cds-import-foreign', reason: 'own CDS only' }],
        },
      } as unknown as ZoneState['signers'],
    };
    const process = { groupBefore: ['bind'], groupAfter: ['bind', 'cloud'] } as Parameters<
      typeof desiredForRecipe
    >[1];
    const desired = desiredForRecipe(state, process, {
      participants: 'union',
      keysFrom: 'union',
      cdsFor: 'union',
      csync: false,
      apexNs: 'unchanged',
    });
    expect(desired.cloud!.foreignDnskeys).toEqual([bindKey.dnskey]);
    expect(desired.cloud!.foreignCds).toEqual([]);
    expect(desired.cloud!.foreignCdnskeys).toEqual([]);
    expect(desired.bind!.foreignCds).toEqual(cdsOfKey(zone, cloudKey));
    expect(desired.bind!.foreignCdnskeys).toEqual([cloudKey.dnskey]);
  });
});
