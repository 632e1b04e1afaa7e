/**
 * The registrar fake over HTTP, in process, with a stand-in for the parent (the lab test
 * test/registrar-channel.test.ts uses the real one): authentication, the account, validation,
 * `Idempotency-Key`, the token bucket, faults and how parent failures are answered.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  DnsResponseError,
  DnsTimeoutError,
  ParentAnswerError,
  type Delegation,
  type DsData,
} from '@chorus/core';
import {
  NotYetServedError,
  startRegistrarFake,
  type DomainView,
  type NameserversRequest,
  type ParentAccess,
  type RegistrarFakeConfig,
  type RunningFake,
} from '../../src/index.js';

const TOKEN = 'registrar-test-token-0123456789';
const ADMIN = 'registrar-admin-token';
const DIGEST = 'AB'.repeat(32);

/** A parent in memory: `test.` delegating example.test. (in the account) and broken.test. (not). */
class ParentStandIn implements ParentAccess {
  readonly ds = new Map<string, DsData[]>([
    ['example.test.', []],
    ['broken.test.', []],
  ]);
  readonly ns = new Map<string, string[]>([
    ['example.test.', ['ns.bind.test.']],
    ['broken.test.', ['ns.bind.test.']],
  ]);
  writes = 0;
  /** The next write fails with this. */
  failNext: Error | undefined;

  observe(domain: string): Promise<Delegation> {
    const ds = this.ds.get(domain);
    if (ds === undefined)
      return Promise.reject(
        new ParentAnswerError({
          server: 'stand-in',
          zone: domain,
          problem: 'not-delegated',
          detail: 'NXDOMAIN',
        }),
      );
    const delegation: Delegation = {
      zone: domain,
      parent: 'test.',
      observedAt: new Date().toISOString(),
      ds:
        ds.length === 0
          ? null
          : { name: domain, type: 'DS', class: 'IN', ttl: 30, records: ds, signatures: [] },
      ns: {
        name: domain,
        type: 'NS',
        class: 'IN',
        ttl: 30,
        records: this.ns.get(domain) ?? [],
        signatures: [],
      },
      glue: [],
      consistent: true,
      servers: [],
    };
    return Promise.resolve(delegation);
  }

  view(delegation: Delegation, domain: string): DomainView {
    return {
      domain: domain.replace(/\.$/, ''),
      nameservers: (delegation.ns?.records ?? []).map((name) => name.replace(/\.$/, '')),
      glue: [],
      ds: delegation.ds?.records ?? [],
    };
  }

  async replaceDs(domain: string, ds: DsData[]): Promise<Delegation> {
    this.#fail();
    this.writes += 1;
    this.ds.set(domain, ds);
    return this.observe(domain);
  }

  async replaceNameservers(domain: string, wanted: NameserversRequest): Promise<Delegation> {
    this.#fail();
    this.writes += 1;
    this.ns.set(domain, wanted.nameservers);
    return this.observe(domain);
  }

  #fail(): void {
    const error = this.failNext;
    this.failNext = undefined;
    if (error) throw error;
  }
}

let directory: string;
let parent: ParentStandIn;
let fake: RunningFake;
let config: RegistrarFakeConfig;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-registrar-'));
  await writeFile(path.join(directory, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  await writeFile(path.join(directory, 'admin'), ADMIN, { mode: 0o600 });
  config = {
    provider: 'registrar',
    listen: { address: '127.0.0.1', port: 0 },
    tokenFile: path.join(directory, 'token'),
    adminTokenFile: path.join(directory, 'admin'),
    requestLogFile: path.join(directory, 'requests.jsonl'),
    stateFile: path.join(directory, 'state.json'),
    parent: { zone: 'test.', servers: [{ address: '127.0.0.1', port: 1 }], tsigKeyFile: '/none' },
    domains: ['example.test.'],
    ttl: 30,
    rateLimits: { api: { limit: 1000, periodSeconds: 1 } },
  };
  parent = new ParentStandIn();
  fake = await startRegistrarFake(config, { parent });
});

afterEach(async () => {
  await fake.close();
  await rm(directory, { recursive: true, force: true });
});

/** Any answer body of the API: an error, or a domain's delegation with a request id. */
interface Answer {
  error: { code: string; message: string; field?: string };
  requestId: string;
  [field: string]: unknown;
}

async function call(
  method: string,
  requestPath: string,
  body?: unknown,
  headers: Record<string, string> = { Authorization: `Bearer ${TOKEN}` },
) {
  const response = await fetch(`${fake.url}${requestPath}`, {
    method,
    headers: { ...headers, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: JSON.parse(text) as Answer,
  };
}

async function admin(method: string, requestPath: string, body?: unknown) {
  const response = await fetch(`${fake.url}${requestPath}`, {
    method,
    headers: { 'X-Fake-Admin': ADMIN, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.ok).toBe(true);
  return response.json();
}

const DS = [{ keyTag: 1, algorithm: 13, digestType: 2, digest: DIGEST }];

describe('authentication and the account', () => {
  test('401 without a bearer token, or with a wrong one; the answer never holds a token', async () => {
    const missing = await call('GET', '/v1/domains/example.test', undefined, {});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="registrar"');
    const wrong = await call('GET', '/v1/domains/example.test', undefined, {
      Authorization: 'Bearer not-the-token',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('invalid-token');
    expect(wrong.text).not.toContain('not-the-token');
    expect(wrong.text).not.toContain(TOKEN);
    await admin('POST', '/_fake/token', { state: 'revoked' });
    expect((await call('GET', '/v1/domains/example.test')).status).toBe(401);
  });

  test('403 for a domain the parent delegates to another account, 404 for one it does not', async () => {
    expect((await call('GET', '/v1/domains')).json).toEqual({ domains: ['example.test'] });
    expect((await call('GET', '/v1/domains/example.test')).json).toEqual({
      domain: 'example.test',
      nameservers: ['ns.bind.test'],
      glue: [],
      ds: [],
    });
    const other = await call('PUT', '/v1/domains/broken.test/ds', { ds: DS });
    expect([other.status, other.json.error.code]).toEqual([403, 'forbidden']);
    expect((await call('GET', '/v1/domains/unknown.test')).status).toBe(404);
    expect((await call('GET', '/v1/domains/example.org')).status).toBe(404);
    expect((await call('GET', '/v1/domains/not_a_name')).status).toBe(404);
    expect(parent.writes).toBe(0);
  });
});

describe('writes', () => {
  test('a PUT replaces the set, answers the delegation with a request id, and logs no token', async () => {
    const answer = await call('PUT', '/v1/domains/example.test/ds', { ds: DS });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ domain: 'example.test', ds: DS });
    expect(answer.json.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(parent.ds.get('example.test.')).toEqual(DS);
    const log = await readFile(config.requestLogFile, 'utf8');
    expect(JSON.parse(log.trim().split('\n').at(-1)!)).toMatchObject({
      method: 'PUT',
      path: '/v1/domains/example.test/ds',
      status: 200,
      rateClass: 'api',
      domain: 'example.test',
    });
    expect(log).not.toContain(TOKEN);
  });

  test('422 names the field, and the parent is not written', async () => {
    const sha1 = await call('PUT', '/v1/domains/example.test/ds', {
      ds: [{ keyTag: 1, algorithm: 13, digestType: 1, digest: 'ab'.repeat(20) }],
    });
    expect(sha1.status).toBe(422);
    expect(sha1.json.error).toEqual({
      code: 'invalid',
      field: 'ds[0].digestType',
      message: 'SHA-1 DS not accepted: use digest type 2 or 4',
    });
    const glue = await call('PUT', '/v1/domains/example.test/nameservers', {
      nameservers: ['ns1.example.test'],
    });
    expect([glue.status, glue.json.error.field]).toEqual([422, 'nameservers[0]']);
    expect((await call('PUT', '/v1/domains/example.test/ds', 'not an object')).status).toBe(422);
    expect(parent.writes).toBe(0);
  });

  test('405 with Allow for another method', async () => {
    const answer = await call('DELETE', '/v1/domains/example.test/ds');
    expect([answer.status, answer.headers.get('allow')]).toEqual([405, 'PUT']);
  });

  test.each([
    [
      new DnsResponseError({ server: 'p', rcode: 'REFUSED', what: 'UPDATE' }),
      502,
      'parent-refused',
    ],
    [
      new DnsResponseError({ server: 'p', rcode: 'NXRRSET', what: 'UPDATE' }),
      503,
      'parent-changed',
    ],
    [
      new DnsTimeoutError({ server: 'p', timeoutMs: 1, attempts: 1, what: 'UPDATE' }),
      503,
      'parent-unavailable',
    ],
    [new NotYetServedError('example.test.', 10), 503, 'parent-not-serving-yet'],
  ])('a parent failure %s answers %i', async (error, status, code) => {
    parent.failNext = error;
    const answer = await call('PUT', '/v1/domains/example.test/ds', { ds: DS });
    expect([answer.status, answer.json.error.code]).toEqual([status, code]);
    if (status === 503) expect(answer.headers.get('retry-after')).toBe('1');
    expect(parent.ds.get('example.test.')).toEqual([]);
  });
});

describe('Idempotency-Key', () => {
  const put = (key: string, body: unknown) =>
    call('PUT', '/v1/domains/example.test/ds', body, {
      Authorization: `Bearer ${TOKEN}`,
      'Idempotency-Key': key,
    });

  test('the same key and body replay the first answer without writing again', async () => {
    const first = await put('key-1', { ds: DS });
    parent.ds.set('example.test.', []); // the parent changes behind the registrar's back
    const again = await put('key-1', { ds: DS });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    expect(parent.writes).toBe(1);
    expect(parent.ds.get('example.test.')).toEqual([]);
    const records = (await admin('GET', '/_fake/requests')) as { replayed?: boolean }[];
    expect(records.map((record) => record.replayed ?? false)).toEqual([false, true]);
  });

  test('the same key with another body is 422; a malformed key is 400', async () => {
    await put('key-2', { ds: DS });
    const reused = await put('key-2', { ds: [] });
    expect([reused.status, reused.json.error.code]).toEqual([422, 'idempotency-key-reused']);
    expect((await put('has space', { ds: DS })).status).toBe(400);
    expect(parent.writes).toBe(1);
  });

  test('a 5xx is not kept: the retry with the same key runs the request', async () => {
    parent.failNext = new DnsTimeoutError({
      server: 'p',
      timeoutMs: 1,
      attempts: 1,
      what: 'UPDATE',
    });
    expect((await put('key-3', { ds: DS })).status).toBe(503);
    const retried = await put('key-3', { ds: DS });
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(parent.ds.get('example.test.')).toEqual(DS);
  });
});

describe('rate limit and faults', () => {
  test('a token bucket per token: 429 with Retry-After, and the request does not run', async () => {
    await admin('POST', '/_fake/rate-limits', { api: { limit: 2, periodSeconds: 10 } });
    expect((await call('GET', '/v1/domains')).status).toBe(200);
    expect((await call('PUT', '/v1/domains/example.test/ds', { ds: DS })).status).toBe(200);
    const limited = await call('PUT', '/v1/domains/example.test/ds', { ds: [] });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('5');
    expect(limited.json.error.code).toBe('rate-limited');
    expect(parent.ds.get('example.test.')).toEqual(DS);
  });

  test('an injected 503 answers without running the request', async () => {
    await admin('POST', '/_fake/faults', { match: { method: 'PUT' }, status: 503, times: 1 });
    const faulted = await call('PUT', '/v1/domains/example.test/ds', { ds: DS });
    expect([faulted.status, faulted.json.error.code]).toEqual([503, 'unavailable']);
    expect(parent.writes).toBe(0);
    expect((await call('PUT', '/v1/domains/example.test/ds', { ds: DS })).status).toBe(200);
  });
});
