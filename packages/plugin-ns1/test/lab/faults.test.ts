/**
 * The NS1 plugin against the lab's NS1 fake when the API misbehaves: a wrong, expired or revoked
 * API key, HTTP 500 on the writes, a slow API (timeout and abort), an answer with fields missing,
 * DNSSEC turned off on the zone, and a foreign key of an algorithm NS1 refuses. Each fault must
 * give a clear error of the right kind (retryable or not) and change nothing on the wire (read
 * with the signer's readApex) nor send a write it should have stopped (the fake's request
 * records). Every change to conformance.test is undone, the key is made valid again, DNSSEC
 * turned on again and the faults are cleared after each test.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeForeignKeys } from '@chorus/conformance';
import {
  AbortError,
  ApiCallError,
  ChorusError,
  SignerConfigurationError,
  UnsupportedCapabilityError,
  type DnskeyData,
  type SignerChange,
  type SignerPlan,
} from '@chorus/core';
import { dnskeyIdentity } from '@chorus/dns';
import type { LabProviderApi } from '@chorus/lab';
import {
  CONFORMANCE_ZONE,
  fakeAdmin,
  rejectionOf,
  servedRecords,
  waitUntil,
} from '@chorus/lab/testing';
import type { RequestRecord } from '@chorus/provider-fakes';
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';
import { createNs1Signer, type Ns1Config } from '../../src/index.js';
import { ns1LabConfig } from './helpers.js';

const lab = inject('lab');
const target = ns1LabConfig(lab);
const zone = CONFORMANCE_ZONE;
const scratch = mkdtemp(path.join(tmpdir(), 'chorus-ns1-faults-'));

/** A DNSKEY of algorithm 8 (RSASHA256, RFC 5702), which NS1 does not accept as an external key. */
function rsaDnskey(): DnskeyData {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const exponent = Buffer.from(jwk.e ?? '', 'base64url');
  const modulus = Buffer.from(jwk.n ?? '', 'base64url');
  return {
    flags: 257,
    protocol: 3,
    algorithm: 8,
    publicKey: Buffer.concat([Buffer.from([exponent.length]), exponent, modulus]).toString(
      'base64',
    ),
  };
}

describe.skipIf(target.skip !== undefined)(
  `NS1 plugin on the lab fake, under faults${target.skip ? ` (skipped: ${target.skip})` : ''}`,
  () => {
    const { config } = target as Exclude<typeof target, { skip: string }>;
    const api = lab.providers.find((entry) => entry.provider === 'ns1') as LabProviderApi;
    const fake = fakeAdmin(api);
    /** The API path of the zone, e.g. `/v1/zones/conformance.test`. */
    const zonePath = `${new URL(api.url).pathname.replace(/\/?$/, '/')}zones/${zone.replace(/\.$/, '')}`;
    /** Foreign keys these tests may have added: deleted again in afterAll whatever happened. */
    const added: DnskeyData[] = [];
    const signer = (overrides: Partial<Ns1Config> = {}) =>
      createNs1Signer({ ...config, ...overrides });

    /** What the zone serves at the NS1 fake's nameserver, read by the plugin. */
    const wire = async () => servedRecords(await signer().readApex(zone, {}));

    /** A plan adding (or deleting) one fresh foreign algorithm-13 ZSK. */
    const foreignKeyPlan = async () => {
      const own = await signer().listOwnKeys(zone, {});
      const [foreign] = makeForeignKeys(
        1,
        256,
        own.map((key) => key.keyTag),
      );
      const key = foreign!.dnskey;
      added.push(key);
      const change = (action: 'add' | 'delete'): SignerChange => ({
        action,
        type: 'DNSKEY',
        data: key,
        ttl: 3600,
      });
      const plan: SignerPlan = { zone, signerId: config.id, changes: [change('add')] };
      const undo: SignerPlan = { zone, signerId: config.id, changes: [change('delete')] };
      return { key, plan, undo };
    };

    const requestsSince = async (from: number): Promise<RequestRecord[]> =>
      (await fake.requests()).slice(from);
    const writesSince = async (from: number): Promise<RequestRecord[]> =>
      (await requestsSince(from)).filter((record) => record.method !== 'GET');

    /** Waits until the fake has logged a request of `method` with `status` after `from`. */
    const waitForRecord = async (from: number, methods: readonly string[], status: number) => {
      await waitUntil(
        `the NS1 fake to log ${methods.join('/')} ${zonePath}… with status ${status}`,
        async () =>
          (await requestsSince(from)).some(
            (record) =>
              methods.includes(record.method) &&
              record.path.startsWith(zonePath) &&
              record.status === status,
          )
            ? true
            : undefined,
        { timeoutMs: 10_000 },
      );
    };

    /** `POST /v1/zones/{zone}` with `{"dnssec": enabled}`, with the lab's real key. */
    const setDnssec = async (enabled: boolean) => {
      const response = await fetch(`${new URL(api.url).origin}${zonePath}`, {
        method: 'POST',
        headers: {
          'X-NSONE-Key': (await readFile(api.tokenFile, 'utf8')).trim(),
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ dnssec: enabled }),
      });
      const body = (await response.json()) as { dnssec?: unknown };
      expect(response.status).toBe(200);
      expect(body.dnssec).toBe(enabled);
    };

    /** A non-retryable 401 that names `keyFile` and contains no key. */
    const expectKeyRefused = (error: unknown, keyFile: string, secrets: readonly string[]) => {
      expect(ChorusError.isInstance(error)).toBe(true);
      expect((error as ChorusError).isRetryable).toBe(false);
      expect(ApiCallError.isInstance(error)).toBe(true);
      expect((error as ApiCallError).statusCode).toBe(401);
      expect((error as Error).message).toContain(keyFile);
      const text = `${(error as Error).message}\n${(error as Error).stack ?? ''}`;
      for (const secret of secrets) expect(text).not.toContain(secret);
    };

    beforeAll(async () => {
      // Room for the reads and writes of this file after the other suites; the lab's limits
      // (and fresh buckets) come back in afterAll.
      await fake.setRateLimits({
        read: { limit: 100_000, periodSeconds: 300 },
        write: { limit: 100_000, periodSeconds: 300 },
      });
      // The plugin writes the CDS/CDNSKEY of NS1's own KSK at any apply with changes and never
      // deletes them: have them in place first (a delete of an absent key writes nothing else),
      // so that "the zone as before" is exact after each test's undo.
      const { undo } = await foreignKeyPlan();
      await signer().applyChanges(undo, {});
    });

    afterEach(async () => {
      await fake.clearFaults();
      await fake.setToken('valid');
    });

    afterAll(async () => {
      try {
        await fake.clearFaults();
        await fake.setToken('valid');
        if (added.length > 0)
          await signer().applyChanges(
            {
              zone,
              signerId: config.id,
              changes: added.map((data) => ({ action: 'delete', type: 'DNSKEY', data, ttl: 3600 })),
            },
            {},
          );
      } finally {
        await fake.restoreRateLimits();
        await rm(await scratch, { recursive: true, force: true });
      }
    });

    test('a wrong key: checkZone and applyChanges reject, not retryable, naming the key file and no key', async () => {
      const wrongKey = 'wrong-ns1-key-fedcba9876543210';
      const realKey = (await readFile(api.tokenFile, 'utf8')).trim();
      const apiKeyFile = path.join(await scratch, 'wrong.key');
      await writeFile(apiKeyFile, `${wrongKey}\n`, { mode: 0o600 });
      const wrong = signer({ api: { ...config.api, apiKeyFile } });
      const { plan } = await foreignKeyPlan();
      const before = await wire();
      const from = (await fake.requests()).length;

      expectKeyRefused(await rejectionOf(wrong.checkZone(zone, {})), apiKeyFile, [
        wrongKey,
        realKey,
      ]);
      expectKeyRefused(await rejectionOf(wrong.applyChanges(plan, {})), apiKeyFile, [
        wrongKey,
        realKey,
      ]);

      const records = await requestsSince(from);
      expect(records.length).toBeGreaterThan(0);
      expect(records.map((record) => `${record.method} ${record.status}`)).toEqual(
        records.map(() => 'GET 401'),
      );
      expect(await wire()).toEqual(before);
    });

    test.each(['expired', 'revoked'] as const)(
      'key state %s: checkZone and applyChanges reject, not retryable, naming the key file',
      async (state) => {
        const key = (await readFile(api.tokenFile, 'utf8')).trim();
        const { plan } = await foreignKeyPlan();
        const before = await wire();
        const from = (await fake.requests()).length;
        await fake.setToken(state);
        try {
          expectKeyRefused(await rejectionOf(signer().checkZone(zone, {})), api.tokenFile, [key]);
          expectKeyRefused(await rejectionOf(signer().applyChanges(plan, {})), api.tokenFile, [
            key,
          ]);
        } finally {
          await fake.setToken('valid');
        }
        const records = await requestsSince(from);
        expect(records.length).toBeGreaterThan(0);
        expect(records.every((record) => record.method === 'GET' && record.status === 401)).toBe(
          true,
        );
        expect(await wire()).toEqual(before);
        // the same configuration works again once the key is valid
        await signer().checkZone(zone, {});
      },
    );

    test('HTTP 500 on the writes: a retryable error, nothing on the wire; the same apply then succeeds, once', async () => {
      const { key, plan, undo } = await foreignKeyPlan();
      const before = await wire();
      expect(before.DNSKEY).not.toContain(dnskeyIdentity(key));
      const from = (await fake.requests()).length;
      await fake.addFault({ match: { method: 'PUT', pathPrefix: zonePath }, status: 500 });
      await fake.addFault({ match: { method: 'POST', pathPrefix: zonePath }, status: 500 });

      const error = await rejectionOf(signer().applyChanges(plan, {}));
      expect(ApiCallError.isInstance(error)).toBe(true);
      expect((error as ApiCallError).statusCode).toBe(500);
      expect((error as ApiCallError).isRetryable).toBe(true);
      // the first write failed and the plugin stopped there
      const writes = await writesSince(from);
      expect(writes).toHaveLength(1);
      expect(writes[0]?.status).toBe(500);
      expect(await wire()).toEqual(before);

      await fake.clearFaults();
      try {
        const result = await signer().applyChanges(plan, {});
        expect(result.applied).toBe(1);
        const after = await waitUntil(
          'the foreign key on the wire',
          async () => {
            const served = await wire();
            return served.DNSKEY?.includes(dnskeyIdentity(key)) ? served : undefined;
          },
          { timeoutMs: 10_000 },
        );
        expect(after).toEqual({
          ...before,
          DNSKEY: [...before.DNSKEY!, dnskeyIdentity(key)].sort(),
        });
        // applied once: the same plan again sends no write
        const again = (await fake.requests()).length;
        await signer().applyChanges(plan, {});
        expect(await writesSince(again)).toEqual([]);
      } finally {
        await signer().applyChanges(undo, {});
      }
      await waitUntil(
        'the zone as before',
        async () => (JSON.stringify(await wire()) === JSON.stringify(before) ? true : undefined),
        { timeoutMs: 10_000 },
      );
    });

    test('a slow API: a 500 ms request timeout rejects retryably without waiting for the answer', async () => {
      const impatient = signer({ requestTimeoutMs: 500 });
      await fake.addFault({ match: { method: 'GET', pathPrefix: zonePath }, delayMs: 3000 });
      const from = (await fake.requests()).length;
      const started = performance.now();
      const error = await rejectionOf(impatient.listOwnKeys(zone, {}));
      const elapsed = performance.now() - started;
      expect(ApiCallError.isInstance(error)).toBe(true);
      expect((error as ApiCallError).statusCode).toBeUndefined();
      expect((error as ApiCallError).isRetryable).toBe(true);
      expect((error as Error).message).toContain('no answer within 500 ms');
      // the client left before the fake's 3 s delay ended (the fake logs that as 499)
      await waitForRecord(from, ['GET'], 499);
      expect(elapsed).toBeLessThan(2500);
    });

    test('slow writes: the timeout rejects retryably and the abandoned write changes nothing', async () => {
      const impatient = signer({ requestTimeoutMs: 500 });
      const { plan } = await foreignKeyPlan();
      const before = await wire();
      for (const method of ['PUT', 'POST'])
        await fake.addFault({ match: { method, pathPrefix: zonePath }, delayMs: 3000 });
      const from = (await fake.requests()).length;
      const error = await rejectionOf(impatient.applyChanges(plan, {}));
      expect(ApiCallError.isInstance(error)).toBe(true);
      expect((error as ApiCallError).isRetryable).toBe(true);
      expect((error as Error).message).toContain('no answer within 500 ms');
      await waitForRecord(from, ['PUT', 'POST'], 499);
      // past the end of the fake's delay: still nothing written, and no second write tried
      await new Promise((resolve) => setTimeout(resolve, 3200));
      expect(await wire()).toEqual(before);
      expect((await writesSince(from)).map((record) => record.status)).toEqual([499]);
    });

    test('an AbortSignal that fires mid-request rejects with AbortError', async () => {
      await fake.addFault({ match: { method: 'GET', pathPrefix: zonePath }, delayMs: 3000 });
      const from = (await fake.requests()).length;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 1000);
      try {
        const error = await rejectionOf(signer().listOwnKeys(zone, { signal: controller.signal }));
        expect(AbortError.isInstance(error)).toBe(true);
        expect((error as AbortError).isRetryable).toBe(false);
      } finally {
        clearTimeout(timer);
      }
      // the request was under way when the signal fired
      await waitForRecord(from, ['GET'], 499);
    });

    test('a /dnssec answer without keys: listOwnKeys and checkZone reject, not retryable, "unexpected response"', async () => {
      await fake.addFault({
        match: { method: 'GET', pathPrefix: `${zonePath}/dnssec` },
        dropFields: ['keys'],
      });
      const from = (await fake.requests()).length;
      for (const call of [
        () => signer().listOwnKeys(zone, {}),
        () => signer().checkZone(zone, {}),
      ]) {
        const error = await rejectionOf(call());
        expect(ApiCallError.isInstance(error)).toBe(true);
        expect((error as ApiCallError).isRetryable).toBe(false);
        expect((error as Error).message).toContain('unexpected response');
        expect((error as Error).message).toContain('keys.dnskey');
      }
      expect(await writesSince(from)).toEqual([]);
      // without the fault the same call works
      await fake.clearFaults();
      expect((await signer().listOwnKeys(zone, {})).length).toBeGreaterThan(0);
    });

    test('DNSSEC off on the zone: checkZone refuses with SignerConfigurationError', async () => {
      const ownBefore = (await signer().listOwnKeys(zone, {})).map((key) => key.keyTag);
      const before = await wire();
      await setDnssec(false);
      try {
        await waitUntil(
          'the zone served unsigned',
          async () => {
            const apex = await signer().readApex(zone, {});
            return (apex.soa?.signatures ?? []).length === 0 ? true : undefined;
          },
          { timeoutMs: 15_000 },
        );
        const from = (await fake.requests()).length;
        const error = await rejectionOf(signer().checkZone(zone, {}));
        expect(SignerConfigurationError.isInstance(error)).toBe(true);
        expect((error as SignerConfigurationError).isRetryable).toBe(false);
        expect((error as SignerConfigurationError).setting).toBe('dnssec');
        expect((error as Error).message).toMatch(/DNSSEC/);
        expect(await writesSince(from)).toEqual([]);
      } finally {
        await setDnssec(true);
      }
      await waitUntil(
        'the zone signed again, with the same keys',
        async () => {
          const apex = await signer().readApex(zone, {});
          const signed =
            (apex.soa?.signatures ?? []).length > 0 && (apex.dnskey?.signatures ?? []).length > 0;
          return signed && JSON.stringify(servedRecords(apex)) === JSON.stringify(before)
            ? true
            : undefined;
        },
        { timeoutMs: 15_000 },
      );
      expect((await signer().listOwnKeys(zone, {})).map((key) => key.keyTag)).toEqual(ownBefore);
      await signer().checkZone(zone, {});
    });

    test('a foreign DNSKEY of algorithm 8 is refused before any request', async () => {
      const { plan } = await foreignKeyPlan();
      const rsa: SignerChange = { action: 'add', type: 'DNSKEY', data: rsaDnskey(), ttl: 3600 };
      // with an acceptable key in the same plan: nothing of it may be written either
      const mixed: SignerPlan = { ...plan, changes: [...plan.changes, rsa] };
      const before = await wire();
      const from = (await fake.requests()).length;
      const error = await rejectionOf(signer().applyChanges(mixed, {}));
      expect(UnsupportedCapabilityError.isInstance(error)).toBe(true);
      expect((error as UnsupportedCapabilityError).isRetryable).toBe(false);
      expect((error as UnsupportedCapabilityError).capability).toBe('dnskey-import-foreign');
      expect((error as Error).message).toContain('algorithm 8');
      expect((await fake.requests()).length).toBe(from);
      expect(await wire()).toEqual(before);
    });
  },
);
