/**
 * The signer against a scripted deSEC API (no DNS server: readApex and the nameserver part of
 * checkZone are proven in test/lab). Counts requests: one bulk PATCH per apply, none when
 * nothing changes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AbortError,
  ApiCallError,
  ConfigError,
  SignerConfigurationError,
  UnsafePlanError,
  type NameServer,
  type SignerChange,
  type SignerPlan,
} from '@chorus/core';
import { cdsFor, makeForeignKeys } from '@chorus/conformance';
import { formatRdata, keyTag } from '@chorus/dns';
import type { FakeRequest, FakeResponse } from '@chorus/lab/testing';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createDesecSigner, type DesecSigner } from '../../src/index.js';
import { DEFAULT_NS, DOMAIN, ZONE, startFakeDesec, type FakeDesec } from './fake-desec.js';
import { startFakeNameserver, type ApexContent, type FakeNameserver } from './fake-nameserver.js';

const TOKEN = 'unit-desec-token-4f9a1c';

let directory: string;
let tokenFile: string;
let fake: FakeDesec | undefined;
let logLines: string[] = [];
let nameserver: FakeNameserver | undefined;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-desec-unit-'));
  tokenFile = path.join(directory, 'desec.token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

afterEach(async () => {
  // The token appears in no log line of any test, failures included.
  for (const line of logLines) expect(line).not.toContain(TOKEN);
  logLines = [];
  await fake?.close();
  await nameserver?.close();
  fake = undefined;
  nameserver = undefined;
});

async function start(options: Partial<Parameters<typeof startFakeDesec>[0]> = {}) {
  fake = await startFakeDesec({ token: TOKEN, ...options });
  return fake;
}

function signer(
  url: string,
  file = tokenFile,
  server: NameServer = { address: '127.0.0.1', port: 9 },
): DesecSigner {
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  return createDesecSigner(
    {
      id: 'desec-unit',
      api: { url, tokenFile: file },
      server,
      requestTimeoutMs: 2000,
    },
    { logger },
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

/** Everything an error shows: message, stack, cause chain, JSON. */
function everything(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause)
    parts.push(current.message, current.stack ?? '', JSON.stringify(current));
  return parts.join('\n');
}

const plan = (changes: SignerChange[]): SignerPlan => ({
  zone: ZONE,
  signerId: 'desec-unit',
  changes,
});

const [kskA] = makeForeignKeys(1, 257);
const [zskA, zskB] = makeForeignKeys(2, 256);
const csync = { serial: 0, flags: 1, types: ['A', 'NS', 'AAAA'] };

/** A plan as a group join makes it: every managed type at once. */
function joinPlan(ttl = 30): SignerPlan {
  return plan([
    { action: 'add', type: 'DNSKEY', data: zskA!.dnskey, ttl },
    { action: 'add', type: 'DNSKEY', data: zskB!.dnskey, ttl },
    { action: 'add', type: 'DNSKEY', data: kskA!.dnskey, ttl },
    { action: 'add', type: 'CDS', data: cdsFor(ZONE, kskA!), ttl },
    { action: 'add', type: 'CDNSKEY', data: kskA!.dnskey, ttl },
    { action: 'add', type: 'NS', data: 'ns.other.test.', ttl },
    { action: 'add', type: 'CSYNC', data: csync, ttl },
  ]);
}

describe('listOwnKeys', () => {
  test('lists the managed key only, as a CSK, and sends the token from the file', async () => {
    const api = await start({
      rrsets: [
        DEFAULT_NS,
        {
          subname: '',
          type: 'DNSKEY',
          ttl: 3600,
          records: [formatRdata({ type: 'DNSKEY', data: zskA!.dnskey })],
        },
      ],
    });
    const keys = await signer(api.url).listOwnKeys(ZONE, {});
    expect(keys).toEqual([
      {
        role: 'CSK',
        algorithm: 13,
        keyTag: keyTag(api.csk),
        dnskey: api.csk,
        state: 'managed by deSEC (csk)',
      },
    ]);
    expect(api.requests[0]!.path).toBe(`/api/v1/domains/${DOMAIN}/`);
    expect(api.requests[0]!.headers.authorization).toBe(`Token ${TOKEN}`);
  });
});

describe('applyChanges', () => {
  test('one bulk PATCH for a plan touching every type, TTL raised to minimum_ttl', async () => {
    const api = await start({ minimumTtl: 3600 });
    const result = await signer(api.url).applyChanges(joinPlan(30), {});
    expect(result).toEqual({ applied: 7, warnings: [] });
    expect(
      api.requests.map((request) => `${request.method} ${request.path}${request.query}`),
    ).toEqual(
      expect.arrayContaining([
        `GET /api/v1/domains/${DOMAIN}/`,
        `GET /api/v1/domains/${DOMAIN}/rrsets/?subname=`,
        `PATCH /api/v1/domains/${DOMAIN}/rrsets/`,
      ]),
    );
    expect(api.requests).toHaveLength(3);
    const [patch] = api.writes();
    expect(patch!.headers['content-type']).toBe('application/json');
    const body = patch!.body as { subname: string; type: string; ttl: number; records: string[] }[];
    expect(body.map((item) => item.type)).toEqual(['DNSKEY', 'CDS', 'CDNSKEY', 'CSYNC', 'NS']);
    for (const item of body) {
      expect(item.subname).toBe('');
      expect(item.ttl).toBe(3600);
    }
    expect(body[0]!.records).toHaveLength(3);
    const cds = cdsFor(ZONE, kskA!);
    expect(body[1]!.records).toEqual([`${cds.keyTag} 13 2 ${cds.digest.toLowerCase()}`]);
    expect(body[3]!.records).toEqual(['0 1 A NS AAAA']);
    // The apex NS keeps its records: the write carries the RRset's whole new list.
    expect(body[4]!.records).toEqual(['ns1.desec.test.', 'ns2.desec.test.', 'ns.other.test.']);
  });

  test('applying the same plan again writes nothing (and re-reads only the RRsets)', async () => {
    const api = await start();
    const desec = signer(api.url);
    await desec.applyChanges(joinPlan(), {});
    api.requests.length = 0;
    const again = await desec.applyChanges(joinPlan(), {});
    expect(again.applied).toBe(7);
    expect(api.requests.map((request) => request.method)).toEqual(['GET']);
    expect(logLines.some((line) => line.includes('plan already applied'))).toBe(true);
  });

  test('compares canonically: upper-case hex, chunked base64 and another CSYNC order are the same records', async () => {
    const cds = cdsFor(ZONE, kskA!);
    const base64 = kskA!.dnskey.publicKey;
    const api = await start({
      rrsets: [
        DEFAULT_NS,
        {
          subname: '',
          type: 'CDS',
          ttl: 3600,
          records: [`${cds.keyTag} 13 2 ${cds.digest.toLowerCase()}`],
        },
        { subname: '', type: 'DNSKEY', ttl: 3600, records: [`257 3 13 ${base64}`] },
        { subname: '', type: 'CSYNC', ttl: 3600, records: ['0 1 A NS AAAA'] },
      ],
    });
    await signer(api.url).applyChanges(
      plan([
        { action: 'add', type: 'CDS', data: { ...cds, digest: cds.digest.toUpperCase() }, ttl: 30 },
        {
          action: 'add',
          type: 'DNSKEY',
          data: { ...kskA!.dnskey, publicKey: `${base64.slice(0, 20)} ${base64.slice(20)}` },
          ttl: 30,
        },
        {
          action: 'add',
          type: 'CSYNC',
          data: { serial: 0, flags: 1, types: ['AAAA', 'NS', 'A'] },
          ttl: 30,
        },
        { action: 'add', type: 'NS', data: 'NS1.deSEC.test.', ttl: 30 },
      ]),
      {},
    );
    expect(api.writes()).toHaveLength(0);
  });

  test('a delete that empties a type sends records: [] for it, and keeps the other types out', async () => {
    const api = await start({
      rrsets: [
        DEFAULT_NS,
        {
          subname: '',
          type: 'DNSKEY',
          ttl: 3600,
          records: [formatRdata({ type: 'DNSKEY', data: zskA!.dnskey })],
        },
        { subname: '', type: 'CSYNC', ttl: 7200, records: ['0 1 NS'] },
      ],
    });
    await signer(api.url).applyChanges(
      plan([
        { action: 'delete', type: 'DNSKEY', data: zskA!.dnskey, ttl: 30 },
        { action: 'delete', type: 'DNSKEY', data: zskB!.dnskey, ttl: 30 },
      ]),
      {},
    );
    expect(api.writes().map((request) => request.body)).toEqual([
      [{ subname: '', type: 'DNSKEY', ttl: 3600, records: [] }],
    ]);
    expect(api.rrsets.map((rrset) => rrset.type).sort()).toEqual(['CSYNC', 'NS']);
  });

  test('TTLs above one day are capped at 86400', async () => {
    const api = await start({ minimumTtl: 60 });
    await signer(api.url).applyChanges(
      plan([{ action: 'add', type: 'CSYNC', data: csync, ttl: 200_000 }]),
      {},
    );
    expect((api.writes()[0]!.body as { ttl: number }[])[0]!.ttl).toBe(86_400);
  });

  test('a plan that would empty the apex NS set is refused before any write', async () => {
    const api = await start();
    const error = await caught(
      signer(api.url).applyChanges(
        plan(
          DEFAULT_NS.records.map((name) => ({
            action: 'delete' as const,
            type: 'NS' as const,
            data: name,
            ttl: 30,
          })),
        ),
        {},
      ),
    );
    expect(UnsafePlanError.isInstance(error)).toBe(true);
    expect(api.writes()).toHaveLength(0);
  });

  test('an aborted signal rejects with AbortError and sends nothing', async () => {
    const api = await start();
    const error = await caught(
      signer(api.url).applyChanges(joinPlan(), { signal: AbortSignal.abort() }),
    );
    expect(AbortError.isInstance(error)).toBe(true);
    expect(api.requests).toHaveLength(0);
  });

  test('a signal fired during the reads rejects with AbortError, and nothing is written', async () => {
    const controller = new AbortController();
    const api = await start({
      override: async (request) => {
        if (request.method !== 'GET') return undefined;
        controller.abort();
        await new Promise((resolve) => setTimeout(resolve, 100));
        return undefined;
      },
    });
    const error = await caught(
      signer(api.url).applyChanges(joinPlan(), { signal: controller.signal }),
    );
    expect(AbortError.isInstance(error)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(api.writes()).toHaveLength(0);
  });
});

describe('errors', () => {
  const patchOnly =
    (answer: FakeResponse) =>
    (request: FakeRequest): FakeResponse | undefined =>
      request.method === 'PATCH' ? answer : undefined;

  test('401: not retryable, names the token file, never the token', async () => {
    const api = await start();
    const wrong = path.join(directory, 'wrong.token');
    await writeFile(wrong, 'not-the-token-7781\n', { mode: 0o600 });
    const desec = signer(api.url, wrong);
    for (const call of [
      () => desec.listOwnKeys(ZONE, {}),
      () => desec.applyChanges(joinPlan(), {}),
      () => desec.checkZone(ZONE, {}),
    ]) {
      const error = await caught(call());
      expect(ApiCallError.isInstance(error)).toBe(true);
      expect((error as ApiCallError).statusCode).toBe(401);
      expect((error as ApiCallError).isRetryable).toBe(false);
      expect((error as Error).message).toContain('Invalid token.');
      expect((error as Error).message).toContain(wrong);
      expect(everything(error)).not.toContain('not-the-token-7781');
      expect(everything(error)).not.toContain(TOKEN);
    }
    expect(api.writes()).toHaveLength(0);
  });

  test('403 (a token policy forbids the write): not retryable', async () => {
    const api = await start({
      override: patchOnly({
        status: 403,
        body: { detail: 'You do not have permission to perform this action.' },
      }),
    });
    const error = (await caught(signer(api.url).applyChanges(joinPlan(), {}))) as ApiCallError;
    expect(error.statusCode).toBe(403);
    expect(error.isRetryable).toBe(false);
    expect(error.message).toContain('You do not have permission');
    expect(error.message).toContain(tokenFile);
  });

  test('429: retryable, with retryAfterSeconds from Retry-After', async () => {
    const api = await start({
      override: patchOnly({
        status: 429,
        headers: { 'retry-after': '42' },
        body: { detail: 'Request was throttled. Expected available in 42 seconds.' },
      }),
    });
    const error = (await caught(signer(api.url).applyChanges(joinPlan(), {}))) as ApiCallError;
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect(error.statusCode).toBe(429);
    expect(error.isRetryable).toBe(true);
    expect(error.retryAfterSeconds).toBe(42);
    expect(error.message).toContain('Request was throttled');
  });

  test('5xx: retryable', async () => {
    const api = await start({
      override: patchOnly({ status: 500, body: { detail: "Internal Server Error. We're on it!" } }),
    });
    const error = (await caught(signer(api.url).applyChanges(joinPlan(), {}))) as ApiCallError;
    expect(error.isRetryable).toBe(true);
  });

  test('a list-aligned 400 names the refused items by type', async () => {
    const api = await start({
      override: patchOnly({
        status: 400,
        body: [
          {},
          { ttl: ['Ensure this value is greater than or equal to 3600.'] },
          {},
          { records: ['Record content of CSYNC conformance.test. invalid.'] },
          {},
        ],
      }),
    });
    const error = (await caught(signer(api.url).applyChanges(joinPlan(), {}))) as ApiCallError;
    expect(error.statusCode).toBe(400);
    expect(error.isRetryable).toBe(false);
    expect(error.responseBody).toBe(
      'the bulk write was refused: item 2 (CDS): ttl: Ensure this value is greater than or equal to 3600.; item 4 (CSYNC): records: Record content of CSYNC conformance.test. invalid.',
    );
  });

  test('a dict 400 gives field: message', async () => {
    const api = await start({
      override: patchOnly({
        status: 400,
        body: { non_field_errors: ['Expected a list of items but got dict.'] },
      }),
    });
    const error = (await caught(signer(api.url).applyChanges(joinPlan(), {}))) as ApiCallError;
    expect(error.responseBody).toBe(
      'the bulk write was refused: Expected a list of items but got dict.',
    );
  });

  test.each([
    [
      'a domain without minimum_ttl',
      { name: DOMAIN, keys: [] },
      /expected minimum_ttl as an integer/,
    ],
    ['a domain without keys', { name: DOMAIN, minimum_ttl: 3600 }, /expected keys as an array/],
    [
      'a key without managed',
      { name: DOMAIN, minimum_ttl: 3600, keys: [{ dnskey: '257 3 13 AAAA' }] },
      /expected keys\[\]\.managed as a boolean/,
    ],
    ['HTML', '<html>', /not JSON/],
  ])('%s is a non-retryable "unexpected response"', async (_name, body, message) => {
    const api = await start({
      override: (request) =>
        request.method === 'GET' && request.path.endsWith(`/${DOMAIN}/`)
          ? typeof body === 'string'
            ? { status: 200, body, headers: { 'content-type': 'text/html' } }
            : { status: 200, body }
          : undefined,
    });
    const error = (await caught(signer(api.url).listOwnKeys(ZONE, {}))) as ApiCallError;
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(false);
    expect(error.message).toContain('unexpected response');
    expect(error.message).toMatch(message);
  });

  test('RRsets with ill-typed records are an unexpected response, and nothing is written', async () => {
    const api = await start({
      override: (request) =>
        request.path.endsWith('/rrsets/') && request.method === 'GET'
          ? { status: 200, body: [{ subname: '', type: 'NS', ttl: 3600, records: [7] }] }
          : undefined,
    });
    const error = (await caught(signer(api.url).applyChanges(joinPlan(), {}))) as ApiCallError;
    expect(error.message).toMatch(/unexpected response: expected RRsets of/);
    expect(api.writes()).toHaveLength(0);
  });

  test('a token file removed after start-up is a ConfigError naming api.tokenFile; nothing is sent', async () => {
    const api = await start();
    const file = path.join(directory, 'rotated.token');
    await writeFile(file, `${TOKEN}\n`, { mode: 0o600 });
    const desec = signer(api.url, file);
    await rm(file);
    const error = await caught(desec.listOwnKeys(ZONE, {}));
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).key).toBe('api.tokenFile');
    expect(api.requests).toHaveLength(0);
  });
});

describe('checkZone', () => {
  test('a domain the account does not own is a SignerConfigurationError', async () => {
    const api = await start();
    const error = await caught(signer(api.url).checkZone('other.test.', {}));
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('the deSEC account has no domain other.test');
    expect((error as SignerConfigurationError).isRetryable).toBe(false);
  });

  test('a domain without a managed key (DNSSEC off) is a SignerConfigurationError', async () => {
    const api = await start({
      override: (request) =>
        request.method === 'GET' && request.path.endsWith(`/${DOMAIN}/`)
          ? { status: 200, body: { name: DOMAIN, minimum_ttl: 3600, keys: [] } }
          : undefined,
    });
    const error = (await caught(signer(api.url).checkZone(ZONE, {}))) as SignerConfigurationError;
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect(error.setting).toBe('domain');
    expect(error.message).toContain('no key of its own');
  });

  async function serving(content: Omit<ApexContent, 'zone'>): Promise<NameServer> {
    nameserver = await startFakeNameserver({ zone: ZONE, ...content });
    return nameserver.server;
  }

  test("passes when the nameserver serves the zone with deSEC's key; reads only, writes nothing", async () => {
    const api = await start();
    const server = await serving({ dnskeys: [api.csk, zskA!.dnskey] });
    await signer(api.url, tokenFile, server).checkZone(ZONE, {});
    expect(api.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      `GET /api/v1/domains/${DOMAIN}/`,
    ]);
  });

  test('listOwnKeys asks the API again only when the DNSKEY RRset on the wire changes', async () => {
    const api = await start();
    const content: ApexContent = { zone: ZONE, dnskeys: [api.csk] };
    nameserver = await startFakeNameserver(content);
    const desec = signer(api.url, tokenFile, nameserver.server);
    const first = await desec.listOwnKeys(ZONE, {});
    expect(await desec.listOwnKeys(ZONE, {})).toEqual(first);
    expect(api.requests).toHaveLength(1);
    // A foreign key appears on the wire: the own keys are read again.
    content.dnskeys = [api.csk, zskA!.dnskey];
    await desec.listOwnKeys(ZONE, {});
    expect(api.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      `GET /api/v1/domains/${DOMAIN}/`,
      `GET /api/v1/domains/${DOMAIN}/`,
    ]);
    // checkZone proves the token works: it never answers from what was read before.
    await desec.checkZone(ZONE, {});
    expect(api.requests).toHaveLength(3);
  });

  test('readApex reads the configured nameserver on the wire', async () => {
    const api = await start();
    const server = await serving({ dnskeys: [api.csk] });
    const apex = await signer(api.url, tokenFile, server).readApex(ZONE, {});
    expect(apex.server).toBe(`127.0.0.1:${server.port}`);
    expect(apex.dnskey?.records).toEqual([api.csk]);
    expect(api.requests).toHaveLength(0);
  });

  test("refuses a nameserver that serves the zone without deSEC's key", async () => {
    const api = await start();
    const server = await serving({ dnskeys: [zskA!.dnskey] });
    const error = (await caught(
      signer(api.url, tokenFile, server).checkZone(ZONE, {}),
    )) as SignerConfigurationError;
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect(error.setting).toBe('server');
    expect(error.message).toContain(`without deSEC's key ${keyTag(api.csk)}`);
  });

  test('refuses a nameserver that is not authoritative for the zone', async () => {
    const api = await start();
    const server = await serving({ dnskeys: [], rcode: 'REFUSED' });
    const error = (await caught(
      signer(api.url, tokenFile, server).checkZone(ZONE, {}),
    )) as SignerConfigurationError;
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect(error.setting).toBe('server');
    expect(error.message).toContain('does not answer authoritatively');
  });
});
