import { describe, expect, it } from 'vitest';
import {
  applyZoneEvent,
  emptyZoneState,
  foldZone,
  ZoneStreamError,
  type ZoneState,
} from '../src/state.js';
import {
  decide,
  OBSERVER_FALLBACK_MS,
  postconditionMet,
  requestProcess,
  signerReconciled,
} from '../src/decide.js';
import { preflightChecks, type SignerObservation } from '../src/preflight.js';
import { preflightScribeOf, SCRIBE_FALLBACK_MS, scribeOf } from '../src/scribe.js';
import { computeDs, keyTag } from '@chorus/dns';
import {
  zoneEvent,
  type DnskeyData,
  type ObservedTtls,
  type SigningKey,
  type ZoneEvent,
  type ZoneEventOf,
  type ZoneEventType,
} from '@chorus/core';

const zone = 'example.test.';
const source = { kind: 'test', id: 'driver' };

function key(flags: 256 | 257, fill: number, algorithm = 13): SigningKey {
  const dnskey: DnskeyData = {
    flags,
    protocol: 3,
    algorithm,
    publicKey: Buffer.alloc(64, fill).toString('base64'),
  };
  return { role: flags === 257 ? 'KSK' : 'ZSK', algorithm, keyTag: keyTag(dnskey), dnskey };
}

const keys: Record<string, SigningKey[]> = {
  bind: [key(257, 1), key(256, 2)],
  powerdns: [key(257, 3), key(256, 4)],
  knot: [key(257, 5), key(256, 6)],
};

function event<T extends ZoneEventType>(
  type: T,
  data: ZoneEventOf<T>['data'],
  occurredAt = '2026-11-22T12:00:00.000Z',
): ZoneEvent {
  return zoneEvent<T>(type, { zone, occurredAt, source }, data);
}

/** The stream of a zone signed by BIND alone, with PowerDNS and Knot registered and their keys observed. */
function definedEvents(ttl = 30): ZoneEvent[] {
  return [
    event('zone-defined', {
      parentZone: 'test.',
      signers: [
        {
          id: 'bind',
          kind: 'bind',
          nameServerNames: ['ns.bind.test.'],
          endpoints: [{ address: '127.0.0.2' }],
        },
      ],
      timing: {
        childPropagationSeconds: 2,
        parentPropagationSeconds: 3,
        safetyMarginSeconds: 1,
        maxZoneTtlSeconds: ttl,
      },
      recordTtlSeconds: ttl,
    }),
    event('signer-registered', {
      signer: {
        id: 'powerdns',
        kind: 'powerdns',
        nameServerNames: ['ns.powerdns.test.'],
        endpoints: [{ address: '127.0.0.3' }],
      },
    }),
    event('signer-registered', {
      signer: {
        id: 'knot',
        kind: 'knot',
        nameServerNames: ['ns.knot.test.'],
        endpoints: [{ address: '127.0.0.4' }],
      },
    }),
    ...Object.entries(keys).map(([signerId, own]) =>
      event('signer-keys-observed', { signerId, keys: own }),
    ),
  ];
}

function definedZone(ttl = 30): ZoneState {
  return foldZone(zone, definedEvents(ttl));
}

interface Run {
  state: ZoneState;
  events: ZoneEvent[];
  /** Every decision each sidecar took, for assertions. */
  reconciled: string[];
  /** The pre-conditions checked on the wire, as `step:kind`. */
  preconditions: string[];
}

/**
 * Plays the sidecars: each decides on the same fold in turn; observations succeed with the TTLs
 * given; sleeping advances a simulated clock. Returns the whole stream.
 */
function drive(
  initial: ZoneState,
  sidecars: string[],
  ttls: ObservedTtls,
  start = Date.parse('2026-11-22T12:00:00Z'),
  pauseWhen: (state: ZoneState) => boolean = () => false,
): Run {
  let state = initial;
  let clock = start;
  const events: ZoneEvent[] = [];
  const reconciled: string[] = [];
  const preconditions: string[] = [];
  let paused = pauseWhen(state);
  const append = (next: ZoneEvent) => {
    state = applyZoneEvent(state, next);
    events.push(next);
    paused ||= pauseWhen(state);
  };
  for (let turn = 0; turn < 500 && state.activeProcess && !paused; turn += 1) {
    let progressed = false;
    let wakeAt = Infinity;
    for (const sidecar of sidecars) {
      if (paused) break;
      const context = {
        selfSignerId: sidecar,
        source: { kind: 'sidecar', id: sidecar },
        now: new Date(clock).toISOString(),
      };
      const decision = decide(state, context);
      if (decision.kind === 'append') append(decision.event);
      else if (decision.kind === 'reconcile') {
        reconciled.push(`${decision.stepIndex}:${decision.signerId}`);
        append(
          signerReconciled(
            state,
            context,
            decision.processId,
            decision.stepIndex,
            decision.signerId,
            1,
          ),
        );
      } else if (decision.kind === 'observe')
        append(postconditionMet(state, context, decision.processId, decision.stepIndex, ttls));
      else if (decision.kind === 'check-precondition') {
        preconditions.push(`${decision.stepIndex}:${decision.check.kind}`);
        append(decision.event);
      } else {
        if (decision.kind === 'sleep-until') wakeAt = Math.min(wakeAt, Date.parse(decision.until));
        continue;
      }
      progressed = true;
      clock += 100;
    }
    if (!progressed) {
      if (wakeAt === Infinity) throw new Error(`stuck: no sidecar acts or sleeps at ${clock}`);
      clock = wakeAt;
    }
  }
  return { state, events, reconciled, preconditions };
}

const typesOf = (events: ZoneEvent[], type: ZoneEvent['type']) =>
  events.filter((candidate) => candidate.type === type);

describe('ADD-SIGNER, model 2', () => {
  it('runs every step once, in order, and ends with the joiner in the group', () => {
    const start = requestProcess(
      definedZone(),
      { source, now: '2026-11-22T12:00:00.000Z' },
      { processId: 'p1', kind: 'add-signer', signerId: 'powerdns', preflight: [] },
    );
    const run = drive(applyZoneEvent(definedZone(), start), ['bind', 'powerdns'], {
      dnskey: 30,
      ds: 30,
      parentNs: 30,
      childNs: 30,
    });
    const steps = run.state.processes[0]!.steps.map((step) => step.name);
    expect(steps).toEqual([
      'sync-dnskeys',
      'publish-cds',
      'await-parent-ds',
      'sync-ns',
      'publish-csync',
      'await-parent-ns',
      'remove-csync',
    ]);
    expect(typesOf(run.events, 'step-started')).toHaveLength(7);
    expect(typesOf(run.events, 'step-completed')).toHaveLength(7);
    expect(typesOf(run.events, 'process-completed')).toHaveLength(1);
    expect(run.state.members).toEqual(['bind', 'powerdns']);
    expect(run.state.activeProcess).toBeNull();
    // Each participant reconciles each action step exactly once: no step is executed twice.
    expect(new Set(run.reconciled).size).toBe(run.reconciled.length);
    expect(run.reconciled).toHaveLength(5 * 2);
    // Before the joiner's NS goes out, the parent's DS must (still) cover every KSK.
    expect(run.preconditions).toEqual(['3:parent-ds-matches']);
    // The stream is a fold: replaying it gives the same state.
    expect(foldZone(zone, [...definedEvents(), start, ...run.events]).members).toEqual([
      'bind',
      'powerdns',
    ]);
  });

  it('leaves each post-condition to one observer: the last to reconcile, else the joiner; the others after OBSERVER_FALLBACK_MS', () => {
    const request = requestProcess(
      definedZone(),
      { source, now: '2026-11-22T12:00:00.000Z' },
      { processId: 'p1', kind: 'add-signer', signerId: 'powerdns', preflight: [] },
    );
    const ttls = { dnskey: 30, ds: 30, parentNs: 30, childNs: 30 };
    const run = drive(applyZoneEvent(definedZone(), request), ['bind', 'powerdns'], ttls);
    const observers = typesOf(run.events, 'postcondition-met').map((met) => met.source.id);
    const lastToReconcile = typesOf(run.events, 'postcondition-met').map((met) => {
      const before = run.events.slice(0, run.events.indexOf(met));
      const reconciles = before.filter(
        (candidate): candidate is ZoneEventOf<'signer-reconciled'> =>
          candidate.type === 'signer-reconciled' &&
          candidate.data.stepIndex === (met as ZoneEventOf<'postcondition-met'>).data.stepIndex,
      );
      return reconciles.at(-1)?.data.signerId ?? 'powerdns';
    });
    expect(observers).toEqual(lastToReconcile);
    expect(observers).toHaveLength(7);
    // The joiner reconciles last at every step here (it starts each step as the process's scribe,
    // and BIND reconciles in that same turn): the case where BIND observes follows.
    expect(new Set(observers)).toEqual(new Set(['powerdns']));
    // BIND alone (PowerDNS's sidecar went down after reconciling) observes once the fallback is due.
    let state = applyZoneEvent(definedZone(), request);
    const at = (ms: number) => new Date(Date.parse('2026-11-22T12:00:00Z') + ms).toISOString();
    for (const [sidecar, ms] of [
      ['powerdns', 0],
      ['bind', 100],
      ['bind', 200],
      ['powerdns', 300],
      ['bind', 400],
    ] as const) {
      const context = {
        selfSignerId: sidecar,
        source: { kind: 'sidecar', id: sidecar },
        now: at(ms),
      };
      const decision = decide(state, context);
      if (decision.kind === 'append') state = applyZoneEvent(state, decision.event);
      else if (decision.kind === 'reconcile')
        state = applyZoneEvent(
          state,
          signerReconciled(state, context, 'p1', decision.stepIndex, decision.signerId, 1),
        );
    }
    const bindAt = (ms: number) =>
      decide(state, { selfSignerId: 'bind', source: { kind: 'sidecar', id: 'bind' }, now: at(ms) });
    expect(bindAt(500)).toMatchObject({
      kind: 'sleep-until',
      until: at(300 + OBSERVER_FALLBACK_MS),
    });
    expect(bindAt(300 + OBSERVER_FALLBACK_MS)).toMatchObject({ kind: 'observe', stepIndex: 0 });
    expect(
      decide(state, {
        selfSignerId: 'powerdns',
        source: { kind: 'sidecar', id: 'powerdns' },
        now: at(500),
      }),
    ).toMatchObject({ kind: 'observe', stepIndex: 0 });
  });

  it('asks each signer for the right desired state at each step', () => {
    const start = requestProcess(
      definedZone(),
      { source, now: '2026-11-22T12:00:00.000Z' },
      { processId: 'p1', kind: 'add-signer', signerId: 'powerdns', preflight: [] },
    );
    const run = drive(applyZoneEvent(definedZone(), start), ['bind', 'powerdns'], {
      dnskey: 30,
      ds: 30,
      parentNs: 30,
      childNs: 30,
    });
    const started = typesOf(run.events, 'step-started').map(
      (candidate) => (candidate as Extract<ZoneEvent, { type: 'step-started' }>).data.desired,
    );
    const [syncDnskeys, publishCds, , syncNs, publishCsync] = started;
    expect(syncDnskeys!.bind!.foreignDnskeys).toEqual(keys.powerdns!.map((k) => k.dnskey));
    expect(syncDnskeys!.powerdns!.foreignDnskeys).toEqual(keys.bind!.map((k) => k.dnskey));
    expect(syncDnskeys!.bind!.foreignCds).toEqual([]); // CDS still only the group before: BIND's own
    expect(syncDnskeys!.bind!.apexNs).toBeUndefined();
    expect(publishCds!.bind!.foreignCds).toEqual([computeDs(zone, keys.powerdns![0]!.dnskey, 2)]);
    expect(publishCds!.powerdns!.foreignCds).toEqual([computeDs(zone, keys.bind![0]!.dnskey, 2)]);
    expect(syncNs!.powerdns!.apexNs).toEqual(['ns.bind.test.', 'ns.powerdns.test.']);
    expect(publishCsync!.bind!.csync).toEqual({ serial: 0, flags: 1, types: ['A', 'NS', 'AAAA'] });
    expect(JSON.parse(JSON.stringify(run.events))).toEqual(run.events);
  });

  it('persists waits that follow the formulas with the observed TTLs, not a constant', () => {
    const notBeforeWith = (ttl: number) => {
      const start = requestProcess(
        definedZone(),
        { source, now: '2026-11-22T12:00:00.000Z' },
        { processId: 'p1', kind: 'add-signer', signerId: 'powerdns', preflight: [] },
      );
      const run = drive(applyZoneEvent(definedZone(), start), ['bind', 'powerdns'], {
        dnskey: ttl,
        ds: ttl * 2,
        parentNs: ttl * 3,
        childNs: ttl,
      });
      return typesOf(run.events, 'wait-scheduled').map(
        (candidate) => (candidate as Extract<ZoneEvent, { type: 'wait-scheduled' }>).data,
      );
    };
    for (const ttl of [30, 300]) {
      const [dsWait, nsWait] = notBeforeWith(ttl);
      // max(t_ds + DprpP + TTLds, t_dnskey + DprpC + TTLkey) + S
      const expectedDs =
        Math.max(
          Date.parse(dsWait!.terms.t_ds as string) / 1000 + 3 + ttl * 2,
          Date.parse(dsWait!.terms.t_dnskey as string) / 1000 + 2 + ttl,
        ) + 1;
      expect(Date.parse(dsWait!.notBefore) / 1000).toBe(Math.ceil(expectedDs));
      expect(dsWait!.terms).toMatchObject({
        TTLds: ttl * 2,
        TTLkey: ttl,
        DprpP: 3,
        DprpC: 2,
        S: 1,
      });
      // max(t_pns + DprpP + TTLnsP, t_ns + DprpC + TTLnsC) + S
      const expectedNs =
        Math.max(
          Date.parse(nsWait!.terms.t_pns as string) / 1000 + 3 + ttl * 3,
          Date.parse(nsWait!.terms.t_ns as string) / 1000 + 2 + ttl,
        ) + 1;
      expect(Date.parse(nsWait!.notBefore) / 1000).toBe(Math.ceil(expectedNs));
    }
    const short = notBeforeWith(30)[0]!;
    const long = notBeforeWith(300)[0]!;
    const length = (wait: typeof short) =>
      Date.parse(wait.notBefore) - Date.parse(wait.terms.t_ds as string);
    expect(length(long) - length(short)).toBe((600 - 60) * 1000);
  });

  it('when two sidecars race to complete a step, exactly one step-completed is appended', () => {
    const start = requestProcess(
      definedZone(),
      { source, now: '2026-11-22T12:00:00.000Z' },
      { processId: 'p1', kind: 'add-signer', signerId: 'powerdns', preflight: [] },
    );
    let state = applyZoneEvent(definedZone(), start);
    // Play until the first step's post-condition is met.
    for (;;) {
      const decision = decide(state, { source, now: '2026-11-22T12:00:01.000Z' });
      if (decision.kind === 'append') state = applyZoneEvent(state, decision.event);
      else if (decision.kind === 'reconcile')
        state = applyZoneEvent(
          state,
          signerReconciled(
            state,
            { source, now: '2026-11-22T12:00:01.000Z' },
            decision.processId,
            decision.stepIndex,
            decision.signerId,
            1,
          ),
        );
      else if (decision.kind === 'await-others')
        state = applyZoneEvent(
          state,
          signerReconciled(
            state,
            { source, now: '2026-11-22T12:00:01.000Z' },
            decision.processId,
            decision.stepIndex,
            decision.signerIds[0]!,
            1,
          ),
        );
      else if (decision.kind === 'observe') {
        state = applyZoneEvent(
          state,
          postconditionMet(
            state,
            { source, now: '2026-11-22T12:00:02.000Z' },
            decision.processId,
            decision.stepIndex,
            { dnskey: 30 },
          ),
        );
        break;
      }
    }
    // The step's scribe completes it (the last to reconcile: both did at once, and a tie goes to
    // the first id, bind); powerdns leaves it to bind until the fallback is due.
    const metAt = Date.parse('2026-11-22T12:00:02.000Z');
    const powerdnsEarly = decide(state, {
      selfSignerId: 'powerdns',
      source: { kind: 'sidecar', id: 'powerdns' },
      now: '2026-11-22T12:00:03.000Z',
    });
    expect(powerdnsEarly).toMatchObject({
      kind: 'sleep-until',
      until: new Date(metAt + SCRIBE_FALLBACK_MS).toISOString(),
    });
    // Once the fallback is due, both sidecars see the same fold and decide to complete the step.
    const due = new Date(metAt + SCRIBE_FALLBACK_MS).toISOString();
    const log: { version: number; event: ZoneEvent }[] = [];
    const appendIfAt = (expectedVersion: number, next: ZoneEvent) => {
      if (expectedVersion !== state.version + log.length) return false; // optimistic concurrency
      log.push({ version: expectedVersion + 1, event: next });
      return true;
    };
    const first = decide(state, {
      selfSignerId: 'bind',
      source: { kind: 'sidecar', id: 'bind' },
      now: due,
    });
    const second = decide(state, {
      selfSignerId: 'powerdns',
      source: { kind: 'sidecar', id: 'powerdns' },
      now: due,
    });
    expect(first.kind === 'append' && first.event.type).toBe('step-completed');
    expect(second.kind === 'append' && second.event.type).toBe('step-completed');
    expect(appendIfAt(state.version, (first as { event: ZoneEvent }).event)).toBe(true);
    expect(appendIfAt(state.version, (second as { event: ZoneEvent }).event)).toBe(false);
    // The loser re-reads: its new decision moves on to the next step instead of completing again.
    const after = applyZoneEvent(state, log[0]!.event);
    const retry = decide(after, {
      selfSignerId: 'powerdns',
      source,
      now: due,
    });
    // (the next step is left to its scribe, bind, for now)
    expect(retry).toMatchObject({ kind: 'sleep-until', stepIndex: 1 });
    expect(log.filter((entry) => entry.event.type === 'step-completed')).toHaveLength(1);
  });
});

describe('REMOVE-SIGNER, model 2', () => {
  it('migrates BIND → PowerDNS + Knot: add, add, remove, and ends with exactly the new group', () => {
    let state = definedZone();
    const ttls = { dnskey: 30, ds: 30, parentNs: 30, childNs: 30 };
    for (const [index, [kind, signerId]] of (
      [
        ['add-signer', 'powerdns'],
        ['add-signer', 'knot'],
        ['remove-signer', 'bind'],
      ] as const
    ).entries()) {
      const sidecars = ['bind', 'powerdns', 'knot'];
      state = applyZoneEvent(
        state,
        requestProcess(
          state,
          { source, now: '2026-11-22T12:00:00.000Z' },
          { processId: `p${index}`, kind, signerId, preflight: [] },
        ),
      );
      state = drive(state, sidecars, ttls).state;
    }
    expect(state.members).toEqual(['powerdns', 'knot']);
    const removal = state.processes[2]!;
    expect(removal.steps.map((step) => step.name)).toEqual([
      'sync-ns',
      'publish-csync',
      'await-parent-ns',
      'remove-csync',
      'retire-leaving-signer',
      'publish-cds',
      'remove-leaving-keys',
      'await-parent-ds',
    ]);
    const desiredAt = (name: string) =>
      removal.stepStates[removal.steps.findIndex((step) => step.name === name)]!.desired!;
    // BIND takes part in the NS change (it is still delegated), but not after it is retired.
    expect(Object.keys(desiredAt('sync-ns')).sort()).toEqual(['bind', 'knot', 'powerdns']);
    expect(desiredAt('sync-ns').bind!.apexNs).toEqual(['ns.knot.test.', 'ns.powerdns.test.']);
    expect(Object.keys(desiredAt('remove-leaving-keys')).sort()).toEqual(['knot', 'powerdns']);
    expect(desiredAt('remove-leaving-keys').knot!.foreignDnskeys).toEqual(
      keys.powerdns!.map((k) => k.dnskey),
    );
    expect(desiredAt('publish-cds').knot!.foreignCds).toEqual([
      computeDs(zone, keys.powerdns![0]!.dnskey, 2),
    ]);
    const retire = removal.stepStates[4]!;
    expect(retire.wait!.formula).toBe('t_stop + DprpC + TTLsig + S');
    const tStop = Date.parse(retire.postconditionMetAt!) / 1000;
    // Rounded up to a whole second.
    expect(Date.parse(retire.wait!.notBefore) / 1000).toBe(Math.ceil(tStop + 2 + 30 + 1));
  });
});

describe('the zone fold', () => {
  it('refuses impossible sequences instead of guessing', () => {
    const state = definedZone();
    const started = applyZoneEvent(
      state,
      requestProcess(
        state,
        { source, now: '2026-11-22T12:00:00.000Z' },
        { processId: 'p1', kind: 'add-signer', signerId: 'powerdns', preflight: [] },
      ),
    );
    expect(() =>
      applyZoneEvent(started, event('step-completed', { processId: 'p1', stepIndex: 0 })),
    ).toThrow(ZoneStreamError);
    expect(() =>
      applyZoneEvent(
        started,
        event('step-started', { processId: 'p1', stepIndex: 3, desired: {} }),
      ),
    ).toThrow(/step 3 while step 0/);
    expect(() =>
      applyZoneEvent(
        started,
        event('step-started', { processId: 'nope', stepIndex: 0, desired: {} }),
      ),
    ).toThrow(/unknown process/);
    expect(() =>
      applyZoneEvent(
        started,
        requestProcess(
          started,
          { source, now: '2026-11-22T12:00:00.000Z' },
          { processId: 'p2', kind: 'add-signer', signerId: 'knot', preflight: [] },
        ),
      ),
    ).toThrow(/in flight/);
    expect(() =>
      applyZoneEvent(
        emptyZoneState(zone),
        event('signer-keys-observed', { signerId: 'x', keys: [] }),
      ),
    ).toThrow(/unregistered/);
  });

  it('does not mutate the state it is given', () => {
    const state = definedZone();
    const copy = structuredClone(state);
    applyZoneEvent(
      state,
      requestProcess(
        state,
        { source, now: '2026-11-22T12:00:00.000Z' },
        { processId: 'p1', kind: 'add-signer', signerId: 'powerdns', preflight: [] },
      ),
    );
    expect(state).toEqual(copy);
  });
});

describe('pre-flight checks (C0)', () => {
  const apexFor = (members: string[]) => ({
    zone,
    server: 'x',
    soa: null,
    cds: null,
    cdnskey: null,
    csync: null,
    ns: {
      name: zone,
      type: 'NS' as const,
      class: 'IN' as const,
      ttl: 30,
      records: ['ns.bind.test.'],
      signatures: [],
    },
    dnskey: {
      name: zone,
      type: 'DNSKEY' as const,
      class: 'IN' as const,
      ttl: 30,
      records: members.flatMap((id) => keys[id]!.map((k) => k.dnskey)),
      signatures: [],
    },
  });
  const observation = (
    id: string,
    overrides: Partial<SignerObservation> = {},
  ): SignerObservation => ({
    keys: keys[id]!,
    apex: [apexFor(['bind'].includes(id) ? ['bind'] : [id])],
    denial: { method: 'NSEC' },
    content: { 'www.example.test. A': ['192.0.2.80'] },
    ...overrides,
  });
  const parentDs = [{ keyTag: keys.bind![0]!.keyTag, algorithm: 13 }];
  const check = (
    kind: 'add-signer' | 'remove-signer',
    signerId: string,
    observations: Record<string, SignerObservation>,
    state = definedZone(),
  ) =>
    preflightChecks({
      state,
      kind,
      signerId,
      observations,
      parentDs,
      now: Date.parse('2026-11-22T12:00:00Z') / 1000,
    });

  it('passes a clean join', () => {
    expect(
      check('add-signer', 'powerdns', {
        bind: observation('bind'),
        powerdns: observation('powerdns'),
      }),
    ).toEqual([]);
  });

  describe('a joiner that publishes CDS for its own keys only', () => {
    const limited = (): ZoneState => {
      const state = definedZone();
      const powerdns = state.signers.powerdns!;
      return {
        ...state,
        signers: {
          ...state.signers,
          powerdns: {
            ...powerdns,
            limits: [{ capability: 'cds-import-foreign', reason: 'own CDS only' }],
          },
        },
      };
    };
    const observations = () => ({ bind: observation('bind'), powerdns: observation('powerdns') });

    it('is refused through a parent that only observes, naming the signer and the way out', () => {
      const reasons = check('add-signer', 'powerdns', observations(), limited());
      expect(reasons.map((reason) => reason.code)).toEqual(['group-cds-impossible']);
      expect(reasons[0]!.message).toMatch(
        /^powerdns cannot publish the group's CDS\/CDNSKEY \(own CDS only\)/,
      );
      expect(reasons[0]!.message).toContain('parent.registrar');
    });

    it('joins through a parent channel that takes DS', () => {
      const reasons = preflightChecks({
        state: limited(),
        kind: 'add-signer',
        signerId: 'powerdns',
        observations: observations(),
        parentDs,
        now: Date.parse('2026-11-22T12:00:00Z') / 1000,
        parentTakesDs: true,
      });
      expect(reasons).toEqual([]);
    });
  });

  it('refuses removing the last signer', () => {
    expect(
      check('remove-signer', 'bind', { bind: observation('bind') }).map((reason) => reason.code),
    ).toEqual(['last-signer']);
  });

  it('refuses a joiner with a different algorithm, naming both', () => {
    const rsa = [key(257, 7, 8), key(256, 8, 8)];
    const reasons = check('add-signer', 'powerdns', {
      bind: observation('bind'),
      powerdns: observation('powerdns', { keys: rsa }),
    });
    expect(reasons.map((reason) => reason.code)).toEqual(['algorithm-mismatch']);
    expect(reasons[0]!.message).toMatch(/powerdns signs with algorithm 8 but bind uses 13/);
  });

  it('refuses a joiner whose zone content differs, naming the records', () => {
    const reasons = check('add-signer', 'powerdns', {
      bind: observation('bind'),
      powerdns: observation('powerdns', { content: { 'www.example.test. A': ['192.0.2.81'] } }),
    });
    expect(reasons.map((reason) => reason.code)).toEqual(['content-mismatch']);
    expect(reasons[0]!.message).toContain('www.example.test. A');
  });

  describe('content by the digests the sidecars recorded', () => {
    const nsec3 = { method: 'NSEC3' as const, parameters: '1 0 0 -' };
    const digest = (value: string, serial = 7) => ({
      algorithm: 'sha384' as const,
      digest: value.repeat(96),
      rrsets: 4,
      records: 5,
      serial,
      source: 'axfr',
    });
    const withDigests = (bind: string, powerdns: string) => {
      const state = definedZone();
      state.signers.bind!.content = digest(bind);
      state.signers.powerdns!.content = digest(powerdns, 9);
      return state;
    };
    const unwalked = (id: string) => observation(id, { denial: nsec3, content: undefined });

    it('passes an NSEC3 join whose digests agree, without walking any chain', () => {
      expect(
        check(
          'add-signer',
          'powerdns',
          { bind: unwalked('bind'), powerdns: unwalked('powerdns') },
          withDigests('a', 'a'),
        ),
      ).toEqual([]);
    });

    it('refuses different digests, naming both serials and sizes', () => {
      const reasons = check(
        'add-signer',
        'powerdns',
        { bind: unwalked('bind'), powerdns: unwalked('powerdns') },
        withDigests('a', 'b'),
      );
      expect(reasons.map((reason) => reason.code)).toEqual(['content-mismatch']);
      expect(reasons[0]!.message).toMatch(
        /^powerdns serves different zone content than bind: powerdns holds 4 RRsets \(5 records\) at serial 9, sha384 bbbbbbbbbbbb….*; bind holds 4 RRsets \(5 records\) at serial 7/,
      );
    });

    it('calls an NSEC3 signer without a digest unknown, and says why', () => {
      const state = withDigests('a', 'a');
      delete state.signers.powerdns!.content;
      const reasons = check(
        'add-signer',
        'powerdns',
        { bind: unwalked('bind'), powerdns: unwalked('powerdns') },
        state,
      );
      expect(reasons.map((reason) => reason.code)).toEqual(['content-unknown']);
      expect(reasons[0]!.message).toMatch(
        /powerdns could not be compared: its sidecar has recorded no content digest .*an NSEC3 chain cannot be walked/,
      );
    });
  });

  it('refuses key-tag collisions, mixed denial, a process in flight and a group that is not steady', () => {
    const colliding = [
      { ...keys.powerdns![0]!, keyTag: keys.bind![0]!.keyTag },
      keys.powerdns![1]!,
    ];
    const collision = check('add-signer', 'powerdns', {
      bind: observation('bind'),
      powerdns: observation('powerdns', { keys: colliding }),
    }).find((r) => r.code === 'key-tag-collision');
    // The joining signer's key is the one to replace: nobody else publishes it yet.
    expect(collision?.message).toBe(
      `key tag ${keys.bind![0]!.keyTag} is used by both bind's ${keys.bind![0]!.role} and powerdns's ${colliding[0]!.role}; have powerdns make a new ${colliding[0]!.role} (it is not in the group yet, so no other signer publishes it), then ask again`,
    );
    // Between two members, either key may be rolled.
    const members = check(
      'remove-signer',
      'powerdns',
      { bind: observation('bind'), powerdns: observation('powerdns', { keys: colliding }) },
      { ...definedZone(), members: ['bind', 'powerdns'] },
    ).find((r) => r.code === 'key-tag-collision');
    expect(members?.message).toMatch(/; roll one of the two keys first$/);
    expect(
      check('add-signer', 'powerdns', {
        bind: observation('bind'),
        powerdns: observation('powerdns', { denial: { method: 'NSEC3', parameters: '1 0 0 -' } }),
      }).map((r) => r.code),
    ).toEqual(['denial-mismatch']);
    const [differentSalt] = check('add-signer', 'powerdns', {
      bind: observation('bind', { denial: { method: 'NSEC3', parameters: '1 0 0 -' } }),
      powerdns: observation('powerdns', {
        denial: { method: 'NSEC3', parameters: '1 0 10 aabbccdd' },
      }),
    });
    expect(differentSalt?.code).toBe('denial-mismatch');
    expect(differentSalt?.message).toBe(
      'powerdns uses NSEC3 1 0 10 aabbccdd but bind uses NSEC3 1 0 0 -; use one denial method with identical parameters',
    );
    const busy = applyZoneEvent(
      definedZone(),
      requestProcess(
        definedZone(),
        { source, now: '2026-11-22T12:00:00.000Z' },
        { processId: 'p1', kind: 'add-signer', signerId: 'knot', preflight: [] },
      ),
    );
    expect(
      check(
        'add-signer',
        'powerdns',
        { bind: observation('bind'), powerdns: observation('powerdns') },
        busy,
      ).map((r) => r.code),
    ).toEqual(['process-in-flight']);
    const stale = observation('bind', {
      apex: [
        {
          ...apexFor(['bind']),
          dnskey: { ...apexFor(['bind']).dnskey, records: [keys.bind![0]!.dnskey] },
        },
      ],
    });
    expect(
      check('add-signer', 'powerdns', { bind: stale, powerdns: observation('powerdns') }).map(
        (r) => r.code,
      ),
    ).toEqual(['not-steady']);
    // The unserved key is a successor whose followed roll is queued: in motion, not a fault.
    const queued = applyZoneEvent(
      definedZone(),
      event('process-requested', {
        processId: 'follow-1',
        kind: 'roll-zsk',
        signerId: 'bind',
        requestedBy: 'key-watch:bind',
        role: 'ZSK',
        successorTag: keys.bind![1]!.keyTag,
      }),
    );
    expect(
      check(
        'add-signer',
        'powerdns',
        { bind: stale, powerdns: observation('powerdns') },
        queued,
      ).map((r) => r.code),
    ).not.toContain('not-steady');
  });

  it('turns a request into a pre-flight decision, then into a started or blocked process', () => {
    const requested = applyZoneEvent(
      definedZone(),
      event('process-requested', {
        processId: 'p7',
        kind: 'remove-signer',
        signerId: 'bind',
        requestedBy: 'operator',
      }),
    );
    expect(decide(requested, { source, now: '2026-11-22T12:00:00.000Z' })).toEqual({
      kind: 'preflight',
      processId: 'p7',
      processKind: 'remove-signer',
      signerId: 'bind',
    });
    const blocked = applyZoneEvent(
      requested,
      requestProcess(
        requested,
        { source, now: '2026-11-22T12:00:01.000Z' },
        {
          processId: 'p7',
          kind: 'remove-signer',
          signerId: 'bind',
          preflight: [{ code: 'last-signer', message: 'no' }],
        },
      ),
    );
    expect(blocked.pendingRequests).toEqual([]);
    expect(decide(blocked, { source, now: '2026-11-22T12:00:02.000Z' })).toEqual({ kind: 'idle' });
  });

  it('records a refusal as process-blocked, before any change', () => {
    const reasons = check('remove-signer', 'bind', { bind: observation('bind') });
    const blocked = requestProcess(
      definedZone(),
      { source, now: '2026-11-22T12:00:00.000Z' },
      { processId: 'p9', kind: 'remove-signer', signerId: 'bind', preflight: reasons },
    );
    expect(blocked.type).toBe('process-blocked');
    const state = applyZoneEvent(definedZone(), blocked);
    expect(state.activeProcess).toBeNull();
    expect(state.processes[0]!.reasons![0]!.code).toBe('last-signer');
    expect(decide(state, { source, now: '2026-11-22T12:00:00.000Z' })).toEqual({ kind: 'idle' });
  });
});

describe('--unsafe-skip-wait (negative controls only)', () => {
  const requested = (skips: string[]) =>
    applyZoneEvent(
      definedZone(),
      event('process-requested', {
        processId: 'p-skip',
        kind: 'add-signer',
        signerId: 'powerdns',
        requestedBy: 'operator',
        unsafeSkipWaits: skips,
      }),
    );

  it('schedules the named wait to end at once, marked SKIPPED with the mandated time kept', () => {
    const ttls = { dnskey: 30, ds: 30, parentNs: 30, childNs: 30 };
    const state = requested(['await-parent-ds']);
    const started = requestProcess(
      state,
      { source, now: '2026-11-22T12:00:00.000Z' },
      { processId: 'p-skip', kind: 'add-signer', signerId: 'powerdns', preflight: [] },
    );
    expect(started.type).toBe('process-started');
    const run = drive(applyZoneEvent(state, started), ['bind', 'powerdns'], ttls);
    const waits = typesOf(run.events, 'wait-scheduled').map(
      (candidate) => (candidate as Extract<ZoneEvent, { type: 'wait-scheduled' }>).data,
    );
    const skipped = waits.find((wait) => wait.formula.startsWith('SKIPPED'))!;
    expect(skipped.formula).toContain('max(t_ds + DprpP + TTLds, t_dnskey + DprpC + TTLkey) + S');
    expect(skipped.terms.mandatedNotBefore).toBeDefined();
    const scheduledAt = run.events.find(
      (candidate) => candidate.type === 'wait-scheduled' && candidate.data === skipped,
    )!.occurredAt;
    expect(skipped.notBefore).toBe(scheduledAt);
    expect(Date.parse(skipped.terms.mandatedNotBefore as string)).toBeGreaterThan(
      Date.parse(skipped.notBefore) + 30_000,
    );
    // The other wait (the NS wait) is untouched.
    expect(waits.filter((wait) => !wait.formula.startsWith('SKIPPED'))).toHaveLength(1);
    expect(run.state.processes[0]!.status).toBe('completed');
  });

  it('without a skip, no wait is skipped (the control)', () => {
    const state = requested([]);
    const started = requestProcess(
      state,
      { source, now: '2026-11-22T12:00:00.000Z' },
      { processId: 'p-skip', kind: 'add-signer', signerId: 'powerdns', preflight: [] },
    );
    const run = drive(applyZoneEvent(state, started), ['bind', 'powerdns'], {
      dnskey: 30,
      ds: 30,
      parentNs: 30,
      childNs: 30,
    });
    const formulas = typesOf(run.events, 'wait-scheduled').map(
      (candidate) => (candidate as Extract<ZoneEvent, { type: 'wait-scheduled' }>).data.formula,
    );
    expect(formulas).toHaveLength(2);
    expect(formulas.some((formula) => formula.startsWith('SKIPPED'))).toBe(false);
  });

  it('refuses, before any change, a skip naming a step that has no wait', () => {
    const state = requested(['sync-ns']);
    const blocked = requestProcess(
      state,
      { source, now: '2026-11-22T12:00:00.000Z' },
      { processId: 'p-skip', kind: 'add-signer', signerId: 'powerdns', preflight: [] },
    );
    expect(blocked.type).toBe('process-blocked');
    expect(JSON.stringify(blocked.data)).toContain('unknown-skip-wait');
    expect(JSON.stringify(blocked.data)).toContain('await-parent-ds');
  });
});

/** The step index recorded by the first process-stopped event. */
function stoppedAt(events: ZoneEvent[]): number | undefined {
  const stopped = events.find((event) => event.type === 'process-stopped');
  return stopped?.type === 'process-stopped' ? stopped.data.stepIndex : undefined;
}

describe('stop and undo', () => {
  const TTLS = { dnskey: 30, ds: 30, parentNs: 30, childNs: 30 };
  const at = '2026-11-22T12:00:00.000Z';
  const operator = { kind: 'cli', id: 'alice' };
  const stepStatus = (state: ZoneState, index: number) =>
    state.processes[0]!.stepStates[index]!.status;
  const stopRequest = (processId: string) =>
    zoneEvent(
      'process-stop-requested',
      { zone, occurredAt: at, source: operator },
      { processId, requestedBy: 'alice', reason: 'test' },
    );

  /** ADD-SIGNER of PowerDNS, driven until `pauseWhen`, then a stop request appended. */
  function addThenStop(pauseWhen: (state: ZoneState) => boolean) {
    const start = requestProcess(
      definedZone(),
      { source, now: at },
      { processId: 'p1', kind: 'add-signer', signerId: 'powerdns', preflight: [] },
    );
    const begun = drive(
      applyZoneEvent(definedZone(), start),
      ['bind', 'powerdns'],
      TTLS,
      undefined,
      pauseWhen,
    );
    const stopping = applyZoneEvent(begun.state, stopRequest('p1'));
    const rest = drive(stopping, ['bind', 'powerdns'], TTLS);
    return {
      events: [start, ...begun.events, stopRequest('p1'), ...rest.events],
      state: rest.state,
    };
  }

  it('inside a step that changes servers, finishes that step (and its wait), then stops', () => {
    const run = addThenStop((state) => stepStatus(state, 1) === 'started');
    const stopped = typesOf(run.events, 'process-stopped');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]!.data).toMatchObject({ processId: 'p1', stepIndex: 2, requestedBy: 'alice' });
    expect(typesOf(run.events, 'step-completed').map((event) => event.data)).toEqual([
      { processId: 'p1', stepIndex: 0 },
      { processId: 'p1', stepIndex: 1 },
    ]);
    expect(run.state.processes[0]!.status).toBe('stopped');
    expect(run.state.members).toEqual(['bind']);
    expect(run.state.activeProcess).toBeNull();
  });

  it('inside a step that changes nothing (waiting for the parent), stops at once', () => {
    const run = addThenStop((state) => stepStatus(state, 2) === 'started');
    expect(stoppedAt(run.events)).toBe(2);
    const met = run.events.flatMap((event) =>
      event.type === 'postcondition-met' ? [event.data.stepIndex] : [],
    );
    expect(met).toEqual([0, 1]);
  });

  it('undoes a stopped join by removing the joiner, who is not a member, back to the group before', () => {
    const stopped = addThenStop((state) => stepStatus(state, 4) === 'started');
    expect(stoppedAt(stopped.events)).toBe(5);
    const request = zoneEvent(
      'process-requested',
      { zone, occurredAt: at, source: operator },
      {
        processId: 'p2',
        kind: 'remove-signer',
        signerId: 'powerdns',
        requestedBy: 'alice',
        undoOf: 'p1',
      },
    );
    const requested = applyZoneEvent(stopped.state, request);
    expect(
      preflightChecks({
        state: requested,
        kind: 'remove-signer',
        signerId: 'powerdns',
        observations: {},
        parentDs: [],
        now: Date.parse(at) / 1000,
        undoOf: 'p1',
      }).map((reason) => reason.code),
    ).not.toContain('not-a-member');
    const start = requestProcess(
      requested,
      { source, now: at },
      {
        processId: 'p2',
        kind: 'remove-signer',
        signerId: 'powerdns',
        preflight: [],
      },
    );
    expect(start.type === 'process-started' && start.data).toMatchObject({
      groupBefore: ['bind', 'powerdns'],
      groupAfter: ['bind'],
      undoOf: 'p1',
    });
    const run = drive(applyZoneEvent(requested, start), ['bind', 'powerdns'], TTLS);
    expect(typesOf(run.events, 'process-completed')).toHaveLength(1);
    expect(run.state.members).toEqual(['bind']);
    expect(run.state.processes.find((process) => process.id === 'p1')!.undoneBy).toBe('p2');
  });

  it('refuses an undo of a process that did not stop, or was undone already, or with the wrong kind', () => {
    const stopped = addThenStop((state) => stepStatus(state, 1) === 'started');
    const check = (state: ZoneState, kind: 'add-signer' | 'remove-signer', undoOf: string) =>
      preflightChecks({
        state,
        kind,
        signerId: 'powerdns',
        observations: {},
        parentDs: [],
        now: Date.parse(at) / 1000,
        undoOf,
      }).filter((reason) => reason.code === 'not-undoable');
    expect(check(stopped.state, 'add-signer', 'p1')[0]!.message).toContain(
      'is undone by remove-signer',
    );
    expect(check(stopped.state, 'remove-signer', 'nope')[0]!.message).toContain('no process nope');
    const completed = drive(
      applyZoneEvent(
        definedZone(),
        requestProcess(
          definedZone(),
          { source, now: at },
          {
            processId: 'p9',
            kind: 'add-signer',
            signerId: 'powerdns',
            preflight: [],
          },
        ),
      ),
      ['bind', 'powerdns'],
      TTLS,
    ).state;
    expect(check(completed, 'remove-signer', 'p9')[0]!.message).toContain('completed, not stopped');
  });

  it('refuses, in the fold, a stop request for a process that is not in flight', () => {
    const run = addThenStop((state) => stepStatus(state, 1) === 'started');
    expect(() => applyZoneEvent(run.state, stopRequest('p1'))).toThrow(ZoneStreamError);
  });
});

describe('one scribe per bookkeeping event', () => {
  const BOOKKEEPING = new Set([
    'step-started',
    'wait-scheduled',
    'step-completed',
    'process-completed',
  ]);
  const sidecarContext = (id: string, now: number) => ({
    selfSignerId: id,
    source: { kind: 'sidecar', id },
    now: new Date(now).toISOString(),
  });
  /** How many sidecars decide to append a bookkeeping event (or run the pre-flight) at `now`. */
  const writersAt = (state: ZoneState, sidecars: string[], now: number) =>
    sidecars.filter((id) => {
      const decision = decide(state, sidecarContext(id, now));
      return (
        decision.kind === 'preflight' ||
        decision.kind === 'check-precondition' ||
        (decision.kind === 'append' && BOOKKEEPING.has(decision.event.type))
      );
    }).length;

  it('ADD-SIGNER: one sidecar writes each, the others only once SCRIBE_FALLBACK_MS has passed', () => {
    const sidecars = ['bind', 'powerdns'];
    const request = { processId: 'p1', kind: 'add-signer', signerId: 'powerdns' } as const;
    const asked = applyZoneEvent(
      definedZone(),
      event('process-requested', { ...request, requestedBy: 'test' }),
    );
    // The pre-flight: PowerDNS's sidecar runs it; BIND's too once the fallback is due.
    const requestedAt = Date.parse('2026-11-22T12:00:00Z');
    expect(writersAt(asked, sidecars, requestedAt)).toBe(1);
    expect(decide(asked, sidecarContext('powerdns', requestedAt)).kind).toBe('preflight');
    expect(writersAt(asked, sidecars, requestedAt + SCRIBE_FALLBACK_MS)).toBe(2);
    const requested = applyZoneEvent(
      definedZone(),
      requestProcess(
        asked,
        { source, now: '2026-11-22T12:00:00.000Z' },
        { ...request, preflight: [] },
      ),
    );
    const counts = { alone: 0, raced: 0, racedLater: 0 };
    const run = drive(requested, sidecars, { dnskey: 30, ds: 30, parentNs: 30, childNs: 30 });
    // Replay the stream: at each state, who would write at the time the next event came, and
    // who would once the fallback is due (the control: without the scribe, all of them would).
    let state = requested;
    for (const next of run.events) {
      const clock = Date.parse(next.occurredAt);
      const writers = writersAt(state, sidecars, clock);
      if (writers === 1) counts.alone += 1;
      if (writers > 1) counts.raced += 1;
      if (writersAt(state, sidecars, clock + SCRIBE_FALLBACK_MS + 60_000) > 1)
        counts.racedLater += 1;
      state = applyZoneEvent(state, next);
    }
    expect(state.processes[0]!.status).toBe('completed');
    expect(counts.raced).toBe(0);
    expect(counts.alone).toBeGreaterThanOrEqual(15);
    expect(counts.racedLater).toBeGreaterThanOrEqual(10);
  });

  it('REMOVE-SIGNER: the leaving signer is never the scribe, and the others finish without it', () => {
    let state = definedZone();
    const ttls = { dnskey: 30, ds: 30, parentNs: 30, childNs: 30 };
    for (const [index, signerId] of ['powerdns', 'knot'].entries()) {
      state = applyZoneEvent(
        state,
        requestProcess(
          state,
          { source, now: '2026-11-22T12:00:00.000Z' },
          { processId: `p${index}`, kind: 'add-signer', signerId, preflight: [] },
        ),
      );
      state = drive(state, ['bind', 'powerdns', 'knot'], ttls).state;
    }
    const removal = { processId: 'remove', kind: 'remove-signer', signerId: 'bind' } as const;
    const asked = applyZoneEvent(
      state,
      event('process-requested', { ...removal, requestedBy: 't' }),
    );
    expect(preflightScribeOf(asked, asked.pendingRequests[0]!)).toBe('knot');
    state = applyZoneEvent(
      state,
      requestProcess(
        state,
        { source, now: '2026-11-22T12:00:00.000Z' },
        { ...removal, preflight: [] },
      ),
    );
    const scribes = new Set<string>();
    const retired = (candidate: ZoneState) => {
      const removal = candidate.activeProcess;
      if (removal) scribes.add(scribeOf(removal));
      return removal?.leavingSigner?.mayStopServingNow === true;
    };
    // All three until BIND is retired, then BIND's sidecar is gone.
    const untilRetired = drive(state, ['bind', 'powerdns', 'knot'], ttls, undefined, retired);
    const rest = drive(untilRetired.state, ['powerdns', 'knot'], ttls, undefined, (candidate) => {
      if (candidate.activeProcess) scribes.add(scribeOf(candidate.activeProcess));
      return false;
    });
    expect(rest.state.processes.at(-1)!.status).toBe('completed');
    expect(rest.state.members).toEqual(['powerdns', 'knot']);
    expect([...scribes].sort()).toEqual(['knot', 'powerdns']);
  });
});

describe('the scribe of a process whose signer runs no sidecar', () => {
  it("model 1's owner: a member that stays writes, and runs the pre-flight", () => {
    const ownerRoll = {
      id: 'roll-owner',
      kind: 'roll-ksk',
      signerId: 'owner',
      status: 'running',
      steps: [],
      stepStates: [{ status: 'pending', reconciled: {} }],
      currentStep: 0,
      groupBefore: ['ns1', 'knot'],
      groupAfter: ['ns1', 'knot'],
      startedAt: '2026-11-22T12:00:00.000Z',
    } satisfies ZoneState['processes'][number];
    expect(scribeOf(ownerRoll)).toBe('knot');
    // Control: a roll at a member is written by that member.
    expect(scribeOf({ ...ownerRoll, signerId: 'ns1' })).toBe('ns1');
    const state = {
      ...definedZone(),
      members: ['ns1', 'knot'],
    } satisfies ZoneState;
    const request = {
      processId: 'roll-owner',
      kind: 'roll-ksk',
      signerId: 'owner',
      requestedAt: '2026-11-22T12:00:00.000Z',
    } as ZoneState['pendingRequests'][number];
    expect(preflightScribeOf(state, request)).toBe('knot');
    expect(preflightScribeOf(state, { ...request, signerId: 'knot' })).toBe('knot');
    expect(preflightScribeOf(state, { ...request, signerId: 'powerdns' })).toBe('powerdns');
  });
});
