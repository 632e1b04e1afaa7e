import { describe, expect, it } from 'vitest';
import { zoneEvent, type ZoneEvent, type ZoneOwner } from '@chorus/core';
import { foldZone } from '@chorus/engine';
import { model1Json, model1Lines } from '../src/coordination/model1-status.js';

const zone = 'owner.test.';
const at = { zone, occurredAt: '2026-12-05T02:00:00.000Z', source: { kind: 'cli', id: 'ops' } };
const OWNER: ZoneOwner = {
  dnskeys: [
    { flags: 257, protocol: 3, algorithm: 13, publicKey: Buffer.alloc(64, 1).toString('base64') },
  ],
  signatureValiditySeconds: 3600,
  refreshLeadSeconds: 1800,
};
const ZSK = {
  flags: 256,
  protocol: 3,
  algorithm: 13,
  publicKey: Buffer.alloc(64, 2).toString('base64'),
};

function defined(owner?: ZoneOwner): ZoneEvent {
  return zoneEvent('zone-defined', at, {
    parentZone: 'test.',
    signers: [
      {
        id: 'knot',
        kind: 'knot',
        nameServerNames: ['ns.knot.test.'],
        endpoints: [{ address: '127.0.0.1' }],
      },
    ],
    timing: {
      childPropagationSeconds: 1,
      parentPropagationSeconds: 1,
      safetyMarginSeconds: 1,
      maxZoneTtlSeconds: 10,
    },
    recordTtlSeconds: 10,
    ...(owner ? { owner } : {}),
  });
}

describe('model 1 in chorus status', () => {
  it('says nothing of model 1 for a model-2 zone', () => {
    const state = foldZone(zone, [defined()]);
    expect(model1Lines(state)).toEqual([]);
    expect(model1Json(state)).toBeUndefined();
  });

  it('says what the owner waits for: the planned ZSKs of a member, then its first signature', () => {
    const waiting = foldZone(zone, [defined(OWNER)]);
    expect(model1Lines(waiting)).toEqual([
      expect.stringMatching(/^ {2}model 1: owner KSK \d+$/),
      '  owner has signed nothing yet: run "chorus owner ZONE" with the owner\'s KSK',
      '  owner: waiting for the planned ZSKs of knot',
      '  knot has not listed its planned ZSKs yet (its sidecar does, every key-watch round)',
    ]);
    const planned = foldZone(zone, [
      defined(OWNER),
      zoneEvent('signer-zsks-planned', at, {
        signerId: 'knot',
        planned: [{ at: 1_800_000_000, zsks: [ZSK] }],
      }),
    ]);
    expect(model1Lines(planned)).toContain('  owner: due to sign now (initial)');
    expect(model1Json(planned)?.planned.knot?.zsks).toEqual([
      { from: '2027-01-15T08:00:00.000Z', keys: [expect.any(Number)] },
    ]);
  });
});
