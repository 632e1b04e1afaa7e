/**
 * The migration demo (BIND → PowerDNS + Knot) on a lab that signs every zone with RSA/SHA-256
 * and denies with NSEC3 (`--algorithm 8 --denial nsec3`): the pre-flight compares the three
 * servers' content by the digests their sidecars record (an NSEC3 chain cannot be walked), the
 * validator proves the NSEC3 denials, and no resolver may fail.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemoOnOwnLab } from './helpers/demo.js';
import { zoneStream, type ZoneEvent } from '@chorus/core';
import { openLabEventLog } from '@chorus/cli';
import { labDown, labStatus } from '@chorus/lab';

// CHORUS_TEST_NSEC3_DEMO_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_NSEC3_DEMO_PREFIX ?? '127.78.0';

const directories: string[] = [];
afterAll(async () => {
  for (const directory of directories) {
    await labDown({ directory }).catch(() => undefined);
    if (process.env.CHORUS_TEST_KEEP !== '1') await rm(directory, { recursive: true, force: true });
  }
});

interface DemoJson {
  ok: boolean;
  processes: { kind: string; signerId: string }[];
  traffic: { queries: number; failures: unknown[] };
  observers: {
    violations: unknown[];
    validationFailures: unknown[];
    disagreements: unknown[];
    validation: { probes: number };
  };
  parent: { asExpected: boolean };
}

describe('the migration demo with RSA and NSEC3', () => {
  it('runs glitch-free, the content compared by the digests each sidecar recorded', async () => {
    const { code, result, stderr, directory } = await runDemoOnOwnLab<DemoJson>({
      name: 'nsec3-rsa',
      prefix: PREFIX,
      ttl: 10,
      args: ['--algorithm', '8', '--denial', 'nsec3'],
      directories,
      keepLab: true,
    });
    expect(code, stderr.slice(-3000)).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.processes.map((process) => `${process.kind} ${process.signerId}`)).toEqual([
      'add-signer powerdns',
      'add-signer knot',
      'remove-signer bind',
    ]);
    expect(result.traffic.failures).toEqual([]);
    expect(result.traffic.queries).toBeGreaterThan(1000);
    expect(result.observers.violations).toEqual([]);
    expect(result.observers.validationFailures).toEqual([]);
    expect(result.observers.disagreements).toEqual([]);
    expect(result.observers.validation.probes).toBeGreaterThan(30);
    expect(result.parent.asExpected).toBe(true);

    // Every signer recorded the same digest of the zone's content, read from its own server.
    const status = (await labStatus({ directory }))!;
    const eventLogPath = path.join(directory, 'demo', 'events.sqlite');
    const log = await openLabEventLog<ZoneEvent>(status, eventLogPath, 'operator');
    try {
      const events = await log.readStream(zoneStream(status.zones[0]!));
      const digests = new Map<string, string>();
      for (const { event } of events)
        if (event.type === 'signer-content-observed')
          digests.set(event.data.signerId, event.data.content.digest);
      expect([...digests.keys()].sort()).toEqual(['bind', 'knot', 'powerdns']);
      expect(new Set(digests.values()).size).toBe(1);
    } finally {
      await log.close();
    }
  }, 600_000);
});
