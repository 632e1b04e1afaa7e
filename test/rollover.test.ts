/**
 * Key rolls inside a group, against the real servers: BIND and PowerDNS sign rollover.test.
 * (ADD-SIGNER first), then PowerDNS rolls its ZSK through ROLL-ZSK, held (Chorus drives every
 * step; its sidecar is SIGKILLed mid-roll). Then, together, a KSK roll at PowerDNS through the
 * parent (ROLL-KSK) and a ZSK roll at BIND begun with rndc outside Chorus (the key watch requests
 * it, no operator): the lock per resource lets them run at once. Last, a KSK roll at BIND, which times it: Chorus asks BIND to
 * roll, the group mirrors the CDS BIND moves to its successor, and BIND hears of the parent's DS
 * change (rndc dnssec -checkds) only after it reached every cache. Every step is checked on the wire, the parent's DS set too; a
 * validating resolver is asked throughout and must never fail. Knot's rolls, started by Chorus
 * and timed by Knot, run in the rollovers demo (test/rollovers-demo.test.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { keyTag, query, readApexFromServer } from '@chorus/dns';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { operatorLog } from './helpers/trust.js';
import { defineZone, foldZone, type ProcessState, type ZoneState } from '@chorus/engine';
import {
  zoneEvent,
  zoneStream,
  type EventLog,
  type ProcessKind,
  type ZoneEvent,
} from '@chorus/core';
import { registryAgentConfigFromStatus, runRegistryAgent } from '@chorus/lab';
import {
  sidecarConfigFor,
  startSidecarProcess,
  stopSidecarProcess,
  TrafficMonitor,
  type RunningSidecar,
} from '@chorus/cli';
import { ROLLOVER_ZONE, endpoint, labServer, waitUntil } from '@chorus/lab/testing';
import { CLI_MAIN } from './helpers/cli.js';

const lab = inject('lab');
const zone = ROLLOVER_ZONE;
const SIGNERS = ['bind', 'powerdns'] as const;
type SignerId = (typeof SIGNERS)[number];
const source = { kind: 'test', id: 'rollover' };

let directory: string;
let log: EventLog<ZoneEvent>;
const agentStop = new AbortController();
let agent: Promise<void>;
const sidecars = new Map<string, RunningSidecar>();
let traffic: TrafficMonitor;

async function zoneState(): Promise<ZoneState> {
  return foldZone(
    zone,
    (await log.readStream(zoneStream(zone))).map((recorded) => recorded.event),
  );
}

async function request(processId: string, kind: ProcessKind, signerId: SignerId) {
  const state = await zoneState();
  await log.append(zoneStream(zone), state.version, [
    zoneEvent(
      'process-requested',
      { zone, source },
      {
        processId,
        kind,
        signerId,
        requestedBy: 'test',
        ...(kind === 'roll-zsk' ? { role: 'ZSK' as const } : {}),
        ...(kind === 'roll-ksk' ? { role: 'KSK' as const } : {}),
      },
    ),
  ]);
}

/** Waits until a process (by id, or the first one matching) has ended; fails on a refusal. */
async function ended(
  what: string,
  find: (process: ProcessState) => boolean,
  timeoutMs = 240_000,
): Promise<{ state: ZoneState; process: ProcessState }> {
  return waitUntil(
    what,
    async () => {
      const state = await zoneState();
      const process = state.processes.find(find);
      if (process?.status === 'blocked' || process?.status === 'failed')
        throw new Error(`${what}: ${process.status} ${JSON.stringify(process.reasons)}`);
      return process && process.status === 'completed' ? { state, process } : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/** The key tags each signer serves in its DNSKEY RRset, asked on the wire. */
async function servedTags(): Promise<Record<SignerId, number[]>> {
  const served = {} as Record<SignerId, number[]>;
  for (const id of SIGNERS) {
    const apex = await readApexFromServer(endpoint(labServer(lab, id)), zone, { timeoutMs: 3000 });
    served[id] = (apex.dnskey?.records ?? []).map((record) => keyTag(record)).sort();
  }
  return served;
}

/** Checks the roll on the wire: the successor everywhere, the predecessors nowhere. */
async function expectRolledOnTheWire(process: ProcessState, state: ZoneState) {
  const roll = process.roll!;
  const successor = state.signers[process.signerId]!.keys.find(
    (key) => key.role === roll.role && !roll.predecessorTags.includes(key.keyTag),
  )!;
  expect(successor).toBeDefined();
  const served = await servedTags();
  for (const id of SIGNERS) {
    expect(served[id], `${id} serves the successor`).toContain(successor.keyTag);
    for (const tag of roll.predecessorTags)
      expect(served[id], `${id} no longer serves ${tag}`).not.toContain(tag);
  }
}

/** Starts a ZSK roll at BIND outside Chorus, as an operator or BIND's policy would. */
async function rndcRollover(id: SignerId, keyTagToRoll: number) {
  const bind = labServer(lab, id);
  if (bind.control.kind !== 'rndc') throw new Error(`${id} is not controlled by rndc`);
  await promisify(execFile)('rndc', [
    '-c',
    bind.control.configFile,
    'dnssec',
    '-rollover',
    '-key',
    String(keyTagToRoll),
    zone.replace(/\.$/, ''),
  ]);
}

/** The key tags of the DS set the parent serves for the zone, asked on the wire. */
async function parentDsTags(): Promise<number[]> {
  const response = await query(endpoint(labServer(lab, 'parent')), zone, 'DS', {
    timeoutMs: 3000,
  });
  return (response.answers.find((set) => set.type === 'DS')?.records ?? [])
    .map((record) => (record as { keyTag: number }).keyTag)
    .sort();
}

async function startSidecar(id: SignerId) {
  const config = {
    ...sidecarConfigFor(lab, labServer(lab, id), path.join(directory, 'events.sqlite'), zone),
    logLevel: 'debug',
  };
  sidecars.set(id, await startSidecarProcess(directory, config, { cliMain: CLI_MAIN }));
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-rollover-'));
  log = operatorLog(
    createSqliteEventLog<ZoneEvent>({ path: path.join(directory, 'events.sqlite') }),
    directory,
  );
  agent = runRegistryAgent(
    registryAgentConfigFromStatus(lab, { zones: [zone], notify: null, intervalMs: 500 }),
    { signal: agentStop.signal, log: () => undefined },
  );
  for (const id of SIGNERS) await startSidecar(id);
  await waitUntil(
    'the sidecars to register',
    async () => {
      const state = await zoneState().catch(() => undefined);
      return state && SIGNERS.every((id) => state.signers[id]?.keys.length) ? true : undefined;
    },
    { timeoutMs: 30_000 },
  );
  const state = await zoneState();
  await log.append(zoneStream(zone), state.version, [
    defineZone(
      state,
      { source, now: new Date().toISOString() },
      {
        parentZone: lab.parentZone,
        signerIds: ['bind'],
        timing: {
          childPropagationSeconds: 2,
          parentPropagationSeconds: 1,
          safetyMarginSeconds: 2,
          maxZoneTtlSeconds: lab.ttl,
        },
        recordTtlSeconds: lab.ttl,
      },
    ),
  ]);
  const resolver = lab.resolvers.find((entry) => entry.id === 'resolver-delegation')!;
  traffic = new TrafficMonitor({
    zone,
    ratePerSecond: 4,
    reachable: () => new Set(),
    resolvers: [{ id: 'resolver-delegation', endpoint: endpoint(resolver) }],
  });
  traffic.start();
  await request('join-powerdns', 'add-signer', 'powerdns');
  await ended('PowerDNS to join', (process) => process.id === 'join-powerdns');
}, 600_000);

afterAll(async () => {
  await traffic?.stop();
  for (const sidecar of sidecars.values()) await stopSidecarProcess(sidecar);
  agentStop.abort();
  await agent.catch(() => undefined);
  await log.close();
  await rm(directory, { recursive: true, force: true });
});

describe('key rolls in a group of BIND and PowerDNS', () => {
  it(
    'PowerDNS (held), its sidecar killed in the DNSKEY wait: every step once, one successor, no shortened wait',
    { timeout: 300_000 },
    async () => {
      await request('roll-powerdns', 'roll-zsk', 'powerdns');
      // SIGKILL the rolling signer's sidecar during the DNSKEY wait, then start it again.
      await waitUntil(
        'the DNSKEY wait of the PowerDNS roll',
        async () => {
          const current = (await zoneState()).processes.find((p) => p.id === 'roll-powerdns');
          return current?.stepStates[1]?.status === 'waiting' ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      process.kill(sidecars.get('powerdns')!.pid, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await startSidecar('powerdns');
      const { state, process: roll } = await ended(
        'the PowerDNS roll',
        (p) => p.id === 'roll-powerdns',
      );
      expect(roll.roll?.mode).toBe('held');
      await expectRolledOnTheWire(roll, state);
      // One successor, each step and each signer's action recorded once.
      expect(state.signers.powerdns!.keys.filter((key) => key.role === 'ZSK')).toHaveLength(1);
      const events = (await log.readStream(zoneStream(zone)))
        .map((recorded) => recorded.event)
        .filter((event) => 'processId' in event.data && event.data.processId === 'roll-powerdns');
      const keys = events.map((event) =>
        [
          event.type,
          'stepIndex' in event.data ? event.data.stepIndex : '',
          'signerId' in event.data ? event.data.signerId : '',
        ].join(' '),
      );
      expect(new Set(keys).size).toBe(keys.length);
      const sync = roll.stepStates[1]!;
      const activate = roll.stepStates[2]!;
      expect(Date.parse(activate.startedAt!)).toBeGreaterThanOrEqual(
        Date.parse(sync.wait!.notBefore),
      );
      expect(sync.wait!.formula).toBe('t_pub + DprpC + TTLkey + S');
    },
  );

  it(
    'together: a KSK roll at PowerDNS through the parent and a ZSK roll at BIND begun with rndc, each on its own resources',
    { timeout: 300_000 },
    async () => {
      const before = await zoneState();
      const oldKsk = before.signers.powerdns!.keys.find((key) => key.role === 'KSK')!;
      const zsk = before.signers.bind!.keys.find((key) => key.role === 'ZSK')!;
      await request('ksk-powerdns', 'roll-ksk', 'powerdns');
      await rndcRollover('bind', zsk.keyTag);
      const ksk = await ended('the PowerDNS KSK roll', (p) => p.id === 'ksk-powerdns');
      const bindRoll = await ended(
        'the second BIND roll',
        (p) =>
          p.kind === 'roll-zsk' &&
          p.signerId === 'bind' &&
          p.roll?.predecessorTags[0] === zsk.keyTag,
      );
      // They ran together: each started before the other ended.
      const overlap = (a: ProcessState, b: ProcessState) =>
        Date.parse(a.startedAt) < Date.parse(b.endedAt!);
      expect(overlap(ksk.process, bindRoll.process) && overlap(bindRoll.process, ksk.process)).toBe(
        true,
      );
      const state = bindRoll.state;
      await expectRolledOnTheWire(ksk.process, state);
      await expectRolledOnTheWire(bindRoll.process, state);
      // BIND's roll was begun outside Chorus: its sidecar's key watch requested it, no operator.
      expect(bindRoll.process.roll).toMatchObject({
        mode: 'server-timed',
        predecessorTags: [zsk.keyTag],
      });
      expect(bindRoll.process.roll?.successorTag).toBeDefined();
      const requested = (await log.readStream(zoneStream(zone)))
        .map((recorded) => recorded.event)
        .find(
          (event) =>
            event.type === 'process-requested' && event.data.processId === bindRoll.process.id,
        );
      expect(requested?.source).toEqual({ kind: 'sidecar', id: 'bind' });
      expect(state.keyFindings ?? []).toEqual([]);
      // The predecessor left only after the parent's DS named the successor, and the wait ran out.
      const dsStep = ksk.process.stepStates[2]!;
      const removal = ksk.process.stepStates[3]!;
      expect(Date.parse(removal.startedAt!)).toBeGreaterThanOrEqual(
        Date.parse(dsStep.wait!.notBefore),
      );
      // The parent, asked on the wire, holds a DS for every current KSK and none for the old one.
      const parentTags = await parentDsTags();
      const ksks = SIGNERS.flatMap((id) =>
        state.signers[id]!.keys.filter((key) => key.role !== 'ZSK').map((key) => key.keyTag),
      );
      expect(parentTags).toEqual([...ksks].sort());
      expect(parentTags).not.toContain(oldKsk.keyTag);
    },
  );

  it(
    'BIND (server-timed) KSK: BIND moves its CDS, the group mirrors it, and BIND is told of the DS change only after it reached every cache',
    { timeout: 300_000 },
    async () => {
      const before = await zoneState();
      const oldKsk = before.signers.bind!.keys.find((key) => key.role === 'KSK')!;
      await request('ksk-bind', 'roll-ksk', 'bind');
      // When BIND last served the predecessor, asked on the wire until the roll ends.
      let lastServed = Date.now();
      let polling = true;
      const poll = (async () => {
        while (polling) {
          if ((await servedTags()).bind.includes(oldKsk.keyTag)) lastServed = Date.now();
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
      })();
      const { state, process } = await ended('the BIND KSK roll', (p) => p.id === 'ksk-bind');
      polling = false;
      await poll;
      expect(process.roll).toMatchObject({
        mode: 'server-timed',
        predecessorTags: [oldKsk.keyTag],
      });
      const step = (name: string) =>
        process.stepStates[process.steps.findIndex((candidate) => candidate.name === name)]!;
      // Chorus confirmed only after the DS wait ran out, and BIND kept the predecessor until then.
      const confirmedAt = Date.parse(step('confirm-parent-ds').startedAt!);
      expect(confirmedAt).toBeGreaterThanOrEqual(
        Date.parse(step('await-parent-ds').wait!.notBefore),
      );
      expect(step('await-parent-ds').wait!.formula).toBe('t_ds + DprpP + TTLds + S');
      expect(lastServed).toBeGreaterThanOrEqual(confirmedAt);
      await expectRolledOnTheWire(process, state);
      // The parent holds a DS for each current KSK, BIND's successor included, and not the old one.
      const parentTags = await parentDsTags();
      const ksks = SIGNERS.flatMap((id) =>
        state.signers[id]!.keys.filter((key) => key.role !== 'ZSK').map((key) => key.keyTag),
      );
      expect(parentTags).toEqual([...ksks].sort());
      expect(parentTags).not.toContain(oldKsk.keyTag);
    },
  );

  it('no validating resolver saw a failure through the join and the rolls', async () => {
    const report = await traffic.stop();
    expect(report.queries).toBeGreaterThan(100);
    expect(report.failures).toEqual([]);
  });
});
