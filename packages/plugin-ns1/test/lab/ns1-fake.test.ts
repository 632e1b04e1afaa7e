/**
 * Behaviour against the lab's NS1 fake (a real PowerDNS behind it) that the conformance suite
 * does not see: the own CDS/CDNSKEY on the wire, no write when a plan is already applied (from
 * the fake's request record), and a wrong key at start-up.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeForeignKeys, cdsFor } from '@chorus/conformance';
import { ApiCallError, type SignerChange } from '@chorus/core';
import { computeDs, dsIdentity, readApexFromServer } from '@chorus/dns';
import type { LabProviderApi } from '@chorus/lab';
import { CONFORMANCE_ZONE, fakeAdmin, waitUntil } from '@chorus/lab/testing';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { createNs1Signer } from '../../src/index.js';
import { ns1LabConfig } from './helpers.js';

const lab = inject('lab');
const target = ns1LabConfig(lab);
const zone = CONFORMANCE_ZONE;
const scratch = mkdtemp(path.join(tmpdir(), 'chorus-ns1-lab-'));

afterAll(async () => {
  await rm(await scratch, { recursive: true, force: true });
});

describe.skipIf(target.skip !== undefined)(
  `NS1 plugin on the lab fake${target.skip ? ` (skipped: ${target.skip})` : ''}`,
  () => {
    const { config } = target as Exclude<typeof target, { skip: string }>;
    // The fake's record in memory: complete once the client has its answer (the file lags).
    const fake = fakeAdmin(lab.providers.find((api) => api.provider === 'ns1') as LabProviderApi);

    test('publishes the CDS/CDNSKEY of NS1’s own KSK, and a repeated plan sends no write', async () => {
      const signer = createNs1Signer(config);
      await signer.checkZone(zone, {});
      const [ksk] = await signer.listOwnKeys(zone, {});
      expect(ksk?.role).toBe('KSK');
      const [foreign] = makeForeignKeys(1, 257, [ksk!.keyTag]);
      const changes: SignerChange[] = [
        { action: 'add', type: 'DNSKEY', data: foreign!.dnskey, ttl: 30 },
        { action: 'add', type: 'CDS', data: cdsFor(zone, foreign!), ttl: 30 },
      ];
      await signer.applyChanges({ zone, signerId: signer.id, changes }, {});
      const ownCds = dsIdentity(computeDs(zone, ksk!.dnskey, 2));
      await waitUntil(
        'the own and the foreign CDS on the wire',
        async () => {
          const apex = await readApexFromServer(config.server, zone);
          const served = (apex.cds?.records ?? []).map(dsIdentity);
          const both =
            served.includes(ownCds) && served.includes(dsIdentity(cdsFor(zone, foreign!)));
          return both ? true : undefined;
        },
        { timeoutMs: 10_000 },
      );

      const before = (await fake.requests()).length;
      await signer.applyChanges({ zone, signerId: signer.id, changes }, {});
      const requests = (await fake.requests()).slice(before);
      expect(requests.map((request) => request.method)).toContain('GET');
      const writes = requests.filter((request) => request.method !== 'GET');
      expect(writes.map((request) => `${request.method} ${request.path}`)).toEqual([]);

      // Clean up: the foreign key and its CDS go, the own CDS stays.
      await signer.applyChanges(
        {
          zone,
          signerId: signer.id,
          changes: changes.map((change) => ({ ...change, action: 'delete' as const })),
        },
        {},
      );
    });

    test('a wrong key fails checkZone with a non-retryable 401 that does not contain the key', async () => {
      const secret = 'wrong-ns1-key-0123456789';
      const apiKeyFile = path.join(await scratch, 'wrong.key');
      await writeFile(apiKeyFile, `${secret}\n`, { mode: 0o600 });
      const signer = createNs1Signer({ ...config, api: { ...config.api, apiKeyFile } });
      const error = await signer.checkZone(zone, {}).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(ApiCallError.isInstance(error)).toBe(true);
      expect((error as ApiCallError).statusCode).toBe(401);
      expect((error as ApiCallError).isRetryable).toBe(false);
      expect((error as Error).message).toContain(apiKeyFile);
      expect(`${(error as Error).message}\n${(error as Error).stack}`).not.toContain(secret);
    });
  },
);
