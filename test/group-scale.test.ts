/**
 * A group on real servers: a lab of several zones signed by BIND, one group holding them all, and
 * ADD-SIGNER of PowerDNS on every zone from one command (`chorus signer add --group`), two zones
 * at a time; what the servers then serve is checked on the wire. The figures of `pnpm
 * bench:scale` come from the same run, at larger N.
 */
import { readFile, rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { runScale, type CliIo } from '@chorus/cli';
import { labDown, labStatus, numberedZones } from '@chorus/lab';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { query } from '@chorus/dns';

// CHORUS_TEST_GROUP_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_GROUP_PREFIX ?? '127.79.0';
const ZONES = 4;

const directories: string[] = [];
afterAll(async () => {
  for (const directory of directories) {
    await labDown({ directory }).catch(() => undefined);
    await rm(directory, { recursive: true, force: true });
  }
});

describe('a group of zones', () => {
  it('gets PowerDNS on every zone from one command, paced two at a time', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'chorus-group-'));
    directories.push(directory);
    let stderr = '';
    const io: CliIo = { stdout: () => undefined, stderr: (text) => void (stderr += text) };
    const report = await runScale(
      { zones: ZONES, parallel: 2, ttl: 5, directory, addressPrefix: PREFIX },
      io,
    );
    expect(report.completed, stderr.slice(-3000)).toBe(ZONES);
    expect(report.notCompleted).toBe(0);
    expect(report.oneZoneWaitsSeconds).toBeGreaterThan(5);
    // Two at a time: more than one zone's waits, less than all of them one after another.
    expect(report.wallSeconds).toBeGreaterThan(report.oneZoneWaitsSeconds);
    expect(stderr).toContain(
      `[group scale] add-signer powerdns on ${ZONES} zone(s), at most 2 at a time`,
    );
    expect(report.powerdnsRaw.changesPerSecond).toBeGreaterThan(0);
    // BIND's raw rate comes from a real nsupdate session, and the ratio is to the slower server.
    expect(report.bindRaw.sample).toBe(ZONES);
    expect(report.bindRaw.changesPerSecond).toBeGreaterThan(0);
    expect(report.slowestRaw.changesPerSecond).toBe(
      Math.min(report.bindRaw.changesPerSecond, report.powerdnsRaw.changesPerSecond),
    );
    // Reconciles overlap their reads, but PowerDNS takes one write at a time: never a 5xx.
    const serverErrors = report.sidecars.flatMap((sidecar) =>
      Object.keys(sidecar.calls).filter((call) => /^http 5\d\d$/.test(call)),
    );
    expect(serverErrors).toEqual([]);
    expect(
      report.sidecars.find((sidecar) => sidecar.id === 'powerdns')?.calls['http PATCH'],
    ).toBeGreaterThan(0);
    // The heap kept after a full collection is measured, and is less than the heap in use.
    for (const sidecar of report.sidecars) {
      expect(sidecar.retainedHeapKb, sidecar.id).toBeGreaterThan(1024);
      expect(sidecar.retainedHeapKb, sidecar.id).toBeLessThanOrEqual(sidecar.heapUsedKb * 1.1);
    }
    // The benchmark's own wire check of the parent agrees with the one below.
    expect(report.parentWrong).toEqual([]);
    expect(report.parentRight).toBe(ZONES);
    expect(report.parentControlCaught).toBe(true);
    // Exactly one NOTIFY(CDS) and one NOTIFY(CSYNC) per zone went to the registry agent, which
    // the lab parent publishes as its DSYNC target: each claimed in the log by one sidecar.
    const notifies = (type: string) =>
      report.sidecars.reduce(
        (total, sidecar) => total + (sidecar.calls[`dns notify ${type}`] ?? 0),
        0,
      );
    expect(notifies('CDS')).toBe(ZONES);
    expect(notifies('CSYNC')).toBe(ZONES);
    expect(report.parentNotifiedEvents).toBe(2 * ZONES);
    const agentLog = (
      await readFile((await labStatus({ directory }))!.registryAgent!.logFile, 'utf8')
    )
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; zone?: string; accepted?: boolean });
    const notified = new Set(
      agentLog
        .filter((entry) => entry.event === 'notify' && entry.accepted)
        .map((entry) => entry.zone),
    );
    expect([...notified].sort()).toEqual(numberedZones(ZONES).sort());
    expect(report.parentSteps.count).toBeGreaterThanOrEqual(ZONES);
    // The wire: every zone is delegated to both servers, with a DS for each.
    const parent = { address: `${PREFIX}.1`, port: 53 };
    for (const zone of numberedZones(ZONES)) {
      const ns = await query(parent, zone, 'NS', { transport: 'tcp' });
      const names = ns.authorities.find((set) => set.type === 'NS')?.records ?? [];
      expect([...names].sort(), zone).toEqual(['ns.bind.test.', 'ns.powerdns.test.']);
      const ds = await query(parent, zone, 'DS', { transport: 'tcp' });
      expect(ds.answers.find((set) => set.type === 'DS')?.records, zone).toHaveLength(2);
    }
  }, 600_000);
});
