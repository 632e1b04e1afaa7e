import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, SignerCommandError, type BootstrapSignalSet } from '@chorus/core';
import { signalUpdate, signalWrites, signallingName } from '@chorus/dns';
import { parseKnotConfig } from '../../src/config.js';
import { createKnotSigner, knotCapabilities, knotPlugin } from '../../src/index.js';

const CHILD = 'boot.test.';
const SIGNALS: BootstrapSignalSet = {
  cds: [{ keyTag: 4711, algorithm: 13, digestType: 2, digest: 'AB'.repeat(32) }],
  cdnskey: [
    { flags: 257, protocol: 3, algorithm: 13, publicKey: Buffer.alloc(64, 7).toString('base64') },
  ],
};
const CDS_RDATA = `4711 13 2 ${'AB'.repeat(32)}`;
const CDNSKEY_RDATA = `257 3 13 ${Buffer.alloc(64, 7).toString('base64')}`;
const PRESENT = signallingName(CHILD, 'ns1.knot.test.');
const ABSENT = signallingName(CHILD, 'ns2.knot.test.');

const valid = {
  id: 'knot',
  server: { address: '127.53.0.4' },
  tsigKeyFile: '/etc/knot/chorus.key',
  knotc: { configFile: '/etc/knot/knot.conf' },
};

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-knot-signal-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/**
 * A knotc that logs its arguments (without the -x -t -c prefix) and answers zone-get: a CDS at
 * the first signalling name, "no such node" at the second; `failOn` makes that command fail.
 */
async function standInKnotc(
  name: string,
  failOn?: string,
): Promise<{ binary: string; log: string }> {
  const binary = path.join(directory, name);
  const log = path.join(directory, `${name}.log`);
  const script = [
    '#!/bin/sh',
    'shift 5',
    `echo "$*" >> ${log}`,
    'case "$*" in',
    ...(failOn
      ? [`  "${failOn}"*) echo "error: (such record already exists in zone)"; exit 1 ;;`]
      : []),
    `  "zone-get knot.test. ${PRESENT} CDS") echo "[knot.test.] ${PRESENT} 60 CDS ${CDS_RDATA}" ;;`,
    `  "zone-get knot.test. ${PRESENT} CDNSKEY") ;;`,
    `  zone-get*) echo "error: (no such node in zone found) [knot.test.] $3 $4"; exit 1 ;;`,
    '  *) echo OK ;;',
    'esac',
    '',
  ];
  await writeFile(binary, script.join('\n'));
  await chmod(binary, 0o755);
  return { binary, log };
}

async function commandsLogged(log: string): Promise<string[]> {
  return (await readFile(log, 'utf8')).trim().split('\n');
}

function knotcSigner(binary: string) {
  return createKnotSigner({
    id: 'knot-unit',
    server: { address: '127.0.0.1', port: 9 },
    knotc: { configFile: path.join(directory, 'knot.conf') },
    updateMethod: 'knotc',
    binaries: { knotc: binary, keymgr: binary },
    signallingZone: 'knot.test.',
  });
}

describe('signallingZone in the configuration', () => {
  test('takes one zone name or a list, and keeps a list', () => {
    expect(parseKnotConfig({ ...valid, signallingZone: 'knot.test' }).signallingZone).toEqual([
      'knot.test.',
    ]);
    expect(
      parseKnotConfig({ ...valid, signallingZone: ['knot.test.', 'example.net.'] }).signallingZone,
    ).toEqual(['knot.test.', 'example.net.']);
    expect('signallingZone' in parseKnotConfig(valid)).toBe(false);
  });

  test.each([
    [[], 'signallingZone'],
    [7, 'signallingZone'],
    [['knot.test.', 'two words.'], 'signallingZone[1]'],
  ])('refuses %j, naming %s', (value, key) => {
    const error = (() => {
      try {
        parseKnotConfig({ ...valid, signallingZone: value });
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
  test('cannot without signallingZone, can with it', () => {
    const without = createKnotSigner({ ...valid, updateMethod: 'knotc', tsigKeyFile: undefined });
    expect(without.capabilities).toEqual(knotCapabilities);
    expect(knotPlugin.capabilities['bootstrap-signal']?.status).toBe('cannot');
    expect(without.bootstrapSignaller).toBeUndefined();
    const signer = knotcSigner('knotc');
    expect(signer.capabilities['bootstrap-signal']?.status).toBe('can');
    expect(signer.bootstrapSignaller?.signallingZones).toEqual(['knot.test.']);
  });
});

describe('KnotSignaller with updateMethod knotc', () => {
  test('one transaction: unsets only the RRsets present, then sets every record', async () => {
    const { binary, log } = await standInKnotc('knotc-publish');
    await knotcSigner(binary).bootstrapSignaller!.publishSignals(
      CHILD,
      ['ns1.knot.test.', 'ns2.knot.test.'],
      SIGNALS,
      300,
      {},
    );
    expect(await commandsLogged(log)).toEqual([
      'zone-begin knot.test.',
      `zone-get knot.test. ${PRESENT} CDS`,
      `zone-unset knot.test. ${PRESENT} CDS`,
      `zone-set knot.test. ${PRESENT} 300 CDS ${CDS_RDATA}`,
      `zone-get knot.test. ${PRESENT} CDNSKEY`,
      `zone-set knot.test. ${PRESENT} 300 CDNSKEY ${CDNSKEY_RDATA}`,
      `zone-get knot.test. ${ABSENT} CDS`,
      `zone-set knot.test. ${ABSENT} 300 CDS ${CDS_RDATA}`,
      `zone-get knot.test. ${ABSENT} CDNSKEY`,
      `zone-set knot.test. ${ABSENT} 300 CDNSKEY ${CDNSKEY_RDATA}`,
      'zone-commit knot.test.',
    ]);
  });

  test('withdraws by unsetting what is there', async () => {
    const { binary, log } = await standInKnotc('knotc-withdraw');
    await knotcSigner(binary).bootstrapSignaller!.publishSignals(
      CHILD,
      ['ns1.knot.test.'],
      { cds: [], cdnskey: [] },
      300,
      {},
    );
    expect(await commandsLogged(log)).toEqual([
      'zone-begin knot.test.',
      `zone-get knot.test. ${PRESENT} CDS`,
      `zone-unset knot.test. ${PRESENT} CDS`,
      `zone-get knot.test. ${PRESENT} CDNSKEY`,
      'zone-commit knot.test.',
    ]);
  });

  test('aborts the transaction when a command fails', async () => {
    const { binary, log } = await standInKnotc('knotc-fail', 'zone-set');
    const error = await knotcSigner(binary)
      .bootstrapSignaller!.publishSignals(CHILD, ['ns2.knot.test.'], SIGNALS, 300, {})
      .catch((caught: unknown) => caught);
    expect(SignerCommandError.isInstance(error)).toBe(true);
    const commands = await commandsLogged(log);
    expect(commands.at(-1)).toBe('zone-abort knot.test.');
    expect(commands).not.toContain('zone-commit knot.test.');
  });
});

describe('KnotSignaller with updateMethod dns-update', () => {
  test('sends the kit signal UPDATE: RRsets deleted, then the records added', () => {
    const [write] = signalWrites(CHILD, ['ns1.knot.test.'], SIGNALS, 300, ['knot.test.'], 'knot');
    const message = signalUpdate(write!).toMessage(1);
    expect(message.questions).toEqual([{ name: 'knot.test.', type: 'SOA', class: 'IN' }]);
    expect(message.authorities.map((record) => `${record.class} ${record.type}`)).toEqual([
      'ANY CDS',
      'ANY CDNSKEY',
      'IN CDS',
      'IN CDNSKEY',
    ]);
    expect(new Set(message.authorities.map((record) => record.name))).toEqual(new Set([PRESENT]));
  });
});
