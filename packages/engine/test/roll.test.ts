import { describe, expect, it } from 'vitest';
import { keyTag } from '@chorus/dns';
import {
  zoneEvent,
  type RolloverTiming,
  type SigningKey,
  type ZoneEvent,
  type ZoneEventOf,
  type ZoneEventType,
} from '@chorus/core';
import { applyZoneEvent, foldZone, type ProcessState, type ZoneState } from '../src/state.js';
import { decide, postconditionMet, requestProcess, signerReconciled } from '../src/decide.js';
import { prePublicationShortfall, rollChecks } from '../src/preflight-rolls.js';
import { ROLL_ZSK_STEPS, stepsFor } from '../src/processes.js';
import { desiredForRecipe, expectedDsFor } from '../src/desired.js';
import { testKey } from './fixtures/keys.js';

const zone = 'roll.test.';
const source = { kind: 'test', id: 'driver' };
const TTL = 30;
const timing = {
  childPropagationSeconds: 2,
  parentPropagationSeconds: 3,
  safetyMarginSeconds: 1,
  maxZoneTtlSeconds: TTL,
};

const key = testKey;

const pdnsKsk = key(257, 1);
const pdnsZsk = key(256, 2);
const pdnsSuccessor = key(256, 7);
const bindKsk = key(257, 3);
const bindZsk = key(256, 4);

let clock = Date.parse('2026-12-01T12:00:00Z');
const at = () => new Date(clock).toISOString();

function event<T extends ZoneEventType>(type: T, data: ZoneEventOf<T>['data']): ZoneEvent {
  return zoneEvent<T>(type, { zone, occurredAt: at(), source }, data);
}

function signer(id: string, rollover?: RolloverTiming) {
  return {
    id,
    kind: id,
    nameServerNames: [`ns.${id}.test.`],
    endpoints: [{ address: `127.0.0.${id === 'bind' ? 2 : 3}` }],
    ...(rollover ? { rollover, keyWatchSeconds: 2 } : {}),
  };
}

const BIND_TIMING: RolloverTiming = {
  mode: 'server-timed',
  prePublicationSeconds: 50,
  settings: 'dnskey-ttl 30 + publish-safety 15 + zone-propagation-delay 5',
  settingToRaise: 'publish-safety in the dnssec-policy of roll.test.',
};

/** A group of BIND (server-timed) and PowerDNS (held), each with a KSK and a ZSK. */
function group(bindTiming: RolloverTiming = BIND_TIMING): ZoneState {
  return foldZone(zone, [
    event('signer-registered', { signer: signer('bind', bindTiming) }),
    event('signer-registered', { signer: signer('powerdns', { mode: 'held' }) }),
    event('signer-keys-observed', { signerId: 'bind', keys: [bindKsk, bindZsk] }),
    event('signer-keys-observed', { signerId: 'powerdns', keys: [pdnsKsk, pdnsZsk] }),
    event('zone-defined', {
      parentZone: 'test.',
      signers: [signer('bind', bindTiming), signer('powerdns', { mode: 'held' })],
      timing,
      recordTtlSeconds: TTL,
    }),
  ]);
}

/** Plays both sidecars through a roll of PowerDNS's ZSK; the server's keys move as asked. */
function driveRoll(initial: ZoneState, stopWhen: (state: ZoneState) => boolean = () => false) {
  let state = applyZoneEvent(
    initial,
    event('process-requested', {
      processId: 'roll-1',
      kind: 'roll-zsk',
      signerId: 'powerdns',
      requestedBy: 'test',
      role: 'ZSK',
    }),
  );
  let stopAsked = false;
  const append = (next: ZoneEvent) => {
    state = applyZoneEvent(state, next);
    if (stopAsked || !stopWhen(state)) return;
    stopAsked = true;
    const stop = { processId: 'roll-1', requestedBy: 'alice', reason: 'test' };
    state = applyZoneEvent(state, event('process-stop-requested', stop));
  };
  const actions: string[] = [];
  const stepStarts: Record<string, number> = {};
  let powerdnsKeys = [pdnsKsk, pdnsZsk];
  for (let turn = 0; turn < 200; turn += 1) {
    const process = state.processes.find((candidate) => candidate.id === 'roll-1');
    if (process && process.status !== 'running') break;
    const before = state;
    let wakeAt = Infinity;
    for (const self of ['bind', 'powerdns']) {
      const context = { selfSignerId: self, source: { kind: 'sidecar', id: self }, now: at() };
      const decision = decide(state, context);
      switch (decision.kind) {
        case 'preflight':
          append(
            requestProcess(state, context, {
              ...decision,
              kind: decision.processKind,
              preflight: [],
            }),
          );
          break;
        case 'append':
          if (decision.event.type === 'step-started')
            stepStarts[state.activeProcess!.steps[decision.event.data.stepIndex]!.name] = clock;
          append(decision.event);
          break;
        case 'roll-action':
          actions.push(`${self}:${decision.action}`);
          if (decision.action === 'start-roll') powerdnsKeys = [pdnsKsk, pdnsZsk, pdnsSuccessor];
          if (decision.action === 'remove-predecessor') powerdnsKeys = [pdnsKsk, pdnsSuccessor];
          append(event('signer-keys-observed', { signerId: 'powerdns', keys: powerdnsKeys }));
          append(signerReconciled(state, context, decision.processId, decision.stepIndex, self, 1));
          break;
        case 'reconcile':
          actions.push(
            `${self}:reconcile ${decision.desired.foreignDnskeys.map((k) => keyTag(k)).join(',')}`,
          );
          append(signerReconciled(state, context, decision.processId, decision.stepIndex, self, 1));
          break;
        case 'observe':
          if (decision.check.kind === 'successor-published')
            expect(decision.check.successor?.keyTag).toBe(pdnsSuccessor.keyTag);
          append(
            postconditionMet(state, context, decision.processId, decision.stepIndex, {
              dnskey: TTL,
            }),
          );
          break;
        case 'sleep-until':
          wakeAt = Math.min(wakeAt, Date.parse(decision.until));
          break;
        case 'idle':
        case 'await-others':
        case 'check-precondition':
          break;
      }
    }
    // Time runs on by a second a turn, and skips to the first wake-up when no sidecar acted.
    clock = state === before && wakeAt < Infinity ? Math.max(clock, wakeAt) : clock + 1000;
  }
  return { state, actions, stepStarts };
}

describe('ROLL-ZSK as data', () => {
  it('has the pre-publish steps of standards §7.3, with the DNSKEY and signature waits', () => {
    expect(ROLL_ZSK_STEPS.map((step) => [step.name, step.rollAction ?? null, step.wait])).toEqual([
      ['introduce-successor', 'start-roll', null],
      ['sync-dnskeys', null, 'dnskey'],
      ['activate-successor', 'activate-successor', 'signatures'],
      ['remove-predecessor', 'remove-predecessor', null],
      ['drop-predecessor', null, null],
    ]);
  });

  it('drives a held roll: the successor reaches the group before it signs, the predecessor leaves after the signature wait', () => {
    const { state, actions, stepStarts } = driveRoll(group());
    const process = state.processes.find((candidate) => candidate.id === 'roll-1')!;
    expect(process.status).toBe('completed');
    expect(process.roll).toEqual({
      role: 'ZSK',
      predecessorTags: [pdnsZsk.keyTag],
      mode: 'held',
    });
    // Only the rolling signer acts on its keys; BIND publishes the successor before it signs,
    // and drops the predecessor only after PowerDNS removed it.
    const publish = `bind:reconcile ${pdnsKsk.keyTag},${pdnsZsk.keyTag},${pdnsSuccessor.keyTag}`;
    const drop = `bind:reconcile ${pdnsKsk.keyTag},${pdnsSuccessor.keyTag}`;
    expect(actions.filter((action) => !action.startsWith('powerdns:reconcile'))).toEqual([
      'powerdns:start-roll',
      publish,
      'powerdns:activate-successor',
      'powerdns:remove-predecessor',
      drop,
    ]);
    expect(actions.filter((action) => action.startsWith('powerdns:reconcile'))).toEqual([
      `powerdns:reconcile ${bindKsk.keyTag},${bindZsk.keyTag}`,
      `powerdns:reconcile ${bindKsk.keyTag},${bindZsk.keyTag}`,
    ]);
    // DNSKEY wait: DprpC 2 + TTLkey 30 + S 1 after the group published it.
    const sync = process.stepStates[1]!;
    expect(Date.parse(sync.wait!.notBefore) - Date.parse(sync.postconditionMetAt!)).toBe(33_000);
    expect(stepStarts['activate-successor']).toBeGreaterThanOrEqual(
      Date.parse(sync.wait!.notBefore),
    );
    // Signature wait: DprpC 2 + TTLsig 30 + S 1 after the predecessor stopped signing.
    const activate = process.stepStates[2]!;
    expect(activate.wait!.formula).toBe('t_sig + DprpC + TTLsig + S');
    expect(stepStarts['remove-predecessor']).toBeGreaterThanOrEqual(
      Date.parse(activate.wait!.notBefore),
    );
    expect(state.keyFindings).toBeUndefined();
  });

  it('negative control: a roll that skips the DNSKEY wait activates the successor before caches can know it', () => {
    const initial = applyZoneEvent(
      group(),
      event('process-requested', {
        processId: 'roll-1',
        kind: 'roll-zsk',
        signerId: 'powerdns',
        requestedBy: 'test',
        role: 'ZSK',
        unsafeSkipWaits: ['sync-dnskeys'],
      }),
    );
    const { state, stepStarts } = driveRoll(initial);
    const sync = state.processes[0]!.stepStates[1]!;
    expect(sync.wait!.formula).toMatch(/^SKIPPED/);
    expect(stepStarts['activate-successor']! - Date.parse(sync.postconditionMetAt!)).toBeLessThan(
      33_000,
    );
  });
});

describe('roll pre-flight', () => {
  it('refuses a server-timed signer whose pre-publication is shorter than the group DNSKEY wait, naming the setting', () => {
    const short = {
      ...BIND_TIMING,
      prePublicationSeconds: 30,
      settings: 'dnskey-ttl 30 + publish-safety 0 + zone-propagation-delay 0',
    };
    const reasons = rollChecks(group(short), 'roll-zsk', 'bind', TTL);
    expect(reasons.map((reason) => reason.code)).toEqual(['pre-publication-too-short']);
    expect(reasons[0]!.message).toContain('publish-safety in the dnssec-policy of roll.test.');
    expect(reasons[0]!.message).toContain('needs 35 s'); // key watch 2 + DprpC 2 + TTL 30 + S 1
    // Positive control: the lab's settings pass.
    expect(rollChecks(group(), 'roll-zsk', 'bind', TTL)).toEqual([]);
    expect(
      prePublicationShortfall(signer('powerdns', { mode: 'held' }), timing, TTL),
    ).toBeUndefined();
  });

  it('names the missing capability for an algorithm roll and for a KSK roll the server cannot be told about, and refuses non-members', () => {
    const state = group();
    expect(rollChecks(state, 'roll-algorithm', 'bind', TTL)[0]!.message).toContain(
      'algorithm-roll',
    );
    // BIND times its KSK roll; without a way to confirm the parent's DS to it, refused.
    expect(rollChecks(state, 'roll-ksk', 'bind', TTL)[0]!.code).toBe('capability-missing');
    // Positive control: a plugin that confirms the DS (BIND's checkds) may roll its KSK.
    const confirming = group({ ...BIND_TIMING, confirmsParentDs: true });
    expect(rollChecks(confirming, 'roll-ksk', 'bind', TTL)).toEqual([]);
    expect(rollChecks(state, 'roll-zsk', 'knot', TTL)[0]!.code).toBe('not-a-member');
  });
});

describe('the fold of a definition', () => {
  it('keeps what each signer registered (its rollover timing), as zone define names only the group', () => {
    const state = foldZone(zone, [
      event('signer-registered', { signer: signer('bind', BIND_TIMING) }),
      event('zone-defined', {
        parentZone: 'test.',
        signers: [{ id: 'bind', kind: 'bind', nameServerNames: ['ns.bind.test.'], endpoints: [] }],
        timing,
        recordTtlSeconds: TTL,
      }),
    ]);
    expect(state.signers.bind?.rollover).toEqual(BIND_TIMING);
    expect(state.signers.bind?.endpoints).toEqual([]);
  });
});

describe('key watch in the fold', () => {
  it('records a member key that vanished without a roll as a finding, and a roll predecessor not', () => {
    let state = group();
    state = applyZoneEvent(
      state,
      event('signer-keys-observed', {
        signerId: 'bind',
        keys: [bindKsk],
        changes: [{ keyTag: bindZsk.keyTag, role: 'ZSK', change: 'disappeared' }],
      }),
    );
    expect(state.keyFindings?.map((finding) => [finding.signerId, finding.keyTag])).toEqual([
      ['bind', bindZsk.keyTag],
    ]);
    const { state: rolled } = driveRoll(group());
    expect(rolled.keyFindings).toBeUndefined();
  });
});

describe('a KSK roll timed by the server (BIND)', () => {
  const bindSuccessor = key(257, 9);
  const confirming: RolloverTiming = { ...BIND_TIMING, confirmsParentDs: true };
  const withKeys = (keys: SigningKey[]) =>
    applyZoneEvent(group(confirming), event('signer-keys-observed', { signerId: 'bind', keys }));
  const dsTags = (state: ZoneState) =>
    expectedDsFor(state, ['bind', 'powerdns'])
      .map((ds) => ds.keyTag)
      .sort();

  it('follows the server: steps that wait for its CDS switch and confirm the DS change to it', () => {
    const names = stepsFor('roll-ksk', 'server-timed').map((step) => step.name);
    expect(names).toEqual([
      'introduce-successor',
      'sync-dnskeys',
      'await-successor-cds',
      'sync-cds',
      'await-parent-ds',
      'confirm-parent-ds',
      'remove-predecessor',
      'drop-predecessor',
    ]);
    // A held signer keeps the double-KSK steps Chorus drives.
    expect(stepsFor('roll-ksk', 'held').map((step) => step.name)).not.toContain(
      'confirm-parent-ds',
    );
  });

  it("mirrors the CDS the server publishes: the parent's DS and the others' CDS follow its switch", () => {
    // Before the switch BIND publishes CDS for the predecessor only.
    const before = withKeys([
      { ...bindKsk, cdsPublished: true },
      { ...bindSuccessor, cdsPublished: false },
      bindZsk,
    ]);
    expect(dsTags(before)).toEqual([bindKsk.keyTag, pdnsKsk.keyTag].sort());
    // After it, for the successor only.
    const after = withKeys([
      { ...bindKsk, cdsPublished: false },
      { ...bindSuccessor, cdsPublished: true },
      bindZsk,
    ]);
    expect(dsTags(after)).toEqual([bindSuccessor.keyTag, pdnsKsk.keyTag].sort());
    const recipe = stepsFor('roll-ksk', 'server-timed').find((step) => step.name === 'sync-cds')!;
    const process = { groupBefore: after.members, groupAfter: after.members } as ProcessState;
    const desired = desiredForRecipe(after, process, recipe.action!);
    expect(desired.powerdns!.foreignCds.map((ds) => ds.keyTag)).toEqual([bindSuccessor.keyTag]);
    // Negative control: with no CDS observed at all, every KSK is named (as before flags existed).
    const unobserved = withKeys([bindKsk, bindSuccessor, bindZsk]);
    expect(dsTags(unobserved)).toEqual(
      [bindKsk.keyTag, bindSuccessor.keyTag, pdnsKsk.keyTag].sort(),
    );
  });
  it('takes a CSK the same way: the server-timed steps, the CSKs as predecessors, the CSK in the CDS', () => {
    const csk = { ...key(257, 11), role: 'CSK' as const, cdsPublished: true };
    let state = withKeys([csk]);
    state = applyZoneEvent(
      state,
      event('process-requested', {
        processId: 'csk-1',
        kind: 'roll-ksk',
        signerId: 'bind',
        requestedBy: 'test',
        role: 'CSK',
      }),
    );
    const started = requestProcess(
      state,
      { source, now: at() },
      { processId: 'csk-1', kind: 'roll-ksk', signerId: 'bind', preflight: [] },
    );
    if (started.type !== 'process-started') throw new Error(started.type);
    expect(started.data.roll).toEqual({
      role: 'CSK',
      predecessorTags: [csk.keyTag],
      mode: 'server-timed',
    });
    expect(started.data.steps.map((step) => step.name)).toContain('confirm-parent-ds');
    expect(dsTags(state)).toEqual([csk.keyTag, pdnsKsk.keyTag].sort());
    expect(rollChecks(state, 'roll-ksk', 'bind', TTL, 'CSK')).toEqual([]);
    // Negative control: a CSK roll where the signer has no CSK names the role it uses.
    expect(rollChecks(withKeys([bindKsk, bindZsk]), 'roll-ksk', 'bind', TTL, 'CSK')[0]!.code).toBe(
      'no-key-of-role',
    );
  });
});

describe('stopping a roll', () => {
  it('stops a held ZSK roll after the step in progress: the successor signs, the predecessor stays published', () => {
    const activating = (state: ZoneState) =>
      state.processes.find((process) => process.id === 'roll-1')?.stepStates[2]?.status ===
      'started';
    const { state, actions } = driveRoll(group(), activating);
    const process = state.processes.find((candidate) => candidate.id === 'roll-1')!;
    expect(process.status).toBe('stopped');
    expect(process.stopRequested?.by).toBe('alice');
    // Activation and its signature wait finished; the predecessor was not removed.
    expect(process.stoppedAtStep).toBe(3);
    expect(process.stepStates[2]!.status).toBe('completed');
    expect(actions).toContain('powerdns:activate-successor');
    expect(actions).not.toContain('powerdns:remove-predecessor');
    expect(state.members).toEqual(['bind', 'powerdns']);
  });
});
