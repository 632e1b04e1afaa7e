import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, SignerConfigurationError, type BootstrapSignalSet } from '@chorus/core';
import { signallingName } from '@chorus/dns';
import {
  createPowerDnsSigner,
  parseConfig,
  powerdnsCapabilities,
  powerdnsPlugin,
} from '../../src/index.js';
import { FakePowerDnsApi } from './fake-api.js';

const SECRET = 'unit-test-signal-key';
const CHILD = 'boot.test.';
const SIGNALS: BootstrapSignalSet = {
  cds: [{ keyTag: 4711, algorithm: 13, digestType: 2, digest: 'ab'.repeat(32) }],
  cdnskey: [
    { flags: 257, protocol: 3, algorithm: 13, publicKey: Buffer.alloc(64, 7).toString('base64') },
  ],
};
const FIRST = signallingName(CHILD, 'ns1.powerdns.test.');
const SECOND = signallingName(CHILD, 'ns2.powerdns.test.');

const valid = {
  id: 'powerdns-ams',
  server: { address: '127.53.0.3', port: 53 },
  api: {
    url: 'http://127.53.0.3:8081/api/v1/servers/localhost',
    apiKeyFile: '/etc/chorus/powerdns-api.key',
  },
};

let directory: string;
let keyFile: string;
let fake: FakePowerDnsApi | undefined;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-pdns-signal-'));
  keyFile = path.join(directory, 'api.key');
  await writeFile(keyFile, `${SECRET}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

async function signerWithFake(status: number, body = '') {
  fake = await new FakePowerDnsApi().start();
  fake.route('PATCH', '/zones/powerdns.test.', { status, body });
  return createPowerDnsSigner({
    id: 'powerdns-unit',
    server: { address: '127.0.0.1', port: 9 },
    api: { url: fake.url, apiKeyFile: keyFile },
    requestTimeoutMs: 2000,
    signallingZone: 'powerdns.test.',
  });
}

function patchBodies(): unknown[] {
  return fake!.requests
    .filter((request) => request.method === 'PATCH')
    .map((request) => JSON.parse(request.body) as unknown);
}

describe('signallingZone in the configuration', () => {
  test('takes one zone name or a list, and keeps a list', () => {
    expect(parseConfig({ ...valid, signallingZone: 'powerdns.test' }).signallingZone).toEqual([
      'powerdns.test.',
    ]);
    expect(
      parseConfig({ ...valid, signallingZone: ['a.test.', 'b.test.'] }).signallingZone,
    ).toEqual(['a.test.', 'b.test.']);
    expect(parseConfig(valid).signallingZone).toBeUndefined();
  });

  test.each([
    [[], 'signallingZone'],
    [{ zone: 'powerdns.test.' }, 'signallingZone'],
    [['powerdns.test.', ''], 'signallingZone[1]'],
  ])('refuses %j, naming %s', (value, key) => {
    const error = (() => {
      try {
        parseConfig({ ...valid, signallingZone: value });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).key).toBe(key);
  });
});

describe('bootstrap-signal capability', () => {
  test('cannot without signallingZone, can with it', async () => {
    const without = createPowerDnsSigner({ ...valid, api: { ...valid.api, apiKeyFile: keyFile } });
    expect(without.capabilities).toEqual(powerdnsCapabilities);
    expect(powerdnsPlugin.capabilities['bootstrap-signal']?.status).toBe('cannot');
    expect(without.bootstrapSignaller).toBeUndefined();
    const signer = await signerWithFake(204);
    expect(signer.capabilities['bootstrap-signal']?.status).toBe('can');
    expect(signer.bootstrapSignaller?.signallingZones).toEqual(['powerdns.test.']);
  });
});

describe('PowerDnsSignaller.publishSignals', () => {
  test('one PATCH of the signalling zone that REPLACEs the CDS and CDNSKEY rrsets at each name', async () => {
    const signer = await signerWithFake(204);
    await signer.bootstrapSignaller!.publishSignals(
      CHILD,
      ['ns1.powerdns.test.', 'ns2.powerdns.test.', 'ns.boot.test.'],
      SIGNALS,
      300,
      {},
    );
    const cds = { content: `4711 13 2 ${'ab'.repeat(32)}`, disabled: false };
    const cdnskey = {
      content: `257 3 13 ${Buffer.alloc(64, 7).toString('base64')}`,
      disabled: false,
    };
    const replace = (name: string, type: string, record: object) => ({
      name,
      type,
      changetype: 'REPLACE',
      ttl: 300,
      records: [record],
    });
    expect(patchBodies()).toEqual([
      {
        rrsets: [
          replace(FIRST, 'CDS', cds),
          replace(FIRST, 'CDNSKEY', cdnskey),
          replace(SECOND, 'CDS', cds),
          replace(SECOND, 'CDNSKEY', cdnskey),
        ],
      },
    ]);
    expect(fake!.requests[0]!.headers['x-api-key']).toBe(SECRET);
  });

  test('withdraws with DELETE', async () => {
    const signer = await signerWithFake(204);
    await signer.bootstrapSignaller!.publishSignals(
      CHILD,
      ['ns1.powerdns.test.'],
      { cds: [], cdnskey: [] },
      300,
      {},
    );
    expect(patchBodies()).toEqual([
      {
        rrsets: [
          { name: FIRST, type: 'CDS', changetype: 'DELETE' },
          { name: FIRST, type: 'CDNSKEY', changetype: 'DELETE' },
        ],
      },
    ]);
  });

  test('a hostname outside the signalling zone is refused before any request', async () => {
    const signer = await signerWithFake(204);
    const error = await signer
      .bootstrapSignaller!.publishSignals(CHILD, ['ns.elsewhere.test.'], SIGNALS, 300, {})
      .catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect(fake!.requests).toEqual([]);
  });

  test('404 (no such zone) is a SignerConfigurationError naming signallingZone, without the key', async () => {
    const signer = await signerWithFake(404, 'Not Found');
    const error = await signer
      .bootstrapSignaller!.publishSignals(CHILD, ['ns1.powerdns.test.'], SIGNALS, 300, {})
      .catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/HTTP 404.*signalling zone powerdns\.test\./);
    expect((error as Error).message).toMatch(/signallingZone/);
    expect((error as Error).message).not.toContain(SECRET);
  });
});
