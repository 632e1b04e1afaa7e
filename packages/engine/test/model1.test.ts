import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  zoneEvent,
  type DnskeyData,
  type OwnerKey,
  type SignedDnskeySnapshot,
  type ZoneEvent,
  type ZoneOwner,
} from '@chorus/core';
import { dnskeyOf, openFileOwnerKey, signDnskeySnapshots } from '@chorus/owner';
import { keyTag as keyTagOf } from '@chorus/dns';
import {
  ownerKsksInEffect,
  ownerSetCheck,
  ownerSigningDue,
  ownerSigningPlan,
} from '../src/model1.js';
import { decide, requestProcess } from '../src/decide.js';
import { applyZoneEvent } from '../src/state.js';
import { stepsFor } from '../src/processes.js';
import { preflightChecks } from '../src/preflight.js';
import { foldZone } from '../src/state.js';

const zone = 'owner.test.';
const source = { kind: 'operator', id: 'owner' };
const at = { zone, occurredAt: '2026-12-05T02:00:00.000Z', source };
const zsk = (): DnskeyData => ({
  ...dnskeyOf(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, 'zsk'),
  flags: 256,
});
const [KNOT_ZSK, NS1_ZSK] = [zsk(), zsk()];

let directory: string;
const keys: OwnerKey[] = [];
async function ownerKey(name: string): Promise<OwnerKey> {
  const file = path.join(directory, name);
  const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  });
  await writeFile(file, pem);
  await chmod(file, 0o600);
  const key = await openFileOwnerKey(file);
  keys.push(key);
  return key;
}
beforeAll(async () => void (directory = await mkdtemp(path.join(tmpdir(), 'chorus-m1-'))));
afterAll(async () => {
  await Promise.all(keys.map((key) => key.close()));
  await rm(directory, { recursive: true, force: true });
});

function defined(owner?: ZoneOwner): ZoneEvent {
  return zoneEvent('zone-defined', at, {
    parentZone: 'test.',
    signers: ['knot', 'ns1'].map((id) => ({
      id,
      kind: id,
      nameServerNames: [`ns.${id}.test.`],
      endpoints: [{ address: '127.0.0.1' }],
    })),
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

const signedBy = (owners: OwnerKey[]) =>
  signDnskeySnapshots(owners, {
    zone,
    ttl: 10,
    providers: {
      knot: [{ at: 1_800_000_000, zsks: [KNOT_ZSK] }],
      ns1: [{ at: 1_800_000_000, zsks: [NS1_ZSK] }],
    },
    now: 1_800_000_000,
    validity: { inceptionSlackSeconds: 3600, overlapSeconds: 60, lastSnapshotSeconds: 3600 },
  });
/** A sidecar's registration; `held`: its plugin holds key rolls (a key roller). */
const registered = (id: string, held = false) =>
  zoneEvent('signer-registered', at, {
    signer: {
      id,
      kind: id,
      nameServerNames: [`ns.${id}.test.`],
      endpoints: [{ address: '127.0.0.1' }],
      ...(held ? { rollover: { mode: 'held' as const } } : {}),
    },
  });
const signedEvent = (snapshots: SignedDnskeySnapshot[]) =>
  zoneEvent('dnskey-set-signed', at, { snapshots, reason: 'initial' });
const ownerOf = (key: OwnerKey): ZoneOwner => ({
  dnskeys: [key.dnskey],
  signatureValiditySeconds: 3600,
  refreshLeadSeconds: 1800,
});

describe("model 1 in the fold: only the owner's signatures change the zone", () => {
  it('applies a set every RRSIG of which verifies with an owner KSK', async () => {
    const owner = await ownerKey('owner.pem');
    const snapshots = await signedBy([owner]);
    const state = foldZone(zone, [defined(ownerOf(owner)), signedEvent(snapshots)]);
    expect(state.owner?.dnskeys).toEqual([owner.dnskey]);
    expect(state.ownerSigned?.snapshots).toEqual(snapshots);
    expect(state.securityFindings).toEqual([]);
  });

  it('refuses a set changed after signing, one signed by another key, and any set in model 2', async () => {
    const [owner, stranger] = [await ownerKey('a.pem'), await ownerKey('b.pem')];
    const snapshots = await signedBy([owner]);
    const tampered = snapshots.map((snapshot) => ({
      ...snapshot,
      dnskeys: [...snapshot.dnskeys, zsk()],
    }));
    const cases: [ZoneEvent[], RegExp][] = [
      [[defined(ownerOf(owner)), signedEvent(tampered)], /RRSIG by owner KSK \d+ does not verify/],
      [[defined(ownerOf(owner)), signedEvent(await signedBy([stranger]))], /holds no owner KSK/],
      [[defined(), signedEvent(snapshots)], /the zone is in model 2/],
    ];
    for (const [events, message] of cases) {
      const state = foldZone(zone, events);
      expect(state.ownerSigned).toBeUndefined();
      expect(state.securityFindings.map((finding) => finding.code)).toEqual([
        'owner-signature-invalid',
      ]);
      expect(state.securityFindings[0]!.message).toMatch(message);
    }
  });

  it("records each signer's planned ZSKs", () => {
    const planned = [{ at: 1_800_000_000, zsks: [KNOT_ZSK] }];
    const state = foldZone(zone, [
      defined(),
      zoneEvent('signer-zsks-planned', at, { signerId: 'knot', planned }),
    ]);
    expect(state.signers.knot?.plannedZsks).toEqual(planned);
  });
});

describe('when the owner signs (PUSH, standards §7.5)', () => {
  const NOW = 1_800_000_000;
  const planned = (id: string, key: DnskeyData) =>
    zoneEvent('signer-zsks-planned', at, { signerId: id, planned: [{ at: NOW, zsks: [key] }] });

  it('waits for every member to list its planned ZSKs, then signs the first set', async () => {
    const owner = await ownerKey('due.pem');
    const partial = foldZone(zone, [defined(ownerOf(owner)), planned('knot', KNOT_ZSK)]);
    expect(ownerSigningDue(partial, NOW)).toEqual({
      kind: 'wait',
      why: 'waiting for the planned ZSKs of ns1',
    });
    const complete = foldZone(zone, [
      defined(ownerOf(owner)),
      planned('knot', KNOT_ZSK),
      planned('ns1', NS1_ZSK),
    ]);
    expect(ownerSigningDue(complete, NOW)).toEqual({ kind: 'sign', reason: 'initial' });
    expect(ownerSigningDue(foldZone(zone, [defined()]), NOW).kind).toBe('wait');
  });

  it('waits while the signed set is current, re-signs when a ZSK changes or the refresh is due', async () => {
    const owner = await ownerKey('refresh.pem');
    const base = [defined(ownerOf(owner)), planned('knot', KNOT_ZSK), planned('ns1', NS1_ZSK)];
    const snapshots = await signDnskeySnapshots(
      [owner],
      ownerSigningPlan(foldZone(zone, base), NOW),
    );
    const signed = foldZone(zone, [...base, signedEvent(snapshots)]);
    expect(signed.ownerSigned).toBeDefined();
    const expires = Math.max(...snapshots[0]!.rrsigs.map((sig) => sig.expiration));
    // The validity (3600 s) plus what a cache may keep: TTL 10 + DprpC 1 + S 1.
    expect(expires).toBe(NOW + 3600 + 12);
    expect(ownerSigningDue(signed, NOW + 60)).toMatchObject({ kind: 'wait' });
    // Refresh lead 1800 s, plus the transit (key watch 30 + DprpC 1 + S 1): with less left, the
    // owner signs again.
    expect(ownerSigningDue(signed, expires - 1831)).toEqual({ kind: 'sign', reason: 'refresh' });
    expect(ownerSigningDue(signed, expires - 1833)).toMatchObject({ kind: 'wait' });
    const rolled = foldZone(zone, [...base, signedEvent(snapshots), planned('ns1', zsk())]);
    expect(ownerSigningDue(rolled, NOW + 60)).toEqual({ kind: 'sign', reason: 'keys-changed' });
  });
});

describe('processes on a model-1 zone', () => {
  it("are refused with the reason: model 2's steps would publish keys the owner has not signed", async () => {
    const owner = await ownerKey('refusal.pem');
    const input = (state: ReturnType<typeof foldZone>) => ({
      state,
      kind: 'bootstrap' as const,
      signerId: 'ns1',
      observations: {},
      parentDs: [],
      now: 1_800_000_000,
    });
    const model1 = preflightChecks(input(foldZone(zone, [defined(ownerOf(owner))])));
    expect(model1.map((reason) => reason.code)).toEqual(['model-1-unsupported']);
    expect(model1[0]!.message).toMatch(/is in model 1 .*bootstrap has no model-1 steps yet/);
    // Negative control: the same request on a model-2 zone is judged by model 2's checks.
    const model2 = preflightChecks(input(foldZone(zone, [defined()])));
    expect(model2.map((reason) => reason.code)).not.toContain('model-1-unsupported');
  });
});

describe("a provider's ZSK roll in model 1 (M1-ZSK, standards §7.5)", () => {
  const NOW = 1_800_000_000;
  const knotZsk = { role: 'ZSK' as const, algorithm: 13, keyTag: 1, dnskey: KNOT_ZSK };
  const planned = (id: string, ...zsks: DnskeyData[]) =>
    zoneEvent('signer-zsks-planned', at, { signerId: id, planned: [{ at: NOW, zsks }] });
  const request = (state: ReturnType<typeof foldZone>, role?: 'KSK') => ({
    state,
    kind: role ? ('roll-ksk' as const) : ('roll-zsk' as const),
    signerId: 'knot',
    observations: {},
    parentDs: [],
    now: NOW,
    ...(role ? { role } : {}),
  });

  it('has steps of its own: the owner pushes the successor everywhere before it signs, and the set without the predecessor after', () => {
    const steps = stepsFor('roll-zsk', 'held', 1);
    expect(steps.map((step) => `${step.name}:${step.postcondition.kind}:${step.wait}`)).toEqual([
      'introduce-successor:successor-published:null',
      'push-owner-set:owner-set-served:dnskey',
      'activate-successor:predecessor-not-signing:signatures',
      'remove-predecessor:predecessor-removed:null',
      'push-owner-set-without-predecessor:owner-set-served:null',
    ]);
    // No step publishes keys through model 2's desired states.
    expect(steps.every((step) => step.action === null)).toBe(true);
    expect(stepsFor('bootstrap', 'held', 1)).toEqual([]);
  });

  it('runs only once the owner has signed, at a signer that holds its keys, and never for the KSK', async () => {
    const owner = await ownerKey('roll.pem');
    const base = [
      registered('knot', true),
      registered('ns1', false),
      zoneEvent('signer-keys-observed', at, { signerId: 'knot', keys: [knotZsk] }),
      defined(ownerOf(owner)),
      planned('knot', KNOT_ZSK),
      planned('ns1', NS1_ZSK),
    ];
    const unsigned = foldZone(zone, base);
    expect(preflightChecks(request(unsigned)).map((reason) => reason.code)).toEqual([
      'owner-not-signed',
    ]);
    const snapshots = await signDnskeySnapshots([owner], ownerSigningPlan(unsigned, NOW));
    const signed = foldZone(zone, [...base, signedEvent(snapshots)]);
    expect(preflightChecks(request(signed))).toEqual([]);
    expect(preflightChecks(request(signed, 'KSK')).map((reason) => reason.code)).toEqual([
      'owner-key',
    ]);
    // Negative control: a signer that registered no key roller is refused, naming the capability.
    const ns1 = { ...request(signed), signerId: 'ns1' };
    expect(preflightChecks(ns1).map((reason) => reason.code)).toContain('capability-missing');
  });

  it("judges a PUSH by the owner's signed set against every member's plan", async () => {
    const owner = await ownerKey('push.pem');
    const base = [defined(ownerOf(owner)), planned('knot', KNOT_ZSK), planned('ns1', NS1_ZSK)];
    const snapshots = await signDnskeySnapshots(
      [owner],
      ownerSigningPlan(foldZone(zone, base), NOW),
    );
    const signed = foldZone(zone, [...base, signedEvent(snapshots)]);
    expect(ownerSetCheck(signed, ['knot', 'ns1'], NOW + 1).unsigned).toEqual([]);
    const successor = zsk();
    const introduced = foldZone(zone, [
      ...base,
      signedEvent(snapshots),
      planned('knot', KNOT_ZSK, successor),
    ]);
    const check = ownerSetCheck(introduced, ['knot', 'ns1'], NOW + 1);
    expect(check.unsigned).toEqual([expect.stringMatching(/^lacks ZSK \d+$/)]);
    const removed = foldZone(zone, [...base, signedEvent(snapshots), planned('knot', successor)]);
    expect(ownerSetCheck(removed, ['knot', 'ns1'], NOW + 1).unsigned).toEqual([
      expect.stringMatching(/^lacks ZSK \d+$/),
      expect.stringMatching(/^still holds ZSK \d+$/),
    ]);
  });
});

describe("the owner's KSK roll in model 1 (M1-KSK, double signature)", () => {
  const NOW = 1_800_000_000;
  const planned = (id: string, key: DnskeyData) =>
    zoneEvent('signer-zsks-planned', at, { signerId: id, planned: [{ at: NOW, zsks: [key] }] });
  const context = { source, now: new Date(NOW * 1000).toISOString() };

  async function signedGroup() {
    const [oldKey, newKey] = [await ownerKey('old-ksk.pem'), await ownerKey('new-ksk.pem')];
    const base = [defined(ownerOf(oldKey)), planned('knot', KNOT_ZSK), planned('ns1', NS1_ZSK)];
    const snapshots = await signDnskeySnapshots(
      [oldKey],
      ownerSigningPlan(foldZone(zone, base), NOW),
    );
    return { oldKey, newKey, state: foldZone(zone, [...base, signedEvent(snapshots)]) };
  }

  const requested = (signerId: string, ownerKsk?: DnskeyData) =>
    zoneEvent('process-requested', at, {
      processId: 'p1',
      kind: 'roll-ksk',
      signerId,
      requestedBy: 'owner',
      role: 'KSK',
      ...(ownerKsk ? { ownerKsk } : {}),
    });
  const preflight = (state: ReturnType<typeof foldZone>, signerId: string, dsTags: number[]) =>
    preflightChecks({
      state,
      kind: 'roll-ksk',
      signerId,
      role: 'KSK',
      observations: {},
      parentDs: dsTags.map((keyTag) => ({ keyTag, algorithm: 13 })),
      now: NOW,
    }).map((reason) => reason.code);

  it("is the owner's: named owner, with a new KSK of the same algorithm, from a parent DS that validates", async () => {
    const { oldKey, newKey, state } = await signedGroup();
    const oldTag = keyTagOf(oldKey.dnskey);
    expect(preflight(applyZoneEvent(state, requested('knot')), 'knot', [oldTag])).toEqual([
      'owner-key',
    ]);
    expect(preflight(applyZoneEvent(state, requested('owner')), 'owner', [oldTag])).toEqual([
      'owner-ksk-missing',
    ]);
    const asked = applyZoneEvent(state, requested('owner', newKey.dnskey));
    expect(preflight(asked, 'owner', [oldTag])).toEqual([]);
    // Negative controls: a parent DS naming no owner KSK, a key the owner already has.
    expect(preflight(asked, 'owner', [1])).toEqual(['parent-ds-mismatch']);
    const again = applyZoneEvent(state, requested('owner', oldKey.dnskey));
    expect(preflight(again, 'owner', [oldTag])).toContain('already-owner-ksk');
  });

  it('signs with both KSKs, expects the DS of the new one alone, then signs with the new one only', async () => {
    const { oldKey, newKey, state } = await signedGroup();
    const tags = (keys: DnskeyData[]) => keys.map((key) => keyTagOf(key)).sort();
    let current = applyZoneEvent(state, requested('owner', newKey.dnskey));
    current = applyZoneEvent(
      current,
      requestProcess(current, context, {
        processId: 'p1',
        kind: 'roll-ksk',
        signerId: 'owner',
        preflight: [],
      }),
    );
    const process = () => current.activeProcesses[0]!;
    expect(process().steps.map((step) => step.name)).toEqual([
      'introduce-owner-ksk',
      'await-parent-ds',
      'retire-owner-ksk',
    ]);
    expect(tags(ownerKsksInEffect(current))).toEqual(tags([oldKey.dnskey, newKey.dnskey]));
    expect(ownerSigningDue(current, NOW + 1)).toEqual({ kind: 'sign', reason: 'keys-changed' });
    // The fold accepts the set signed by both (the successor is the roll's).
    const both = await signDnskeySnapshots([oldKey, newKey], ownerSigningPlan(current, NOW + 1));
    current = applyZoneEvent(current, signedEvent(both));
    expect(current.securityFindings).toEqual([]);
    expect(ownerSetCheck(current, ['knot', 'ns1'], NOW + 2).unsigned).toEqual([]);
    // Through the first two steps; the parent step expects the new KSK's DS alone.
    const finish = (stepIndex: number) => {
      for (const [type, data] of [
        ['step-started', { processId: 'p1', stepIndex, desired: {} }],
        ['postcondition-met', { processId: 'p1', stepIndex, observedAt: at.occurredAt, ttls: {} }],
        ['step-completed', { processId: 'p1', stepIndex }],
      ] as const)
        current = applyZoneEvent(current, zoneEvent(type, at, data as never));
    };
    finish(0);
    current = applyZoneEvent(
      current,
      zoneEvent('step-started', at, { processId: 'p1', stepIndex: 1, desired: {} }),
    );
    const observe = decide(current, { ...context, selfSignerId: 'knot' });
    expect(observe.kind).toBe('observe');
    const check = (observe as Extract<typeof observe, { kind: 'observe' }>).check;
    expect(check.kind === 'parent-ds-matches' && check.expectedDs.map((ds) => ds.keyTag)).toEqual([
      keyTagOf(newKey.dnskey),
    ]);
    current = applyZoneEvent(
      current,
      zoneEvent('postcondition-met', at, {
        processId: 'p1',
        stepIndex: 1,
        observedAt: at.occurredAt,
        ttls: {},
      }),
    );
    current = applyZoneEvent(
      current,
      zoneEvent('step-completed', at, { processId: 'p1', stepIndex: 1 }),
    );
    // Until the retire step starts (its pre-condition seen), both KSKs stay.
    expect(ownerKsksInEffect(current)).toHaveLength(2);
    current = applyZoneEvent(
      current,
      zoneEvent('step-started', at, { processId: 'p1', stepIndex: 2, desired: {} }),
    );
    expect(tags(ownerKsksInEffect(current))).toEqual([keyTagOf(newKey.dnskey)]);
    expect(ownerSigningDue(current, NOW + 3)).toEqual({ kind: 'sign', reason: 'keys-changed' });
    const alone = await signDnskeySnapshots([newKey], ownerSigningPlan(current, NOW + 3));
    current = applyZoneEvent(current, signedEvent(alone));
    expect(current.securityFindings).toEqual([]);
    current = applyZoneEvent(
      current,
      zoneEvent('process-completed', at, { processId: 'p1', groupAfter: ['knot', 'ns1'] }),
    );
    // The definition follows: the new KSK alone, whose signatures the fold keeps accepting.
    expect(current.owner?.dnskeys).toEqual([newKey.dnskey]);
    const stale = applyZoneEvent(current, signedEvent(both));
    expect(stale.securityFindings.map((finding) => finding.code)).toEqual([
      'owner-signature-invalid',
    ]);
  });
});

describe('join and leave in model 1 (M1-ADD, M1-REMOVE, standards §7.5)', () => {
  const NOW = 1_800_000_000;
  const context = { source, now: new Date(NOW * 1000).toISOString() };
  const PDNS_ZSK = zsk();
  const planned = (id: string, key: DnskeyData) =>
    zoneEvent('signer-zsks-planned', at, { signerId: id, planned: [{ at: NOW, zsks: [key] }] });
  const observed = { keys: [], servers: [] } as never;
  const preflight = (
    state: ReturnType<typeof foldZone>,
    kind: 'add-signer' | 'remove-signer',
    signerId: string,
  ) =>
    preflightChecks({
      state,
      kind,
      signerId,
      observations: { knot: observed, ns1: observed, extra: observed },
      parentDs: [],
      now: NOW,
    }).map((reason) => reason.code);

  async function signedGroup() {
    const owner = await ownerKey(`join-${Math.random()}.pem`);
    const base = [
      registered('knot'),
      registered('ns1'),
      registered('extra'),
      defined(ownerOf(owner)),
      planned('knot', KNOT_ZSK),
      planned('ns1', NS1_ZSK),
    ];
    const snapshots = await signDnskeySnapshots(
      [owner],
      ownerSigningPlan(foldZone(zone, base), NOW),
    );
    return { owner, state: foldZone(zone, [...base, signedEvent(snapshots)]) };
  }

  const start = (
    state: ReturnType<typeof foldZone>,
    kind: 'add-signer' | 'remove-signer',
    signerId: string,
  ) => {
    let current = applyZoneEvent(
      state,
      zoneEvent('process-requested', at, { processId: 'p1', kind, signerId, requestedBy: 'owner' }),
    );
    current = applyZoneEvent(
      current,
      requestProcess(current, context, { processId: 'p1', kind, signerId, preflight: [] }),
    );
    return current;
  };
  const started = (state: ReturnType<typeof foldZone>, stepIndex: number) =>
    applyZoneEvent(
      state,
      zoneEvent('step-started', at, { processId: 'p1', stepIndex, desired: {} }),
    );

  const finished = (state: ReturnType<typeof foldZone>, stepIndex: number) => {
    const observedAt = at.occurredAt;
    return [
      zoneEvent('postcondition-met', at, { processId: 'p1', stepIndex, observedAt, ttls: {} }),
      zoneEvent('step-completed', at, { processId: 'p1', stepIndex }),
    ].reduce(applyZoneEvent, started(state, stepIndex));
  };

  it('have steps of their own: the owner pushes before the NS change, and after the leaver is out of every cache', () => {
    const shape = (kind: 'add-signer' | 'remove-signer') =>
      stepsFor(kind, 'held', 1).map(
        (step) => `${step.name}:${step.postcondition.kind}:${step.wait}`,
      );
    expect(shape('add-signer')).toEqual([
      'push-owner-set:owner-set-served:dnskey',
      'sync-ns:desired-state-served:null',
      'publish-csync:desired-state-served:null',
      'await-parent-ns:parent-ns-matches:ns',
      'remove-csync:desired-state-served:null',
    ]);
    expect(shape('remove-signer')).toEqual([
      'sync-ns:desired-state-served:null',
      'publish-csync:desired-state-served:null',
      'await-parent-ns:parent-ns-matches:ns',
      'remove-csync:desired-state-served:null',
      'retire-leaving-signer:none:signatures',
      'push-owner-set-without-leaver:owner-set-served:null',
    ]);
    // Every recipe leaves DNSKEY, CDS and CDNSKEY to the owner; no step waits for the parent's DS.
    for (const kind of ['add-signer', 'remove-signer'] as const)
      for (const step of stepsFor(kind, 'held', 1)) {
        if (step.action) expect(step.action.keys).toBe('owner');
        expect(step.postcondition.kind).not.toBe('parent-ds-matches');
      }
  });

  it("are refused until the joiner's plan is known, for a stranger, a member, and the last signer", async () => {
    const { state } = await signedGroup();
    expect(preflight(state, 'add-signer', 'extra')).toEqual(['plan-unknown']);
    const known = applyZoneEvent(state, planned('extra', PDNS_ZSK));
    expect(preflight(known, 'add-signer', 'extra')).toEqual([]);
    expect(preflight(known, 'add-signer', 'knot')).toEqual(['already-member']);
    expect(preflight(known, 'add-signer', 'stranger')).toEqual(['unknown-signer']);
    const rsa = { ...zsk(), algorithm: 8 };
    expect(preflight(applyZoneEvent(state, planned('extra', rsa)), 'add-signer', 'extra')).toEqual([
      'algorithm-mismatch',
    ]);
    expect(preflight(known, 'remove-signer', 'ns1')).toEqual([]);
    expect(preflight(known, 'remove-signer', 'extra')).toEqual(['not-a-member']);
  });

  it("sign the joiner's ZSK from the join's start, and the leaver's until its signatures are gone", async () => {
    const { state } = await signedGroup();
    const has = (current: ReturnType<typeof foldZone>) =>
      ownerSigningPlan(current, NOW + 1).providers;
    let joining = start(applyZoneEvent(state, planned('extra', PDNS_ZSK)), 'add-signer', 'extra');
    expect(Object.keys(has(joining))).toEqual(['knot', 'ns1', 'extra']);
    expect(ownerSigningDue(joining, NOW + 1)).toEqual({ kind: 'sign', reason: 'keys-changed' });
    expect(ownerSetCheck(joining, ['knot', 'ns1', 'extra'], NOW + 1).unsigned).toEqual([
      expect.stringMatching(/^lacks ZSK \d+$/),
    ]);
    joining = started(joining, 0);
    expect(joining.activeProcesses[0]!.steps.map((step) => step.name)[0]).toBe('push-owner-set');

    let leaving = start(state, 'remove-signer', 'ns1');
    for (let step = 0; step < 5; step += 1) {
      leaving = finished(leaving, step);
      expect(ownerSigningDue(leaving, NOW + 1)).toMatchObject({ kind: 'wait' });
    }
    leaving = started(leaving, 5);
    expect(Object.keys(ownerSigningPlan(leaving, NOW + 1).providers)).toEqual(['knot']);
    expect(ownerSigningDue(leaving, NOW + 1)).toEqual({ kind: 'sign', reason: 'keys-changed' });
    expect(ownerSetCheck(leaving, ['knot'], NOW + 1).unsigned).toEqual([
      expect.stringMatching(/^still holds ZSK \d+$/),
    ]);
  });
});
