/**
 * What the fold makes visible to an operator: a signer that cannot apply a step, a process held
 * for the operator, a registration that changed a member, when a leaving signer may stop
 * serving, and a request that can never wait unanswered.
 */
import { describe, expect, it } from 'vitest';
import { zoneEvent } from '@chorus/core';
import { applyZoneEvent, foldZone, ZoneStreamError, type ZoneState } from '../src/state.js';
import {
  decide,
  postconditionMet,
  requestProcess,
  signerApplyFailed,
  signerReconciled,
  type DecideContext,
} from '../src/decide.js';
import { preflightChecks } from '../src/preflight.js';
import { testKey } from './fixtures/keys.js';

const zone = 'example.test.';
const source = { kind: 'test', id: 'driver' };
const T0 = Date.parse('2026-11-22T12:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

const key = testKey;

const reference = (id: string, address: string) => ({
  id,
  kind: id,
  nameServerNames: [`ns.${id}.test.`],
  endpoints: [{ address }],
});

const fields = (seconds = 0, id = 'driver') => ({
  zone,
  occurredAt: at(seconds),
  source: { kind: 'sidecar', id },
});

/** BIND and PowerDNS sign the zone; Knot is registered. Every signer's keys are observed. */
function twoSigners(): ZoneState {
  return foldZone(zone, [
    zoneEvent('zone-defined', fields(), {
      parentZone: 'test.',
      signers: [reference('bind', '127.0.0.2'), reference('powerdns', '127.0.0.3')],
      timing: {
        childPropagationSeconds: 2,
        parentPropagationSeconds: 3,
        safetyMarginSeconds: 1,
        maxZoneTtlSeconds: 30,
      },
      recordTtlSeconds: 30,
    }),
    zoneEvent('signer-registered', fields(), { signer: reference('knot', '127.0.0.4') }),
    zoneEvent('signer-keys-observed', fields(), { signerId: 'bind', keys: [key(257, 1)] }),
    zoneEvent('signer-keys-observed', fields(), { signerId: 'powerdns', keys: [key(257, 3)] }),
    zoneEvent('signer-keys-observed', fields(), { signerId: 'knot', keys: [key(257, 5)] }),
  ]);
}

const context = (seconds: number, self?: string): DecideContext => ({
  source,
  now: at(seconds),
  ...(self ? { selfSignerId: self } : {}),
});

/** Starts `kind` of `signerId` and appends the first step's `step-started`. */
function started(kind: 'add-signer' | 'remove-signer', signerId: string): ZoneState {
  let state = twoSigners();
  state = applyZoneEvent(
    state,
    requestProcess(state, context(1), { processId: 'p1', kind, signerId, preflight: [] }),
  );
  const first = decide(state, context(2));
  if (first.kind !== 'append') throw new Error(`unexpected ${first.kind}`);
  return applyZoneEvent(state, first.event);
}

const failure = (
  state: ZoneState,
  seconds: number,
  attempt: number,
  error: { name: string; message: string; retryable: boolean },
  signerId = 'knot',
) =>
  applyZoneEvent(
    state,
    signerApplyFailed(state, context(seconds), {
      processId: 'p1',
      stepIndex: 0,
      signerId,
      attempt,
      error,
    }),
  );

const badsig = {
  name: 'Chorus_TsigError',
  message: '127.0.0.4:53 rejected the TSIG signature (BADSIG)',
  retryable: false,
};
const timeout = {
  name: 'Chorus_DnsTimeoutError',
  message: 'no answer from 127.0.0.4:53',
  retryable: true,
};

describe('a signer that cannot apply a step', () => {
  it('is folded into signerFailures with its error, attempts and times; the process keeps running while retrying helps', () => {
    let state = started('add-signer', 'knot');
    state = failure(state, 10, 1, timeout);
    state = failure(state, 50, 11, timeout);
    const process = state.activeProcess!;
    expect(process.status).toBe('running');
    expect(process.signerFailures).toEqual({
      knot: {
        stepIndex: 0,
        errorName: 'Chorus_DnsTimeoutError',
        message: 'no answer from 127.0.0.4:53',
        retryable: true,
        attempts: 11,
        firstAt: at(10),
        lastAt: at(50),
      },
    });
  });

  it('holds the process for the operator on a non-retryable error, naming the signer, step and error', () => {
    const state = failure(started('add-signer', 'knot'), 10, 1, badsig);
    const process = state.activeProcess!;
    expect(process.id).toBe('p1');
    expect(process.status).toBe('needs-operator');
    expect(process.reasons).toEqual([
      {
        code: 'signer-apply-failed',
        message: `knot cannot apply step 1 (sync-dnskeys): ${badsig.message}`,
      },
    ]);
    // Still the zone's process in flight: the others keep waiting for knot.
    expect(decide(state, context(11, 'bind'))).toMatchObject({ kind: 'reconcile' });
  });

  it('is cleared when the signer reconciles, and the process runs again', () => {
    let state = failure(started('add-signer', 'knot'), 10, 1, badsig);
    state = applyZoneEvent(state, signerReconciled(state, context(20), 'p1', 0, 'knot', 3));
    expect(state.activeProcess!.status).toBe('running');
    expect(state.activeProcess!.signerFailures).toBeUndefined();
    expect(state.activeProcess!.reasons).toBeUndefined();
  });

  it('stays held while another signer still has a non-retryable failure', () => {
    let state = failure(started('add-signer', 'knot'), 10, 1, badsig);
    state = failure(state, 11, 1, { ...badsig, message: 'bind: rndc refused' }, 'bind');
    state = applyZoneEvent(state, signerReconciled(state, context(20), 'p1', 0, 'knot', 3));
    expect(state.activeProcess!.status).toBe('needs-operator');
    expect(state.activeProcess!.reasons!.map((reason) => reason.message)).toEqual([
      'bind cannot apply step 1 (sync-dnskeys): bind: rndc refused',
    ]);
  });

  it('refuses a failure recorded for a step that is not current', () => {
    const state = started('add-signer', 'knot');
    const stale = zoneEvent('signer-apply-failed', fields(5), {
      processId: 'p1',
      stepIndex: 3,
      signerId: 'knot',
      attempt: 1,
      error: timeout,
    });
    expect(() => applyZoneEvent(state, stale)).toThrow(ZoneStreamError);
  });
});

describe('a request made while a process is in flight', () => {
  it('is refused at once with the process it waits for, instead of waiting unseen', () => {
    let state = failure(started('add-signer', 'knot'), 10, 1, badsig);
    state = applyZoneEvent(
      state,
      zoneEvent('process-requested', fields(12), {
        processId: 'p2',
        kind: 'remove-signer',
        signerId: 'bind',
        requestedBy: 'operator',
      }),
    );
    expect(state.pendingRequests.map((request) => request.processId)).toEqual(['p2']);
    const decision = decide(state, context(13, 'bind'));
    if (decision.kind !== 'append') throw new Error(`expected an append, got ${decision.kind}`);
    expect(decision.event).toMatchObject({
      type: 'process-blocked',
      data: {
        processId: 'p2',
        reasons: [
          {
            code: 'process-in-flight',
            message: expect.stringMatching(/add-signer of knot \(process p1\).*needs the operator/),
          },
        ],
      },
    });
    const answered = applyZoneEvent(state, decision.event);
    expect(answered.pendingRequests).toEqual([]);
    expect(answered.activeProcess!.id).toBe('p1');
  });
});

describe('registrations that change a known signer', () => {
  it('record a member whose endpoints changed, with before and after and who did it', () => {
    const state = applyZoneEvent(
      twoSigners(),
      zoneEvent('signer-registered', fields(30, 'powerdns'), {
        signer: reference('powerdns', '127.0.0.99'),
        before: reference('powerdns', '127.0.0.3'),
      }),
    );
    expect(state.signers.powerdns!.endpoints).toEqual([{ address: '127.0.0.99' }]);
    expect(state.registrationChanges).toEqual([
      {
        signerId: 'powerdns',
        at: at(30),
        by: 'powerdns',
        changed: ['endpoints'],
        member: true,
        before: { ...reference('powerdns', '127.0.0.3'), keyTags: [key(257, 3).keyTag] },
        after: { ...reference('powerdns', '127.0.0.99'), keyTags: [key(257, 3).keyTag] },
      },
    ]);
  });

  it("record a member's new keys, but not a signer's first registration or first keys", () => {
    expect(twoSigners().registrationChanges).toBeUndefined();
    const state = applyZoneEvent(
      twoSigners(),
      zoneEvent('signer-keys-observed', fields(40, 'bind'), {
        signerId: 'bind',
        keys: [key(257, 9)],
      }),
    );
    expect(state.registrationChanges).toMatchObject([
      {
        signerId: 'bind',
        changed: ['keys'],
        member: true,
        before: { keyTags: [key(257, 1).keyTag] },
        after: { keyTags: [key(257, 9).keyTag] },
      },
    ]);
  });

  it('mark a signer outside the group as not a member', () => {
    const state = applyZoneEvent(
      twoSigners(),
      zoneEvent('signer-registered', fields(30, 'knot'), {
        signer: { ...reference('knot', '127.0.0.4'), nameServerNames: ['ns2.knot.test.'] },
      }),
    );
    expect(state.registrationChanges).toMatchObject([
      { signerId: 'knot', changed: ['nameServerNames'], member: false },
    ]);
  });
});

/** Plays every sidecar until the process ends, observations succeeding at once. */
function drive(initial: ZoneState, startSeconds: number): ZoneState[] {
  const states = [initial];
  let state = initial;
  let clock = startSeconds;
  for (let turn = 0; turn < 300 && state.activeProcess; turn += 1) {
    clock += 1;
    let progressed = false;
    for (const self of ['bind', 'powerdns']) {
      const now = context(clock, self);
      const decision = decide(state, now);
      const next =
        decision.kind === 'append' || decision.kind === 'check-precondition'
          ? decision.event
          : decision.kind === 'reconcile'
            ? signerReconciled(state, now, decision.processId, decision.stepIndex, self, 1)
            : decision.kind === 'observe'
              ? postconditionMet(state, now, decision.processId, decision.stepIndex, {
                  dnskey: 30,
                  ds: 30,
                  parentNs: 30,
                  childNs: 30,
                })
              : undefined;
      if (!next) continue;
      state = applyZoneEvent(state, next);
      states.push(state);
      progressed = true;
    }
    if (!progressed) {
      const sleeping = decide(state, context(clock));
      if (sleeping.kind !== 'sleep-until') throw new Error(`stuck: ${sleeping.kind}`);
      clock = (Date.parse(sleeping.until) - T0) / 1000;
    }
  }
  return states;
}

describe('REMOVE-SIGNER says when the leaving signer may stop serving', () => {
  it('estimates it from the NS wait, then sets it when the retire step starts', () => {
    const states = drive(started('remove-signer', 'powerdns'), 2);
    const leaving = states.map((state) => state.processes[0]!.leavingSigner);
    expect(leaving[0]).toEqual({ signerId: 'powerdns' });
    const process = states.at(-1)!.processes[0]!;
    expect(process.status).toBe('completed');
    const index = (name: string) => process.steps.findIndex((step) => step.name === name);
    const nsWait = process.stepStates[index('await-parent-ns')]!.wait!.notBefore;
    const retireStarted = process.stepStates[index('retire-leaving-signer')]!.startedAt!;
    expect(Date.parse(retireStarted)).toBeGreaterThanOrEqual(Date.parse(nsWait));
    // Before the NS wait is scheduled nothing is promised; then the estimate; then the moment.
    expect(leaving).toContainEqual({ signerId: 'powerdns', mayStopServingAt: nsWait });
    expect(leaving.findIndex((entry) => entry?.mayStopServingAt === nsWait)).toBeLessThan(
      leaving.findIndex((entry) => entry?.mayStopServingNow === true),
    );
    expect(process.leavingSigner).toEqual({
      signerId: 'powerdns',
      mayStopServingAt: retireStarted,
      mayStopServingNow: true,
    });
  });

  it('says nothing of the kind for ADD-SIGNER', () => {
    expect(started('add-signer', 'knot').activeProcess!.leavingSigner).toBeUndefined();
  });
});

describe('pre-flight with a signer or parent that cannot be observed', () => {
  it('refuses, naming the signer and why, and the parent', () => {
    const state = twoSigners();
    const reasons = preflightChecks({
      state,
      kind: 'remove-signer',
      signerId: 'bind',
      observations: {},
      unobserved: {
        bind: 'no answer from 127.0.0.2:53',
        powerdns: 'cannot reach 127.0.0.99:53',
      },
      parentDs: [],
      parentUnobserved: 'no answer from the parent',
      now: T0 / 1000,
    });
    expect(reasons).toEqual([
      {
        code: 'not-observed',
        message: 'bind could not be observed on the wire: no answer from 127.0.0.2:53',
      },
      {
        code: 'not-observed',
        message: 'powerdns could not be observed on the wire: cannot reach 127.0.0.99:53',
      },
      {
        code: 'parent-not-observed',
        message:
          'the delegation of example.test. could not be read at the parent: no answer from the parent',
      },
    ]);
  });
});
