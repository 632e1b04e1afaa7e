/**
 * The registrar channel against a scripted HTTP server (no DNS): what it sends, its retries and
 * back-off, and its errors. test/registrar-channel.test.ts runs it against the lab's fake
 * registrar and the real parent.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortError, ApiCallError, type DsData } from '@chorus/core';
import {
  createRegistrarParentChannel,
  DEFAULT_RETRY_POLICY,
  idempotencyKeyFor,
  REGISTRAR_API_ACCEPTS,
  registrarErrorText,
  retryDelayMs,
  type RegistrarParentChannel,
} from '../src/index.js';

const TOKEN = 'secret-registrar-token-4f2a';
const ZONE = 'example.test.';
const DS_A: DsData = { keyTag: 1, algorithm: 13, digestType: 2, digest: 'ab'.repeat(32) };
const DS_B: DsData = { keyTag: 2, algorithm: 13, digestType: 4, digest: 'CD'.repeat(48) };

interface Scripted {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Close the connection without an answer. */
  hangUp?: boolean;
}

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  at: number;
}

/** Answers each request with the next scripted answer (200 `{}` when none is left). */
class ScriptedApi {
  readonly received: Received[] = [];
  readonly script: Scripted[] = [];
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        this.received.push({
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body: text === '' ? undefined : (JSON.parse(text) as unknown),
          at: Date.now(),
        });
        const next = this.script.shift() ?? { status: 200, body: { requestId: 'req-1' } };
        if (next.hangUp) {
          request.socket.destroy();
          return;
        }
        response.writeHead(next.status, { 'Content-Type': 'application/json', ...next.headers });
        response.end(next.body === undefined ? '' : JSON.stringify(next.body));
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/`;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}

let api: ScriptedApi;
let directory: string;
let tokenFile: string;
let channel: RegistrarParentChannel;

beforeEach(async () => {
  api = new ScriptedApi();
  await api.start();
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-registrar-channel-'));
  tokenFile = path.join(directory, 'api.token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  channel = createRegistrarParentChannel({
    id: 'registrar-test',
    url: api.url,
    tokenFile,
    parentZone: 'test.',
    parentServers: [{ address: '127.0.0.1', port: 9 }],
    timeoutMs: 2000,
    retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 40, maxRetryAfterSeconds: 2 },
  });
});

afterEach(async () => {
  await api.close();
  await rm(directory, { recursive: true, force: true });
});

function unavailable(times: number): Scripted[] {
  return Array.from({ length: times }, () => ({
    status: 503,
    body: { error: { code: 'unavailable', message: 'try again later' } },
  }));
}

async function rejection(promise: Promise<unknown>): Promise<ApiCallError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(ApiCallError.isInstance(error), String(error)).toBe(true);
  return error as ApiCallError;
}

describe('what the registrar channel declares', () => {
  it('is a registrar-api channel that pushes DS and NS and scans nothing, with reasons', () => {
    expect(channel.kind).toBe('registrar-api');
    expect(channel.capabilities).toEqual({
      'cds-scan': {
        status: 'cannot',
        reason: 'a registrar takes changes through its API; it does not scan',
      },
      'csync-scan': {
        status: 'cannot',
        reason: 'a registrar takes changes through its API; it does not scan',
      },
      'ds-push': {
        status: 'can',
        reason: 'registrar API: PUT /v1/domains/{d}/ds, digest types 2 and 4',
      },
      'ns-push': expect.objectContaining({ status: 'can' }),
    });
    expect(channel.accepts).toBe(REGISTRAR_API_ACCEPTS);
    expect(channel.accepts).toMatchObject({ takes: 'ds', acceptedDigestTypes: [2, 4] });
  });
});

describe('requestDsUpdate', () => {
  it('PUTs the whole set with the token and a key derived from the zone and the set', async () => {
    const request = await channel.requestDsUpdate(ZONE, [DS_B, DS_A], {});
    expect(request).toEqual({ requestId: 'req-1' });
    const [sent] = api.received;
    expect(sent).toMatchObject({ method: 'PUT', url: '/v1/domains/example.test/ds' });
    expect(sent!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent!.body).toEqual({
      ds: [
        { ...DS_A, digest: DS_A.digest.toUpperCase() },
        { ...DS_B, digest: DS_B.digest.toUpperCase() },
      ],
    });
    // the same set in another order is the same request; another set or zone is not
    await channel.requestDsUpdate('EXAMPLE.test', [DS_A, DS_B], {});
    await channel.requestDsUpdate(ZONE, [DS_A], {});
    const keys = api.received.map((entry) => entry.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^chorus-ds-[0-9a-f]{40}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(idempotencyKeyFor('ds', 'other.test.', [])).not.toBe(idempotencyKeyFor('ds', ZONE, []));
  });

  it('retries a 503 and a dropped connection under the same key, then succeeds', async () => {
    api.script.push(...unavailable(1), { status: 0, hangUp: true });
    await channel.requestDsUpdate(ZONE, [DS_A], {});
    expect(api.received).toHaveLength(3);
    expect(new Set(api.received.map((entry) => entry.headers['idempotency-key'])).size).toBe(1);
  });

  it('waits as long as Retry-After says on a 429', async () => {
    api.script.push({
      status: 429,
      headers: { 'Retry-After': '1' },
      body: { error: { code: 'rate-limited', message: 'too many requests' } },
    });
    await channel.requestDsUpdate(ZONE, [DS_A], {});
    const [first, second] = api.received;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives up after the last attempt with a retryable ApiCallError', async () => {
    api.script.push(...unavailable(4));
    const error = await rejection(channel.requestDsUpdate(ZONE, [DS_A], {}));
    expect(error.isRetryable).toBe(true);
    expect(error.statusCode).toBe(503);
    expect(error.message).toMatch(/unavailable: try again later \(after 4 attempts\)/);
    expect(api.received).toHaveLength(4);
  });

  it('does not wait for a Retry-After beyond its limit: the caller gets it', async () => {
    api.script.push({ status: 429, headers: { 'Retry-After': '120' }, body: {} });
    const error = await rejection(channel.requestDsUpdate(ZONE, [DS_A], {}));
    expect([error.isRetryable, error.retryAfterSeconds]).toEqual([true, 120]);
    expect(api.received).toHaveLength(1);
  });

  it('does not retry a 422, and says which field', async () => {
    api.script.push({
      status: 422,
      body: {
        error: { code: 'invalid', message: 'SHA-1 DS not accepted', field: 'ds[0].digestType' },
      },
    });
    const error = await rejection(channel.requestDsUpdate(ZONE, [DS_A], {}));
    expect(error.isRetryable).toBe(false);
    expect(error.message).toContain('invalid: SHA-1 DS not accepted (field ds[0].digestType)');
    expect(api.received).toHaveLength(1);
  });

  it('a 401 names the token file, never the token', async () => {
    api.script.push({
      status: 401,
      body: { error: { code: 'invalid-token', message: 'the API token is not valid' } },
    });
    const error = await rejection(channel.requestDsUpdate(ZONE, [DS_A], {}));
    expect(error.isRetryable).toBe(false);
    expect(error.message).toContain(tokenFile);
    expect(error.message).not.toContain(TOKEN);
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect(api.received).toHaveLength(1);
  });

  it('reads the token file at each call, so it can rotate', async () => {
    await channel.requestDsUpdate(ZONE, [DS_A], {});
    await writeFile(tokenFile, 'rotated-token\n');
    await channel.requestDsUpdate(ZONE, [DS_A], {});
    expect(api.received.map((entry) => entry.headers.authorization)).toEqual([
      `Bearer ${TOKEN}`,
      'Bearer rotated-token',
    ]);
  });

  it('stops waiting when the caller aborts', async () => {
    api.script.push({ status: 429, headers: { 'Retry-After': '2' }, body: {} });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 100);
    const error = await channel
      .requestDsUpdate(ZONE, [DS_A], { signal: controller.signal })
      .catch((reason: unknown) => reason);
    expect(AbortError.isInstance(error)).toBe(true);
    expect(api.received).toHaveLength(1);
  });
});

describe('requestNsUpdate', () => {
  it('PUTs the names, with the given glue for names inside the zone', async () => {
    await channel.requestNsUpdate(ZONE, ['NS2.example.test.', 'ns.bind.test.'], {
      glue: [{ name: 'ns2.example.test.', addresses: ['2001:db8::2', '192.0.2.2'] }],
    });
    const [sent] = api.received;
    expect(sent).toMatchObject({ method: 'PUT', url: '/v1/domains/example.test/nameservers' });
    expect(sent!.body).toEqual({
      nameservers: ['ns.bind.test', 'ns2.example.test'],
      glue: [{ name: 'ns2.example.test', addresses: ['192.0.2.2', '2001:db8::2'] }],
    });
    expect(sent!.headers['idempotency-key']).toMatch(/^chorus-ns-[0-9a-f]{40}$/);
  });

  it('sends no glue for names outside the zone', async () => {
    await channel.requestNsUpdate(ZONE, ['ns.bind.test.', 'ns.knot.test.'], {});
    expect(api.received[0]!.body).toEqual({ nameservers: ['ns.bind.test', 'ns.knot.test'] });
  });
});

describe('retryDelayMs', () => {
  const error = (statusCode?: number, retryAfterSeconds?: number) =>
    new ApiCallError({
      url: 'http://registrar/v1/domains/a.test/ds',
      method: 'PUT',
      ...(statusCode === undefined ? {} : { statusCode }),
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  const policy = DEFAULT_RETRY_POLICY;

  it('backs off exponentially with jitter in the upper half, up to the maximum', () => {
    expect(retryDelayMs(error(503), 1, policy, () => 0)).toBe(250);
    expect(retryDelayMs(error(503), 1, policy, () => 0.999)).toBe(500);
    expect(retryDelayMs(error(undefined), 3, policy, () => 0)).toBe(1000);
    expect(retryDelayMs(error(500), 4, policy, () => 0)).toBe(2000);
    // capped at maxDelayMs (8000): from 4000 to 8000
    expect(retryDelayMs(error(500), 9, { ...policy, attempts: 10 }, () => 0)).toBe(4000);
    expect(retryDelayMs(error(500), 9, { ...policy, attempts: 10 }, () => 0.9999)).toBe(8000);
  });

  it('takes Retry-After as it is, up to the limit', () => {
    expect(retryDelayMs(error(429, 3), 1, policy)).toBe(3000);
    expect(retryDelayMs(error(429, 61), 1, policy)).toBeUndefined();
  });

  it('does not retry what is not retryable, nor after the last attempt', () => {
    expect(retryDelayMs(error(422), 1, policy)).toBeUndefined();
    expect(retryDelayMs(error(401), 1, policy)).toBeUndefined();
    expect(retryDelayMs(error(503), 5, policy)).toBeUndefined();
    expect(retryDelayMs(new Error('boom'), 1, policy)).toBeUndefined();
  });

  it('reads the API error body', () => {
    expect(registrarErrorText('{"error":{"code":"forbidden","message":"not yours"}}')).toBe(
      'forbidden: not yours',
    );
    expect(registrarErrorText('plain text')).toBe('plain text');
  });
});
