/**
 * The rollover soak (`pnpm soak`, a benchmark, not a test): a group of BIND, PowerDNS and Knot
 * left running with short automatic ZSK lifetimes at BIND and Knot, while the observers and
 * validating resolvers watch. Every roll the servers begin is followed by the key watch. Prints
 * the rolls, the glitches, and how long each new key took from appearing to being served by
 * every provider.
 */
import type { EventLog, ZoneEvent } from '@chorus/core';
import { zoneStream } from '@chorus/core';
import type { ProcessState } from '@chorus/engine';
import { readZone } from '../coordination/event-log.js';
import { requestAndFollow } from '../coordination/follow.js';
import type { CliIo } from '../io.js';
import {
  defineDemoZone,
  freshLab,
  openWhenRegistered,
  startObservers,
  SCENARIOS,
  startSidecars,
  startTraffic,
  type Retirement,
  type Say,
} from './phases.js';
import { stopSidecarProcess, type RunningSidecar } from './sidecars.js';

export interface SoakOptions {
  minutes: number;
  ttl: number;
  zskLifetimeSeconds: number;
  directory?: string;
  addressPrefix?: string;
}

export interface SoakReport {
  minutes: number;
  rolls: {
    signerId: string;
    status: string;
    successorTag?: number;
    keyToEverywhereSeconds?: number;
  }[];
  rollsCompleted: number;
  rollsNotCompleted: number;
  glitches: { resolverFailures: number; violations: number; validationFailures: number };
  /** What the glitches were (the first few of each kind), so that each can be looked into. */
  glitchDetails: {
    resolverFailures: unknown[];
    violations: unknown[];
    validationFailures: unknown[];
  };
  /** The largest number of rolls in flight at once. */
  mostRollsAtOnce: number;
  disagreements: number;
  keyToEverywhereSeconds: { min: number; median: number; max: number } | null;
}

/** Seconds from the key watch recording a successor to every provider serving it. */
async function keyToEverywhere(
  log: EventLog<ZoneEvent>,
  zone: string,
  process: ProcessState,
): Promise<number | undefined> {
  const tag = process.roll?.successorTag;
  const published =
    process.stepStates[process.steps.findIndex((step) => step.name === 'sync-dnskeys')];
  if (tag === undefined || !published?.postconditionMetAt) return undefined;
  const events = (await log.readStream(zoneStream(zone))).map((recorded) => recorded.event);
  const appeared = events.find(
    (event) =>
      event.type === 'signer-keys-observed' &&
      event.data.signerId === process.signerId &&
      event.data.changes?.some((change) => change.keyTag === tag && change.change === 'appeared'),
  );
  if (!appeared) return undefined;
  return (Date.parse(published.postconditionMetAt) - Date.parse(appeared.occurredAt)) / 1000;
}

const DETAILS_SHOWN = 5;

/** The largest number of processes that were in flight at the same moment. */
function mostAtOnce(processes: readonly ProcessState[]): number {
  const edges = processes.flatMap((process) => [
    { at: Date.parse(process.startedAt), change: 1 },
    { at: process.endedAt ? Date.parse(process.endedAt) : Number.POSITIVE_INFINITY, change: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.change - b.change);
  let current = 0;
  let most = 0;
  for (const edge of edges) most = Math.max(most, (current += edge.change));
  return most;
}

const quiet: CliIo = { stdout: () => undefined, stderr: () => undefined };

function spread(values: number[]): SoakReport['keyToEverywhereSeconds'] {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted.at(-1)! };
}

export async function runSoak(options: SoakOptions, io: CliIo): Promise<SoakReport> {
  const say: Say = (line) => io.stderr(`[soak] ${line}\n`);
  const lab = await freshLab(
    { ...options, keyLifetimes: { zskSeconds: options.zskLifetimeSeconds } },
    io,
    say,
  );
  const sidecars: RunningSidecar[] = [];
  let log: EventLog<ZoneEvent> | undefined;
  try {
    const signers = SCENARIOS.migration.signers;
    await startSidecars(lab, signers, sidecars, say);
    log = await openWhenRegistered(lab, sidecars);
    await defineDemoZone(log, lab, say);
    const retirement: Retirement = {};
    const observers = await startObservers(lab, log, retirement, { signers, say });
    const traffic = startTraffic(lab, observers);
    for (const id of ['powerdns', 'knot'] as const) {
      say(`add-signer ${id}`);
      await requestAndFollow(log, lab.zone, 'add-signer', id, quiet, {
        json: false,
        detach: false,
      });
    }
    // Both servers' keys date from lab up, so BIND and Knot begin their rolls about together:
    // each roll holds only its own signer's keys, so the two run at once.
    const began = Date.now();
    const deadline = began + options.minutes * 60_000;
    say(
      `the group of three runs for ${options.minutes} min; ZSK lifetime ${options.zskLifetimeSeconds} s at BIND and Knot`,
    );
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 30_000));
      const state = await readZone(log, lab.zone);
      const rolls = state.processes.filter((process) => process.kind.startsWith('roll'));
      say(
        `${Math.round((Date.now() - began) / 60_000)} min: ${rolls.filter((p) => p.status === 'completed').length} roll(s) completed, ${rolls.filter((p) => p.status === 'running').length} running; ${state.keyFindings?.length ?? 0} key finding(s)`,
      );
    }
    const trafficReport = await traffic.stop();
    const observed = await observers.stop();
    const state = await readZone(log, lab.zone);
    const rolls = await Promise.all(
      state.processes
        .filter((process) => process.kind.startsWith('roll'))
        .map(async (process) => {
          const seconds = await keyToEverywhere(log!, lab.zone, process);
          return {
            signerId: process.signerId,
            status: process.status,
            ...(process.roll?.successorTag !== undefined
              ? { successorTag: process.roll.successorTag }
              : {}),
            ...(seconds !== undefined ? { keyToEverywhereSeconds: seconds } : {}),
          };
        }),
    );
    return {
      minutes: options.minutes,
      rolls,
      rollsCompleted: rolls.filter((roll) => roll.status === 'completed').length,
      rollsNotCompleted: rolls.filter((roll) => roll.status !== 'completed').length,
      glitches: {
        resolverFailures: trafficReport.failures.length,
        violations: observed.violations.length,
        validationFailures: observed.validationFailures.length,
      },
      glitchDetails: {
        resolverFailures: trafficReport.failures.slice(0, DETAILS_SHOWN),
        violations: observed.violations.slice(0, DETAILS_SHOWN),
        validationFailures: observed.validationFailures.slice(0, DETAILS_SHOWN),
      },
      mostRollsAtOnce: mostAtOnce(
        state.processes.filter((process) => process.kind.startsWith('roll')),
      ),
      disagreements: observed.disagreements.length,
      keyToEverywhereSeconds: spread(
        rolls.flatMap((roll) =>
          roll.keyToEverywhereSeconds === undefined ? [] : [roll.keyToEverywhereSeconds],
        ),
      ),
    };
  } finally {
    for (const sidecar of sidecars) await stopSidecarProcess(sidecar);
    await log?.close();
  }
}
