import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortError,
  ConfigError,
  SignerConfigurationError,
  type BootstrapSignalSet,
  type DnsMessage,
} from '@chorus/core';
import { parseTsigKeyFile, signallingName, type TsigKey } from '@chorus/dns';
import {
  bindCapabilities,
  bindPlugin,
  createBindSigner,
  parseBindConfig,
} from '../../src/index.js';
import { startFakeUpdateServer, type FakeUpdateServer } from './fake-update-server.js';

const SECRET = randomBytes(32).toString('base64');
const CHILD = 'boot.test.';
const SIGNALS: BootstrapSignalSet = {
  cds: [{ keyTag: 4711, algorithm: 13, digestType: 2, digest: 'AB'.repeat(32) }],
  cdnskey: [
    { flags: 257, protocol: 3, algorithm: 13, publicKey: Buffer.alloc(64, 7).toString('base64') },
  ],
};
const NONE: BootstrapSignalSet = { cds: [], cdnskey: [] };

let directory: string;
let keyFile: string;
let key: TsigKey;
let fake: FakeUpdateServer | undefined;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-bind-signal-'));
  keyFile = path.join(directory, 'ddns.key');
  const text = `key "chorus-ddns" { algorithm hmac-sha256; secret "${SECRET}"; };\n`;
  await writeFile(keyFile, text, { mode: 0o600 });
  key = parseTsigKeyFile(text);
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function rawConfig(server: { address: string; port: number }, signallingZone?: unknown) {
  return {
    id: 'bind-unit',
    server,
    tsigKeyFile: keyFile,
    rndc: { configFile: path.join(directory, 'rndc.conf') },
    keyDirectory: directory,
    ...(signallingZone === undefined ? {} : { signallingZone }),
  };
}

async function signerWithFake(signallingZone: unknown, rcode?: 'REFUSED') {
  fake = await startFakeUpdateServer(key, rcode);
  return createBindSigner(
    rawConfig({ address: '127.0.0.1', port: fake.server.port! }, signallingZone),
  );
}

/** The update section as `CLASS name TYPE [rdata]` lines. */
function updates(message: DnsMessage): string[] {
  return message.authorities.map((record) =>
    record.data === null
      ? `${record.class} ${record.name} ${record.type}`
      : `${record.class} ${record.name} ${record.type} ${record.ttl}`,
  );
}

describe('signallingZone in the configuration', () => {
  const valid = {
    id: 'bind-unit',
    server: { address: '127.0.0.1', port: 53 },
    tsigKeyFile: '/etc/chorus/ddns.key',
    rndc: { configFile: '/etc/bind/rndc.conf' },
    keyDirectory: '/var/lib/bind/keys',
  };

  it('takes one zone name or a list, and keeps a list', () => {
    expect(parseBindConfig({ ...valid, signallingZone: 'bind.test' }).signallingZone).toEqual([
      'bind.test.',
    ]);
    expect(
      parseBindConfig({ ...valid, signallingZone: ['bind.test.', 'ns.example.net'] })
        .signallingZone,
    ).toEqual(['bind.test.', 'ns.example.net.']);
    expect(parseBindConfig(valid).signallingZone).toBeUndefined();
  });

  it.each([
    ['an empty list', [], 'signallingZone', /non-empty list/],
    ['a number', 42, 'signallingZone', /non-empty string/],
    ['a name with a space', ['bind.test.', 'bad name.'], 'signallingZone[1]', /./],
  ])('refuses %s, naming the key', (_label, value, keyName, problem) => {
    const error = (() => {
      try {
        parseBindConfig({ ...valid, signallingZone: value });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).key).toBe(keyName);
    expect((error as ConfigError).message).toMatch(problem);
  });
});

describe('bootstrap-signal capability', () => {
  it('cannot without signallingZone, and has no signaller', () => {
    const signer = createBindSigner(rawConfig({ address: '127.0.0.1', port: 53 }));
    expect(signer.capabilities['bootstrap-signal']).toMatchObject({ status: 'cannot' });
    expect(signer.capabilities['bootstrap-signal']!.reason).toMatch(/no signallingZone configured/);
    expect(signer.capabilities).toEqual(bindCapabilities);
    expect(bindPlugin.capabilities).toEqual(bindCapabilities);
    expect(signer.bootstrapSignaller).toBeUndefined();
  });

  it('can with signallingZone, and the signaller writes there', () => {
    const signer = createBindSigner(rawConfig({ address: '127.0.0.1', port: 53 }, 'bind.test.'));
    expect(signer.capabilities['bootstrap-signal']).toMatchObject({ status: 'can' });
    expect(signer.capabilities['bootstrap-signal']!.reason).toMatch(/DNS UPDATE/);
    expect(signer.bootstrapSignaller?.signallingZones).toEqual(['bind.test.']);
    expect({ ...signer.capabilities, 'bootstrap-signal': undefined }).toEqual({
      ...bindCapabilities,
      'bootstrap-signal': undefined,
    });
  });
});

describe('BindSignaller.publishSignals', () => {
  it('sends one TSIG-signed UPDATE: the RRsets deleted at each signalling name, then the signals added', async () => {
    const signer = await signerWithFake('bind.test.');
    await signer.bootstrapSignaller!.publishSignals(
      CHILD,
      ['ns1.bind.test.', 'NS2.Bind.Test', 'ns.boot.test.'],
      SIGNALS,
      300,
      {},
    );
    expect(fake!.received).toHaveLength(1);
    const [update] = fake!.received;
    const first = signallingName(CHILD, 'ns1.bind.test.');
    const second = signallingName(CHILD, 'ns2.bind.test.');
    expect(update!.opcode).toBe('UPDATE');
    expect(update!.questions).toEqual([{ name: 'bind.test.', type: 'SOA', class: 'IN' }]);
    expect(update!.answers).toEqual([]);
    expect(update!.tsig?.keyName).toBe('chorus-ddns.');
    expect(updates(update!)).toEqual([
      `ANY ${first} CDS`,
      `ANY ${first} CDNSKEY`,
      `ANY ${second} CDS`,
      `ANY ${second} CDNSKEY`,
      `IN ${first} CDS 300`,
      `IN ${first} CDNSKEY 300`,
      `IN ${second} CDS 300`,
      `IN ${second} CDNSKEY 300`,
    ]);
    const added = update!.authorities.filter((record) => record.class === 'IN');
    expect(added.map((record) => record.data)).toEqual([
      SIGNALS.cds[0],
      SIGNALS.cdnskey[0],
      SIGNALS.cds[0],
      SIGNALS.cdnskey[0],
    ]);
  });

  it('withdraws with deletes only, and writes each signalling zone in its own UPDATE', async () => {
    const signer = await signerWithFake(['bind.test.', 'example.net.']);
    await signer.bootstrapSignaller!.publishSignals(
      CHILD,
      ['ns.bind.test.', 'ns.example.net.'],
      NONE,
      300,
      {},
    );
    expect(fake!.received.map((message) => message.questions[0]!.name)).toEqual([
      'bind.test.',
      'example.net.',
    ]);
    expect(fake!.received.map(updates)).toEqual([
      [
        `ANY ${signallingName(CHILD, 'ns.bind.test.')} CDS`,
        `ANY ${signallingName(CHILD, 'ns.bind.test.')} CDNSKEY`,
      ],
      [
        `ANY ${signallingName(CHILD, 'ns.example.net.')} CDS`,
        `ANY ${signallingName(CHILD, 'ns.example.net.')} CDNSKEY`,
      ],
    ]);
  });

  it('refuses an NS hostname outside every signalling zone before sending anything', async () => {
    const signer = await signerWithFake('bind.test.');
    const error = await signer
      .bootstrapSignaller!.publishSignals(
        CHILD,
        ['ns.bind.test.', 'ns.other.test.'],
        SIGNALS,
        300,
        {},
      )
      .catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect((error as SignerConfigurationError).message).toMatch(/ns\.other\.test\./);
    expect(fake!.received).toEqual([]);
  });

  it('turns REFUSED into a SignerConfigurationError naming the zone and key, never the secret', async () => {
    const signer = await signerWithFake('bind.test.', 'REFUSED');
    const error = await signer
      .bootstrapSignaller!.publishSignals(CHILD, ['ns.bind.test.'], SIGNALS, 300, {})
      .catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/REFUSED.*signalling zone bind\.test\..*chorus-ddns/);
    expect(message).not.toContain(SECRET);
    expect((error as SignerConfigurationError).isRetryable).toBe(false);
  });

  it('rejects an aborted call with AbortError and sends nothing', async () => {
    const signer = await signerWithFake('bind.test.');
    const error = await signer
      .bootstrapSignaller!.publishSignals(CHILD, ['ns.bind.test.'], SIGNALS, 300, {
        signal: AbortSignal.abort(),
      })
      .catch((caught: unknown) => caught);
    expect(AbortError.isInstance(error)).toBe(true);
    expect(fake!.received).toEqual([]);
  });
});
