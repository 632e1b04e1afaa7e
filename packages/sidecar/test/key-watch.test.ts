import { describe, expect, it } from 'vitest';
import { emptyZoneState, type ZoneState } from '@chorus/engine';
import type { ApexSnapshot, SigningKey } from '@chorus/core';
import { KeyListings, keyChanges, rollsToFollow, withCdsFlags } from '../src/key-watch.js';

function key(keyTag: number, role: SigningKey['role'], state?: string): SigningKey {
  return {
    role,
    algorithm: 13,
    keyTag,
    dnskey: {
      flags: role === 'ZSK' ? 256 : 257,
      protocol: 3,
      algorithm: 13,
      publicKey: `k${keyTag}`,
    },
    ...(state ? { state } : {}),
  };
}

function member(): ZoneState {
  return { ...emptyZoneState('roll.test.'), defined: true, members: ['bind', 'powerdns'] };
}

describe('keyChanges', () => {
  it('names every key that appeared, changed state or disappeared', () => {
    const before = [key(1, 'KSK', 'active'), key(2, 'ZSK', 'active')];
    const after = [key(1, 'KSK', 'active'), key(2, 'ZSK', 'retired'), key(3, 'ZSK', 'published')];
    expect(keyChanges(before, after)).toEqual([
      { keyTag: 2, role: 'ZSK', change: 'state-changed', from: 'active', to: 'retired' },
      { keyTag: 3, role: 'ZSK', change: 'appeared', to: 'published' },
    ]);
    expect(keyChanges(after, [key(1, 'KSK', 'active'), key(3, 'ZSK', 'active')])).toEqual([
      { keyTag: 3, role: 'ZSK', change: 'state-changed', from: 'published', to: 'active' },
      { keyTag: 2, role: 'ZSK', change: 'disappeared', from: 'retired' },
    ]);
    expect(keyChanges(before, before)).toEqual([]);
  });

  it("marks each KSK with the server's own CDS, and a CDS switch is a change", () => {
    const ksk = key(1, 'KSK', 'active');
    const successor = key(5, 'KSK', 'published');
    const apex = (tags: number[]) =>
      ({
        cds: {
          records: tags.map((keyTag) => ({ keyTag, algorithm: 13, digestType: 2, digest: '00' })),
        },
      }) as unknown as ApexSnapshot;
    const before = withCdsFlags([ksk, successor, key(2, 'ZSK')], apex([1, 999]));
    expect(before.map((entry) => entry.cdsPublished)).toEqual([true, false, undefined]);
    const after = withCdsFlags([ksk, successor, key(2, 'ZSK')], apex([5, 999]));
    expect(keyChanges(before, after)).toEqual([
      {
        keyTag: 1,
        role: 'KSK',
        change: 'state-changed',
        from: 'active',
        to: 'active',
        cdsPublished: false,
      },
      {
        keyTag: 5,
        role: 'KSK',
        change: 'state-changed',
        from: 'published',
        to: 'published',
        cdsPublished: true,
      },
    ]);
    // Negative control: the same CDS twice is no change.
    expect(keyChanges(after, after)).toEqual([]);
  });
  it('records the digest types of a CSK whose server publishes more than SHA-256 (deSEC)', () => {
    const csk = key(7, 'CSK', 'active');
    const cds = (digestTypes: number[]) =>
      ({
        cds: {
          records: digestTypes.map((digestType) => ({
            keyTag: 7,
            algorithm: 13,
            digestType,
            digest: '00',
          })),
        },
      }) as unknown as ApexSnapshot;
    const both = withCdsFlags([csk], cds([4, 2, 4]));
    expect(both[0]).toMatchObject({ cdsPublished: true, cdsDigestTypes: [2, 4] });
    // Negative control: SHA-256 alone is the default and is not spelled out.
    const sha256 = withCdsFlags([csk], cds([2]));
    expect(sha256[0]!.cdsDigestTypes).toBeUndefined();
    // Adding SHA-384 later is a change the log must hear of.
    expect(keyChanges(sha256, both)).toHaveLength(1);
    expect(keyChanges(both, both)).toEqual([]);
  });
});

describe('rollsToFollow', () => {
  const appeared = [{ keyTag: 3, role: 'ZSK' as const, change: 'appeared' as const }];

  it('requests ROLL-ZSK for a successor a member server introduced on its own', () => {
    expect(rollsToFollow(member(), 'bind', appeared)).toEqual([
      { kind: 'roll-zsk', role: 'ZSK', successorTag: 3 },
    ]);
  });

  it('requests nothing for a non-member, an undefined zone, or a roll already covering the key', () => {
    expect(rollsToFollow(member(), 'knot', appeared)).toEqual([]);
    expect(rollsToFollow(emptyZoneState('roll.test.'), 'bind', appeared)).toEqual([]);
    const pending = member();
    pending.pendingRequests.push({
      processId: 'p',
      kind: 'roll-zsk',
      signerId: 'bind',
      requestedBy: 'operator',
      requestedAt: '2026-12-01T00:00:00Z',
      role: 'ZSK',
    });
    expect(rollsToFollow(pending, 'bind', appeared)).toEqual([]);
    const rolling = member();
    rolling.processes.push({
      id: 'r',
      kind: 'roll-zsk',
      signerId: 'bind',
      status: 'running',
      steps: [],
      stepStates: [],
      currentStep: 0,
      groupBefore: ['bind', 'powerdns'],
      groupAfter: ['bind', 'powerdns'],
      startedAt: '2026-12-01T00:00:00Z',
      roll: { role: 'ZSK', predecessorTags: [2], mode: 'server-timed' },
    });
    expect(rollsToFollow(rolling, 'bind', appeared)).toEqual([]);
  });
});

describe('KeyListings', () => {
  const zone = 'example.test.';
  const listing = [key(1, 'KSK', 'active'), key(2, 'ZSK', 'active')];

  it('keeps a listing while the fingerprint holds and the log holds the listing', () => {
    const listings = new KeyListings(4);
    expect(listings.mayReuse(zone, 'f1', listing)).toBe(false);
    listings.listed(zone, 'f1', listing);
    expect(listings.mayReuse(zone, 'f1', listing)).toBe(true);
  });

  it('lists again when the fingerprint changed', () => {
    const listings = new KeyListings(4);
    listings.listed(zone, 'f1', listing);
    expect(listings.mayReuse(zone, 'f2', listing)).toBe(false);
  });

  it('lists again when the log holds other keys than the listing (another path recorded keys)', () => {
    const listings = new KeyListings(4);
    listings.listed(zone, 'f1', listing);
    const afterRollAction = [...listing, key(3, 'ZSK', 'inactive')];
    expect(listings.mayReuse(zone, 'f1', afterRollAction)).toBe(false);
    const stateMoved = [key(1, 'KSK', 'active'), key(2, 'ZSK', 'inactive')];
    expect(listings.mayReuse(zone, 'f1', stateMoved)).toBe(false);
  });

  it('keeps a listing at most maxReuses rounds in a row, then lists', () => {
    const listings = new KeyListings(2);
    listings.listed(zone, 'f1', listing);
    expect([1, 2, 3].map(() => listings.mayReuse(zone, 'f1', listing))).toEqual([
      true,
      true,
      false,
    ]);
    listings.listed(zone, 'f1', listing);
    expect(listings.mayReuse(zone, 'f1', listing)).toBe(true);
  });
});
