// What a person must change at the parent: DS (with DNSKEY) or NS (with glue), and what differs.
import { describe, expect, it } from 'vitest';
import { computeDs, formatRdata, keyTag } from '@chorus/dns';
import {
  zoneEvent,
  type Delegation,
  type DnskeyData,
  type DsData,
  type ParentChannel,
  type ProcessKind,
  type SignerReference,
  type SigningKey,
  type ZoneEvent,
} from '@chorus/core';
import { expectedDsFor, nameServersOf } from '../src/desired.js';
import { isNewParentChange, parentChangeFor, type ParentCheck } from '../src/parent-change.js';
import { observePostcondition } from '../src/observe.js';
import { stepsFor } from '../src/processes.js';
import { applyZoneEvent, foldZone, type ZoneState } from '../src/state.js';

const ZONE = 'example.test.';
const PARENT = 'test.';
const RECORD_TTL = 300;
const PARENT_DS_TTL = 86400;
const source = { kind: 'sidecar', id: 'bind' };
const fields = (second = 0) => ({
  zone: ZONE,
  source,
  occurredAt: new Date(Date.UTC(2026, 0, 1, 10, 0, second)).toISOString(),
});

function ksk(fill: number): SigningKey {
  const dnskey: DnskeyData = {
    flags: 257,
    protocol: 3,
    algorithm: 13,
    publicKey: Buffer.alloc(64, fill).toString('base64'),
  };
  return { role: 'KSK', algorithm: 13, keyTag: keyTag(dnskey), dnskey };
}

const BIND_KSK = ksk(1);
const KNOT_KSK = ksk(2);

function signer(id: string, names: string[], addresses: string[]): SignerReference {
  return {
    id,
    kind: id,
    nameServerNames: names,
    endpoints: addresses.map((address) => ({ address, port: 53 })),
  };
}

const BIND = signer('bind', ['ns1.bind.example.'], ['192.0.2.1']);
/** In bailiwick: its names need glue at the parent. */
const KNOT = signer(
  'knot',
  ['ns1.example.test.', 'ns2.example.test.'],
  ['2001:db8::2', '192.0.2.2'],
);

const dsOf = (key: SigningKey) => computeDs(ZONE, key.dnskey, 2);
const dsLine = (ds: DsData, ttl = PARENT_DS_TTL) =>
  `${ZONE} ${ttl} IN DS ${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${ds.digest}`;
const dnskeyLine = (key: SigningKey) =>
  `${ZONE} ${RECORD_TTL} IN DNSKEY ${formatRdata({ type: 'DNSKEY', data: key.dnskey })}`;

/**
 * A zone whose group is `members`, running `kind` of knot, with every step before `stepName`
 * completed and `stepName` started.
 */
function zoneAtStep(kind: ProcessKind, members: string[], stepName: string): ZoneState {
  const steps = stepsFor(kind);
  const target = steps.findIndex((step) => step.name === stepName);
  const groupAfter = kind === 'add-signer' ? [...members, 'knot'] : ['bind'];
  const stepEvents = Array.from({ length: target + 1 }, (_, index) => [
    zoneEvent('step-started', fields(), { processId: 'p1', stepIndex: index, desired: {} }),
    ...(index < target
      ? [zoneEvent('step-completed', fields(), { processId: 'p1', stepIndex: index })]
      : []),
  ]).flat();
  const events: ZoneEvent[] = [
    zoneEvent('signer-registered', fields(), { signer: BIND }),
    zoneEvent('signer-registered', fields(), { signer: KNOT }),
    zoneEvent('zone-defined', fields(), {
      parentZone: PARENT,
      signers: members.map((id) => (id === 'bind' ? BIND : KNOT)),
      timing: {
        childPropagationSeconds: 1,
        parentPropagationSeconds: 1,
        safetyMarginSeconds: 1,
        maxZoneTtlSeconds: 30,
      },
      recordTtlSeconds: RECORD_TTL,
    }),
    zoneEvent('signer-keys-observed', fields(), { signerId: 'bind', keys: [BIND_KSK] }),
    zoneEvent('signer-keys-observed', fields(), { signerId: 'knot', keys: [KNOT_KSK] }),
    zoneEvent('process-requested', fields(), {
      processId: 'p1',
      kind,
      signerId: 'knot',
      requestedBy: 'alice',
    }),
    zoneEvent('process-started', fields(), {
      processId: 'p1',
      kind,
      signerId: 'knot',
      steps: [...steps],
      groupBefore: members,
      groupAfter,
    }),
    ...stepEvents,
  ];
  return foldZone(ZONE, events);
}

function delegation(parts: {
  ds?: DsData[];
  ns?: string[];
  glue?: Delegation['glue'];
}): Delegation {
  const rrset = { name: ZONE, class: 'IN' as const, signatures: [] };
  return {
    zone: ZONE,
    parent: PARENT,
    observedAt: '2026-01-01T10:00:00.000Z',
    ds: parts.ds ? { ...rrset, type: 'DS', ttl: PARENT_DS_TTL, records: parts.ds } : null,
    ns: parts.ns ? { ...rrset, type: 'NS', ttl: 3600, records: parts.ns } : null,
    glue: parts.glue ?? [],
    consistent: true,
    servers: [],
  };
}

const dsCheck = (state: ZoneState, group: string[]): ParentCheck => ({
  kind: 'parent-ds-matches',
  expectedDs: expectedDsFor(state, group),
});
const nsCheck = (state: ZoneState, group: string[]): ParentCheck => ({
  kind: 'parent-ns-matches',
  expectedNs: nameServersOf(state, group),
});

function context(state: ZoneState) {
  return { processId: 'p1', stepIndex: state.processes[0]!.currentStep, parentZone: PARENT };
}

describe('the DS change a person must make at the parent', () => {
  it('ADD-SIGNER: adds the joiner’s DS, keeps the others, and names the joiner’s DNSKEY', () => {
    const state = zoneAtStep('add-signer', ['bind'], 'await-parent-ds');
    const change = parentChangeFor(
      state,
      dsCheck(state, ['bind', 'knot']),
      delegation({ ds: [dsOf(BIND_KSK)] }),
      context(state),
    );
    expect(change).toEqual({
      processId: 'p1',
      stepIndex: 2,
      parentZone: PARENT,
      kind: 'ds',
      ds: { add: [dsLine(dsOf(KNOT_KSK))], remove: [], keep: [dsLine(dsOf(BIND_KSK))] },
      dnskey: { add: [dnskeyLine(KNOT_KSK)], remove: [] },
      differs: [],
    });
  });

  it('writes DS lines at the zone’s record TTL when the parent serves no DS yet', () => {
    const state = zoneAtStep('add-signer', ['bind'], 'await-parent-ds');
    const change = parentChangeFor(
      state,
      dsCheck(state, ['bind', 'knot']),
      delegation({}),
      context(state),
    );
    expect(change?.ds?.add).toEqual([
      dsLine(dsOf(BIND_KSK), RECORD_TTL),
      dsLine(dsOf(KNOT_KSK), RECORD_TTL),
    ]);
  });

  it('REMOVE-SIGNER: removes the leaving signer’s DS and its DNSKEY', () => {
    const state = zoneAtStep('remove-signer', ['bind', 'knot'], 'await-parent-ds');
    const change = parentChangeFor(
      state,
      dsCheck(state, ['bind']),
      delegation({ ds: [dsOf(BIND_KSK), dsOf(KNOT_KSK)] }),
      context(state),
    );
    expect(change?.ds).toEqual({
      add: [],
      remove: [dsLine(dsOf(KNOT_KSK))],
      keep: [dsLine(dsOf(BIND_KSK))],
    });
    expect(change?.dnskey).toEqual({ add: [], remove: [dnskeyLine(KNOT_KSK)] });
    expect(change?.differs).toEqual([]);
  });

  it('names a wrong DS at the parent (a typo in the digest), and omits the DNSKEY it has none for', () => {
    const state = zoneAtStep('add-signer', ['bind'], 'await-parent-ds');
    const typo = { ...dsOf(KNOT_KSK), digest: 'AB'.repeat(32) };
    const change = parentChangeFor(
      state,
      dsCheck(state, ['bind', 'knot']),
      delegation({ ds: [dsOf(BIND_KSK), typo] }),
      context(state),
    );
    expect(change?.ds?.add).toEqual([dsLine(dsOf(KNOT_KSK))]);
    expect(change?.ds?.remove).toEqual([dsLine(typo)]);
    expect(change?.dnskey).toEqual({ add: [dnskeyLine(KNOT_KSK)], remove: [] });
    expect(change?.differs).toEqual([
      `the parent lists DS ${dsLine(typo)}, which matches no key of the group`,
    ]);
  });

  it('says the parent dropped a DS that must stay', () => {
    const state = zoneAtStep('add-signer', ['bind'], 'await-parent-ds');
    const change = parentChangeFor(
      state,
      dsCheck(state, ['bind', 'knot']),
      delegation({ ds: [dsOf(KNOT_KSK)] }),
      context(state),
    );
    expect(change?.differs).toContain(
      `the parent dropped DS ${dsLine(dsOf(BIND_KSK))}, which must stay`,
    );
  });

  it('is null when the parent already matches, and for a check that is not about the parent', () => {
    const state = zoneAtStep('add-signer', ['bind'], 'await-parent-ds');
    const matching = delegation({ ds: [dsOf(KNOT_KSK), dsOf(BIND_KSK)] });
    expect(
      parentChangeFor(state, dsCheck(state, ['bind', 'knot']), matching, context(state)),
    ).toBeNull();
    expect(parentChangeFor(state, { kind: 'none' }, matching, context(state))).toBeNull();
  });
});

describe('the NS change a person must make at the parent', () => {
  const BIND_NS = 'ns1.bind.example.';

  it('adds the joiner’s names with their glue; a name outside the zone gets none', () => {
    const state = zoneAtStep('add-signer', ['bind'], 'await-parent-ns');
    const change = parentChangeFor(
      state,
      nsCheck(state, ['bind', 'knot']),
      delegation({ ns: [BIND_NS] }),
      context(state),
    );
    expect(change).toMatchObject({
      kind: 'ns',
      ns: { add: ['ns1.example.test.', 'ns2.example.test.'], remove: [], keep: [BIND_NS] },
      glue: {
        add: [
          { name: 'ns1.example.test.', addresses: ['192.0.2.2', '2001:db8::2'] },
          { name: 'ns2.example.test.', addresses: ['192.0.2.2', '2001:db8::2'] },
        ],
        remove: [],
      },
      differs: [],
    });
    expect(change?.ds).toBeUndefined();
  });

  it('names the done and the missing part of a partial change', () => {
    const state = zoneAtStep('add-signer', ['bind'], 'await-parent-ns');
    const change = parentChangeFor(
      state,
      nsCheck(state, ['bind', 'knot']),
      delegation({ ns: [BIND_NS, 'NS1.example.test.'] }),
      context(state),
    );
    expect(change?.ns).toEqual({
      add: ['ns2.example.test.'],
      remove: [],
      keep: [BIND_NS, 'ns1.example.test.'],
    });
    // The parent serves no address for the kept in-bailiwick name: its glue is missing too.
    expect(change?.glue?.add.map((glue) => glue.name)).toEqual([
      'ns2.example.test.',
      'ns1.example.test.',
    ]);
    expect(change?.differs).toEqual([
      'the parent made part of the change: done: add NS ns1.example.test.; missing: add NS ns2.example.test.',
    ]);
  });

  it('names an NS at the parent that no signer serves', () => {
    const state = zoneAtStep('add-signer', ['bind'], 'await-parent-ns');
    const change = parentChangeFor(
      state,
      nsCheck(state, ['bind', 'knot']),
      delegation({ ns: [BIND_NS, 'ns9.elsewhere.example.'] }),
      context(state),
    );
    expect(change?.ns?.remove).toEqual(['ns9.elsewhere.example.']);
    expect(change?.differs).toContain(
      'the parent lists NS ns9.elsewhere.example., which no signer serves',
    );
  });

  it('REMOVE-SIGNER: removes the leaving names with the glue the parent holds for them', () => {
    const state = zoneAtStep('remove-signer', ['bind', 'knot'], 'await-parent-ns');
    const change = parentChangeFor(
      state,
      nsCheck(state, ['bind']),
      delegation({
        ns: [BIND_NS, 'ns1.example.test.', 'ns2.example.test.'],
        glue: [{ name: 'ns1.example.test.', addresses: ['192.0.2.99'], ttl: 3600 }],
      }),
      context(state),
    );
    expect(change?.ns?.remove).toEqual(['ns1.example.test.', 'ns2.example.test.']);
    expect(change?.glue?.add).toEqual([]);
    expect(change?.glue?.remove).toEqual([
      { name: 'ns1.example.test.', addresses: ['192.0.2.99'] },
      { name: 'ns2.example.test.', addresses: ['192.0.2.2', '2001:db8::2'] },
    ]);
    expect(change?.differs).toEqual([]);
  });

  it('is null when the parent delegates to exactly the expected names', () => {
    const state = zoneAtStep('add-signer', ['bind'], 'await-parent-ns');
    const check = nsCheck(state, ['bind', 'knot']);
    const all = delegation({ ns: ['ns2.example.test.', BIND_NS, 'ns1.example.test.'] });
    expect(parentChangeFor(state, check, all, context(state))).toBeNull();
  });
});

describe('the fold keeps the parent change on its step', () => {
  const BIND_NS = 'ns1.bind.example.';

  function recorded(state: ZoneState, parentNs: string[], second: number): ZoneState {
    const change = parentChangeFor(
      state,
      nsCheck(state, ['bind', 'knot']),
      delegation({ ns: parentNs }),
      context(state),
    )!;
    return applyZoneEvent(state, zoneEvent('parent-change-needed', fields(second), change));
  }

  it('records the latest, keeps what was first asked for, and keeps it as history once met', () => {
    const start = zoneAtStep('add-signer', ['bind'], 'await-parent-ns');
    const stepIndex = start.processes[0]!.currentStep;
    const first = recorded(start, [BIND_NS], 1);
    expect(first.processes[0]!.stepStates[stepIndex]!.parentChange).toMatchObject({
      kind: 'ns',
      parentZone: PARENT,
      at: fields(1).occurredAt,
      ns: { add: ['ns1.example.test.', 'ns2.example.test.'] },
      requested: { add: ['ns1.example.test.', 'ns2.example.test.'], remove: [] },
    });
    const partial = recorded(first, [BIND_NS, 'ns2.example.test.'], 2);
    const latest = partial.processes[0]!.stepStates[stepIndex]!.parentChange!;
    expect(latest.ns?.add).toEqual(['ns1.example.test.']);
    expect(latest.requested.add).toEqual(['ns1.example.test.', 'ns2.example.test.']);
    expect(latest.differs).toEqual([
      'the parent made part of the change: done: add NS ns2.example.test.; missing: add NS ns1.example.test.',
    ]);
    const met = applyZoneEvent(
      partial,
      zoneEvent('postcondition-met', fields(3), {
        processId: 'p1',
        stepIndex,
        observedAt: fields(3).occurredAt,
        ttls: {},
      }),
    );
    const step = met.processes[0]!.stepStates[stepIndex]!;
    expect(step.status).toBe('postcondition-met');
    expect(step.parentChange).toEqual(latest);
  });

  it('ignores one for a step that is not current, and leaves the input state alone', () => {
    const start = zoneAtStep('add-signer', ['bind'], 'await-parent-ns');
    const change = parentChangeFor(
      start,
      nsCheck(start, ['bind', 'knot']),
      delegation({ ns: [BIND_NS] }),
      { ...context(start), stepIndex: 0 },
    )!;
    const after = applyZoneEvent(start, zoneEvent('parent-change-needed', fields(1), change));
    expect(after.version).toBe(start.version + 1);
    expect(after.processes[0]!.stepStates.map((step) => step.parentChange)).toEqual(
      start.processes[0]!.stepStates.map(() => undefined),
    );
    const applied = recorded(start, [BIND_NS], 1);
    expect(start.processes[0]!.stepStates[5]!.parentChange).toBeUndefined();
    expect(applied.processes[0]!.stepStates[5]!.parentChange).toBeDefined();
  });

  it('tells a new change from the one recorded', () => {
    const start = zoneAtStep('add-signer', ['bind'], 'await-parent-ns');
    const first = recorded(start, [BIND_NS], 1);
    const check = nsCheck(start, ['bind', 'knot']);
    const same = parentChangeFor(first, check, delegation({ ns: [BIND_NS] }), context(first))!;
    expect(isNewParentChange(first, same)).toBe(false);
    expect(isNewParentChange(start, same)).toBe(true);
    const moved = parentChangeFor(
      first,
      check,
      delegation({ ns: [BIND_NS, 'ns1.example.test.'] }),
      context(first),
    )!;
    expect(isNewParentChange(first, moved)).toBe(true);
    // Nothing to record once the post-condition is met.
    const met = applyZoneEvent(
      first,
      zoneEvent('postcondition-met', fields(2), {
        processId: 'p1',
        stepIndex: moved.stepIndex,
        observedAt: fields(2).occurredAt,
        ttls: {},
      }),
    );
    expect(isNewParentChange(met, moved)).toBe(false);
  });
});

describe('the fold keeps the first NOTIFY claimed for a parent step', () => {
  const notified = (stepIndex: number, targets: string[], second: number) =>
    zoneEvent('parent-notified', fields(second), {
      processId: 'p1',
      stepIndex,
      rrtype: 'CDS',
      targets,
    });

  it('records the first claim and ignores a later one for the same step', () => {
    const start = zoneAtStep('add-signer', ['bind'], 'await-parent-ds');
    const stepIndex = start.processes[0]!.currentStep;
    const first = applyZoneEvent(start, notified(stepIndex, ['scanner.test.'], 1));
    const second = applyZoneEvent(first, notified(stepIndex, ['elsewhere.test.'], 2));
    expect(second.processes[0]!.stepStates[stepIndex]!.parentNotified).toEqual({
      at: fields(1).occurredAt,
      rrtype: 'CDS',
      targets: ['scanner.test.'],
    });
    expect(start.processes[0]!.stepStates[stepIndex]!.parentNotified).toBeUndefined();
  });

  it('ignores a claim for a process or step it does not know', () => {
    const start = zoneAtStep('add-signer', ['bind'], 'await-parent-ds');
    const unknownProcess = zoneEvent('parent-notified', fields(1), {
      processId: 'p9',
      stepIndex: 0,
      rrtype: 'CSYNC',
      targets: ['scanner.test.'],
    });
    const after = applyZoneEvent(applyZoneEvent(start, unknownProcess), notified(99, ['x.'], 2));
    expect(after.version).toBe(start.version + 2);
    expect(after.processes[0]!.stepStates.some((step) => step.parentNotified)).toBe(false);
  });
});

describe('the fold keeps the change sent through the parent channel', () => {
  it('records the latest submission on its step, and ignores one for an unknown process', () => {
    const start = zoneAtStep('add-signer', ['bind'], 'await-parent-ds');
    const stepIndex = start.processes[0]!.currentStep;
    const submitted = (outcome: 'accepted' | 'refused', second: number, processId = 'p1') =>
      zoneEvent('parent-change-submitted', fields(second), {
        processId,
        stepIndex,
        kind: 'ds',
        channel: 'registrar',
        records: ['40696 13 2 AF'],
        outcome,
        ...(outcome === 'refused' ? { error: '422: SHA-1 DS not accepted' } : {}),
      });
    const refused = applyZoneEvent(start, submitted('refused', 1));
    const accepted = applyZoneEvent(refused, submitted('accepted', 2));
    expect(refused.processes[0]!.stepStates[stepIndex]!.parentSubmitted).toMatchObject({
      outcome: 'refused',
      error: '422: SHA-1 DS not accepted',
    });
    expect(accepted.processes[0]!.stepStates[stepIndex]!.parentSubmitted).toEqual({
      kind: 'ds',
      channel: 'registrar',
      records: ['40696 13 2 AF'],
      outcome: 'accepted',
      at: fields(2).occurredAt,
    });
    const unknown = applyZoneEvent(start, submitted('accepted', 3, 'p9'));
    expect(unknown.processes[0]!.stepStates[stepIndex]!.parentSubmitted).toBeUndefined();
  });
});

describe('observing a parent post-condition', () => {
  const parentServing = (served: Delegation): ParentChannel => ({
    specificationVersion: 'v1',
    kind: 'observe-only',
    id: 'registry',
    capabilities: {},
    getDelegation: () => Promise.resolve(served),
  });

  it('says exactly what the parent must change, and returns the change for the step', async () => {
    const state = zoneAtStep('add-signer', ['bind'], 'await-parent-ds');
    const result = await observePostcondition(state, dsCheck(state, ['bind', 'knot']), {
      parent: parentServing(delegation({ ds: [dsOf(BIND_KSK)] })),
      step: { processId: 'p1', stepIndex: 2 },
    });
    expect(result.met).toBe(false);
    expect(result.pending).toEqual([`the parent must add DS ${dsLine(dsOf(KNOT_KSK))}`]);
    expect(result.ttls).toEqual({ ds: PARENT_DS_TTL });
    expect(result.parentChange).toMatchObject({
      processId: 'p1',
      stepIndex: 2,
      parentZone: PARENT,
      kind: 'ds',
      dnskey: { add: [dnskeyLine(KNOT_KSK)] },
    });
  });

  it('is met, without a change, when the parent matches', async () => {
    const state = zoneAtStep('add-signer', ['bind'], 'await-parent-ds');
    const result = await observePostcondition(state, dsCheck(state, ['bind', 'knot']), {
      parent: parentServing(delegation({ ds: [dsOf(BIND_KSK), dsOf(KNOT_KSK)] })),
      step: { processId: 'p1', stepIndex: 2 },
    });
    expect(result).toEqual({ met: true, ttls: { ds: PARENT_DS_TTL }, pending: [] });
  });
});
