/**
 * PowerDNS 4.7 behaviour that the plugin relies on or guards against, proven on the wire
 * against the lab's servers (reference/nameservers.md §3). Uses the throwaway zone
 * conformance.test. and leaves it clean.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cdsFor, makeForeignKeys } from '@chorus/conformance';
import {
  ApiCallError,
  SignerConfigurationError,
  type ApexSnapshot,
  type DesiredSignerState,
  type RRset,
  type SigningKey,
} from '@chorus/core';
import {
  computeDs,
  dnskeyIdentity,
  dsIdentity,
  keyTag,
  planSignerChanges,
  readApexFromServer,
  reconcileSigner,
  verifyRrsig,
} from '@chorus/dns';
import { labRestart, type LabStatus } from '@chorus/lab';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';
import { CONFORMANCE_ZONE, endpoint, labServer } from '@chorus/lab/testing';
import { PowerDnsApi } from '../../src/api.js';
import { createPowerDnsSigner, type PowerDnsSigner } from '../../src/index.js';
import { labConfig } from './helpers.js';

const ZONE = CONFORMANCE_ZONE;
let lab: LabStatus = inject('lab');
const silent = pino({ level: 'silent' });

function apiFor(id: 'powerdns' | 'powerdns-no-direct-dnskey'): PowerDnsApi {
  const config = labConfig(lab, id);
  return new PowerDnsApi({ ...config.api, timeoutMs: 5000, logger: silent });
}

let signer: PowerDnsSigner;
let ownKeys: SigningKey[];
let ownKsk: SigningKey;
let baselineNs: string[];

function desired(overrides: Partial<DesiredSignerState> = {}): DesiredSignerState {
  return {
    foreignDnskeys: [],
    foreignCds: [],
    foreignCdnskeys: [],
    csync: null,
    apexNs: baselineNs,
    ttl: 30,
    ...overrides,
  };
}

/** The signatures over an RRset that verify with one of `keys`, as key tags. */
function verifiedBy(rrset: RRset, keys: readonly SigningKey[]): number[] {
  return rrset.signatures
    .filter((signature) =>
      keys.some(
        (key) =>
          key.keyTag === signature.keyTag && verifyRrsig({ rrset, signature, key: key.dnskey }).ok,
      ),
    )
    .map((signature) => signature.keyTag)
    .sort((a, b) => a - b);
}

beforeAll(async () => {
  signer = createPowerDnsSigner(labConfig(lab));
  await signer.checkZone(ZONE, {});
  ownKeys = await signer.listOwnKeys(ZONE, {});
  ownKsk = ownKeys.find((key) => key.role === 'KSK')!;
  const apex = await signer.readApex(ZONE, {});
  baselineNs = apex.ns!.records;
});

afterEach(async () => {
  await reconcileSigner(signer, ZONE, desired(), {});
});

describe('PowerDNS 4.7 (gsqlite3, direct-dnskey=yes) on the wire', () => {
  test('checkZone accepts the lab server for every lab zone, and the own keys are a KSK and a ZSK', async () => {
    for (const zone of lab.zones) await signer.checkZone(zone, {});
    expect(ownKeys.map((key) => key.role).sort()).toEqual(['KSK', 'ZSK']);
    expect(ownKeys.every((key) => key.state?.startsWith('active, published'))).toBe(true);
  });

  test('foreign DNSKEYs added via the API are served, and the DNSKEY RRset is signed only by PowerDNS’s KSK', async () => {
    const foreign = [
      ...makeForeignKeys(
        2,
        256,
        ownKeys.map((key) => key.keyTag),
      ),
      ...makeForeignKeys(1, 257),
    ];
    const result = await reconcileSigner(
      signer,
      ZONE,
      desired({ foreignDnskeys: foreign.map((key) => key.dnskey) }),
      {},
    );
    expect(result.plan.changes).toHaveLength(3);

    const dnskey = (await readApexFromServer(endpoint(labServer(lab, 'powerdns')), ZONE)).dnskey!;
    const served = new Set(dnskey.records.map(dnskeyIdentity));
    for (const key of [...ownKeys.map((own) => own.dnskey), ...foreign.map((f) => f.dnskey)])
      expect(served.has(dnskeyIdentity(key))).toBe(true);
    expect(dnskey.records).toHaveLength(5);
    // One signature, by the own KSK, and it verifies over the whole 5-key RRset.
    expect(dnskey.signatures.map((signature) => signature.keyTag)).toEqual([ownKsk.keyTag]);
    expect(verifiedBy(dnskey, ownKeys)).toEqual([ownKsk.keyTag]);
    // A foreign KSK never signs here: PowerDNS has no private key for it.
    const foreignKsk = foreign[2]!;
    expect(dnskey.signatures.some((signature) => signature.keyTag === foreignKsk.keyTag)).toBe(
      false,
    );

    // The API shows only the backend (foreign) keys; the own keys live in /cryptokeys.
    const zone = await apiFor('powerdns').getZone(ZONE, { rrsetName: ZONE }, {});
    const backend = zone.rrsets.find((rrset) => rrset.type === 'DNSKEY')!;
    expect(backend.records.map((record) => record.content).sort()).toEqual(
      foreign.map((key) => `${key.dnskey.flags} 3 13 ${key.dnskey.publicKey}`).sort(),
    );
  });

  test('the served DNSKEY TTL is the SOA minimum, whatever TTL is stored', async () => {
    const [foreign] = makeForeignKeys(1, 256);
    await reconcileSigner(
      signer,
      ZONE,
      desired({ foreignDnskeys: [foreign!.dnskey], ttl: 3600 }),
      {},
    );
    const zone = await apiFor('powerdns').getZone(ZONE, { rrsetName: ZONE }, {});
    expect(zone.rrsets.find((rrset) => rrset.type === 'DNSKEY')!.ttl).toBe(3600);
    const apex = await signer.readApex(ZONE, {});
    const soaMinimum = apex.soa!.records[0]!.minimum;
    expect(apex.dnskey!.ttl).toBe(soaMinimum);
    expect(apex.dnskey!.ttl).not.toBe(3600);
  });

  test('foreign CDS/CDNSKEY are served together with the CDS/CDNSKEY PowerDNS generates for its KSK (PUBLISH-CDS)', async () => {
    const [foreignKsk] = makeForeignKeys(
      1,
      257,
      ownKeys.map((key) => key.keyTag),
    );
    await reconcileSigner(
      signer,
      ZONE,
      desired({
        foreignDnskeys: [foreignKsk!.dnskey],
        foreignCds: [cdsFor(ZONE, foreignKsk!)],
        foreignCdnskeys: [foreignKsk!.dnskey],
      }),
      {},
    );
    const apex = await signer.readApex(ZONE, {});
    expect(apex.cds!.records.map(dsIdentity).sort()).toEqual(
      [computeDs(ZONE, ownKsk.dnskey, 2), cdsFor(ZONE, foreignKsk!)].map(dsIdentity).sort(),
    );
    expect(apex.cdnskey!.records.map(dnskeyIdentity).sort()).toEqual(
      [ownKsk.dnskey, foreignKsk!.dnskey].map(dnskeyIdentity).sort(),
    );
    // PowerDNS signs CDS and CDNSKEY with both its KSK and its ZSK (§3.3).
    expect(verifiedBy(apex.cds!, ownKeys)).toEqual(
      ownKeys.map((key) => key.keyTag).sort((a, b) => a - b),
    );
    expect(verifiedBy(apex.cdnskey!, ownKeys)).toHaveLength(2);

    // Withdrawing the foreign ones leaves PowerDNS's own CDS/CDNSKEY in place.
    await reconcileSigner(signer, ZONE, desired(), {});
    const after = await signer.readApex(ZONE, {});
    expect(after.cds!.records.map(dsIdentity)).toEqual([
      dsIdentity(computeDs(ZONE, ownKsk.dnskey, 2)),
    ]);
    expect(after.cdnskey!.records.map(dnskeyIdentity)).toEqual([dnskeyIdentity(ownKsk.dnskey)]);
  });

  test('a spaced base64 is refused by the server (422 → non-retryable ApiCallError); the plugin sends it canonical', async () => {
    const [foreign] = makeForeignKeys(1, 256);
    const spaced = foreign!.dnskey.publicKey.replace(/(.{44})/, '$1 ');
    const error = await apiFor('powerdns')
      .patchRrsets(
        ZONE,
        [
          {
            name: ZONE,
            type: 'DNSKEY',
            changetype: 'REPLACE',
            ttl: 30,
            records: [{ content: `256 3 13 ${spaced}`, disabled: false }],
          },
        ],
        {},
      )
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect((error as ApiCallError).statusCode).toBe(422);
    expect((error as ApiCallError).isRetryable).toBe(false);
    expect((error as ApiCallError).responseBody).toMatch(/Not in expected format/);
    expect((await signer.readApex(ZONE, {})).dnskey!.records).toHaveLength(2);

    // The same key with spaces in a plan: the plugin normalises it and the server takes it.
    const plan = {
      zone: ZONE,
      signerId: signer.id,
      changes: [
        {
          action: 'add' as const,
          type: 'DNSKEY' as const,
          data: { ...foreign!.dnskey, publicKey: spaced },
          ttl: 30,
        },
      ],
    };
    await signer.applyChanges(plan, {});
    const served = (await signer.readApex(ZONE, {})).dnskey!.records.map((key) => keyTag(key));
    expect(served).toContain(foreign!.keyTag);
  });

  test('own keys are never backend records: a plan that deletes them sends nothing and changes nothing', async () => {
    const before = await signer.readApex(ZONE, {});
    const result = await signer.applyChanges(
      {
        zone: ZONE,
        signerId: signer.id,
        changes: ownKeys.map((key) => ({
          action: 'delete' as const,
          type: 'DNSKEY' as const,
          data: key.dnskey,
          ttl: 30,
        })),
      },
      {},
    );
    expect(result.applied).toBe(2);
    const after = await signer.readApex(ZONE, {});
    expect(after.dnskey!.records).toEqual(before.dnskey!.records);
  });
});

describe('writes at once (the concurrent-changes limit of 1)', () => {
  const names = Array.from({ length: 8 }, (_, index) => `chorus-lock-${index}.${ZONE}`);
  const write = (api: PowerDnsApi, name: string) =>
    api.patchRrsets(
      ZONE,
      [
        {
          name,
          type: 'TXT',
          ttl: 30,
          changetype: 'REPLACE',
          records: [{ content: `"${Date.now()}"`, disabled: false }],
        },
      ],
      {},
    );

  afterAll(async () => {
    const changes = names.map((name) => ({ name, type: 'TXT', changetype: 'DELETE' as const }));
    await apiFor('powerdns').patchRrsets(ZONE, changes, {});
  });

  test('several API writes at once lock the gsqlite3 database: HTTP 500 (the negative control)', async () => {
    const api = apiFor('powerdns');
    const locked: unknown[] = [];
    // Up to three bursts: a burst whose writes happen not to overlap proves nothing.
    for (let burst = 0; burst < 3 && locked.length === 0; burst += 1) {
      const results = await Promise.allSettled(names.map((name) => write(api, name)));
      for (const result of results)
        if (result.status === 'rejected' && (result.reason as ApiCallError).statusCode === 500)
          locked.push(result.reason);
    }
    expect(locked.length).toBeGreaterThan(0);
    expect(locked[0]).toBeInstanceOf(ApiCallError);
    expect((locked[0] as ApiCallError).isRetryable).toBe(true);
  });

  test('one write at a time beside concurrent reads (what the sidecar does): no failures', async () => {
    const api = apiFor('powerdns');
    let gate: Promise<unknown> = Promise.resolve();
    const oneAtATime = (run: () => Promise<void>) => {
      const turn = gate.then(run);
      gate = turn.catch(() => undefined);
      return turn;
    };
    const results = await Promise.allSettled(
      names.flatMap((name) => [
        api.getCryptokeys(ZONE, {}),
        api.getZone(ZONE, { rrsetName: ZONE }, {}),
        oneAtATime(() => write(api, name)),
      ]),
    );
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expect(results).toHaveLength(names.length * 3);
  });
});

describe('the trap powerdns-no-direct-dnskey (direct-dnskey=no)', () => {
  test('stores a foreign DNSKEY sent via the API (204) but never serves it: the silent failure', async () => {
    const trap = labServer(lab, 'powerdns-no-direct-dnskey');
    const api = apiFor('powerdns-no-direct-dnskey');
    const [foreign] = makeForeignKeys(1, 256);
    const content = `256 3 13 ${foreign!.dnskey.publicKey}`;
    await api.patchRrsets(
      ZONE,
      [
        {
          name: ZONE,
          type: 'DNSKEY',
          changetype: 'REPLACE',
          ttl: 30,
          records: [{ content, disabled: false }],
        },
      ],
      {},
    );
    try {
      const stored = await api.getZone(ZONE, { rrsetName: ZONE }, {});
      expect(stored.rrsets.find((rrset) => rrset.type === 'DNSKEY')!.records[0]!.content).toBe(
        content,
      );
      const served = (await readApexFromServer(endpoint(trap), ZONE)).dnskey!;
      expect(served.records.map((key) => keyTag(key))).not.toContain(foreign!.keyTag);
      expect(served.records).toHaveLength(2);
    } finally {
      await api.patchRrsets(ZONE, [{ name: ZONE, type: 'DNSKEY', changetype: 'DELETE' }], {});
    }
  });

  test('checkZone refuses it with a SignerConfigurationError naming direct-dnskey and the fix', async () => {
    const trapSigner = createPowerDnsSigner(labConfig(lab, 'powerdns-no-direct-dnskey'));
    for (const zone of lab.zones) {
      const error = await trapSigner.checkZone(zone, {}).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(SignerConfigurationError.isInstance(error)).toBe(true);
      const refusal = error as SignerConfigurationError;
      expect(refusal.setting).toBe('direct-dnskey');
      expect(refusal.fix).toBe('set direct-dnskey=yes in pdns.conf and restart pdns_server');
      expect(refusal.message).toContain('direct-dnskey');
      expect(refusal.isRetryable).toBe(false);
    }
  });
});

describe('restart', () => {
  test('foreign DNSKEYs, CDS, CSYNC and NS survive a restart of pdns_server (they are in the database)', async () => {
    const [zsk] = makeForeignKeys(
      1,
      256,
      ownKeys.map((key) => key.keyTag),
    );
    const [ksk] = makeForeignKeys(1, 257);
    const state = desired({
      foreignDnskeys: [zsk!.dnskey, ksk!.dnskey],
      foreignCds: [cdsFor(ZONE, ksk!)],
      foreignCdnskeys: [ksk!.dnskey],
      csync: { serial: 0, flags: 1, types: ['NS'] },
      apexNs: [...baselineNs, 'ns.bind.test.'],
    });
    await reconcileSigner(signer, ZONE, state, {});
    const before = labServer(lab, 'powerdns');

    lab = await labRestart({ directory: lab.directory, servers: ['powerdns'] });
    const after = labServer(lab, 'powerdns');
    expect(after.pid).not.toBe(before.pid);
    expect(after.alive).toBe(true);

    const served: ApexSnapshot = await readApexFromServer(endpoint(after), ZONE);
    expect(served.dnskey!.records.map((key) => keyTag(key))).toEqual(
      expect.arrayContaining([zsk!.keyTag, ksk!.keyTag, ...ownKeys.map((key) => key.keyTag)]),
    );
    expect(
      planSignerChanges({ signerId: signer.id, ownKeys, served, desired: state }).changes,
    ).toEqual([]);
    // Same own keys after the restart: nothing was regenerated.
    expect(await signer.listOwnKeys(ZONE, {})).toEqual(ownKeys);
    expect(verifiedBy(served.dnskey!, ownKeys)).toEqual([ownKsk.keyTag]);
  });
});

describe('the bind backend (launch=bind), on a pdns_server started for this test', () => {
  const address = `${lab.addressPrefix}.90`;
  let directory: string | undefined;
  let child: ChildProcess | undefined;

  afterAll(async () => {
    // Stopped by its own PID, and waited for.
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  test('checkZone refuses it, naming launch (the API answers 422 "Hosting backend does not support editing records")', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chorus-pdns-bind-backend-'));
    directory = dir;
    const zoneFile = path.join(dir, 'conformance.test.zone');
    await writeFile(
      zoneFile,
      [
        '$TTL 30',
        `${ZONE} IN SOA ns.powerdns.test. hostmaster.${ZONE} 1 3600 600 86400 30`,
        `${ZONE} IN NS ns.powerdns.test.`,
        `www.${ZONE} IN A 192.0.2.80`,
        '',
      ].join('\n'),
    );
    await writeFile(
      path.join(dir, 'named.conf'),
      `zone "${ZONE}" { type master; file "${zoneFile}"; };\n`,
    );
    const apiKeyFile = path.join(dir, 'api.key');
    await writeFile(apiKeyFile, 'bind-backend-test-key\n', { mode: 0o600 });
    await writeFile(
      path.join(dir, 'pdns.conf'),
      [
        'launch=bind',
        `bind-config=${path.join(dir, 'named.conf')}`,
        `local-address=${address}:${lab.port}`,
        `query-local-address=${address}`,
        'daemon=no',
        'guardian=no',
        `socket-dir=${dir}`,
        'disable-syslog=yes',
        'security-poll-suffix=',
        'api=yes',
        'api-key=bind-backend-test-key',
        'webserver=yes',
        `webserver-address=${address}`,
        'webserver-port=8081',
        'webserver-allow-from=127.0.0.0/8',
        'direct-dnskey=yes',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    child = spawn(labServer(lab, 'powerdns').binary, [`--config-dir=${dir}`], {
      stdio: 'ignore',
    });
    const bindSigner = createPowerDnsSigner({
      id: 'powerdns-bind-backend',
      server: { address, port: lab.port },
      api: { url: `http://${address}:8081/api/v1/servers/localhost`, apiKeyFile },
      requestTimeoutMs: 2000,
    });
    // Wait until the API answers (pdns_server starts in well under a second).
    const deadline = Date.now() + 15_000;
    let error: unknown;
    for (;;) {
      error = await bindSigner.checkZone(ZONE, {}).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      if (!(ApiCallError.isInstance(error) && error.statusCode === undefined)) break;
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect((error as SignerConfigurationError).setting).toBe('launch');
    expect((error as SignerConfigurationError).message).toContain(
      'Hosting backend does not support editing records',
    );
  });
});
