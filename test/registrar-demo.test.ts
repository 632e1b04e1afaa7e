/**
 * The migration demo (BIND → PowerDNS + Knot) through a registrar instead of a CDS/CSYNC
 * scanner (`--parent registrar`): the lab runs the fake registrar in front of `test.` and no
 * registry agent, so every DS and NS change reaches the parent only through the registrar's API,
 * sent by the sidecars; no resolver may fail.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { zoneStream, type ZoneEvent } from '@chorus/core';
import { openLabEventLog } from '@chorus/cli';
import { labStatus } from '@chorus/lab';
import path from 'node:path';
import { labDirectoriesRemovedAfterAll, runDemoOnOwnLab, type DemoJson } from './helpers/demo.js';

// CHORUS_TEST_REGISTRAR_DEMO_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_REGISTRAR_DEMO_PREFIX ?? '127.64.0';

const directories = labDirectoriesRemovedAfterAll();

describe('the migration demo through a registrar', () => {
  it('runs glitch-free with every parent change sent through the registrar API', async () => {
    const { code, result, stderr, directory } = await runDemoOnOwnLab<DemoJson>({
      name: 'registrar',
      prefix: PREFIX,
      ttl: 5,
      args: ['--parent', 'registrar'],
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
    expect(result.observers.violations).toEqual([]);
    expect(result.observers.validationFailures).toEqual([]);
    expect(result.observers.disagreements).toEqual([]);
    expect(result.parent.asExpected).toBe(true);

    const lab = (await labStatus({ directory }))!;
    expect(lab.registryAgent).toBeNull();
    expect(lab.registrar?.alive).toBe(true);
    // Every parent step went through the registrar: accepted, one per step, each a whole set.
    const log = await openLabEventLog<ZoneEvent>(
      lab,
      path.join(lab.directory, 'demo', 'events.sqlite'),
      'operator',
    );
    try {
      const events = (await log.readStream(zoneStream(lab.zones[0]!))).map(({ event }) => event);
      const sent = events.flatMap((event) =>
        event.type === 'parent-change-submitted' ? [event.data] : [],
      );
      // Each ADD-SIGNER changes the DS, then the NS; REMOVE-SIGNER the NS, then the DS.
      expect(sent.map((data) => `${data.kind} ${data.outcome}`)).toEqual([
        ...['ds accepted', 'ns accepted'],
        ...['ds accepted', 'ns accepted'],
        ...['ns accepted', 'ds accepted'],
      ]);
      expect(events.some((event) => event.type === 'parent-notified')).toBe(false);
    } finally {
      await log.close();
    }
    // The registrar's request log shows the PUTs, and never the token.
    const requests = await readFile(lab.registrar!.requestLogFile, 'utf8');
    const puts = requests.split('\n').filter((line) => line.includes('"PUT"'));
    expect(puts.length).toBeGreaterThanOrEqual(6);
    const token = (await readFile(lab.registrar!.tokenFile, 'utf8')).trim();
    expect(requests).not.toContain(token);
  }, 900_000);
});
