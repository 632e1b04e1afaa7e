/**
 * Knot 3.2 behaviour proven on the wire against the lab: the refusal of the two trap servers
 * (and what would happen without it), signatures over foreign keys, persistence across a
 * restart, own CDS/CDNSKEY, the own-key guard, zone-ksk-submitted and the knotc transaction quirk.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeForeignKeys, cdsFor } from '@chorus/conformance';
import {
  AbortError,
  SignerCommandError,
  SignerConfigurationError,
  UnsafePlanError,
  type ApexSnapshot,
  type DesiredSignerState,
  type DnskeyData,
  type SigningKey,
} from '@chorus/core';
import {
  UpdateBuilder,
  keyTag,
  planSignerChanges,
  readApexFromServer,
  readTsigKeyFile,
  reconcileSigner,
  sendUpdate,
  verifyRrsig,
} from '@chorus/dns';
import { labRestart, labStatus, type ServerId } from '@chorus/lab';
import { pino } from 'pino';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { CONFORMANCE_ZONE, endpoint, labServer } from '@chorus/lab/testing';
import { Keymgr } from '../../src/keymgr.js';
import { Knotc } from '../../src/knotc.js';
import { createKnotSigner, type KnotSigner } from '../../src/index.js';
import { knotConfigFor } from './helpers.js';

const lab = inject('lab');
const zone = CONFORMANCE_ZONE;
const silent = pino({ level: 'silent' });

const signerFor = (id: ServerId, options: { unsafeSkipZoneCheck?: boolean } = {}) =>
  createKnotSigner(knotConfigFor(lab, id), options);

const empty = (overrides: Partial<DesiredSignerState> = {}): DesiredSignerState => ({
  foreignDnskeys: [],
  foreignCds: [],
  foreignCdnskeys: [],
  csync: null,
  ttl: 30,
  ...overrides,
});

const ids = (keys: readonly DnskeyData[] | undefined) => new Set((keys ?? []).map(keyTag));

/** Reads the server's apex until `ready` holds, or fails after `timeoutMs`. */
async function waitForApex(
  id: ServerId,
  ready: (apex: ApexSnapshot) => boolean,
  timeoutMs = 10_000,
): Promise<ApexSnapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const apex = await readApexFromServer(endpoint(labServer(lab, id)), zone, { retries: 2 });
    if (ready(apex)) return apex;
    if (Date.now() > deadline) throw new Error(`${id} did not reach the expected apex in time`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Restarts lab servers and checks that each really got a new process. */
async function restart(id: ServerId): Promise<void> {
  const before = await labStatus({ directory: lab.directory });
  const oldPid = before ? labServer(before, id).pid : 0;
  const after = await labRestart({ directory: lab.directory, servers: [id] });
  const server = labServer(after, id);
  expect(server.alive).toBe(true);
  expect(server.pid).not.toBe(oldPid);
}

/** Applies a desired state through the signer's own plan, without the post-condition. */
async function applyDesired(
  signer: KnotSigner,
  desired: DesiredSignerState,
  ownKeys: SigningKey[],
) {
  const served = await signer.readApex(zone);
  const plan = planSignerChanges({ signerId: signer.id, ownKeys, served, desired });
  return signer.applyChanges(plan);
}

function expectDnskeysSignedBy(apex: ApexSnapshot, ksk: SigningKey): void {
  const signatures = apex.dnskey?.signatures ?? [];
  expect(signatures.length).toBeGreaterThan(0);
  // Knot signs the DNSKEY RRset with its own KSK only, never with a foreign key.
  expect(signatures.map((signature) => signature.keyTag)).toEqual(signatures.map(() => ksk.keyTag));
  for (const signature of signatures) {
    const result = verifyRrsig({
      rrset: { name: zone, type: 'DNSKEY', class: 'IN', records: apex.dnskey!.records },
      signature,
      key: ksk.dnskey,
    });
    expect(result).toEqual({ ok: true });
  }
}

describe('checkZone on the lab Knot and its traps', () => {
  test('accepts the normal Knot for both lab zones', async () => {
    const signer = signerFor('knot');
    await signer.checkZone(zone, {});
    await signer.checkZone('example.test.', {});
  });

  test('accepts a signer that knows only the control socket (KASP path read from knotd)', async () => {
    const server = labServer(lab, 'knot');
    if (server.control.kind !== 'knotc') throw new Error('not knot');
    const signer = createKnotSigner({
      ...knotConfigFor(lab, 'knot'),
      knotc: { socket: server.control.socket },
    });
    await signer.checkZone(zone, {});
    const keys = await signer.listOwnKeys(zone, {});
    expect(keys.map((key) => key.role).sort()).toEqual(['KSK', 'ZSK']);
  });

  test('refuses knot-full-management, naming dnskey-management and the fix', async () => {
    const error = await signerFor('knot-full-management')
      .checkZone(zone, {})
      .catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    const refusal = error as SignerConfigurationError;
    expect(refusal.setting).toBe('policy[chorus].dnskey-management');
    expect(refusal.fix).toMatch(/dnskey-management: incremental/);
    expect(refusal.message).toMatch(/silently drops|silently/);
    expect(refusal.isRetryable).toBe(false);
  });

  test('refuses knot-zonefile-revert, naming zonefile-sync and the fix', async () => {
    const error = await signerFor('knot-zonefile-revert')
      .checkZone(zone, {})
      .catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    const refusal = error as SignerConfigurationError;
    expect(refusal.setting).toBe('template[default].zonefile-sync');
    expect(refusal.message).toMatch(/difference-no-serial/);
    expect(refusal.fix).toMatch(/zonefile-sync: 0/);
  });

  test('applyChanges checks the zone first: nothing reaches a trap server', async () => {
    const signer = signerFor('knot-full-management');
    const ownKeys = await signer.listOwnKeys(zone, {});
    const [foreign] = makeForeignKeys(1, 256);
    const error = await applyDesired(
      signer,
      empty({ foreignDnskeys: [foreign!.dnskey] }),
      ownKeys,
    ).catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
  });
});

describe('negative controls: what the refusals prevent', () => {
  test('knot-full-management answers NOERROR to a foreign DNSKEY and silently drops it', async () => {
    const signer = signerFor('knot-full-management', { unsafeSkipZoneCheck: true });
    const ownKeys = await signer.listOwnKeys(zone, {});
    const [foreign] = makeForeignKeys(
      1,
      256,
      ownKeys.map((key) => key.keyTag),
    );
    const server = labServer(lab, 'knot-full-management');
    const update = new UpdateBuilder(zone).add({
      name: zone,
      type: 'DNSKEY',
      class: 'IN',
      ttl: 30,
      data: foreign!.dnskey,
    });
    const result = await sendUpdate(endpoint(server), update, {
      tsig: await readTsigKeyFile(server.tsig.keyFile),
    });
    expect(result.message.rcode).toBe('NOERROR');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const apex = await readApexFromServer(endpoint(server), zone);
    expect(ids(apex.dnskey?.records).has(foreign!.keyTag)).toBe(false);
    expect(ids(apex.dnskey?.records)).toEqual(new Set(ownKeys.map((key) => key.keyTag)));
  });

  test('knot-zonefile-revert serves a foreign DNSKEY until a restart, then loses it', async () => {
    const signer = signerFor('knot-zonefile-revert', { unsafeSkipZoneCheck: true });
    const ownKeys = await signer.listOwnKeys(zone, {});
    const [foreign] = makeForeignKeys(
      1,
      256,
      ownKeys.map((key) => key.keyTag),
    );
    await applyDesired(signer, empty({ foreignDnskeys: [foreign!.dnskey] }), ownKeys);
    await waitForApex('knot-zonefile-revert', (apex) =>
      ids(apex.dnskey?.records).has(foreign!.keyTag),
    );

    await restart('knot-zonefile-revert');

    const after = await readApexFromServer(endpoint(labServer(lab, 'knot-zonefile-revert')), zone, {
      retries: 3,
    });
    expect(ids(after.dnskey?.records).has(foreign!.keyTag)).toBe(false);
    expect(ids(after.dnskey?.records)).toEqual(new Set(ownKeys.map((key) => key.keyTag)));
  });
});

describe('foreign keys on the lab Knot', () => {
  const signer = signerFor('knot');
  afterAll(async () => {
    await reconcileSigner(signer, zone, empty(), {});
  });

  test('are signed by Knot’s own KSK, and survive a restart of knotd (zonefile-sync: 0)', async () => {
    const ownKeys = await signer.listOwnKeys(zone, {});
    const ksk = ownKeys.find((key) => key.role !== 'ZSK')!;
    const foreign = [
      ...makeForeignKeys(
        2,
        256,
        ownKeys.map((key) => key.keyTag),
      ),
      ...makeForeignKeys(
        1,
        257,
        ownKeys.map((key) => key.keyTag),
      ),
    ];
    const desired = empty({ foreignDnskeys: foreign.map((key) => key.dnskey) });
    const { served } = await reconcileSigner(signer, zone, desired, {});
    expect(served.dnskey?.records).toHaveLength(ownKeys.length + foreign.length);
    expectDnskeysSignedBy(served, ksk);

    const restartedAt = Date.now();
    await restart('knot');
    const after = await signer.readApex(zone, {});
    expect(ids(after.dnskey?.records)).toEqual(
      new Set([...ownKeys.map((key) => key.keyTag), ...foreign.map((key) => key.keyTag)]),
    );
    expectDnskeysSignedBy(after, ksk);
    // Nothing left to apply after the restart, and the own keys are unchanged.
    const again = await reconcileSigner(signer, zone, desired, {});
    expect(again.plan.changes).toEqual([]);
    expect((await signer.listOwnKeys(zone, {})).map((key) => key.keyTag).sort()).toEqual(
      ownKeys.map((key) => key.keyTag).sort(),
    );
    expect(Date.now() - restartedAt).toBeLessThan(30_000);
  });

  test('own CDS/CDNSKEY are published with TTL 0; merged with foreign ones they take the foreign TTL', async () => {
    const ownKeys = await signer.listOwnKeys(zone, {});
    const ksk = ownKeys.find((key) => key.role !== 'ZSK')!;
    await reconcileSigner(signer, zone, empty(), {});
    const before = await signer.readApex(zone, {});
    expect(before.cds?.records.map((ds) => ds.keyTag)).toContain(ksk.keyTag);
    expect(ids(before.cdnskey?.records).has(ksk.keyTag)).toBe(true);
    // TTL 0 on a fresh zone; once foreign records were merged, Knot keeps the merged TTL even
    // after they are withdrawn (measured on 3.2.6), so the test accepts either.
    expect([0, 30]).toContain(before.cds?.ttl);

    const [foreign] = makeForeignKeys(
      1,
      257,
      ownKeys.map((key) => key.keyTag),
    );
    const desired = empty({
      foreignDnskeys: [foreign!.dnskey],
      foreignCds: [cdsFor(zone, foreign!)],
      foreignCdnskeys: [foreign!.dnskey],
      ttl: 30,
    });
    const { served } = await reconcileSigner(signer, zone, desired, {});
    expect(served.cds?.records.map((ds) => ds.keyTag).sort()).toEqual(
      [ksk.keyTag, foreign!.keyTag].sort(),
    );
    expect(served.cds?.ttl).toBe(30);
    expect(served.cdnskey?.ttl).toBe(30);
    // Knot signs CDS and CDNSKEY with its KSK.
    expect(served.cds?.signatures.map((signature) => signature.keyTag)).toContain(ksk.keyTag);

    const withdrawn = await reconcileSigner(signer, zone, empty(), {});
    expect(withdrawn.served.cds?.records.map((ds) => ds.keyTag)).toEqual([ksk.keyTag]);
    expect(withdrawn.served.cds?.ttl).toBe(30);
  });
});

describe('own keys', () => {
  const signer = signerFor('knot');

  test('a plan that deletes an own key or own CDS is refused with UnsafePlanError', async () => {
    const ownKeys = await signer.listOwnKeys(zone, {});
    const zsk = ownKeys.find((key) => key.role === 'ZSK')!;
    const ksk = ownKeys.find((key) => key.role !== 'ZSK')!;
    const plans = [
      { action: 'delete' as const, type: 'DNSKEY' as const, data: zsk.dnskey, ttl: 30 },
      { action: 'delete' as const, type: 'CDNSKEY' as const, data: ksk.dnskey, ttl: 30 },
      {
        action: 'delete' as const,
        type: 'CDS' as const,
        data: cdsFor(zone, { dnskey: ksk.dnskey, keyTag: ksk.keyTag }),
        ttl: 30,
      },
    ];
    for (const change of plans) {
      const error = await signer
        .applyChanges({ zone, signerId: signer.id, changes: [change] }, {})
        .catch((caught: unknown) => caught);
      expect(UnsafePlanError.isInstance(error), `${change.type} delete`).toBe(true);
    }
    const apex = await signer.readApex(zone, {});
    expect(ids(apex.dnskey?.records).has(zsk.keyTag)).toBe(true);
  });

  test('a DNS UPDATE that deletes Knot’s own ZSK is a no-op (why the guard exists)', async () => {
    const ownKeys = await signer.listOwnKeys(zone, {});
    const zsk = ownKeys.find((key) => key.role === 'ZSK')!;
    const server = labServer(lab, 'knot');
    const update = new UpdateBuilder(zone).deleteRecord({
      name: zone,
      type: 'DNSKEY',
      data: zsk.dnskey,
    });
    await sendUpdate(endpoint(server), update, {
      tsig: await readTsigKeyFile(server.tsig.keyFile),
    });
    const apex = await signer.readApex(zone, {});
    expect(ids(apex.dnskey?.records).has(zsk.keyTag)).toBe(true);
  });

  test('keys imported with keymgr import-pub are not own keys', async () => {
    // On a trap server's KASP database, so the conformance zone of the lab Knot stays clean.
    const trap = labServer(lab, 'knot-full-management');
    if (trap.control.kind !== 'knotc') throw new Error('not knot');
    const signer = signerFor('knot-full-management');
    const before = await signer.listOwnKeys(zone, {});
    const [foreign] = makeForeignKeys(
      1,
      257,
      before.map((key) => key.keyTag),
    );
    const directory = mkdtempSync(path.join(os.tmpdir(), 'chorus-knot-import-'));
    const file = path.join(directory, 'foreign.key');
    writeFileSync(file, `${zone} 30 IN DNSKEY 257 3 13 ${foreign!.dnskey.publicKey}\n`);
    const keymgr = new Keymgr({
      binary: 'keymgr',
      source: { configFile: trap.control.configFile },
      timeoutMs: 10_000,
      logger: silent,
    });
    await keymgr.run([zone, 'import-pub', file]);
    try {
      const kasp = await signer.listKaspKeys(zone, {});
      const imported = kasp.find((key) => key.tag === foreign!.keyTag);
      expect(imported?.publicOnly).toBe(true);
      const own = await signer.listOwnKeys(zone, {});
      expect(own.map((key) => key.keyTag).sort()).toEqual(before.map((key) => key.keyTag).sort());
    } finally {
      const kasp = await signer.listKaspKeys(zone, {});
      for (const key of kasp.filter((entry) => entry.tag === foreign!.keyTag))
        await keymgr.run([zone, 'delete', key.id]);
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test('a zone without keys is an error, never an empty list of own keys', async () => {
    const error = await signer
      .listOwnKeys('nonexistent.test.', {})
      .catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/no signing keys/);
  });

  test('roles and states come from keymgr: the KSK waits in "ready", the ZSK is "active"', async () => {
    const keys = await signer.listOwnKeys('example.test.', {});
    expect(keys.find((key) => key.role === 'ZSK')?.state).toBe('active');
    expect(['ready', 'active']).toContain(keys.find((key) => key.role === 'KSK')?.state);
  });
});

describe('kskSubmitted (knotc zone-ksk-submitted)', () => {
  const signer = signerFor('knot');

  test('confirms the ready KSK once, then reports that no key is ready', async () => {
    const ksk = () =>
      signer.listOwnKeys(zone, {}).then((keys) => keys.find((key) => key.role !== 'ZSK')!);
    expect((await ksk()).state).toBe('ready');
    expect(await signer.kskSubmitted(zone, {})).toBe('submitted');
    expect((await ksk()).state).toBe('active');
    expect(await signer.kskSubmitted(zone, {})).toBe('no-key-ready');
    // cds-cdnskey-publish: always keeps the own CDS after the submission.
    const apex = await signer.readApex(zone, {});
    expect(apex.cds?.records.map((ds) => ds.keyTag)).toContain((await ksk()).keyTag);
  });

  test('an unknown zone is a SignerCommandError, not success', async () => {
    const error = await signer
      .kskSubmitted('nonexistent.test.', {})
      .catch((caught: unknown) => caught);
    expect(SignerCommandError.isInstance(error)).toBe(true);
    expect((error as SignerCommandError).message).toMatch(/no such zone/);
    expect((error as SignerCommandError).isRetryable).toBe(false);
  });

  test('an aborted signal rejects with AbortError', async () => {
    const error = await signer
      .kskSubmitted(zone, { signal: AbortSignal.abort() })
      .catch((caught: unknown) => caught);
    expect(AbortError.isInstance(error)).toBe(true);
  });
});

describe('knotc transactions (why DNS UPDATE is the default)', () => {
  test('a zone-set of an existing record empties the open transaction', async () => {
    const server = labServer(lab, 'knot');
    if (server.control.kind !== 'knotc') throw new Error('not knot');
    const knotc = new Knotc({
      binary: 'knotc',
      control: { configFile: server.control.configFile },
      timeoutMs: 10_000,
      logger: silent,
    });
    await knotc.run(['zone-begin', zone]);
    try {
      await knotc.run(['zone-set', zone, '@', '30', 'TXT', '"chorus-quirk"']);
      expect(await knotc.run(['zone-diff', zone])).toMatch(/chorus-quirk/);
      const error = await knotc
        .run(['zone-set', zone, '@', '30', 'TXT', '"chorus-quirk"'])
        .catch((caught: unknown) => caught);
      expect(SignerCommandError.isInstance(error)).toBe(true);
      expect((error as SignerCommandError).message).toMatch(/already exists/);
      // The first, successful zone-set is gone too.
      expect((await knotc.run(['zone-diff', zone])).trim()).toBe('');
    } finally {
      await knotc.run(['zone-abort', zone]).catch(() => undefined);
    }
    const records = await knotc.zoneRead(zone, 'TXT').catch(() => []);
    expect(records).toEqual([]);
  });
});
