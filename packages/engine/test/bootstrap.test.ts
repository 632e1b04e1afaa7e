import { describe, expect, it } from 'vitest';
import { computeDs } from '@chorus/dns';
import { zoneEvent, type SigningKey, type ZoneEvent } from '@chorus/core';
import { testKey } from './fixtures/keys.js';
import { desiredForRecipe } from '../src/desired.js';
import { preflightChecks, type SignerObservation } from '../src/preflight.js';
import { BOOTSTRAP_STEPS, stepsFor } from '../src/processes.js';
import { foldZone, type ProcessState, type ZoneState } from '../src/state.js';

const zone = 'boot.test.';
const source = { kind: 'test', id: 'driver' };
const SIGNERS = ['bind', 'powerdns', 'knot'] as const;

const key = testKey;

const keys: Record<string, SigningKey[]> = {
  bind: [key(257, 1), key(256, 2)],
  powerdns: [key(257, 3), key(256, 4)],
  knot: [key(257, 5), key(256, 6)],
};

const nsOf = (id: string) => `ns.${id}.test.`;

function events(limited?: string): ZoneEvent[] {
  const at = { zone, occurredAt: '2026-12-04T12:00:00.000Z', source };
  return [
    zoneEvent('zone-defined', at, {
      parentZone: 'test.',
      signers: SIGNERS.map((id) => ({
        id,
        kind: id,
        nameServerNames: [nsOf(id)],
        endpoints: [{ address: `127.0.0.${SIGNERS.indexOf(id) + 2}` }],
        ...(id === limited
          ? { limits: [{ capability: 'bootstrap-signal' as const, reason: 'no signallingZone' }] }
          : {}),
      })),
      timing: {
        childPropagationSeconds: 1,
        parentPropagationSeconds: 1,
        safetyMarginSeconds: 1,
        maxZoneTtlSeconds: 10,
      },
      recordTtlSeconds: 10,
    }),
    ...SIGNERS.map((signerId) =>
      zoneEvent('signer-keys-observed', at, { signerId, keys: keys[signerId]! }),
    ),
  ];
}

const stateOf = (limited?: string): ZoneState => foldZone(zone, events(limited));

function process(): ProcessState {
  return {
    id: 'p1',
    kind: 'bootstrap',
    signerId: 'bind',
    status: 'running',
    steps: [...BOOTSTRAP_STEPS],
    stepStates: [],
    currentStep: 0,
    groupBefore: [...SIGNERS],
    groupAfter: [...SIGNERS],
    startedAt: '2026-12-04T12:00:00.000Z',
  };
}

/** Each signer serving only its own keys, as before a bootstrap. */
function observation(id: string): SignerObservation {
  return {
    keys: keys[id]!,
    apex: [
      {
        zone,
        server: id,
        soa: null,
        cds: null,
        cdnskey: null,
        csync: null,
        ns: null,
        dnskey: {
          name: zone,
          type: 'DNSKEY',
          class: 'IN',
          ttl: 10,
          records: keys[id]!.map((k) => k.dnskey),
          signatures: [],
        },
      },
    ],
    denial: { method: 'NSEC' },
    content: { 'www.boot.test. A': ['192.0.2.80'] },
  };
}

const observations = Object.fromEntries(SIGNERS.map((id) => [id, observation(id)]));
const groupNs = SIGNERS.map(nsOf).sort();

function check(overrides: Partial<Parameters<typeof preflightChecks>[0]> = {}) {
  return preflightChecks({
    state: stateOf(),
    kind: 'bootstrap',
    signerId: 'bind',
    observations,
    parentDs: [],
    parentNs: groupNs,
    now: Date.parse('2026-12-04T12:00:00Z') / 1000,
    ...overrides,
  });
}

const codes = (reasons: { code: string }[]) => reasons.map((reason) => reason.code);

describe('BOOTSTRAP', () => {
  it('syncs the keys, signals, waits for the DS, then withdraws the signals, in that order', () => {
    expect(stepsFor('bootstrap').map((step) => step.name)).toEqual([
      'sync-dnskeys',
      'publish-signals',
      'await-parent-ds',
      'withdraw-signals',
    ]);
    const signalSteps = BOOTSTRAP_STEPS.filter((step) => step.action?.bootstrapSignals);
    expect(signalSteps.map((step) => step.action?.bootstrapSignals)).toEqual([
      'publish',
      'withdraw',
    ]);
    expect(BOOTSTRAP_STEPS[0]!.action?.bootstrapSignals).toBeUndefined();
    // Every provider is reachable before the DS: the old DNSKEY RRsets must expire before signals.
    expect(BOOTSTRAP_STEPS.map((step) => step.wait)).toEqual([
      'dnskey',
      null,
      'ds-and-dnskey',
      null,
    ]);
  });

  it("gives every signer the group's whole CDS/CDNSKEY set for its own NS names", () => {
    const state = stateOf();
    const desired = desiredForRecipe(state, process(), BOOTSTRAP_STEPS[1]!.action!);
    const ksks = SIGNERS.map((id) => keys[id]![0]!);
    for (const id of SIGNERS) {
      expect(desired[id]!.bootstrapSignals).toEqual({
        nameservers: [nsOf(id)],
        signals: {
          cds: ksks.map((ksk) => computeDs(zone, ksk.dnskey, 2)),
          cdnskey: ksks.map((ksk) => ksk.dnskey),
        },
      });
      expect(desired[id]!.apexNs).toEqual(groupNs);
    }
  });

  it('withdraws the signals in its last step and leaves them alone elsewhere', () => {
    const state = stateOf();
    const withdraw = desiredForRecipe(state, process(), BOOTSTRAP_STEPS[3]!.action!);
    expect(withdraw.knot!.bootstrapSignals).toEqual({ nameservers: [nsOf('knot')], signals: null });
    const sync = desiredForRecipe(state, process(), BOOTSTRAP_STEPS[0]!.action!);
    expect(sync.knot!.bootstrapSignals).toBeUndefined();
  });

  it('passes an insecure delegation to exactly the group, before the signers know each other', () => {
    expect(check()).toEqual([]);
  });

  it('refuses a delegation that already has a DS', () => {
    const reasons = check({ parentDs: [{ keyTag: keys.bind![0]!.keyTag, algorithm: 13 }] });
    expect(codes(reasons)).toEqual(['already-secure']);
    expect(reasons[0]!.message).toContain('signer add');
  });

  it('refuses a delegation to other NS names, naming both sets', () => {
    const reasons = check({ parentNs: ['ns.bind.test.', 'ns.other.test.'] });
    expect(codes(reasons)).toEqual(['delegation-differs']);
    expect(reasons[0]!.message).toContain('ns.other.test.');
    expect(reasons[0]!.message).toContain('ns.knot.test.');
  });

  it('refuses a signer that cannot publish signals, with its reason', () => {
    const reasons = check({ state: stateOf('powerdns') });
    expect(codes(reasons)).toEqual(['bootstrap-signal-impossible']);
    expect(reasons[0]!.message).toContain('powerdns');
    expect(reasons[0]!.message).toContain('no signallingZone');
  });

  it('still refuses what no group may have: a different algorithm', () => {
    const rsa = [key(257, 7), key(256, 8)].map((k) => ({ ...k, algorithm: 8 }));
    const reasons = check({
      observations: { ...observations, knot: { ...observation('knot'), keys: rsa } },
    });
    expect(codes(reasons)).toEqual(['algorithm-mismatch']);
  });
});
