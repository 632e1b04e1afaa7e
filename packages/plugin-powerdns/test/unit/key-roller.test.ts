/**
 * The held key roll against a fake of the PowerDNS 4.7 API answering with recorded responses:
 * request shapes, their order, idempotency, and the refusals that send nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UnsafePlanError, UnsupportedCapabilityError } from '@chorus/core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { parseCryptokey, parseCryptokeysResponse } from '../../src/api.js';
import { createPowerDnsSigner, type PowerDnsSigner } from '../../src/index.js';
import { signingKeyOf } from '../../src/keys.js';
import { FakePowerDnsApi, type RecordedRequest } from './fake-api.js';
import { fixture, jsonFixture } from './fixtures.js';

const ZONE = 'conformance.test.';
const KEYS = `/zones/${ZONE}/cryptokeys`;
const FLUSH = `/cache/flush?domain=${ZONE}`;
const json = { 'Content-Type': 'application/json' };

type RawKey = Record<string, unknown> & { id: number; active: boolean };

/** The lab zone's KSK (id 3) and ZSK (id 4), as recorded. */
const base = () => jsonFixture('cryptokeys.json') as RawKey[];
/** The ZSK PowerDNS generated for a POST (id 17), without the private key it returned. */
const created = (): RawKey => {
  const key = jsonFixture('cryptokey-created.json') as RawKey;
  delete key.privatekey;
  return key;
};
const tagOf = (raw: RawKey) => signingKeyOf(parseCryptokey(raw)).keyTag;
const ZSK = tagOf(base().find((key) => key.id === 4)!);
const KSK = tagOf(base().find((key) => key.id === 3)!);
const SUCCESSOR = tagOf(created());

/** The successor held: published and inactive next to the active ZSK. */
const held = () => [...base(), created()];
/** After activateSuccessor: the successor active, the old ZSK inactive and still published. */
const activated = () =>
  held().map((key) =>
    key.id === 17 ? { ...key, active: true } : key.id === 4 ? { ...key, active: false } : key,
  );

let directory: string;
let keyFile: string;
let fake: FakePowerDnsApi;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-pdns-roll-unit-'));
  keyFile = path.join(directory, 'api.key');
  await writeFile(keyFile, 'unit-test-secret-key\n', { mode: 0o600 });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

afterEach(async () => {
  await fake?.stop();
});

/** A fake whose cryptokeys are `keys`; POST answers the recorded 201, flush and PUT succeed. */
async function serverWith(keys: unknown[]): Promise<FakePowerDnsApi> {
  fake = await new FakePowerDnsApi().start();
  fake
    .route('GET', KEYS, { status: 200, body: JSON.stringify(keys), headers: json })
    .route('POST', KEYS, { status: 201, body: fixture('cryptokey-created.json'), headers: json })
    .route('PUT', FLUSH, { status: 200, body: '{"count": 3, "result": "Flushed cache."}' });
  for (const id of [3, 4, 10, 13, 17]) {
    fake.route('PUT', `${KEYS}/${id}`, { status: 204 });
    fake.route('DELETE', `${KEYS}/${id}`, { status: 204 });
  }
  return fake;
}

function signer(server: FakePowerDnsApi): PowerDnsSigner {
  return createPowerDnsSigner({
    id: 'powerdns-unit',
    server: { address: '127.0.0.1', port: 9 },
    api: { url: server.url, apiKeyFile: keyFile },
    requestTimeoutMs: 2000,
  });
}

const roller = (server: FakePowerDnsApi) => signer(server).keyRoller;

/** `METHOD path` of each request, the path after /api/v1/servers/localhost. */
function calls(server: FakePowerDnsApi): string[] {
  return server.requests.map(
    (request) => `${request.method} ${request.url.replace('/api/v1/servers/localhost', '')}`,
  );
}

function bodyOf(request: RecordedRequest | undefined): unknown {
  return JSON.parse(request!.body);
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('rolloverTiming', () => {
  test('is held, and asks the server nothing', async () => {
    const server = await serverWith(base());
    expect(await roller(server).rolloverTiming(ZONE, {})).toEqual({ mode: 'held' });
    await expect(
      roller(server).rolloverTiming(ZONE, { signal: AbortSignal.abort() }),
    ).rejects.toThrow(/aborted/);
    expect(server.requests).toHaveLength(0);
  });
});

describe('startRoll', () => {
  test('a ZSK successor is POSTed inactive and published, with the predecessor’s algorithm and size', async () => {
    const server = await serverWith(base());
    const successor = await roller(server).startRoll(ZONE, 'ZSK', [ZSK], {});
    expect(calls(server)).toEqual([`GET ${KEYS}`, `POST ${KEYS}`, `PUT ${FLUSH}`]);
    expect(bodyOf(server.requests[1])).toEqual({
      keytype: 'zsk',
      active: false,
      published: true,
      algorithm: 13,
      bits: 256,
    });
    expect(successor).toMatchObject({
      role: 'ZSK',
      algorithm: 13,
      keyTag: SUCCESSOR,
      state: 'inactive, published (id 17)',
    });
    // PowerDNS returns the private key with a POST; it never leaves the API parser.
    expect(JSON.stringify(successor)).not.toMatch(/private/i);
  });

  test('is idempotent: with a successor published already it returns it and POSTs nothing', async () => {
    const server = await serverWith(held());
    const first = await roller(server).startRoll(ZONE, 'ZSK', [ZSK], {});
    const second = await roller(server).startRoll(ZONE, 'ZSK', [ZSK], {});
    expect(first.keyTag).toBe(SUCCESSOR);
    expect(second).toEqual(first);
    expect(calls(server).filter((call) => call.startsWith('POST'))).toEqual([]);
  });

  test('a KSK successor is POSTed active and published (double signature)', async () => {
    const server = await serverWith(base());
    await roller(server).startRoll(ZONE, 'KSK', [KSK], {});
    expect(bodyOf(server.requests[1])).toEqual({
      keytype: 'ksk',
      active: true,
      published: true,
      algorithm: 13,
      bits: 256,
    });
  });

  test('a CSK roll in a zone with a separate KSK and ZSK is refused, naming why, before any POST', async () => {
    const server = await serverWith(base());
    const error = await caught(roller(server).startRoll(ZONE, 'CSK', [KSK], {}));
    expect(UnsupportedCapabilityError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('no key type of its own for a CSK');
    expect(calls(server)).toEqual([`GET ${KEYS}`]);
  });

  test('predecessors that are not own keys, or not of the role, are refused before any POST', async () => {
    const server = await serverWith(base());
    const unknown = await caught(roller(server).startRoll(ZONE, 'ZSK', [1], {}));
    expect(UnsafePlanError.isInstance(unknown)).toBe(true);
    expect((unknown as Error).message).toContain('nothing to roll');
    const wrongRole = await caught(roller(server).startRoll(ZONE, 'ZSK', [KSK], {}));
    expect(UnsafePlanError.isInstance(wrongRole)).toBe(true);
    expect(calls(server).filter((call) => call.startsWith('POST'))).toEqual([]);
  });

  test('a generated key whose key tag another key has is deleted; after three, a typed refusal', async () => {
    // The "new" key the fake returns is always the existing ZSK (id 4 is reused as id 17).
    const server = await serverWith(base());
    const clash = { ...base().find((key) => key.id === 4)!, id: 17, active: false };
    server.route('POST', KEYS, { status: 201, body: JSON.stringify(clash), headers: json });
    const error = await caught(roller(server).startRoll(ZONE, 'ZSK', [ZSK], {}));
    expect(UnsafePlanError.isInstance(error)).toBe(true);
    expect(calls(server).filter((call) => call === `POST ${KEYS}`)).toHaveLength(3);
    expect(calls(server).filter((call) => call === `DELETE ${KEYS}/17`)).toHaveLength(3);
  });

  test('an aborted signal rejects before any request', async () => {
    const server = await serverWith(base());
    await expect(
      roller(server).startRoll(ZONE, 'ZSK', [ZSK], { signal: AbortSignal.abort() }),
    ).rejects.toThrow(/aborted/);
    expect(server.requests).toHaveLength(0);
  });
});

describe('activateSuccessor', () => {
  test('PUTs the successor active first, then the predecessor inactive and still published', async () => {
    const server = await serverWith(held());
    await roller(server).activateSuccessor(ZONE, SUCCESSOR, [ZSK], {});
    expect(calls(server)).toEqual([
      `GET ${KEYS}`,
      `PUT ${KEYS}/17`,
      `PUT ${KEYS}/4`,
      `PUT ${FLUSH}`,
    ]);
    expect(bodyOf(server.requests[1])).toEqual({ active: true, published: true });
    expect(bodyOf(server.requests[2])).toEqual({ active: false, published: true });
  });

  test('is idempotent: once done it changes nothing', async () => {
    const server = await serverWith(activated());
    await roller(server).activateSuccessor(ZONE, SUCCESSOR, [ZSK], {});
    expect(calls(server)).toEqual([`GET ${KEYS}`, `PUT ${FLUSH}`]);
  });

  test('refuses a successor that is not an own key, or of another role, and PUTs nothing', async () => {
    const server = await serverWith(held());
    for (const [successor, predecessors] of [
      [1, [ZSK]],
      [KSK, [ZSK]],
      [ZSK, [ZSK]],
    ] as const) {
      const error = await caught(
        roller(server).activateSuccessor(ZONE, successor, predecessors, {}),
      );
      expect(UnsafePlanError.isInstance(error)).toBe(true);
    }
    expect(calls(server).filter((call) => call.startsWith('PUT'))).toEqual([]);
  });
});

describe('removeKeys', () => {
  test('DELETEs each predecessor, then flushes the apex', async () => {
    const server = await serverWith(activated());
    await roller(server).removeKeys(ZONE, [ZSK], {});
    expect(calls(server)).toEqual([`GET ${KEYS}`, `DELETE ${KEYS}/4`, `PUT ${FLUSH}`]);
  });

  test('is idempotent: absent keys send nothing, and a 404 (deleted meanwhile) is fine', async () => {
    const server = await serverWith(activated());
    await roller(server).removeKeys(ZONE, [1, 2], {});
    expect(calls(server)).toEqual([`GET ${KEYS}`]);
    server.route('DELETE', `${KEYS}/4`, { status: 404, body: fixture('error-404.txt') });
    await roller(server).removeKeys(ZONE, [ZSK], {});
  });

  test('never deletes the last active key of a role: a typed refusal, before any DELETE', async () => {
    const server = await serverWith(held());
    const error = await caught(roller(server).removeKeys(ZONE, [ZSK], {}));
    expect(UnsafePlanError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('last active ZSK');
    expect((error as UnsafePlanError).isRetryable).toBe(false);
    const ksk = await caught(roller(server).removeKeys(ZONE, [KSK], {}));
    expect((ksk as Error).message).toContain('last active KSK');
    expect(calls(server).filter((call) => call.startsWith('DELETE'))).toEqual([]);
  });
});

describe('listOwnKeys during a roll', () => {
  test('lists the held successor and the deactivated predecessor with their state', async () => {
    const server = await serverWith(jsonFixture('cryptokeys-mid-roll.json') as unknown[]);
    const keys = await signer(server).listOwnKeys(ZONE, {});
    expect(keys.map((key) => [key.role, key.state])).toEqual([
      ['KSK', 'active, published (id 9)'],
      ['ZSK', expect.stringMatching(/^(in)?active, published \(id 1[03]\)$/)],
      ['ZSK', expect.stringMatching(/^(in)?active, published \(id 1[03]\)$/)],
    ]);
    const states = keys.map((key) => key.state).sort();
    expect(states).toContain('inactive, published (id 10)');
    expect(states).toContain('active, published (id 13)');
  });

  test('the parser keeps the published flag, and no private key', () => {
    const raw = [...held(), { ...created(), id: 18, published: false }];
    expect(parseCryptokeysResponse(raw).filter((key) => !key.published)).toHaveLength(1);
    const parsed = parseCryptokey(jsonFixture('cryptokey-created.json'));
    expect(Object.keys(parsed).sort()).toEqual([
      'active',
      'bits',
      'dnskey',
      'id',
      'keytype',
      'published',
    ]);
  });
});
