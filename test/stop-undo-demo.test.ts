/**
 * Stop and undo, watched: `chorus demo --scenario stop-undo`. PowerDNS joins BIND; Knot's join is
 * stopped after its NS went out at the signers (sync-ns) and undone by removing Knot; BIND's
 * leave is stopped after the CSYNC went out and undone by adding BIND back; PowerDNS's ZSK roll is
 * stopped once its successor signs (a roll has no reverse: it stays there, safe). The observers
 * and the validating resolvers must see no glitch, and the parent ends with BIND and PowerDNS.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { zoneStream, type ZoneEvent } from '@chorus/core';
import { openLabEventLog } from '@chorus/cli';
import { applyZoneEvent, emptyZoneState } from '@chorus/engine';
import { labStatus } from '@chorus/lab';
import { labDirectoriesRemovedAfterAll, runDemoOnOwnLab, type DemoJson } from './helpers/demo.js';

// CHORUS_TEST_STOP_UNDO_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_STOP_UNDO_PREFIX ?? '127.68.0';

const directories = labDirectoriesRemovedAfterAll();

describe('stop and undo in the middle of ADD-SIGNER and REMOVE-SIGNER, and a stop in a roll', () => {
  it('stops at safe points and undoes both with no glitch', async () => {
    const { code, result, stderr, directory } = await runDemoOnOwnLab<DemoJson>({
      name: 'stop-undo',
      prefix: PREFIX,
      ttl: 5,
      args: ['--scenario', 'stop-undo'],
      directories,
      keepLab: true,
    });
    expect(code, stderr.slice(-3000)).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.traffic.failures).toEqual([]);
    expect(result.observers.violations).toEqual([]);
    expect(result.observers.validationFailures).toEqual([]);
    expect(result.observers.disagreements).toEqual([]);
    expect(result.parent.asExpected).toBe(true);

    const lab = (await labStatus({ directory }))!;
    const log = await openLabEventLog<ZoneEvent>(
      lab,
      path.join(lab.directory, 'demo', 'events.sqlite'),
      'operator',
    );
    try {
      const events = (await log.readStream(zoneStream(lab.zones[0]!))).map(({ event }) => event);
      const state = events.reduce(applyZoneEvent, emptyZoneState(lab.zones[0]!));
      const outcome = state.processes.map(
        (process) =>
          `${process.kind} ${process.signerId} ${process.status}${process.undoOf ? ' (undo)' : ''}`,
      );
      expect(outcome).toEqual([
        'add-signer powerdns completed',
        'add-signer knot stopped',
        'remove-signer knot completed (undo)',
        'remove-signer bind stopped',
        'add-signer bind completed (undo)',
        'roll-zsk powerdns stopped',
      ]);
      // Each stop came after the named step and before the next one started.
      const stopped = state.processes.filter((process) => process.status === 'stopped');
      expect(stopped.map((process) => process.steps[process.stoppedAtStep! - 1]?.name)).toEqual([
        'sync-ns',
        'publish-csync',
        'activate-successor',
      ]);
      for (const process of stopped)
        expect(process.stepStates[process.stoppedAtStep!]!.status).toBe('pending');
      expect(state.members).toEqual(['bind', 'powerdns']);
    } finally {
      await log.close();
    }
  }, 400_000);
});
