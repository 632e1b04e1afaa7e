/**
 * The migration demo on the lab's 3-node NATS cluster, with the cluster failing under it, each
 * server, sidecar and NATS node on a simulated host of its own (`--hosts netns`). During
 * ADD-SIGNER powerdns's first wait one node is killed: the cluster keeps its quorum and the
 * migration goes on. During ADD-SIGNER knot's first wait a second node goes too: without a quorum
 * the sidecars say "event log unavailable" and act on nothing (no event is decided while it
 * lasts), and when both nodes come back they resume. The demo must still end glitch-free.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemoOnOwnLab } from './helpers/demo.js';
import { zoneStream, type Observer, type ZoneEvent } from '@chorus/core';
import { openLabEventLog } from '@chorus/cli';
import { labDown, labRestart, labStatus, labStopServer } from '@chorus/lab';

// CHORUS_TEST_NATS_FAULTS_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_NATS_FAULTS_PREFIX ?? '127.69.0';
const OUTAGE_MS = 20_000;
/**
 * A NATS Raft leader that lost its quorum steps down only after lostQuorumInterval (10 s): until
 * then it still answers reads, and a write it took may commit once the quorum is back. The check
 * of "nothing decided" starts after it, with a second to spare.
 */
const LEADER_LEASE_MS = 11_000;

const directories: string[] = [];
afterAll(async () => {
  for (const directory of directories) {
    await labDown({ directory }).catch(() => undefined);
    // CHORUS_TEST_KEEP=1 keeps the directory (sidecar logs, demo output) for a look afterwards.
    if (process.env.CHORUS_TEST_KEEP !== '1') await rm(directory, { recursive: true, force: true });
  }
});

interface Faults {
  oneKilledAt?: number;
  quorumLostAt?: number;
  /** When the first node started again: no quorum before it. */
  restartingAt?: number;
  quorumBackAt?: number;
  done?: Promise<void>;
}

/** Kills nats-2 at the first wait, nats-3 at the first wait of ADD-SIGNER knot, then restores both. */
function injectFaults(directory: string, faults: Faults): Observer<ZoneEvent> {
  let processes = 0;
  return {
    name: 'nats-faults',
    onEvent(event) {
      if (event.type === 'process-started') processes += 1;
      if (event.type !== 'wait-scheduled') return;
      if (faults.oneKilledAt === undefined) {
        faults.oneKilledAt = Date.now();
        faults.done = labStopServer({ directory, server: 'nats-2' }).then(() => undefined);
      } else if (processes === 2 && faults.quorumLostAt === undefined) {
        faults.quorumLostAt = Date.now();
        faults.done = (async () => {
          await labStopServer({ directory, server: 'nats-3' });
          await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
          faults.restartingAt = Date.now();
          // One node at a time, as an operator recovers a cluster: nats-2 gives nats-1 its
          // quorum back, then nats-3 rejoins. A loaded machine may need a while for each election.
          await labRestart({ directory, servers: ['nats-2'], readyTimeoutMs: 90_000 });
          faults.quorumBackAt = Date.now();
          await labRestart({ directory, servers: ['nats-3'], readyTimeoutMs: 90_000 });
        })();
        // Reported by `await faults.done` after the demo, not as an unhandled rejection.
        faults.done.catch(() => undefined);
      }
    },
  };
}

describe('the migration demo on NATS while the cluster fails', () => {
  it('completes with one node killed mid-wait, and waits visibly while two are down', async () => {
    const faults: Faults = {};
    const { code, result, stderr, directory } = await runDemoOnOwnLab<{
      ok: boolean;
      traffic: { queries: number; failures: unknown[] };
      observers: { violations: unknown[]; validationFailures: unknown[] };
    }>({
      name: 'nats-faults',
      prefix: PREFIX,
      ttl: 5,
      args: ['--event-log', 'nats', '--hosts', 'netns'],
      extraObservers: (labDirectory) => [injectFaults(labDirectory, faults)],
      directories,
      keepLab: true,
    });
    await faults.done;
    await writeFile(path.join(directory, 'demo-stderr.log'), stderr);
    expect(code, `${stderr.slice(-3000)}\n(all of it: ${directory}/demo-stderr.log)`).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.traffic.failures).toEqual([]);
    expect(result.observers.violations).toEqual([]);
    expect(result.traffic.queries).toBeGreaterThan(500);
    // Each sidecar closed its NATS connection and exited on SIGTERM, without being killed.
    expect(stderr).not.toMatch(/did not exit within/);
    expect(faults.oneKilledAt).toBeDefined();
    expect(faults.quorumLostAt).toBeDefined();
    expect(faults.restartingAt).toBeDefined();
    expect(faults.quorumBackAt).toBeDefined();

    // Visible: every sidecar said the log did not answer while the quorum was gone.
    const demo = path.join(directory, 'demo');
    for (const id of ['bind', 'powerdns', 'knot']) {
      const log = await readFile(path.join(demo, `sidecar-${id}.log`), 'utf8');
      expect(log, id).toMatch(/event log unavailable: .*acting on nothing until it answers/);
    }
    // Acting on nothing: no event was decided while the quorum was surely gone (after the old
    // leader's lease, before any node started again).
    const status = (await labStatus({ directory }))!;
    const log = await openLabEventLog<ZoneEvent>(status, '', 'operator');
    try {
      const events = await log.readStream(zoneStream(status.zones[0]!));
      const decidedDuring = events.filter(({ event }) => {
        const at = Date.parse(event.occurredAt);
        return at > faults.quorumLostAt! + LEADER_LEASE_MS && at < faults.restartingAt!;
      });
      expect(decidedDuring.map(({ event }) => event.type)).toEqual([]);
      expect(events.at(-1)?.event.type).toBe('process-completed');
    } finally {
      await log.close();
    }
    process.stderr.write(
      `[nats-faults] ${result.traffic.queries} resolver queries, 0 failures; one node down from ${new Date(faults.oneKilledAt!).toISOString()}, no quorum ${((faults.quorumBackAt! - faults.quorumLostAt!) / 1000).toFixed(1)} s\n`,
    );
  }, 600_000);
});
