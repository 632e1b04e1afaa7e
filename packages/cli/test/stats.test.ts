import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import {
  groupEvent,
  groupStream,
  observationEvent,
  observationStream,
  zoneEvent,
  zoneStream,
  type ChorusEvent,
  type ObservationEvent,
  type ProcessKind,
  type ZoneEvent,
  type ZoneEventOf,
  type ZoneEventType,
} from '@chorus/core';
import { DEFAULT_TIMING, stepsFor } from '@chorus/engine';
import { ensureTrustKit, runCli } from '@chorus/cli';
import { computeStats, type Stats } from '../src/coordination/stats.js';
import { capture } from './capture.js';

const ZONE = 'example.test.';
const OTHER = 'shop.test.';
const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const cli = { kind: 'cli', id: 'operator' };
const sidecar = (id: string) => ({ kind: 'sidecar', id });
const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

const signer = (id: string) => ({
  id,
  kind: id,
  nameServerNames: [`ns.${id}.test.`],
  endpoints: [{ address: '127.0.0.2', port: 53 }],
});

/** bind, powerdns and knot registered; bind defined as the group. */
function definedZone(zone: string): ZoneEvent[] {
  const registered = ['bind', 'powerdns', 'knot'].map((id) =>
    zoneEvent(
      'signer-registered',
      { zone, source: sidecar(id), occurredAt: iso(0) },
      { signer: signer(id) },
    ),
  );
  const timing = {
    childPropagationSeconds: 1,
    parentPropagationSeconds: 1,
    safetyMarginSeconds: 1,
    maxZoneTtlSeconds: 30,
  };
  return [
    ...registered,
    zoneEvent(
      'zone-defined',
      { zone, source: cli, occurredAt: iso(0) },
      { parentZone: 'test.', signers: [signer('bind')], timing, recordTtlSeconds: 30 },
    ),
  ];
}

/** Builds a zone's events with a clock that only moves forward (seconds after T0). */
class Script {
  readonly events: ZoneEvent[];
  clock = 0;

  constructor(readonly zone: string) {
    this.events = definedZone(zone);
  }

  add<Type extends ZoneEventType>(
    type: Type,
    data: ZoneEventOf<Type>['data'],
    source = sidecar('bind'),
  ): void {
    const fields = { zone: this.zone, source, occurredAt: iso(this.clock) };
    this.events.push(zoneEvent<Type>(type, fields, data));
  }

  request(processId: string, kind: ProcessKind, signerId: string): void {
    this.add('process-requested', { processId, kind, signerId, requestedBy: 'operator' }, cli);
  }

  start(processId: string, kind: ProcessKind, signerId: string, after: string[]): void {
    this.request(processId, kind, signerId);
    const steps = [...stepsFor(kind)];
    const groupBefore = ['bind'];
    this.add('process-started', {
      processId,
      kind,
      signerId,
      steps,
      groupBefore,
      groupAfter: after,
    });
  }

  /** One step: `work` seconds to its post-condition, then `wait` seconds of mandated wait. */
  step(processId: string, stepIndex: number, work: number, wait?: number, during?: () => void) {
    this.add('step-started', { processId, stepIndex, desired: {} });
    during?.();
    this.clock += work;
    this.add('postcondition-met', { processId, stepIndex, observedAt: iso(this.clock), ttls: {} });
    if (wait !== undefined) {
      const notBefore = iso(this.clock + wait);
      this.add('wait-scheduled', { processId, stepIndex, notBefore, formula: 'test', terms: {} });
      this.clock += wait;
    }
    this.add('step-completed', { processId, stepIndex });
  }

  reconciled(processId: string, stepIndex: number, signerId: string, applied: number): void {
    this.add('signer-reconciled', { processId, stepIndex, signerId, applied }, sidecar(signerId));
  }

  applyFailed(processId: string, signerId: string, attempt: number, retryable: boolean): void {
    const error = retryable
      ? {
          name: 'Chorus_ConnectionError',
          message: 'connect ECONNREFUSED\n    at connect',
          retryable,
        }
      : { name: 'Chorus_TsigError', message: 'BADSIG from 127.0.0.4', retryable };
    const data = { processId, stepIndex: 0, signerId, attempt, error };
    this.add('signer-apply-failed', data, sidecar(signerId));
  }
}

type During = Partial<Record<number, () => void>>;

/**
 * ADD-SIGNER: 1 s per step but the two await-parent steps (`parent` seconds each), 30 s (DS)
 * and 20 s (NS) of mandated waits, a NOTIFY for each parent step; it ends 1 s after its last step.
 * Total: 5 + parent[0] + parent[1] + 50 + 1 seconds.
 */
function addSigner(
  script: Script,
  processId: string,
  signerId: string,
  parent: [number, number],
  during: During = {},
): void {
  script.start(processId, 'add-signer', signerId, ['bind', signerId]);
  const notify = (stepIndex: number, rrtype: 'CDS' | 'CSYNC') => () => {
    script.add('parent-notified', { processId, stepIndex, rrtype, targets: ['scanner.test.'] });
    during[stepIndex]?.();
  };
  script.step(processId, 0, 1, undefined, during[0]);
  script.step(processId, 1, 1, undefined, during[1]);
  script.step(processId, 2, parent[0], 30, notify(2, 'CDS'));
  script.step(processId, 3, 1, undefined, during[3]);
  script.step(processId, 4, 1, undefined, during[4]);
  script.step(processId, 5, parent[1], 20, notify(5, 'CSYNC'));
  script.step(processId, 6, 1, undefined, during[6]);
  script.clock += 1;
  script.add('process-completed', { processId, groupAfter: ['bind', signerId] });
}

function submitted(script: Script, processId: string, outcome: 'accepted' | 'refused'): void {
  const data = {
    processId,
    stepIndex: 2,
    kind: 'ds' as const,
    channel: 'registrar',
    records: [],
    outcome,
  };
  script.add('parent-change-submitted', data);
}

/**
 * example.test.: ADD-SIGNER powerdns (74 s, with retries) and knot (92 s), a refused
 * REMOVE-SIGNER, a failed ZSK roll, a roll held for the operator (BADSIG at knot), and a request
 * not started yet.
 */
function exampleZone(): ZoneEvent[] {
  const script = new Script(ZONE);
  addSigner(script, 'p1', 'powerdns', [10, 8], {
    0: () => {
      script.applyFailed('p1', 'powerdns', 1, true);
      script.applyFailed('p1', 'powerdns', 4, true);
      script.reconciled('p1', 0, 'powerdns', 3);
      script.reconciled('p1', 0, 'bind', 2);
    },
    3: () => {
      script.reconciled('p1', 3, 'powerdns', 1);
      script.reconciled('p1', 3, 'bind', 1);
    },
    5: () => submitted(script, 'p1', 'refused'),
  });
  script.request('p2', 'remove-signer', 'bind');
  const reasons = [{ code: 'last-signer', message: 'no' }];
  script.add('process-blocked', {
    processId: 'p2',
    kind: 'remove-signer',
    signerId: 'bind',
    reasons,
  });
  addSigner(script, 'p3', 'knot', [20, 16], {
    0: () => {
      script.applyFailed('p3', 'powerdns', 2, true);
      script.reconciled('p3', 0, 'knot', 4);
    },
    2: () => {
      const change = { ds: { add: ['DS 1'], remove: [], keep: [] }, differs: [] };
      script.add('parent-change-needed', {
        processId: 'p3',
        stepIndex: 2,
        parentZone: 'test.',
        kind: 'ds',
        ...change,
      });
      submitted(script, 'p3', 'accepted');
    },
  });
  script.start('p4', 'roll-zsk', 'bind', ['bind']);
  script.add('step-started', { processId: 'p4', stepIndex: 0, desired: {} });
  script.add('process-failed', { processId: 'p4', reason: { code: 'gone', message: 'key gone' } });
  script.start('p5', 'roll-zsk', 'powerdns', ['bind']);
  script.add('step-started', { processId: 'p5', stepIndex: 0, desired: {} });
  script.applyFailed('p5', 'knot', 2, false);
  script.applyFailed('p5', 'knot', 5, false);
  script.request('p6', 'remove-signer', 'bind');
  return script.events;
}

/** shop.test.: one ADD-SIGNER of powerdns, 66 s. */
function shopZone(): ZoneEvent[] {
  const script = new Script(OTHER);
  addSigner(script, 'q1', 'powerdns', [5, 5]);
  return script.events;
}

const totals = (counts: Partial<Record<string, number>>) => ({
  probes: 0,
  resolverAnswers: 0,
  disagreements: 0,
  validationFailures: 0,
  invariantChecks: 0,
  violations: 0,
  ...counts,
});

/**
 * I3 k1 seen twice while open (once), restored, seen again (twice); I1 k2; a restore of I2 k3
 * whose violation was not recorded; two validation failures (one I3); one disagreement; the
 * observers' totals in two runs of the consistency observer and one of the validation observer.
 */
function exampleObservations(): ObservationEvent[] {
  const fields = { zone: ZONE, source: { kind: 'observer', id: 'demo' }, occurredAt: iso(5) };
  const violated = (invariant: 'I1' | 'I3', key: string) =>
    observationEvent('invariant-violated', fields, {
      invariant,
      key,
      providers: [],
      records: [],
      detail: 'x',
    });
  const restored = (invariant: 'I2' | 'I3', key: string) =>
    observationEvent('invariant-restored', fields, { invariant, key, violatedAt: iso(1) });
  const failed = (invariant?: 'I3') =>
    observationEvent('validation-failed', fields, {
      name: ZONE,
      rrtype: 'SOA',
      detail: 'bogus',
      ...(invariant ? { invariant } : {}),
    });
  const summary = (observer: string, since: string, counts: Partial<Record<string, number>>) =>
    observationEvent('observer-summary', fields, { observer, since, ...totals(counts) });
  return [
    violated('I3', 'k1'),
    violated('I3', 'k1'),
    restored('I3', 'k1'),
    violated('I3', 'k1'),
    violated('I1', 'k2'),
    restored('I2', 'k3'),
    failed('I3'),
    failed(),
    observationEvent('validator-disagreed', fields, {
      resolver: 'r',
      name: ZONE,
      rrtype: 'SOA',
      detail: 'd',
    }),
    summary('consistency', iso(0), { invariantChecks: 10 }),
    summary('consistency', iso(0), { invariantChecks: 25, violations: 3 }),
    summary('validation', iso(0), {
      probes: 40,
      resolverAnswers: 12,
      validationFailures: 2,
      disagreements: 1,
    }),
    summary('consistency', iso(100), { invariantChecks: 5 }),
  ];
}

const history = (zone: string, events: ZoneEvent[], observations: ObservationEvent[] = []) => ({
  zone,
  events,
  observations,
});

describe('statistics from events', () => {
  const stats = computeStats([history(ZONE, exampleZone(), exampleObservations())]);

  it('counts processes by kind and outcome, pending requests included', () => {
    expect(stats.processes).toEqual([
      {
        kind: 'add-signer',
        total: 2,
        completed: 2,
        failed: 0,
        blocked: 0,
        stopped: 0,
        running: 0,
        needsOperator: 0,
        pending: 0,
      },
      {
        kind: 'remove-signer',
        total: 2,
        completed: 0,
        failed: 0,
        blocked: 1,
        stopped: 0,
        running: 0,
        needsOperator: 0,
        pending: 1,
      },
      {
        kind: 'roll-zsk',
        total: 2,
        completed: 0,
        failed: 1,
        blocked: 0,
        stopped: 0,
        running: 0,
        needsOperator: 1,
        pending: 0,
      },
    ]);
  });

  it('gives the durations of completed processes against their mandated waits and the parent', () => {
    // p1: 5 + 10 + 8 + 50 + 1 = 74 s; p3: 5 + 20 + 16 + 50 + 1 = 92 s.
    expect(stats.durations).toEqual([
      {
        kind: 'add-signer',
        count: 2,
        medianSeconds: 83,
        longestSeconds: 92,
        totalSeconds: 166,
        mandatedWaitSeconds: 100,
        parentSeconds: 54,
        overheadSeconds: 12,
      },
    ]);
  });

  it('counts violations once while open, validation failures and disagreements', () => {
    expect(stats.observations).toEqual({
      violations: 4,
      violationsByInvariant: { I3: 2, I1: 1, I2: 1 },
      validationFailures: 2,
      validationFailuresByInvariant: { I3: 1 },
      disagreements: 1,
      glitches: 7,
      observerTotals: totals({
        invariantChecks: 30,
        violations: 3,
        probes: 40,
        resolverAnswers: 12,
        validationFailures: 2,
        disagreements: 1,
      }),
    });
  });

  it('groups apply failures by signer and error, with the highest attempt of each step', () => {
    expect(stats.retries).toEqual([
      {
        signerId: 'powerdns',
        errorName: 'Chorus_ConnectionError',
        message: 'connect ECONNREFUSED',
        count: 3,
        retryable: 3,
        attempts: 6,
      },
      {
        signerId: 'knot',
        errorName: 'Chorus_TsigError',
        message: 'BADSIG from 127.0.0.4',
        count: 2,
        retryable: 0,
        attempts: 5,
      },
    ]);
  });

  it('sums the changes each signer applied, and what went to the parent', () => {
    expect(stats.writes).toEqual([
      { signerId: 'powerdns', reconciliations: 2, changes: 4 },
      { signerId: 'bind', reconciliations: 2, changes: 3 },
      { signerId: 'knot', reconciliations: 1, changes: 4 },
    ]);
    expect(stats.parent).toEqual({
      changesNeeded: 1,
      submissions: [{ channel: 'registrar', accepted: 1, refused: 1 }],
      notifies: { CDS: 2, CSYNC: 2 },
    });
  });

  it('says nothing was verified without a policy', () => {
    expect(stats).toMatchObject({ zones: [ZONE], verified: false, refusedEvents: 0 });
  });

  it('adds zones up: the median and longest over every zone', () => {
    const both = computeStats([history(ZONE, exampleZone()), history(OTHER, shopZone())]);
    expect(both.durations[0]).toMatchObject({
      count: 3,
      medianSeconds: 74,
      longestSeconds: 92,
      totalSeconds: 232,
    });
    expect(both.observations.glitches).toBe(0);
  });
});

describe('chorus stats on a log', () => {
  let directory: string;
  let logFile: string;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-cli-stats-'));
    logFile = path.join(directory, 'events.sqlite');
    const log = createSqliteEventLog<ChorusEvent>({ path: logFile });
    await log.append(zoneStream(ZONE), 0, exampleZone());
    await log.append(observationStream(ZONE), 0, exampleObservations());
    await log.append(zoneStream(OTHER), 0, shopZone());
    const group = { group: 'customers', source: cli, occurredAt: iso(0) };
    await log.append(groupStream('customers'), 0, [
      groupEvent('group-defined', group, {
        signers: ['bind'],
        timing: DEFAULT_TIMING,
        recordTtlSeconds: 30,
      }),
      groupEvent('group-zones-added', group, { zones: [OTHER] }),
    ]);
    await createSqliteEventLog<ChorusEvent>({ path: path.join(directory, 'empty.sqlite') }).close();
    await log.close();
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function stats(args: string[], file = logFile) {
    const run = capture();
    const code = await runCli(['stats', ...args, '--log', file], run.io);
    return { code, out: run.out(), err: run.err() };
  }

  it('gives every zone in the log as one JSON document', async () => {
    const { code, out } = await stats(['--json']);
    expect(code).toBe(0);
    const document = JSON.parse(out) as Stats;
    expect(Object.keys(document)).toEqual([
      'zones',
      'verified',
      'refusedEvents',
      'processes',
      'durations',
      'observations',
      'retries',
      'writes',
      'parent',
    ]);
    expect(document.zones).toEqual([ZONE, OTHER]);
    expect(document.durations).toEqual([
      expect.objectContaining({
        kind: 'add-signer',
        count: 3,
        medianSeconds: 74,
        longestSeconds: 92,
      }),
    ]);
    expect(document.observations.violations).toBe(4);
  });

  it("gives one zone's figures", async () => {
    const { code, out } = await stats([ZONE, '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(
      computeStats([history(ZONE, exampleZone(), exampleObservations())]),
    );
  });

  it("gives a group's zones only", async () => {
    const { code, out } = await stats(['--group', 'customers', '--json']);
    expect(code).toBe(0);
    const document = JSON.parse(out) as Stats;
    expect(document.zones).toEqual([OTHER]);
    expect(document.durations[0]).toMatchObject({ count: 1, totalSeconds: 66, parentSeconds: 10 });
  });

  it('prints a compact table per section', async () => {
    const { code, out } = await stats([ZONE]);
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toBe('1 zone(s): example.test.');
    expect(out).toContain('NOT VERIFIED');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}add-signer +2 +2 +0 +0 +0 +0 +0 +0$/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}add-signer +2 +83\.0 +92\.0 +166\.0 +100\.0 +54\.0 +12\.0$/),
    );
    expect(out).toContain('invariant violations  4 (I3 ×2, I1 ×1, I2 ×1)');
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}knot +Chorus_TsigError +2 +0 +5 +BADSIG from 127\.0\.0\.4$/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}powerdns +2 +4$/));
    expect(out).toContain(
      'NOTIFY(CDS) 2, NOTIFY(CSYNC) 2; submitted registrar 1 accepted, 1 refused',
    );
  });

  it('counts refused events nowhere when a trust file is given', async () => {
    const kit = ensureTrustKit(path.join(directory, 'kit'), ['bind']);
    const { code, out } = await stats([OTHER, '--json', '--trust', kit.trustFile]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      verified: true,
      refusedEvents: shopZone().length,
      processes: [],
      durations: [],
      writes: [],
    });
  });

  it.each([
    [['nosuch.test.'], /no zone nosuch\.test\..*known zones: example\.test\., shop\.test\./],
    [['--group', 'nosuch'], /no group nosuch/],
  ])('exits 1 for an unknown zone or group: %s', async (args, message) => {
    const { code, err } = await stats(args);
    expect(code).toBe(1);
    expect(err).toMatch(message);
  });

  it('exits 1 on a log with no zone', async () => {
    const { code, err } = await stats([], path.join(directory, 'empty.sqlite'));
    expect(code).toBe(1);
    expect(err).toContain('no zone in');
  });

  it.each([
    [[ZONE, '--group', 'customers']],
    [[ZONE, OTHER]],
    [['exa;mple.test.']],
    [['--group', 'no/such']],
    [['--frobnicate']],
  ])('exits 2 on a usage error: %s', async (args) => {
    const { code, err } = await stats(args);
    expect(code).toBe(2);
    expect(err).toContain('chorus stats --help');
  });
});
