// A person at the parent: what to change, in `chorus status`, its JSON, the event history and
// the process output; and the line that says the change was seen.
import { describe, expect, it } from 'vitest';
import { createMemoryEventLog } from '@chorus/event-log-sqlite';
import { computeDs, formatRdata, keyTag } from '@chorus/dns';
import {
  zoneEvent,
  zoneStream,
  type Delegation,
  type DnskeyData,
  type DsData,
  type ParentChange,
  type SignerReference,
  type SigningKey,
  type ZoneEvent,
} from '@chorus/core';
import {
  applyZoneEvent,
  expectedDsFor,
  foldZone,
  parentChangeFor,
  stepsFor,
  type ZoneState,
} from '@chorus/engine';
import { describeEvent, describeProcess } from '../src/coordination/describe.js';
import { requestAndFollow } from '../src/coordination/follow.js';
import { zoneStatusJson, zoneStatusLines } from '../src/commands/status.js';
import { capture } from './capture.js';

const ZONE = 'example.test.';
const PARENT = 'test.';
const source = { kind: 'sidecar', id: 'bind' };
const fields = { zone: ZONE, source, occurredAt: '2026-01-01T10:00:00.000Z' };
const AWAIT_PARENT_DS = stepsFor('add-signer').findIndex((step) => step.name === 'await-parent-ds');

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
const signer = (id: string, name: string, address: string): SignerReference => ({
  id,
  kind: id,
  nameServerNames: [name],
  endpoints: [{ address, port: 53 }],
});
const BIND = signer('bind', 'ns1.bind.example.', '192.0.2.1');
const KNOT = signer('knot', 'ns1.knot.example.', '192.0.2.2');

const dsOf = (key: SigningKey) => computeDs(ZONE, key.dnskey, 2);
const dsLine = (ds: DsData) =>
  `${ZONE} 86400 IN DS ${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${ds.digest}`;

/** ADD-SIGNER knot to bind's zone, at its started await-parent-ds step. */
function atAwaitParentDs(): ZoneState {
  const steps = Array.from({ length: AWAIT_PARENT_DS + 1 }, (_, stepIndex) => [
    zoneEvent('step-started', fields, { processId: 'p1', stepIndex, desired: {} }),
    ...(stepIndex < AWAIT_PARENT_DS
      ? [zoneEvent('step-completed', fields, { processId: 'p1', stepIndex })]
      : []),
  ]).flat();
  const events: ZoneEvent[] = [
    zoneEvent('signer-registered', fields, { signer: BIND }),
    zoneEvent('signer-registered', fields, { signer: KNOT }),
    zoneEvent('zone-defined', fields, {
      parentZone: PARENT,
      signers: [BIND],
      timing: {
        childPropagationSeconds: 1,
        parentPropagationSeconds: 1,
        safetyMarginSeconds: 1,
        maxZoneTtlSeconds: 30,
      },
      recordTtlSeconds: 300,
    }),
    zoneEvent('signer-keys-observed', fields, { signerId: 'bind', keys: [BIND_KSK] }),
    zoneEvent('signer-keys-observed', fields, { signerId: 'knot', keys: [KNOT_KSK] }),
    zoneEvent('process-started', fields, {
      processId: 'p1',
      kind: 'add-signer',
      signerId: 'knot',
      steps: [...stepsFor('add-signer')],
      groupBefore: ['bind'],
      groupAfter: ['bind', 'knot'],
    }),
    ...steps,
  ];
  return foldZone(ZONE, events);
}

function parentServing(ds: DsData[]): Delegation {
  return {
    zone: ZONE,
    parent: PARENT,
    observedAt: fields.occurredAt,
    ds: { name: ZONE, type: 'DS', class: 'IN', ttl: 86400, records: ds, signatures: [] },
    ns: null,
    glue: [],
    consistent: true,
    servers: [],
  };
}

/** The change the sidecar would record with the parent serving `ds`. */
function changeWith(state: ZoneState, ds: DsData[]): ParentChange {
  const check = {
    kind: 'parent-ds-matches' as const,
    expectedDs: expectedDsFor(state, ['bind', 'knot']),
  };
  return parentChangeFor(state, check, parentServing(ds), {
    processId: 'p1',
    stepIndex: AWAIT_PARENT_DS,
    parentZone: PARENT,
  })!;
}

function recorded(state: ZoneState, change: ParentChange): ZoneState {
  return applyZoneEvent(state, zoneEvent('parent-change-needed', fields, change));
}

function met() {
  return zoneEvent('postcondition-met', fields, {
    processId: 'p1',
    stepIndex: AWAIT_PARENT_DS,
    observedAt: fields.occurredAt,
    ttls: { ds: 86400 },
  });
}

describe('chorus status with a change needed at the parent', () => {
  it('says what to add, keep and remove, with the DNSKEY for registrars that take keys', () => {
    const start = atAwaitParentDs();
    const state = recorded(start, changeWith(start, [dsOf(BIND_KSK)]));
    const process = state.processes[0]!;
    expect(describeProcess(process)).toContain(
      `waiting for a change at the parent ${PARENT}: the parent must add DS ${dsLine(dsOf(KNOT_KSK))}`,
    );
    const lines = zoneStatusLines(state);
    expect(lines).toContain(
      `    the parent ${PARENT} must change the DS set of ${ZONE} (no scanner acts there: a person, at the registrar or with EPP):`,
    );
    expect(lines).toContain(`      add DS        ${dsLine(dsOf(KNOT_KSK))}`);
    expect(lines).toContain(`      keep DS       ${dsLine(dsOf(BIND_KSK))}`);
    expect(lines).toContain(
      `      add DNSKEY    ${ZONE} 300 IN DNSKEY ${formatRdata({ type: 'DNSKEY', data: KNOT_KSK.dnskey })}`,
    );
    expect(lines.join('\n')).not.toContain('DIFFERS');
  });

  it('says what the parent does differently and that Chorus does not proceed', () => {
    const start = atAwaitParentDs();
    const typo = { ...dsOf(KNOT_KSK), digest: 'CD'.repeat(32) };
    const state = recorded(start, changeWith(start, [dsOf(BIND_KSK), typo]));
    const lines = zoneStatusLines(state);
    expect(lines).toContain(
      `      DIFFERS: the parent lists DS ${dsLine(typo)}, which matches no key of the group`,
    );
    expect(lines).toContain(
      '      Chorus does not proceed while the parent differs; it moves on once every parent server serves this DS set.',
    );
  });

  it('carries the structured change in --json while it is pending, and not once it is met', () => {
    const start = atAwaitParentDs();
    const change = changeWith(start, [dsOf(BIND_KSK)]);
    const state = recorded(start, change);
    const json = JSON.parse(JSON.stringify(zoneStatusJson(state))) as ReturnType<
      typeof zoneStatusJson
    >;
    expect(json.activeProcess?.parentChange).toMatchObject({
      kind: 'ds',
      parentZone: PARENT,
      ds: change.ds,
      dnskey: change.dnskey,
      differs: [],
      requested: { add: change.ds!.add, remove: [] },
    });
    const done = applyZoneEvent(state, met());
    expect(zoneStatusJson(done).activeProcess?.parentChange).toBeUndefined();
    expect(zoneStatusLines(done).join('\n')).not.toContain('must change the DS set');
    const failed = applyZoneEvent(
      state,
      zoneEvent('process-failed', fields, {
        processId: 'p1',
        reason: { code: 'test', message: 'stopped' },
      }),
    );
    expect(zoneStatusJson(failed).processes[0]?.parentChange).toBeUndefined();
  });
});

describe('the event history of a change at the parent', () => {
  it('describes the change, then says the parent now matches and Chorus moves on', () => {
    const start = atAwaitParentDs();
    const change = changeWith(start, [dsOf(BIND_KSK)]);
    const needed = zoneEvent('parent-change-needed', fields, change);
    const state = applyZoneEvent(start, needed);
    expect(describeEvent(needed, state)).toBe(
      `10:00:00     CHANGE NEEDED AT THE PARENT ${PARENT} (a person, at the registrar or with EPP): the parent must add DS ${dsLine(dsOf(KNOT_KSK))}`,
    );
    const seen = met();
    expect(describeEvent(seen, applyZoneEvent(state, seen))).toContain(
      "the parent's DS now matches: moving on",
    );
    // The control: a parent step nobody had to act on keeps the plain line.
    expect(describeEvent(seen, applyZoneEvent(start, seen))).toContain(
      'post-condition seen on the wire',
    );
  });
});

describe('the process output of a change at the parent', () => {
  it('prints the change once, in words and as a JSON notice', async () => {
    for (const json of [false, true]) {
      const log = createMemoryEventLog<ZoneEvent>();
      const defined = atAwaitParentDs();
      await log.append(zoneStream(ZONE), 0, [
        zoneEvent('signer-registered', fields, { signer: BIND }),
        zoneEvent('signer-registered', fields, { signer: KNOT }),
        zoneEvent('zone-defined', fields, {
          parentZone: PARENT,
          signers: [BIND],
          timing: defined.timing,
          recordTtlSeconds: 300,
        }),
        zoneEvent('signer-keys-observed', fields, { signerId: 'knot', keys: [KNOT_KSK] }),
      ]);
      const template = changeWith(defined, [dsOf(BIND_KSK)]);
      const sidecar = log.subscribe({
        streamPrefix: zoneStream(ZONE),
        onEvent: async ({ event, streamVersion }) => {
          if (event.type !== 'process-requested') return;
          const { processId } = event.data;
          const stepEvents = Array.from({ length: AWAIT_PARENT_DS + 1 }, (_, stepIndex) => [
            zoneEvent('step-started', fields, { processId, stepIndex, desired: {} }),
            ...(stepIndex < AWAIT_PARENT_DS
              ? [zoneEvent('step-completed', fields, { processId, stepIndex })]
              : []),
          ]).flat();
          const change = { ...template, processId };
          await log.append(zoneStream(ZONE), streamVersion, [
            zoneEvent('process-started', fields, {
              processId,
              kind: 'add-signer',
              signerId: 'knot',
              steps: [...stepsFor('add-signer')],
              groupBefore: ['bind'],
              groupAfter: ['bind', 'knot'],
            }),
            ...stepEvents,
            zoneEvent('parent-change-needed', fields, change),
            zoneEvent('parent-change-needed', fields, change),
            zoneEvent('process-failed', fields, {
              processId,
              reason: { code: 'test', message: 'stop here' },
            }),
          ]);
        },
      });
      const run = capture();
      await expect(
        requestAndFollow(log, ZONE, 'add-signer', 'knot', run.io, { json, detach: false }),
      ).rejects.toThrow(/failed/);
      if (json) {
        const notices = run
          .out()
          .split('\n')
          .filter((line) => line.includes('"notice":"parent-change-needed"'))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(notices).toHaveLength(1);
        expect(notices[0]).toMatchObject({ zone: ZONE, kind: 'ds', ds: template.ds });
      } else {
        const said = run.err();
        expect(said.split(`>>> the parent ${PARENT} must change the DS set`)).toHaveLength(2);
        expect(said).toContain(`>>>   add DS        ${dsLine(dsOf(KNOT_KSK))}`);
      }
      await sidecar.close();
      await log.close();
    }
  }, 10_000);
});
