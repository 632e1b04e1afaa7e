/**
 * Stop and undo, watched: `chorus demo --scenario stop-undo`. PowerDNS joins BIND; Knot's join is
 * stopped after its NS went out at the signers (sync-ns) and undone by removing Knot; BIND's
 * leave is stopped after the CSYNC went out and undone by adding BIND back; PowerDNS's ZSK roll is
 * stopped once its successor signs and rolled back: the predecessor signs again and the successor
 * goes, everywhere; PowerDNS's KSK roll is stopped once both KSKs' CDS went out and rolled back:
 * the parent's DS and every DNSKEY RRset end with the first KSK only. The observers and the validating resolvers must see no glitch, and the parent
 * ends with BIND and PowerDNS.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { zoneStream, type DnskeyData, type ZoneEvent } from '@chorus/core';
import { keyTag, query } from '@chorus/dns';
import { openLabEventLog } from '@chorus/cli';
import { applyZoneEvent, emptyZoneState } from '@chorus/engine';
import { labStatus, type LabStatus } from '@chorus/lab';
import { labDirectoriesRemovedAfterAll, runDemoOnOwnLab, type DemoJson } from './helpers/demo.js';

// CHORUS_TEST_STOP_UNDO_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_STOP_UNDO_PREFIX ?? '127.68.0';

const directories = labDirectoriesRemovedAfterAll();

/** The key tags of the DNSKEY RRset the lab server `id` serves for the zone. */
async function publishedTags(lab: LabStatus, id: string): Promise<number[]> {
  const server = lab.servers.find((entry) => entry.id === id)!;
  const answer = await query(server, lab.zones[0]!, 'DNSKEY', { transport: 'tcp' });
  return answer.answers
    .filter((rrset) => rrset.type === 'DNSKEY')
    .flatMap((rrset) => rrset.records.map((record) => keyTag(record as DnskeyData)));
}

describe('stop and undo in the middle of ADD-SIGNER, REMOVE-SIGNER, a ZSK roll and a KSK roll', () => {
  it('stops at safe points and undoes all four with no glitch', async () => {
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
        'roll-zsk powerdns completed (undo)',
        'roll-ksk powerdns stopped',
        'roll-ksk powerdns completed (undo)',
      ]);
      // Each stop came after the named step and before the next one started.
      const stopped = state.processes.filter((process) => process.status === 'stopped');
      expect(stopped.map((process) => process.steps[process.stoppedAtStep! - 1]?.name)).toEqual([
        'sync-ns',
        'publish-csync',
        'activate-successor',
        'sync-dnskeys',
      ]);
      for (const process of stopped)
        // Before the next step, or inside it when it changes nothing (waiting for the parent).
        expect(
          process.stepStates[process.stoppedAtStep!]!.status === 'pending' ||
            (!process.steps[process.stoppedAtStep!]!.action &&
              !process.steps[process.stoppedAtStep!]!.rollAction),
        ).toBe(true);
      expect(state.members).toEqual(['bind', 'powerdns']);

      // The roll back: its successor is the stopped roll's predecessor, which signs again; the
      // stopped roll's successor is gone from every signer.
      const [roll, rollBack] = state.processes.filter((process) => process.kind === 'roll-zsk');
      expect(rollBack!.roll).toMatchObject({
        role: 'ZSK',
        successorTag: roll!.roll!.predecessorTags[0],
        mode: 'held',
      });
      const introduced = rollBack!.roll!.predecessorTags;
      expect(introduced).toHaveLength(1);
      expect(introduced).not.toEqual(roll!.roll!.predecessorTags);
      for (const id of ['bind', 'powerdns']) {
        const tags = await publishedTags(lab, id);
        expect(tags, id).toContain(roll!.roll!.predecessorTags[0]);
        expect(tags, id).not.toContain(introduced[0]);
      }
      // PowerDNS signs its data with the predecessor again.
      const powerdns = lab.servers.find((entry) => entry.id === 'powerdns')!;
      const soa = await query(powerdns, lab.zones[0]!, 'SOA', { transport: 'tcp' });
      const signers = soa.answers.flatMap((rrset) => rrset.signatures.map((sig) => sig.keyTag));
      expect(signers).toContain(roll!.roll!.predecessorTags[0]);
      expect(signers).not.toContain(introduced[0]);

      // The KSK roll back: the parent's DS names PowerDNS's first KSK again, not the stopped
      // roll's successor, and no signer publishes that successor.
      const [kskRoll, kskRollBack] = state.processes.filter((p) => p.kind === 'roll-ksk');
      const firstKsk = kskRoll!.roll!.predecessorTags[0]!;
      const kskSuccessor = kskRollBack!.roll!.predecessorTags[0]!;
      expect(kskRollBack!.roll!.successorTag).toBe(firstKsk);
      const parent = lab.servers.find((entry) => entry.id === 'parent')!;
      const ds = await query(parent, lab.zones[0]!, 'DS', { transport: 'tcp' });
      const dsTags = ds.answers
        .filter((rrset) => rrset.type === 'DS')
        .flatMap((rrset) => rrset.records.map((record) => (record as { keyTag: number }).keyTag));
      expect(dsTags).toContain(firstKsk);
      expect(dsTags).not.toContain(kskSuccessor);
      for (const id of ['bind', 'powerdns']) {
        const tags = await publishedTags(lab, id);
        expect(tags, id).toContain(firstKsk);
        expect(tags, id).not.toContain(kskSuccessor);
      }
    } finally {
      await log.close();
    }
  }, 400_000);
});
