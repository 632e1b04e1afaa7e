/**
 * The deSEC plugin against the lab's deSEC fake when the API misbehaves: a wrong, expired or
 * revoked token, HTTP 500 on the bulk write, a slow API (timeout and abort), and an answer with
 * fields missing. Each fault must give a clear error of the right kind (retryable or not) and
 * change nothing on the wire (read with the signer's readApex) nor send a write the fault
 * should have stopped (the fake's request records). Every change to conformance.test is undone,
 * the token is made valid again and the faults are cleared after each test.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeForeignKeys } from '@chorus/conformance';
import {
  AbortError,
  ApiCallError,
  ChorusError,
  type DnskeyData,
  type SignerChange,
  type SignerPlan,
} from '@chorus/core';
import { dnskeyIdentity } from '@chorus/dns';
import {
  CONFORMANCE_ZONE,
  fakeAdmin,
  labProvider,
  rejectionOf,
  servedRecords,
  waitUntil,
} from '@chorus/lab/testing';
import type { RequestRecord } from '@chorus/provider-fakes';
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';
import { createDesecSigner } from '../../src/index.js';
import { labConfig } from './helpers.js';

const lab = inject('lab');
const zone = CONFORMANCE_ZONE;
const api = labProvider(lab, 'desec');
const fake = fakeAdmin(api);
const config = labConfig(lab);
/** The API path of the zone's domain, e.g. `/api/v1/domains/conformance.test/`. */
const domainPath = `${new URL(api.url).pathname.replace(/\/?$/, '/')}domains/${zone.replace(/\.$/, '')}/`;
const scratch = mkdtemp(path.join(tmpdir(), 'chorus-desec-faults-'));
/** Foreign keys these tests may have added: deleted again in afterAll whatever happened. */
const added: DnskeyData[] = [];

const signer = () => createDesecSigner(config);

/** What the zone serves at the deSEC fake's nameserver, read by the plugin. */
async function wire(): Promise<Record<string, string[]>> {
  return servedRecords(await signer().readApex(zone, {}));
}

/** A plan adding (or deleting) one fresh foreign ZSK. */
async function foreignKeyPlan(): Promise<{ key: DnskeyData; plan: SignerPlan; undo: SignerPlan }> {
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
  return {
    key,
    plan: { zone, signerId: config.id, changes: [change('add')] },
    undo: { zone, signerId: config.id, changes: [change('delete')] },
  };
}

/** The fake's request records from index `from` on. */
async function requestsSince(from: number): Promise<RequestRecord[]> {
  return (await fake.requests()).slice(from);
}

/** Waits until the fake has logged a request matching `method` with `status` after `from`. */
async function waitForRecord(from: number, method: string, status: number): Promise<void> {
  await waitUntil(
    `the deSEC fake to log ${method} ${domainPath}… with status ${status}`,
    async () =>
      (await requestsSince(from)).some(
        (record) =>
          record.method === method &&
          record.path.startsWith(domainPath) &&
          record.status === status,
      )
        ? true
        : undefined,
    { timeoutMs: 10_000 },
  );
}

/** A non-retryable refusal of the token that names `tokenFile` and contains no token. */
function expectTokenRefused(error: unknown, tokenFile: string, secrets: readonly string[]): void {
  expect(ChorusError.isInstance(error)).toBe(true);
  expect((error as ChorusError).isRetryable).toBe(false);
  expect(ApiCallError.isInstance(error)).toBe(true);
  expect((error as ApiCallError).statusCode).toBe(401);
  const text = `${(error as Error).message}\n${(error as Error).stack ?? ''}`;
  expect((error as Error).message).toContain(tokenFile);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('deSEC plugin on the lab fake, under faults', () => {
  beforeAll(async () => {
    // The suite reads and writes more than deSEC's documented 50 reads and 15 writes a minute
    // allow after the conformance suite; the lab's limits (and fresh windows) come back after.
    await fake.setRateLimits({
      read: [{ limit: 1000, periodSeconds: 1 }],
      perDomainWrite: [{ limit: 100, periodSeconds: 1 }],
    });
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

  test('a wrong token: checkZone and applyChanges reject, not retryable, naming the token file and no token', async () => {
    const wrongToken = 'wrong-desec-token-0123456789abcdef';
    const realToken = (await readFile(api.tokenFile, 'utf8')).trim();
    const tokenFile = path.join(await scratch, 'wrong.token');
    await writeFile(tokenFile, `${wrongToken}\n`, { mode: 0o600 });
    const wrong = createDesecSigner({ ...config, api: { ...config.api, tokenFile } });
    const { plan } = await foreignKeyPlan();
    const before = await wire();
    const from = (await fake.requests()).length;

    expectTokenRefused(await rejectionOf(wrong.checkZone(zone, {})), tokenFile, [
      wrongToken,
      realToken,
    ]);
    expectTokenRefused(await rejectionOf(wrong.applyChanges(plan, {})), tokenFile, [
      wrongToken,
      realToken,
    ]);

    const records = await requestsSince(from);
    expect(records.length).toBeGreaterThan(0);
    expect(records.map((record) => `${record.method} ${record.status}`)).toEqual(
      records.map(() => 'GET 401'),
    );
    expect(await wire()).toEqual(before);
  });

  test.each(['expired', 'revoked'] as const)(
    'token state %s: checkZone and applyChanges reject, not retryable, naming the token file',
    async (state) => {
      const token = (await readFile(api.tokenFile, 'utf8')).trim();
      const { plan } = await foreignKeyPlan();
      const before = await wire();
      const from = (await fake.requests()).length;
      await fake.setToken(state);
      try {
        expectTokenRefused(await rejectionOf(signer().checkZone(zone, {})), api.tokenFile, [token]);
        expectTokenRefused(await rejectionOf(signer().applyChanges(plan, {})), api.tokenFile, [
          token,
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
      // the same signer configuration works again once the token is valid
      await signer().checkZone(zone, {});
    },
  );

  test('HTTP 500 on the bulk write: a retryable error, nothing on the wire; the same apply then succeeds, once', async () => {
    const { key, plan, undo } = await foreignKeyPlan();
    const before = await wire();
    expect(before.DNSKEY).not.toContain(dnskeyIdentity(key));
    const from = (await fake.requests()).length;
    await fake.addFault({ match: { method: 'PATCH', pathPrefix: domainPath }, status: 500 });

    const error = await rejectionOf(signer().applyChanges(plan, {}));
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect((error as ApiCallError).statusCode).toBe(500);
    expect((error as ApiCallError).isRetryable).toBe(true);
    const writes = (await requestsSince(from)).filter((record) => record.method !== 'GET');
    expect(writes.map((record) => `${record.method} ${record.status}`)).toEqual(['PATCH 500']);
    expect(await wire()).toEqual(before);

    await fake.clearFaults();
    try {
      expect(await signer().applyChanges(plan, {})).toEqual({ applied: 1, warnings: [] });
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
      expect((await requestsSince(again)).map((record) => record.method)).not.toContain('PATCH');
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
    const impatient = createDesecSigner({ ...config, requestTimeoutMs: 500 });
    await fake.addFault({ match: { method: 'GET', pathPrefix: domainPath }, delayMs: 3000 });
    const from = (await fake.requests()).length;
    const started = performance.now();
    const error = await rejectionOf(impatient.listOwnKeys(zone, {}));
    const elapsed = performance.now() - started;
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect((error as ApiCallError).statusCode).toBeUndefined();
    expect((error as ApiCallError).isRetryable).toBe(true);
    expect((error as Error).message).toContain('no answer within 500 ms');
    // the client left before the fake's 3 s delay ended (the fake logs that as 499)
    await waitForRecord(from, 'GET', 499);
    expect(elapsed).toBeLessThan(2500);
  });

  test('a slow bulk write: the timeout rejects retryably and the abandoned write changes nothing', async () => {
    const impatient = createDesecSigner({ ...config, requestTimeoutMs: 500 });
    const { plan } = await foreignKeyPlan();
    const before = await wire();
    await fake.addFault({ match: { method: 'PATCH', pathPrefix: domainPath }, delayMs: 3000 });
    const from = (await fake.requests()).length;
    const error = await rejectionOf(impatient.applyChanges(plan, {}));
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect((error as ApiCallError).isRetryable).toBe(true);
    expect((error as Error).message).toContain('PATCH');
    await waitForRecord(from, 'PATCH', 499);
    // past the end of the fake's delay: still nothing written
    await new Promise((resolve) => setTimeout(resolve, 3200));
    expect(await wire()).toEqual(before);
    expect(
      (await requestsSince(from)).filter(
        (record) => record.method === 'PATCH' && record.status !== 499,
      ),
    ).toEqual([]);
  });

  test('an AbortSignal that fires mid-request rejects with AbortError', async () => {
    await fake.addFault({ match: { method: 'GET', pathPrefix: domainPath }, delayMs: 3000 });
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
    await waitForRecord(from, 'GET', 499);
  });

  test('a domain answer without keys: listOwnKeys and checkZone reject, not retryable, "unexpected response"', async () => {
    await fake.addFault({
      match: { method: 'GET', pathPrefix: domainPath },
      dropFields: ['keys'],
    });
    const from = (await fake.requests()).length;
    for (const call of [() => signer().listOwnKeys(zone, {}), () => signer().checkZone(zone, {})]) {
      const error = await rejectionOf(call());
      expect(ApiCallError.isInstance(error)).toBe(true);
      expect((error as ApiCallError).isRetryable).toBe(false);
      expect((error as Error).message).toContain('unexpected response');
      expect((error as Error).message).toContain('keys');
    }
    const records = await requestsSince(from);
    expect(records.map((record) => `${record.method} ${record.status}`)).toEqual([
      'GET 200',
      'GET 200',
    ]);
    // without the fault the same call works
    await fake.clearFaults();
    expect((await signer().listOwnKeys(zone, {})).length).toBeGreaterThan(0);
  });
});
