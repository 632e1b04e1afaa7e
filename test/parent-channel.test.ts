/**
 * The observe-only parent channel and the child observer against the lab: the BIND parent
 * `test.` and the signers it delegates to (the lab started by test/global-setup.ts).
 */
import { describe, expect, inject, it } from 'vitest';
import {
  createObserveOnlyParentChannel,
  decideParentUpdate,
  observeChildServers,
} from '@chorus/parent';
import { dsMatchesKey, query } from '@chorus/dns';
import { ParentAnswerError, ParentServerUnreachableError, type DnskeyData } from '@chorus/core';
import { endpoint, labServer } from '@chorus/lab/testing';

const lab = inject('lab');
const parent = labServer(lab, 'parent');
const bind = labServer(lab, 'bind');

function channel(extraServers: { address: string; port: number }[] = []) {
  return createObserveOnlyParentChannel({
    id: 'lab-parent',
    parentZone: lab.parentZone,
    parentServers: [endpoint(parent), ...extraServers],
    timeoutMs: 500,
    retries: 0,
  });
}

async function bindKeys(zone: string): Promise<DnskeyData[]> {
  const response = await query(endpoint(bind), zone, 'DNSKEY', { transport: 'tcp' });
  return (response.answers.find((set) => set.type === 'DNSKEY')?.records ?? []) as DnskeyData[];
}

describe('the observe-only channel on the lab parent', () => {
  it.each(lab.zones)(
    'reports the DS (with TTL and RRSIG) and NS (with TTL) of %s',
    async (zone) => {
      const delegation = await channel().getDelegation(zone, {});
      expect(delegation.zone).toBe(zone);
      expect(delegation.parent).toBe(lab.parentZone);
      expect(delegation.consistent).toBe(true);
      expect(delegation.servers).toEqual([
        expect.objectContaining({ server: `${parent.address}:${lab.port}`, consistent: true }),
      ]);
      // The DS is BIND's KSK, as the lab delegated it, signed by the parent.
      const keys = await bindKeys(zone);
      expect(delegation.ds?.ttl).toBe(lab.ttl);
      expect(delegation.ds?.records.length).toBeGreaterThan(0);
      for (const ds of delegation.ds!.records) {
        expect(keys.some((key) => dsMatchesKey(zone, ds, key))).toBe(true);
      }
      expect(delegation.ds?.signatures.map((signature) => signature.signerName)).toContain(
        lab.parentZone,
      );
      // Other tests may have changed conformance.test.'s NS for a while; example.test. stays.
      expect(delegation.ns?.ttl).toBe(lab.ttl);
      expect(delegation.ns?.records).toContain(bind.nameserverName);
      // The NS names are siblings in test., not in the child: no glue in the referral.
      expect(delegation.glue).toEqual([]);
    },
  );

  it('sees the negative control: broken.test. has a DS that matches none of BIND’s keys', async () => {
    const delegation = await channel().getDelegation(lab.brokenZone, {});
    const keys = await bindKeys(lab.brokenZone);
    expect(delegation.ds?.records).toHaveLength(1);
    expect(keys.some((key) => dsMatchesKey(lab.brokenZone, delegation.ds!.records[0]!, key))).toBe(
      false,
    );
  });

  it('throws ParentAnswerError (not-delegated) for a name the parent does not delegate', async () => {
    const error = await channel()
      .getDelegation('nowhere.test.', {})
      .catch((caught: unknown) => caught);
    expect(ParentAnswerError.isInstance(error)).toBe(true);
    expect((error as ParentAnswerError).problem).toBe('not-delegated');
  });

  it('throws a retryable ParentServerUnreachableError when one parent address is down', async () => {
    const nobody = { address: `${lab.addressPrefix}.247`, port: lab.port };
    const error = await channel([nobody])
      .getDelegation(lab.zones[0]!, {})
      .catch((caught: unknown) => caught);
    expect(ParentServerUnreachableError.isInstance(error)).toBe(true);
    expect((error as ParentServerUnreachableError).isRetryable).toBe(true);
    expect((error as ParentServerUnreachableError).server).toBe(`${nobody.address}:${lab.port}`);
  });
});

describe('observing the delegated child nameservers', () => {
  it('asks every address of the delegation (resolved through the parent) and decides in sync', async () => {
    const zone = lab.zones[0]!;
    const delegation = await channel().getDelegation(zone, {});
    const observations = await observeChildServers({
      zone,
      delegation,
      port: lab.port,
      parentServers: [endpoint(parent)],
      timeoutMs: 1000,
    });
    expect(observations.unresolved).toEqual([]);
    expect(observations.servers).toHaveLength(1);
    const [server] = observations.servers;
    expect(server).toMatchObject({
      nameserver: bind.nameserverName,
      address: bind.address,
      inDelegation: true,
      status: 'answered',
    });
    if (server?.status !== 'answered') throw new Error('BIND did not answer');
    expect(server.data.dnskey?.records.length).toBeGreaterThanOrEqual(2);
    expect(server.data.cds?.signatures.length).toBeGreaterThan(0);
    expect(server.data.ns?.records).toEqual([bind.nameserverName]);

    const decision = decideParentUpdate(observations, delegation);
    expect(decision.ds).toMatchObject({ action: 'none', status: 'in-sync' });
    expect(decision.ns).toMatchObject({ action: 'none', status: 'no-signal' });
  });

  it('refuses to act on broken.test.: BIND’s DNSKEY RRset does not validate under its DS', async () => {
    const delegation = await channel().getDelegation(lab.brokenZone, {});
    const observations = await observeChildServers({
      zone: lab.brokenZone,
      delegation,
      port: lab.port,
      parentServers: [endpoint(parent)],
    });
    // BIND publishes CDS for its real KSK, which differs from the bogus DS: a change is asked
    // for, but nothing the child serves validates under the current DS.
    const decision = decideParentUpdate(observations, delegation);
    expect(decision.ds).toMatchObject({ action: 'none', status: 'refused' });
    expect(decision.ds.reasons.map((reason) => reason.code)).toEqual(['dnskey-not-validated']);
  });
});
