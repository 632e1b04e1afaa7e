import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AbortError,
  ApiCallError,
  ConfigError,
  SignerConfigurationError,
  type SignerPlan,
} from '@chorus/core';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { PowerDnsApi } from '../../src/api.js';
import { createPowerDnsSigner, type PowerDnsSigner } from '../../src/index.js';
import { FakePowerDnsApi } from './fake-api.js';
import { fixture } from './fixtures.js';

const ZONE = 'conformance.test.';
const SECRET = 'unit-test-secret-key';
const json = () => ({ 'Content-Type': 'application/json' });

let directory: string;
let keyFile: string;
let fake: FakePowerDnsApi;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-pdns-unit-'));
  keyFile = path.join(directory, 'api.key');
  await writeFile(keyFile, `${SECRET}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

afterEach(async () => {
  await fake?.stop();
});

async function startFake(): Promise<FakePowerDnsApi> {
  fake = await new FakePowerDnsApi().start();
  return fake;
}

function api(url: string, timeoutMs = 2000, apiKeyFile = keyFile): PowerDnsApi {
  return new PowerDnsApi({ url, apiKeyFile, timeoutMs, logger: pino({ level: 'silent' }) });
}

function signer(url: string): PowerDnsSigner {
  return createPowerDnsSigner({
    id: 'powerdns-unit',
    server: { address: '127.0.0.1', port: 9 },
    api: { url, apiKeyFile: keyFile },
    requestTimeoutMs: 2000,
  });
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

/** A healthy server: the recorded gsqlite3 responses. */
function healthy(server: FakePowerDnsApi, config = fixture('config-gsqlite3.json')) {
  server
    .route('GET', '/config', { status: 200, body: config, headers: json() })
    .route('GET', `/zones/${ZONE}?rrsets=false`, { status: 200, body: fixture('zone-info.json') })
    .route('GET', `/zones/${ZONE}/metadata`, {
      status: 200,
      body: fixture('metadata-publish-cds.json'),
    });
}

describe('the API wrapper', () => {
  test('sends the key from the file as X-API-Key, trimmed', async () => {
    const server = await startFake();
    server.route('GET', '/config', { status: 200, body: fixture('config-gsqlite3.json') });
    const settings = await api(server.url).getConfig({});
    expect(settings.get('direct-dnskey')).toBe('yes');
    expect(server.requests[0]!.headers['x-api-key']).toBe(SECRET);
  });

  test('uses a rotated key from the next request on', async () => {
    const server = await startFake();
    server.route('GET', '/config', { status: 200, body: fixture('config-gsqlite3.json') });
    const rotating = path.join(directory, 'rotating.key');
    await writeFile(rotating, 'first-key\n', { mode: 0o600 });
    const client = api(server.url, 2000, rotating);
    await client.getConfig({});
    await client.getConfig({});
    await writeFile(`${rotating}.new`, 'second-key-after-rotation\n', { mode: 0o600 });
    await rename(`${rotating}.new`, rotating);
    await client.getConfig({});
    expect(server.requests.map((request) => request.headers['x-api-key'])).toEqual([
      'first-key',
      'first-key',
      'second-key-after-rotation',
    ]);
  });

  test('401 (wrong key) is a non-retryable ApiCallError that does not contain the key', async () => {
    const server = await startFake();
    server.route('GET', '/config', { status: 401, body: fixture('error-401.txt') });
    const error = await caught(api(server.url).getConfig({}));
    expect(ApiCallError.isInstance(error)).toBe(true);
    const apiError = error as ApiCallError;
    expect(apiError.statusCode).toBe(401);
    expect(apiError.isRetryable).toBe(false);
    expect(apiError.message).toContain('answered HTTP 401: Unauthorized');
    expect(apiError.message).not.toContain(SECRET);
    expect(JSON.stringify(apiError)).not.toContain(SECRET);
  });

  test('422 (spaced base64) is a non-retryable ApiCallError carrying PowerDNS’s message', async () => {
    const server = await startFake();
    server.route('PATCH', `/zones/${ZONE}`, {
      status: 422,
      body: fixture('error-422-spaced-base64.json'),
    });
    const error = (await caught(
      api(server.url).patchRrsets(ZONE, [{ name: ZONE, type: 'DNSKEY', changetype: 'DELETE' }], {}),
    )) as ApiCallError;
    expect(error.statusCode).toBe(422);
    expect(error.isRetryable).toBe(false);
    expect(error.responseBody).toMatch(/Not in expected format/);
  });

  test('5xx is retryable and keeps Retry-After', async () => {
    const server = await startFake();
    server.route('GET', '/config', {
      status: 503,
      body: '{"error": "busy"}',
      headers: { 'Retry-After': '5' },
    });
    const error = (await caught(api(server.url).getConfig({}))) as ApiCallError;
    expect(error.statusCode).toBe(503);
    expect(error.isRetryable).toBe(true);
    expect(error.retryAfterSeconds).toBe(5);
  });

  test('connection refused is a retryable ApiCallError without status', async () => {
    const server = await startFake();
    const url = server.url;
    await server.stop();
    const error = (await caught(api(url).getConfig({}))) as ApiCallError;
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect(error.statusCode).toBeUndefined();
    expect(error.isRetryable).toBe(true);
    expect(error.message).toMatch(/could not be sent: .*ECONNREFUSED/);
  });

  test('no answer within requestTimeoutMs is a retryable ApiCallError', async () => {
    const server = await startFake();
    server.route('GET', '/config', { status: 200, body: '[]', delayMs: 1500 });
    const error = (await caught(api(server.url, 150).getConfig({}))) as ApiCallError;
    expect(error.statusCode).toBeUndefined();
    expect(error.isRetryable).toBe(true);
    expect(error.message).toContain('no answer within 150 ms');
  });

  test('an aborted signal rejects with AbortError, before or during the call', async () => {
    const server = await startFake();
    server.route('GET', '/config', { status: 200, body: '[]', delayMs: 1000 });
    const before = await caught(api(server.url).getConfig({ signal: AbortSignal.abort() }));
    expect(AbortError.isInstance(before)).toBe(true);
    expect(server.requests).toHaveLength(0);
    const controller = new AbortController();
    const pending = api(server.url).getConfig({ signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(AbortError.isInstance(await caught(pending))).toBe(true);
  });

  test('an unreadable key file is a ConfigError naming api.apiKeyFile', async () => {
    const server = await startFake();
    const error = await caught(
      api(server.url, 2000, path.join(directory, 'missing.key')).getConfig({}),
    );
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).key).toBe('api.apiKeyFile');
    expect(server.requests).toHaveLength(0);
  });

  test('a 200 with an unexpected body is a typed ApiCallError', async () => {
    const server = await startFake();
    server.route('GET', `/zones/${ZONE}/cryptokeys`, { status: 200, body: '<html>' });
    const error = (await caught(api(server.url).getCryptokeys(ZONE, {}))) as ApiCallError;
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect(error.message).toContain('not JSON');
  });
});

describe('checkZone on recorded responses', () => {
  function configurationError(error: unknown): SignerConfigurationError {
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    return error as SignerConfigurationError;
  }

  test('accepts the healthy lab server without writing anything', async () => {
    const server = await startFake();
    healthy(server);
    await signer(server.url).checkZone(ZONE, {});
    expect(server.requests.map((request) => request.method)).toEqual(['GET', 'GET', 'GET']);
  });

  test('refuses direct-dnskey=no, naming the setting and the fix', async () => {
    const server = await startFake();
    // Recorded from the lab's trap server powerdns-no-direct-dnskey.
    healthy(server, fixture('config-no-direct-dnskey.json'));
    const error = configurationError(await caught(signer(server.url).checkZone(ZONE, {})));
    expect(error.setting).toBe('direct-dnskey');
    expect(error.fix).toBe('set direct-dnskey=yes in pdns.conf and restart pdns_server');
    expect(error.isRetryable).toBe(false);
  });

  test('refuses the bind backend (422 "Hosting backend does not support editing records")', async () => {
    const server = await startFake();
    server
      .route('GET', '/config', { status: 200, body: fixture('config-bind-backend.json') })
      .route('GET', `/zones/${ZONE}?rrsets=false`, {
        status: 200,
        body: fixture('zone-info-bind-backend.json'),
      })
      .route('PATCH', `/zones/${ZONE}`, {
        status: 422,
        body: fixture('error-422-bind-backend.json'),
      });
    const error = configurationError(await caught(signer(server.url).checkZone(ZONE, {})));
    expect(error.setting).toBe('launch');
    expect(error.message).toContain('Hosting backend does not support editing records');
    // The probe deletes a name that does not exist: it cannot change anything.
    const probe = server.requests.find((request) => request.method === 'PATCH')!;
    expect(JSON.parse(probe.body)).toEqual({
      rrsets: [{ name: `chorus-write-probe.${ZONE}`, type: 'TXT', changetype: 'DELETE' }],
    });
  });

  test('refuses a zone without PUBLISH-CDS, naming the metadata', async () => {
    const server = await startFake();
    healthy(server);
    server.route('GET', `/zones/${ZONE}/metadata`, {
      status: 200,
      body: fixture('metadata-no-publish-cds.json'),
    });
    const error = configurationError(await caught(signer(server.url).checkZone(ZONE, {})));
    expect(error.setting).toBe('PUBLISH-CDS');
    expect(error.fix).toContain(`pdnsutil set-publish-cds ${ZONE} 2`);
  });

  test('refuses PUBLISH-CDS with SHA-1, and a missing PUBLISH-CDNSKEY', async () => {
    const server = await startFake();
    healthy(server);
    server.route('GET', `/zones/${ZONE}/metadata`, {
      status: 200,
      body: '[{"kind": "PUBLISH-CDS", "metadata": ["1,2"], "type": "Metadata"}]',
    });
    const sha1 = configurationError(await caught(signer(server.url).checkZone(ZONE, {})));
    expect(sha1.setting).toBe('PUBLISH-CDS');
    expect(sha1.message).toContain('digest type(s) 1');
    server.route('GET', `/zones/${ZONE}/metadata`, {
      status: 200,
      body: '[{"kind": "PUBLISH-CDS", "metadata": ["2"], "type": "Metadata"}]',
    });
    const cdnskey = configurationError(await caught(signer(server.url).checkZone(ZONE, {})));
    expect(cdnskey.setting).toBe('PUBLISH-CDNSKEY');
  });

  test('refuses a zone PowerDNS does not serve', async () => {
    const server = await startFake();
    healthy(server);
    server.route('GET', `/zones/${ZONE}?rrsets=false`, {
      status: 404,
      body: fixture('error-404.txt'),
    });
    const error = configurationError(await caught(signer(server.url).checkZone(ZONE, {})));
    expect(error.setting).toBe('zone');
  });
});

describe('applyChanges on recorded responses', () => {
  const plan = (changes: SignerPlan['changes']): SignerPlan => ({
    zone: ZONE,
    signerId: 'powerdns-unit',
    changes,
  });

  test('reads the backend apex, then sends one PATCH; sends nothing when already applied', async () => {
    const server = await startFake();
    server
      .route('GET', `/zones/${ZONE}?rrset_name=${ZONE}`, {
        status: 200,
        body: fixture('zone-apex-with-foreign.json'),
      })
      .route('PATCH', `/zones/${ZONE}`, { status: 204 });
    const csync = { serial: 0, flags: 1, types: ['NS' as const] };
    const result = await signer(server.url).applyChanges(
      plan([
        { action: 'add', type: 'CSYNC', data: csync, ttl: 30 },
        {
          action: 'delete',
          type: 'CSYNC',
          data: { serial: 0, flags: 1, types: ['A', 'NS', 'AAAA'] },
          ttl: 30,
        },
      ]),
      {},
    );
    expect(result).toEqual({ applied: 2, warnings: [] });
    const patch = server.requests.find((request) => request.method === 'PATCH')!;
    expect(patch.headers['content-type']).toBe('application/json');
    expect(JSON.parse(patch.body)).toEqual({
      rrsets: [
        {
          name: ZONE,
          type: 'CSYNC',
          changetype: 'REPLACE',
          ttl: 30,
          records: [{ content: '0 1 NS', disabled: false }],
        },
      ],
    });
    server.requests.length = 0;
    await signer(server.url).applyChanges(
      plan([
        {
          action: 'add',
          type: 'CSYNC',
          data: { serial: 0, flags: 1, types: ['A', 'NS', 'AAAA'] },
          ttl: 30,
        },
      ]),
      {},
    );
    expect(server.requests.map((request) => request.method)).toEqual(['GET']);
  });

  test('an aborted signal rejects with AbortError and sends nothing', async () => {
    const server = await startFake();
    const error = await caught(
      signer(server.url).applyChanges(
        plan([{ action: 'add', type: 'NS', data: 'ns.bind.test.', ttl: 30 }]),
        { signal: AbortSignal.abort() },
      ),
    );
    expect(AbortError.isInstance(error)).toBe(true);
    expect(server.requests).toHaveLength(0);
  });
});

describe('readZoneContent on a recorded response', () => {
  test('reads the whole zone with one GET', async () => {
    const server = await startFake();
    server.route('GET', `/zones/${ZONE}`, {
      status: 200,
      body: fixture('zone-content-soa-edit.json'),
    });
    const records = await signer(server.url).readZoneContent(ZONE, {});
    expect(records).toHaveLength(19);
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      `GET /api/v1/servers/localhost/zones/${ZONE}`,
    ]);
  });

  test('an aborted signal rejects with AbortError and sends nothing', async () => {
    const server = await startFake();
    const error = await caught(
      signer(server.url).readZoneContent(ZONE, { signal: AbortSignal.abort() }),
    );
    expect(AbortError.isInstance(error)).toBe(true);
    expect(server.requests).toHaveLength(0);
  });
});
