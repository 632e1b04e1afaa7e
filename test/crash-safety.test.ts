import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { computeDs, dsIdentity, query } from '@chorus/dns';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { operatorLog } from './helpers/trust.js';
import { defineZone, foldZone, type ZoneState } from '@chorus/engine';
import {
  newTraceparent,
  traceIdOf,
  zoneEvent,
  zoneStream,
  type EventLog,
  type ZoneEvent,
} from '@chorus/core';
import { registryAgentConfigFromStatus, runRegistryAgent } from '@chorus/lab';
import {
  runCli,
  KIT_OPERATOR,
  trustKitAt,
  sidecarConfigFor,
  startSidecarProcess,
  stopSidecarProcess,
  TrafficMonitor,
  type RunningSidecar,
} from '@chorus/cli';
import { CRASH_ZONE, endpoint, labServer, waitUntil } from '@chorus/lab/testing';
import { CLI_MAIN } from './helpers/cli.js';

// Crash safety: ADD-SIGNER of PowerDNS to crash.test. with real sidecar processes; the joining
// signer's sidecar is killed with SIGKILL at a random step and started again. The process must
// complete, no step may be recorded twice, and validating resolvers must see no failure.
const lab = inject('lab');
const zone = CRASH_ZONE;
const killAtStep =
  process.env.CHORUS_CRASH_STEP === undefined
    ? Math.floor(Math.random() * 7)
    : Number(process.env.CHORUS_CRASH_STEP);

let directory: string;
let log: EventLog<ZoneEvent>;
const agentStop = new AbortController();
let agent: Promise<void>;
const sidecars = new Map<string, RunningSidecar>();

async function zoneState(): Promise<ZoneState> {
  return foldZone(
    zone,
    (await log.readStream(zoneStream(zone))).map((recorded) => recorded.event),
  );
}

async function startSidecar(id: 'bind' | 'powerdns') {
  const config = {
    ...sidecarConfigFor(lab, labServer(lab, id), path.join(directory, 'events.sqlite'), zone),
    logLevel: 'debug',
  };
  sidecars.set(id, await startSidecarProcess(directory, config, { cliMain: CLI_MAIN }));
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-crash-'));
  log = operatorLog(
    createSqliteEventLog<ZoneEvent>({ path: path.join(directory, 'events.sqlite') }),
    directory,
  );
  // The parent's registry agent for this zone only, in this process.
  agent = runRegistryAgent(
    registryAgentConfigFromStatus(lab, { zones: [zone], notify: null, intervalMs: 500 }),
    { signal: agentStop.signal, log: () => undefined },
  );
  await startSidecar('bind');
  await startSidecar('powerdns');
  await waitUntil(
    'both sidecars to register',
    async () => {
      const state = await zoneState().catch(() => undefined);
      return state && state.signers.bind?.keys.length && state.signers.powerdns?.keys.length
        ? true
        : undefined;
    },
    { timeoutMs: 30_000 },
  );
  const state = await zoneState();
  await log.append(zoneStream(zone), state.version, [
    defineZone(
      state,
      { source: { kind: 'test', id: 'crash-safety' }, now: new Date().toISOString() },
      {
        parentZone: lab.parentZone,
        signerIds: ['bind'],
        timing: {
          childPropagationSeconds: 1,
          parentPropagationSeconds: 1,
          safetyMarginSeconds: 1,
          maxZoneTtlSeconds: lab.ttl,
        },
        recordTtlSeconds: lab.ttl,
      },
    ),
  ]);
});

afterAll(async () => {
  for (const sidecar of sidecars.values()) await stopSidecarProcess(sidecar);
  agentStop.abort();
  await agent.catch(() => undefined);
  await log.close();
  await rm(directory, { recursive: true, force: true });
});

describe('a request that would break validation', () => {
  it('is refused before any change, through the CLI and the sidecars, naming the problem', async () => {
    const before = await zoneState();
    let stderr = '';
    const code = await runCli(
      [
        'signer',
        'remove',
        zone,
        'bind',
        '--log',
        path.join(directory, 'events.sqlite'),
        '--trust',
        trustKitAt(directory).trustFile,
        '--key',
        trustKitAt(directory).operatorKeyFile,
      ],
      {
        stdout: () => undefined,
        stderr: (text: string) => {
          stderr += text;
        },
      },
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/remove-signer bind refused before any change/);
    expect(stderr).toMatch(/\[last-signer\] bind is the last signer of crash\.test\./);
    const after = await zoneState();
    expect(after.members).toEqual(before.members);
    expect(after.processes.at(-1)?.status).toBe('blocked');
    expect(after.processes.at(-1)?.stepStates).toEqual([]);
  });
});

describe('a sidecar killed with SIGKILL in the middle of ADD-SIGNER', () => {
  it(
    `resumes, completes, records every step once, and no resolver sees a failure (kill at step ${killAtStep + 1})`,
    { timeout: 240_000 },
    async () => {
      const resolver = lab.resolvers.find((entry) => entry.id === 'resolver-delegation')!;
      const traffic = new TrafficMonitor({
        zone,
        ratePerSecond: 8,
        // Only the delegation resolver: it counts throughout.
        reachable: () => new Set(),
        resolvers: [{ id: 'resolver-delegation', endpoint: endpoint(resolver) }],
      });
      traffic.start();
      const before = await zoneState();
      const requestTrace = newTraceparent();
      await log.append(zoneStream(zone), before.version, [
        zoneEvent(
          'process-requested',
          { zone, traceparent: requestTrace, source: { kind: 'test', id: 'crash-safety' } },
          { processId: 'crash-1', kind: 'add-signer', signerId: 'powerdns', requestedBy: 'test' },
        ),
      ]);

      // Kill the joining signer's sidecar as soon as the chosen step starts, then start it again.
      await waitUntil(
        `step ${killAtStep + 1} to start`,
        async () => {
          const state = await zoneState();
          const migration = state.processes.find((candidate) => candidate.id === 'crash-1');
          if (migration?.status === 'blocked')
            throw new Error(`blocked: ${JSON.stringify(migration.reasons)}`);
          return migration && migration.stepStates[killAtStep]?.status !== 'pending'
            ? true
            : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 100 },
      );
      const victim = sidecars.get('powerdns')!;
      process.kill(victim.pid, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await startSidecar('powerdns');

      const final = await waitUntil(
        'the process to end',
        async () => {
          const state = await zoneState();
          const migration = state.processes.find((candidate) => candidate.id === 'crash-1');
          return migration && migration.status !== 'running' ? state : undefined;
        },
        { timeoutMs: 200_000 },
      );
      const report = await traffic.stop();
      const migration = final.processes.find((candidate) => candidate.id === 'crash-1')!;
      expect(migration.status).toBe('completed');
      expect(final.members).toEqual(['bind', 'powerdns']);

      // The event log shows no step executed twice.
      const events = (await log.readStream(zoneStream(zone))).map((recorded) => recorded.event);
      const once = (type: ZoneEvent['type'], key: (event: ZoneEvent) => string) => {
        const keys = events.filter((event) => event.type === type).map(key);
        expect(new Set(keys).size, `${type} recorded twice`).toBe(keys.length);
        return keys.length;
      };
      const step = (event: ZoneEvent) => `${(event.data as { stepIndex: number }).stepIndex}`;
      expect(once('step-started', step)).toBe(migration.steps.length);
      expect(once('step-completed', step)).toBe(migration.steps.length);
      once('postcondition-met', step);
      once('wait-scheduled', step);
      once(
        'signer-reconciled',
        (event) => `${step(event)}/${(event.data as { signerId: string }).signerId}`,
      );

      // Every event of the process, from every sidecar and across the crash, is in the request's trace.
      const processEvents = events.filter(
        (event) => 'processId' in event.data && event.data.processId === 'crash-1',
      );
      expect(new Set(processEvents.map((event) => traceIdOf(event.traceparent)))).toEqual(
        new Set([traceIdOf(requestTrace)]),
      );
      expect(new Set(processEvents.map((event) => event.source.id))).toEqual(
        new Set([KIT_OPERATOR, 'bind', 'powerdns']),
      );

      // The parent now holds both KSKs, and validating resolvers never failed.
      const ds = (await query(endpoint(labServer(lab, 'parent')), zone, 'DS')).answers.find(
        (set) => set.type === 'DS',
      );
      const expected = ['bind', 'powerdns'].flatMap((id) =>
        final.signers[id]!.keys.filter((key) => key.role !== 'ZSK').map((key) =>
          dsIdentity(computeDs(zone, key.dnskey, 2)),
        ),
      );
      expect((ds?.records ?? []).map((record) => dsIdentity(record as never)).sort()).toEqual(
        expected.sort(),
      );
      expect(report.queries).toBeGreaterThan(100);
      expect(report.failures).toEqual([]);
    },
  );
});
