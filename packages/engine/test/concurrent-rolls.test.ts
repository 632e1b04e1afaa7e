import { describe, expect, it } from 'vitest';
import { keyTag } from '@chorus/dns';
import {
  zoneEvent,
  type DnskeyData,
  type SigningKey,
  type ZoneEvent,
  type ZoneEventOf,
  type ZoneEventType,
} from '@chorus/core';
import { applyZoneEvent, foldZone, type ZoneState } from '../src/state.js';
import {
  decide,
  decideEach,
  postconditionMet,
  requestProcess,
  signerReconciled,
  type Decision,
} from '../src/decide.js';
import { conflictingProcess, resourcesOf } from '../src/locks.js';
import { testKey } from './fixtures/keys.js';

const zone = 'roll.test.';
const TTL = 10;
const timing = {
  childPropagationSeconds: 1,
  parentPropagationSeconds: 1,
  safetyMarginSeconds: 1,
  maxZoneTtlSeconds: TTL,
};
const SIGNERS = ['bind', 'knot', 'powerdns'] as const;
type SignerId = (typeof SIGNERS)[number];

const key = testKey;

let clock = Date.parse('2026-12-02T12:00:00Z');
const at = () => new Date(clock).toISOString();
const event = <T extends ZoneEventType>(type: T, data: ZoneEventOf<T>['data']): ZoneEvent =>
  zoneEvent<T>(type, { zone, occurredAt: at(), source: { kind: 'test', id: 'driver' } }, data);

const reference = (id: string, index: number) => ({
  id,
  kind: id,
  nameServerNames: [`ns.${id}.test.`],
  endpoints: [{ address: `127.0.0.${index + 2}` }],
  rollover: { mode: 'held' as const },
  keyWatchSeconds: 2,
});

/** A simulated server per signer: its own keys, and the foreign keys its sidecar last applied. */
interface Server {
  own: SigningKey[];
  successor: SigningKey;
  kskSuccessor: SigningKey;
  foreign: DnskeyData[];
  signingWith: number;
}

function groupOfThree(): { state: ZoneState; servers: Record<SignerId, Server> } {
  const servers = {} as Record<SignerId, Server>;
  const events: ZoneEvent[] = [];
  SIGNERS.forEach((id, index) => {
    const own = [key(257, 10 * index + 1), key(256, 10 * index + 2)];
    servers[id] = {
      own,
      successor: key(256, 10 * index + 3),
      kskSuccessor: key(257, 10 * index + 4),
      foreign: [],
      signingWith: 0,
    };
    servers[id].signingWith = own[1]!.keyTag;
    events.push(event('signer-registered', { signer: reference(id, index) }));
    events.push(event('signer-keys-observed', { signerId: id, keys: own }));
  });
  events.push(
    event('zone-defined', {
      parentZone: 'test.',
      signers: SIGNERS.map(reference),
      timing,
      recordTtlSeconds: TTL,
    }),
  );
  for (const id of SIGNERS)
    servers[id].foreign = SIGNERS.filter((other) => other !== id).flatMap((other) =>
      servers[other].own.map((own) => own.dnskey),
    );
  return { state: foldZone(zone, events), servers };
}

const request = (
  processId: string,
  kind: 'roll-zsk' | 'roll-ksk' | 'add-signer',
  signerId: string,
) =>
  event('process-requested', {
    processId,
    kind,
    signerId,
    requestedBy: 'operator',
    ...(kind === 'add-signer'
      ? {}
      : { role: kind === 'roll-zsk' ? ('ZSK' as const) : ('KSK' as const) }),
  });

const tags = (keys: readonly DnskeyData[]) => keys.map((dnskey) => keyTag(dnskey)).sort();

/**
 * Plays every sidecar through the log: each acts on its decisions like the runtime (re-reading
 * after an append), against simulated servers; `desired-state-served` holds only when each
 * server's applied foreign keys are exactly what the step wants now.
 */
function drive(initial: ZoneState, servers: Record<SignerId, Server>) {
  let state = initial;
  const append = (next: ZoneEvent) => (state = applyZoneEvent(state, next));
  const unsafe: string[] = [];
  const timeline: { at: number; what: string }[] = [];
  let parentDs: number[] = [];
  let mostInFlight = 0;
  for (let turn = 0; turn < 2000; turn += 1) {
    mostInFlight = Math.max(mostInFlight, state.activeProcesses.length);
    if (state.activeProcesses.length === 0 && state.pendingRequests.length === 0) break;
    for (const self of SIGNERS) {
      const context = { selfSignerId: self, source: { kind: 'sidecar', id: self }, now: at() };
      for (const decision of decideEach(state, context)) {
        const before = state.version;
        act(decision, self, context);
        if (state.version !== before) break;
      }
    }
    clock += 1000;
  }
  return { state, unsafe, mostInFlight, timeline };

  function act(decision: Decision, self: SignerId, context: Parameters<typeof decide>[1]) {
    const server = servers[self];
    switch (decision.kind) {
      case 'preflight':
        append(
          requestProcess(state, context, {
            ...decision,
            kind: decision.processKind,
            preflight: [],
          }),
        );
        return;
      case 'append':
      case 'check-precondition':
        append(decision.event);
        return;
      case 'roll-action': {
        if (decision.action === 'start-roll')
          server.own = [
            ...server.own,
            decision.roll.role === 'ZSK' ? server.successor : server.kskSuccessor,
          ];
        if (decision.action === 'activate-successor') {
          // The safety property of a ZSK roll: every other signer publishes the successor first.
          for (const other of SIGNERS.filter((id) => id !== self))
            if (!tags(servers[other].foreign).includes(server.successor.keyTag))
              unsafe.push(`${self}'s successor signs before ${other} publishes it`);
          server.signingWith = server.successor.keyTag;
        }
        timeline.push({ at: clock, what: `${self} ${decision.action} ${decision.roll.role}` });
        if (decision.action === 'remove-predecessor')
          server.own = server.own.filter(
            (own) => decision.roll.predecessorTags.includes(own.keyTag) === false,
          );
        append(event('signer-keys-observed', { signerId: self, keys: server.own }));
        append(signerReconciled(state, context, decision.processId, decision.stepIndex, self, 1));
        return;
      }
      case 'reconcile':
        server.foreign = decision.desired.foreignDnskeys;
        append(
          signerReconciled(
            state,
            context,
            decision.processId,
            decision.stepIndex,
            self,
            1,
            decision.desiredDigest,
          ),
        );
        return;
      case 'observe':
        if (observedToHold(decision.check))
          append(
            postconditionMet(
              state,
              context,
              decision.processId,
              decision.stepIndex,
              decision.check.kind === 'parent-ds-matches' ? { ds: TTL } : { dnskey: TTL },
            ),
          );
        return;
      case 'sleep-until':
      case 'idle':
      case 'await-others':
        return;
    }
  }

  function observedToHold(check: Extract<Decision, { kind: 'observe' }>['check']): boolean {
    switch (check.kind) {
      case 'desired-state-served':
        return Object.entries(check.desired).every(
          ([id, desired]) =>
            JSON.stringify(tags(servers[id as SignerId].foreign)) ===
            JSON.stringify(tags(desired.foreignDnskeys)),
        );
      case 'successor-published':
        return check.successor !== null;
      case 'predecessor-removed':
        return check.stillListed.length === 0;
      case 'owner-set-served':
        return check.signed !== null && check.unsigned.length === 0;
      case 'parent-ds-matches': {
        // The parent follows the CDS set at once.
        const expected = check.expectedDs.map((ds) => ds.keyTag).sort();
        if (JSON.stringify(expected) !== JSON.stringify(parentDs))
          timeline.push({ at: clock, what: `parent DS ${expected.join(',')}` });
        parentDs = expected;
        return true;
      }
      case 'predecessor-not-signing':
      case 'parent-ns-matches':
      case 'successor-cds-published':
      case 'none':
        return true;
    }
  }
}

describe('the lock per resource', () => {
  it('claims one signer’s keys for a ZSK roll, the parent DS too for a KSK roll, and everything for a membership change', () => {
    expect(resourcesOf('roll-zsk', 'bind')).toEqual(['keys:bind']);
    expect(resourcesOf('roll-ksk', 'bind')).toEqual(['keys:bind', 'parent-ds']);
    expect(resourcesOf('add-signer', 'knot')).toEqual(['membership']);
  });

  it('refuses an operator’s second roll at the same signer and an ADD-SIGNER during a roll, naming the process and the resource', () => {
    const { state: initial } = groupOfThree();
    let state = applyZoneEvent(initial, request('roll-bind', 'roll-zsk', 'bind'));
    const context = { selfSignerId: 'bind', source: { kind: 'sidecar', id: 'bind' }, now: at() };
    const preflight = decide(state, context);
    expect(preflight.kind).toBe('preflight');
    state = applyZoneEvent(
      state,
      requestProcess(state, context, {
        processId: 'roll-bind',
        kind: 'roll-zsk',
        signerId: 'bind',
        preflight: [],
      }),
    );
    for (const [id, kind, signerId, resource] of [
      ['again', 'roll-zsk', 'bind', 'keys:bind'],
      ['join', 'add-signer', 'nsd', 'membership'],
    ] as const) {
      const refused = decide(applyZoneEvent(state, request(id, kind, signerId)), context);
      expect(refused.kind).toBe('append');
      const blocked = (refused as Extract<Decision, { kind: 'append' }>).event;
      expect(blocked.type).toBe('process-blocked');
      const message = JSON.stringify(blocked.data);
      expect(message).toContain('roll-bind');
      expect(message).toContain(`holds ${resource}`);
    }
    // A roll at another signer is free to start (positive control).
    expect(conflictingProcess(state, 'roll-zsk', 'knot')).toBeUndefined();
    const withKnotRoll = applyZoneEvent(state, request('roll-knot', 'roll-zsk', 'knot'));
    const atKnot = { ...context, selfSignerId: 'knot', source: { kind: 'sidecar', id: 'knot' } };
    const both = decideEach(withKnotRoll, atKnot);
    // Knot's sidecar runs its roll's pre-flight and leaves BIND's roll's next step to BIND's
    // sidecar for a while; BIND's the other way round.
    expect(both.map((decision) => decision.kind)).toEqual(['sleep-until', 'preflight']);
    expect(decideEach(withKnotRoll, context).map((decision) => decision.kind)).toEqual([
      'append',
      'sleep-until',
    ]);
  });

  it('refuses to fold a process that starts on a resource in use: the log is not ours', () => {
    const { state: initial } = groupOfThree();
    const started = (processId: string) =>
      event('process-started', {
        processId,
        kind: 'roll-zsk',
        signerId: 'bind',
        steps: [],
        groupBefore: [...SIGNERS],
        groupAfter: [...SIGNERS],
      });
    const state = applyZoneEvent(initial, started('one'));
    expect(() => applyZoneEvent(state, started('two'))).toThrow(/in flight/);
  });
});

describe('concurrent ZSK rolls', () => {
  it('roll BIND and Knot together: both run at once, each successor is published everywhere before it signs, and the group ends with exactly the new keys', () => {
    const { state: initial, servers } = groupOfThree();
    const requested = [
      request('roll-bind', 'roll-zsk', 'bind'),
      request('roll-knot', 'roll-zsk', 'knot'),
    ].reduce(applyZoneEvent, initial);
    const { state, unsafe, mostInFlight } = drive(requested, servers);
    expect(state.processes.map((process) => [process.id, process.status])).toEqual([
      ['roll-bind', 'completed'],
      ['roll-knot', 'completed'],
    ]);
    expect(mostInFlight).toBe(2);
    expect(unsafe).toEqual([]);
    // Every signer publishes exactly the others' current keys: no predecessor stays, no successor is lost.
    for (const id of SIGNERS) {
      const expected = SIGNERS.filter((other) => other !== id).flatMap((other) =>
        servers[other].own.map((own) => own.keyTag),
      );
      expect(tags(servers[id].foreign)).toEqual(expected.sort());
    }
    expect(servers.bind.signingWith).toBe(servers.bind.successor.keyTag);
    expect(servers.knot.signingWith).toBe(servers.knot.successor.keyTag);
    // Both DNSKEY waits overlap in time: the rolls ran together, not one after the other.
    const [bind, knot] = state.processes;
    const syncEnd = (process: typeof bind) => Date.parse(process!.stepStates[1]!.wait!.notBefore);
    const started = (process: typeof bind) => Date.parse(process!.startedAt);
    expect(started(knot)).toBeLessThan(syncEnd(bind));
    expect(started(bind)).toBeLessThan(syncEnd(knot));
  });

  it('a signer whose reconcile of a roll step is outdated by another roll’s key change reconciles it again', () => {
    const { state: initial, servers } = groupOfThree();
    let state = applyZoneEvent(initial, request('roll-bind', 'roll-zsk', 'bind'));
    const contextOf = (self: string) => ({
      selfSignerId: self,
      source: { kind: 'sidecar', id: self },
      now: at(),
    });
    state = applyZoneEvent(
      state,
      requestProcess(state, contextOf('bind'), {
        processId: 'roll-bind',
        kind: 'roll-zsk',
        signerId: 'bind',
        preflight: [],
      }),
    );
    // Play to the sync step, where PowerDNS reconciles.
    for (let turn = 0; turn < 20; turn += 1) {
      const decision = decide(state, contextOf(turn % 2 ? 'powerdns' : 'bind'));
      if (decision.kind === 'reconcile' && decision.signerId === 'powerdns') break;
      if (decision.kind === 'append') state = applyZoneEvent(state, decision.event);
      if (decision.kind === 'roll-action') {
        servers.bind.own = [...servers.bind.own, servers.bind.successor];
        state = applyZoneEvent(
          state,
          event('signer-keys-observed', { signerId: 'bind', keys: servers.bind.own }),
        );
        state = applyZoneEvent(
          state,
          signerReconciled(
            state,
            contextOf('bind'),
            decision.processId,
            decision.stepIndex,
            'bind',
            1,
          ),
        );
      }
      if (decision.kind === 'observe')
        state = applyZoneEvent(
          state,
          postconditionMet(state, contextOf('bind'), decision.processId, decision.stepIndex, {}),
        );
    }
    const first = decide(state, contextOf('powerdns'));
    expect(first.kind).toBe('reconcile');
    const reconcile = first as Extract<Decision, { kind: 'reconcile' }>;
    expect(reconcile.desiredDigest).toMatch(/^[0-9a-f]{16}$/);
    state = applyZoneEvent(
      state,
      signerReconciled(
        state,
        contextOf('powerdns'),
        reconcile.processId,
        reconcile.stepIndex,
        'powerdns',
        1,
        reconcile.desiredDigest,
      ),
    );
    expect(decide(state, contextOf('powerdns')).kind).not.toBe('reconcile');
    // Knot's server adds a key: PowerDNS's reconcile is stale, and it must publish the new key.
    state = applyZoneEvent(
      state,
      event('signer-keys-observed', {
        signerId: 'knot',
        keys: [...servers.knot.own, servers.knot.successor],
      }),
    );
    const again = decide(state, contextOf('powerdns'));
    expect(again.kind).toBe('reconcile');
    expect(
      tags((again as Extract<Decision, { kind: 'reconcile' }>).desired.foreignDnskeys),
    ).toContain(servers.knot.successor.keyTag);
  });

  it('a KSK roll at PowerDNS (held) runs beside a ZSK roll at BIND; the predecessor leaves only after the parent holds the successor’s DS and the DS and DNSKEY caches ran out', () => {
    const { state: initial, servers } = groupOfThree();
    const requested = [
      request('ksk-powerdns', 'roll-ksk', 'powerdns'),
      request('zsk-bind', 'roll-zsk', 'bind'),
    ].reduce(applyZoneEvent, initial);
    const { state, unsafe, mostInFlight, timeline } = drive(requested, servers);
    expect(state.processes.map((process) => [process.id, process.status])).toEqual([
      ['ksk-powerdns', 'completed'],
      ['zsk-bind', 'completed'],
    ]);
    expect(mostInFlight).toBe(2);
    expect(unsafe).toEqual([]);
    const ksk = state.processes[0]!;
    expect(ksk.steps.map((step) => step.name)).toEqual([
      'introduce-successor',
      'sync-dnskeys',
      'await-parent-ds',
      'remove-predecessor',
      'drop-predecessor',
      'await-parent-ds-removed',
    ]);
    const [oldKsk] = servers.powerdns.own.filter(
      (own) => own.role === 'KSK' && own !== servers.powerdns.kskSuccessor,
    );
    expect(oldKsk).toBeUndefined();
    const when = (what: string) => timeline.find((entry) => entry.what === what)?.at;
    const dsWithBoth = timeline.find(
      (entry) =>
        entry.what.startsWith('parent DS') &&
        entry.what.includes(String(servers.powerdns.kskSuccessor.keyTag)),
    )!;
    const removal = when('powerdns remove-predecessor KSK')!;
    const dsWait = ksk.stepStates[2]!.wait!;
    expect(dsWait.formula).toBe('max(t_ds + DprpP + TTLds, t_dnskey + DprpC + TTLkey) + S');
    expect(removal).toBeGreaterThanOrEqual(Date.parse(dsWait.notBefore));
    expect(removal).toBeGreaterThan(dsWithBoth.at);
    // The parent ends with the DS of every current KSK, the successor's and not the predecessor's.
    const last = timeline.filter((entry) => entry.what.startsWith('parent DS')).at(-1)!.what;
    const currentKsks = SIGNERS.flatMap((id) =>
      servers[id].own.filter((own) => own.role === 'KSK').map((own) => own.keyTag),
    );
    expect(last).toBe(`parent DS ${currentKsks.sort().join(',')}`);
    // The DS-removal wait counts from its own observation of the parent, not the first DS step's.
    const removed = ksk.stepStates[5]!;
    expect(removed.wait!.formula).toBe('t_ds + DprpP + TTLds + S');
    expect(removed.wait!.terms.t_ds).toBe(removed.postconditionMetAt);
    expect(removed.postconditionMetAt).not.toBe(ksk.stepStates[2]!.postconditionMetAt);
  });

  it('serialises KSK rolls: a second KSK roll while one is in flight is refused, naming the parent DS', () => {
    const { state: initial } = groupOfThree();
    let state = applyZoneEvent(initial, request('ksk-powerdns', 'roll-ksk', 'powerdns'));
    const context = {
      selfSignerId: 'powerdns',
      source: { kind: 'sidecar', id: 'powerdns' },
      now: at(),
    };
    state = applyZoneEvent(
      state,
      requestProcess(state, context, {
        processId: 'ksk-powerdns',
        kind: 'roll-ksk',
        signerId: 'powerdns',
        preflight: [],
      }),
    );
    const refused = decide(applyZoneEvent(state, request('ksk-bind', 'roll-ksk', 'bind')), context);
    expect(refused.kind).toBe('append');
    expect(JSON.stringify((refused as Extract<Decision, { kind: 'append' }>).event.data)).toContain(
      'holds parent-ds',
    );
  });
});
