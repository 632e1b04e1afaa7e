import { describe, expect, inject, it } from 'vitest';
import { ConvergenceError, type Signer, type SignerPlan } from '@chorus/core';
import { makeForeignKeys, reconcileOnTheWire } from '@chorus/conformance';
import { CONFORMANCE_ZONE, labServer } from '@chorus/lab/testing';
import { signerForLabServer } from './helpers/signers.js';

// Negative control for the conformance suite itself: a plugin that reports success but drops
// what it was asked to publish must fail the suite's wire check, while the honest plugin passes.
const lab = inject('lab');
const bind = labServer(lab, 'bind');

function honestBind(): Signer {
  return signerForLabServer(lab, bind);
}

/** Claims every change was applied, but silently drops DNSKEY additions. */
function lyingBind(): Signer {
  const honest = honestBind();
  return {
    specificationVersion: honest.specificationVersion,
    kind: honest.kind,
    id: honest.id,
    capabilities: honest.capabilities,
    nameServers: honest.nameServers,
    checkZone: (zone, options) => honest.checkZone(zone, options),
    listOwnKeys: (zone, options) => honest.listOwnKeys(zone, options),
    readApex: (zone, options) => honest.readApex(zone, options),
    applyChanges: (plan: SignerPlan, options) =>
      honest.applyChanges(
        {
          ...plan,
          changes: plan.changes.filter(
            (change) => !(change.action === 'add' && change.type === 'DNSKEY'),
          ),
        },
        options,
      ),
  };
}

describe("the conformance suite's judge", () => {
  const zone = CONFORMANCE_ZONE;
  const empty = (ns: string[]) => ({
    foreignDnskeys: [],
    foreignCds: [],
    foreignCdnskeys: [],
    csync: null,
    apexNs: ns,
    ttl: 30,
  });

  it('passes an honest plugin and fails one that drops changes, naming what is missing', async () => {
    const honest = honestBind();
    const ownKeys = await honest.listOwnKeys(zone, {});
    const ns = (await honest.readApex(zone, {})).ns!.records;
    const foreign = makeForeignKeys(
      1,
      256,
      ownKeys.map((key) => key.keyTag),
    );
    const desired = { ...empty(ns), foreignDnskeys: foreign.map((key) => key.dnskey) };

    const error = await reconcileOnTheWire(lyingBind(), zone, ownKeys, desired, {
      timeoutMs: 1000,
    }).catch((caught: unknown) => caught);
    expect(ConvergenceError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(
      `add DNSKEY 256 3 13 ${foreign[0]!.dnskey.publicKey}`,
    );

    await expect(
      reconcileOnTheWire(honest, zone, ownKeys, desired, { timeoutMs: 5000 }),
    ).resolves.toBe(1);
    await expect(
      reconcileOnTheWire(honest, zone, ownKeys, empty(ns), { timeoutMs: 5000 }),
    ).resolves.toBe(1);
  });
});
