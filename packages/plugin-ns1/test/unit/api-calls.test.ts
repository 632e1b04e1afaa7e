import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import {
  AbortError,
  ApiCallError,
  ConfigError,
  SignerConfigurationError,
  UnsupportedCapabilityError,
  type DnskeyData,
  type SignerChange,
  type SignerPlan,
} from '@chorus/core';
import { computeDs, keyTag } from '@chorus/dns';
import { makeForeignKeys } from '@chorus/conformance';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createNs1Signer, type Ns1Signer } from '../../src/index.js';
import { API_KEY, startFakeNs1, type FakeNs1 } from './fake-ns1.js';

const ZONE = 'example.test.';
const [OWN_KSK, OWN_ZSK] = [...makeForeignKeys(1, 257), ...makeForeignKeys(1, 256)].map(
  (key) => key.dnskey,
);
const nsFields = (key: DnskeyData) => [String(key.flags), '3', '13', key.publicKey];

let directory: string;
let keyFile: string;
let fake: FakeNs1 | undefined;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-ns1-unit-'));
  keyFile = path.join(directory, 'ns1.key');
  await writeFile(keyFile, `${API_KEY}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function startFake(): Promise<FakeNs1> {
  fake = await startFakeNs1({ ownKeys: [nsFields(OWN_KSK!), nsFields(OWN_ZSK!)] });
  return fake;
}

function signer(
  url: string,
  options: { apiKeyFile?: string; logger?: pino.Logger; timeoutMs?: number } = {},
): Ns1Signer {
  return createNs1Signer(
    {
      id: 'ns1-unit',
      // Nothing answers DNS there: the unit tests stop before the nameserver check.
      server: { address: '127.0.0.1', port: 9 },
      api: { url, apiKeyFile: options.apiKeyFile ?? keyFile },
      requestTimeoutMs: options.timeoutMs ?? 2000,
    },
    options.logger ? { logger: options.logger } : {},
  );
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

const plan = (changes: SignerChange[]): SignerPlan => ({
  zone: ZONE,
  signerId: 'ns1-unit',
  changes,
});
const addKey = (dnskey: DnskeyData): SignerChange => ({
  action: 'add',
  type: 'DNSKEY',
  data: dnskey,
  ttl: 30,
});
const deleteKey = (dnskey: DnskeyData): SignerChange => ({
  action: 'delete',
  type: 'DNSKEY',
  data: dnskey,
  ttl: 30,
});
const writes = (server: FakeNs1) => server.calls().filter((call) => !call.startsWith('GET'));

describe('foreign DNSKEYs go into the external key set "chorus"', () => {
  test('PUT first, POST later, DELETE when empty; the API key is sent as X-NSONE-Key', async () => {
    const server = await startFake();
    const [a, b] = makeForeignKeys(2, 256).map((key) => key.dnskey);
    const ns1 = signer(server.url);

    await ns1.applyChanges(plan([addKey(a!)]), {});
    const created = server.server.requests.find(
      (request) => request.method === 'PUT' && request.path.includes('external_keys'),
    )!;
    expect(created.path).toBe('/v1/zones/example.test/dnssec/external_keys/chorus');
    expect(created.headers['x-nsone-key']).toBe(API_KEY);
    expect(created.body).toEqual({
      dnskey: {
        ttl: 30,
        data: [{ flags: 256, protocol: 3, algorithm: 13, public_key: a!.publicKey }],
      },
    });

    server.server.requests.length = 0;
    await ns1.applyChanges(plan([addKey(b!)]), {});
    expect(writes(server)).toContain('POST /v1/zones/example.test/dnssec/external_keys/chorus');
    expect(server.state.keySets.get('chorus')!.data).toHaveLength(2);

    server.server.requests.length = 0;
    await ns1.applyChanges(plan([deleteKey(a!), deleteKey(b!)]), {});
    expect(writes(server)).toContain('DELETE /v1/zones/example.test/dnssec/external_keys/chorus');
    expect(server.state.keySets.has('chorus')).toBe(false);
  });

  test('a DNSKEY of another algorithm than 13 is refused before any request', async () => {
    const server = await startFake();
    const [key] = makeForeignKeys(1, 256);
    const error = await caught(
      signer(server.url).applyChanges(plan([addKey({ ...key!.dnskey, algorithm: 8 })]), {}),
    );
    expect(UnsupportedCapabilityError.isInstance(error)).toBe(true);
    expect((error as UnsupportedCapabilityError).isRetryable).toBe(false);
    expect((error as Error).message).toMatch(/NS1 accepts only algorithm 13/);
    expect(server.server.requests).toHaveLength(0);
  });

  test('listOwnKeys leaves out the external keys even when /dnssec lists them', async () => {
    const server = await startFake();
    server.state.dnssecListsExternal = true;
    const [foreign] = makeForeignKeys(1, 257);
    const ns1 = signer(server.url);
    await ns1.applyChanges(plan([addKey(foreign!.dnskey)]), {});
    const keys = await ns1.listOwnKeys(ZONE, {});
    expect(keys.map((key) => [key.role, key.keyTag])).toEqual([
      ['KSK', keyTag(OWN_KSK!)],
      ['ZSK', keyTag(OWN_ZSK!)],
    ]);
  });
});

describe('CDS, CDNSKEY, CSYNC and NS are ordinary records', () => {
  test('CDS and CDNSKEY include those of NS1’s own KSK; filters: [] is always sent', async () => {
    const server = await startFake();
    const [foreign] = makeForeignKeys(1, 257);
    const foreignCds = computeDs(ZONE, foreign!.dnskey, 2);
    await signer(server.url).applyChanges(
      plan([
        { action: 'add', type: 'CDS', data: foreignCds, ttl: 30 },
        { action: 'add', type: 'CDNSKEY', data: foreign!.dnskey, ttl: 30 },
      ]),
      {},
    );
    const ownCds = computeDs(ZONE, OWN_KSK!, 2);
    expect(server.state.records.get('CDS')).toEqual({
      ttl: 30,
      answers: [
        { answer: [String(foreignCds.keyTag), '13', '2', foreignCds.digest.toLowerCase()] },
        { answer: [String(ownCds.keyTag), '13', '2', ownCds.digest.toLowerCase()] },
      ],
    });
    expect(server.state.records.get('CDNSKEY')!.answers).toEqual([
      { answer: nsFields(foreign!.dnskey) },
      { answer: nsFields(OWN_KSK!) },
    ]);
    const bodies = server.server.requests.filter((request) => request.method === 'PUT');
    expect(bodies.map((request) => request.path)).toEqual([
      '/v1/zones/example.test/example.test/CDS',
      '/v1/zones/example.test/example.test/CDNSKEY',
    ]);
    for (const request of bodies)
      expect(request.body).toMatchObject({
        zone: 'example.test',
        domain: 'example.test',
        filters: [],
        meta: {},
      });
  });

  test('the own CDS/CDNSKEY appear at the first apply, whatever it changes, and are never deleted', async () => {
    const server = await startFake();
    const ns1 = signer(server.url);
    const csync = { serial: 0, flags: 1, types: ['A' as const, 'NS' as const, 'AAAA' as const] };
    await ns1.applyChanges(plan([{ action: 'add', type: 'CSYNC', data: csync, ttl: 30 }]), {});
    expect(writes(server)).toEqual([
      'PUT /v1/zones/example.test/example.test/CDS',
      'PUT /v1/zones/example.test/example.test/CDNSKEY',
      'PUT /v1/zones/example.test/example.test/CSYNC',
    ]);
    expect(server.state.records.get('CSYNC')!.answers).toEqual([
      { answer: ['0', '1', 'A NS AAAA'] },
    ]);

    // A plan that deletes the own CDS (the planner never does) leaves it.
    server.server.requests.length = 0;
    await ns1.applyChanges(
      plan([{ action: 'delete', type: 'CDS', data: computeDs(ZONE, OWN_KSK!, 2), ttl: 30 }]),
      {},
    );
    expect(writes(server)).toEqual([]);
  });

  test('nothing is written when the plan is already applied', async () => {
    const server = await startFake();
    const ns1 = signer(server.url);
    const [key] = makeForeignKeys(1, 257);
    const changes: SignerChange[] = [
      addKey(key!.dnskey),
      { action: 'add', type: 'CDS', data: computeDs(ZONE, key!.dnskey, 2), ttl: 30 },
      { action: 'add', type: 'CDNSKEY', data: key!.dnskey, ttl: 30 },
      { action: 'add', type: 'NS', data: 'ns.bind.test.', ttl: 30 },
      { action: 'add', type: 'CSYNC', data: { serial: 0, flags: 1, types: ['NS'] }, ttl: 30 },
    ];
    await ns1.applyChanges(plan(changes), {});
    expect(writes(server)).toHaveLength(5);
    server.server.requests.length = 0;
    const result = await ns1.applyChanges(plan(changes), {});
    expect(result).toEqual({ applied: 5, warnings: [] });
    expect(server.calls()).toEqual([
      'GET /v1/zones/example.test/dnssec/external_keys',
      'GET /v1/zones/example.test/dnssec',
      'GET /v1/zones/example.test/example.test/CDS',
      'GET /v1/zones/example.test/example.test/CDNSKEY',
      'GET /v1/zones/example.test/example.test/NS',
      'GET /v1/zones/example.test/example.test/CSYNC',
    ]);
  });

  test('NS: names are sent without the trailing dot; emptying the apex NS is refused before any write', async () => {
    const server = await startFake();
    server.state.records.set('NS', { ttl: 3600, answers: [{ answer: ['dns1.p01.nsone.net'] }] });
    const ns1 = signer(server.url);
    await ns1.applyChanges(
      plan([{ action: 'add', type: 'NS', data: 'ns.bind.test.', ttl: 30 }]),
      {},
    );
    expect(server.state.records.get('NS')!.answers).toEqual([
      { answer: ['dns1.p01.nsone.net'] },
      { answer: ['ns.bind.test'] },
    ]);
    server.server.requests.length = 0;
    const error = await caught(
      ns1.applyChanges(
        plan([
          { action: 'delete', type: 'NS', data: 'dns1.p01.nsone.net.', ttl: 30 },
          { action: 'delete', type: 'NS', data: 'ns.bind.test.', ttl: 30 },
        ]),
        {},
      ),
    );
    expect((error as Error).message).toMatch(/apex NS set of example.test. would be empty/);
    expect(writes(server)).toEqual([]);
  });
});

describe('rate limits', () => {
  test('a nearly empty bucket (remaining < 2) makes the next request wait period/limit', async () => {
    const server = await startFake();
    server.state.rate = { limit: 4, remaining: 2, period: 1 };
    const ns1 = signer(server.url);
    await ns1.listOwnKeys(ZONE, {});
    // The first answer says 1 left: the second request waits a quarter of a second.
    const [first, second] = server.times;
    expect(second! - first!).toBeGreaterThanOrEqual(230);
  });

  test('plenty of tokens: no waiting', async () => {
    const server = await startFake();
    server.state.rate = { limit: 4, remaining: 100, period: 10 };
    const started = Date.now();
    await signer(server.url).listOwnKeys(ZONE, {});
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('429 is retryable, with retryAfterSeconds from period/limit when there is no Retry-After', async () => {
    const server = await startFake();
    server.state.override = { status: 429, body: { message: 'rate limit exceeded' } };
    const error = (await caught(signer(server.url).listOwnKeys(ZONE, {}))) as ApiCallError;
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect(error.statusCode).toBe(429);
    expect(error.isRetryable).toBe(true);
    expect(error.retryAfterSeconds).toBe(1);
    // With rate headers seen before: period 20 s for 4 tokens is 5 s per token.
    server.state.override = undefined;
    server.state.rate = { limit: 4, remaining: 100, period: 20 };
    const ns1 = signer(server.url);
    await ns1.listOwnKeys(ZONE, {});
    server.state.override = { status: 429, body: { message: 'rate limit exceeded' } };
    const paced = (await caught(ns1.listOwnKeys(ZONE, {}))) as ApiCallError;
    expect(paced.retryAfterSeconds).toBe(5);
  });

  test('a pacing wait is cut short by the abort signal', async () => {
    const server = await startFake();
    server.state.rate = { limit: 1, remaining: 1, period: 30 };
    const ns1 = signer(server.url);
    const controller = new AbortController();
    const pending = ns1.listOwnKeys(ZONE, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    expect(AbortError.isInstance(await caught(pending))).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(server.server.requests).toHaveLength(1);
  });
});

describe('errors', () => {
  test('401 is a non-retryable ApiCallError naming the key file, never the key', async () => {
    const server = await startFake();
    const wrongKey = 'wrong-ns1-key-0123456789';
    const wrongFile = path.join(directory, 'wrong.key');
    await writeFile(wrongFile, wrongKey, { mode: 0o600 });
    const error = (await caught(
      signer(server.url, { apiKeyFile: wrongFile }).checkZone(ZONE, {}),
    )) as ApiCallError;
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect(error.statusCode).toBe(401);
    expect(error.isRetryable).toBe(false);
    expect(error.message).toContain('Unauthorized');
    expect(error.message).toContain(wrongFile);
    expect(`${error.message}\n${error.stack}\n${JSON.stringify(error)}`).not.toContain(wrongKey);
    const applyError = await caught(
      signer(server.url, { apiKeyFile: wrongFile }).applyChanges(plan([addKey(OWN_ZSK!)]), {}),
    );
    expect((applyError as ApiCallError).isRetryable).toBe(false);
  });

  test('a response with missing fields is a non-retryable "unexpected response"', async () => {
    const server = await startFake();
    server.state.override = { status: 200, body: { zone: 'example.test.' } };
    const error = (await caught(signer(server.url).listOwnKeys(ZONE, {}))) as ApiCallError;
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(false);
    expect(error.message).toMatch(/unexpected response: expected external key sets/);
    server.state.override = {
      status: 200,
      body: '<html>',
      headers: { 'content-type': 'text/html' },
    };
    const html = (await caught(signer(server.url).listOwnKeys(ZONE, {}))) as ApiCallError;
    expect(html.message).toMatch(/unexpected response: not JSON/);
  });

  test('the key never appears in log lines, even at trace level', async () => {
    const server = await startFake();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    const ns1 = signer(server.url, { logger });
    const [key] = makeForeignKeys(1, 256);
    await ns1.applyChanges(plan([addKey(key!.dnskey)]), {});
    await ns1.listOwnKeys(ZONE, {});
    await caught(signer(server.url, { logger, apiKeyFile: '/dev/null' }).listOwnKeys(ZONE, {}));
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.join('')).not.toContain(API_KEY);
  });

  test('an unreadable key file is a ConfigError naming api.apiKeyFile, before any request', async () => {
    const server = await startFake();
    const file = path.join(directory, 'rotated.key');
    await writeFile(file, API_KEY, { mode: 0o600 });
    const ns1 = signer(server.url, { apiKeyFile: file });
    await rm(file);
    const error = await caught(ns1.listOwnKeys(ZONE, {}));
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).key).toBe('api.apiKeyFile');
    expect(server.server.requests).toHaveLength(0);
  });

  test('an aborted signal rejects with AbortError and sends nothing', async () => {
    const server = await startFake();
    const ns1 = signer(server.url);
    const aborted = { signal: AbortSignal.abort() };
    for (const call of [
      ns1.applyChanges(plan([addKey(OWN_ZSK!)]), aborted),
      ns1.listOwnKeys(ZONE, aborted),
      ns1.checkZone(ZONE, aborted),
      ns1.readApex(ZONE, aborted),
    ])
      expect(AbortError.isInstance(await caught(call))).toBe(true);
    expect(server.server.requests).toHaveLength(0);
  });
});

describe('checkZone', () => {
  function configurationError(error: unknown): SignerConfigurationError {
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect((error as SignerConfigurationError).isRetryable).toBe(false);
    return error as SignerConfigurationError;
  }

  test('refuses a zone the account does not have', async () => {
    const server = await startFake();
    server.state.zone = 'other.test';
    const error = configurationError(await caught(signer(server.url).checkZone(ZONE, {})));
    expect(error.setting).toBe('zone');
    expect(error.message).toContain('the NS1 account has no zone example.test');
  });

  test('refuses a zone with DNSSEC off, with the call that turns it on', async () => {
    const server = await startFake();
    server.state.dnssec = false;
    const error = configurationError(await caught(signer(server.url).checkZone(ZONE, {})));
    expect(error.setting).toBe('dnssec');
    expect(error.fix).toBe('turn DNSSEC on: POST /v1/zones/example.test {"dnssec": true}');
  });

  test('refuses "DNSSEC is not enabled on the zone" from GET /dnssec', async () => {
    const server = await startFake();
    server.state.dnssec = false;
    server.state.zoneShowsDnssec = false;
    const error = configurationError(await caught(signer(server.url).checkZone(ZONE, {})));
    expect(error.setting).toBe('dnssec');
    expect(server.calls()).toContain('GET /v1/zones/example.test/dnssec');
  });

  test('a nameserver that does not answer is a retryable DNS error after the API checks', async () => {
    const server = await startFake();
    const error = await caught(signer(server.url, { timeoutMs: 300 }).checkZone(ZONE, {}));
    expect((error as { isRetryable?: boolean }).isRetryable).toBe(true);
    expect(server.calls()).toEqual([
      'GET /v1/zones/example.test',
      'GET /v1/zones/example.test/dnssec/external_keys',
      'GET /v1/zones/example.test/dnssec',
    ]);
  });
});
