import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  SignerCommandError,
  SignerConfigurationError,
  UnsupportedCapabilityError,
  type DnskeyData,
} from '@chorus/core';
import {
  BindKeyRoller,
  findSuccessor,
  parseDnssecStatus,
  parseRollover,
  type BindConfig,
  type OwnKey,
} from '../../src/index.js';
import { readZoneKeyFiles } from '../../src/key-files.js';
import type { Rndc } from '../../src/rndc.js';

// The roller's decisions on real BIND 9.18.49 answers captured in the lab on 2026-12-02 during
// an automatic ZSK roll of roll.test. (20118 → 43790): `rndc dnssec -status` before the roll
// (roll-scheduled), with the successor pre-published, and after the predecessor retired; the
// key files of that moment (test/unit/fixtures/keys-roll); `rndc dnssec -rollover` answers.
const fixtures = new URL('fixtures/', import.meta.url);
const text = (name: string) => readFile(new URL(name, fixtures), 'utf8');
const zone = 'roll.test.';
const logger = pino({ level: 'silent' });
let directory: string;

/** Own keys as the signer builds them: rndc's blocks joined with the key files. */
async function ownKeys(statusFixture: string): Promise<OwnKey[]> {
  const files = await readZoneKeyFiles(new URL('keys-roll/', fixtures).pathname, zone);
  return parseDnssecStatus(await text(statusFixture)).keys.map((status) => ({
    status,
    file: files.find((file) => file.keyTag === status.keyTag)!,
  }));
}

function roller(options: {
  config?: Partial<BindConfig>;
  keys?: () => Promise<OwnKey[]>;
  served?: () => Promise<DnskeyData[]>;
  rollover?: Rndc['rollover'];
}) {
  const rollover = vi.fn(
    options.rollover ?? (() => Promise.resolve({ keyTag: 0, scheduledAt: 'now' })),
  );
  const instance = new BindKeyRoller({
    signerId: 'bind-unit',
    config: {
      id: 'bind-unit',
      server: { address: '127.0.0.1' },
      tsigKeyFile: '/unused',
      rndc: { configFile: '/unused' },
      keyDirectory: '/unused',
      ...options.config,
    },
    rndc: { rollover } as unknown as Rndc,
    logger,
    ownKeys: options.keys ?? (() => ownKeys('dnssec-status-zsk-prepublished.txt')),
    servedDnskeys:
      options.served ??
      (async () => (await ownKeys('dnssec-status-zsk-prepublished.txt')).map((k) => k.file.dnskey)),
  });
  return { roller: instance, rollover };
}

/** A stand-in named-checkconf: prints a fixture for `ok.conf`, fails like BIND otherwise. */
async function fakeCheckconf(): Promise<string> {
  const binary = path.join(directory, 'named-checkconf');
  await writeFile(
    binary,
    [
      '#!/bin/sh',
      `echo run >> '${path.join(directory, 'checkconf-runs')}'`,
      'for last; do :; done',
      'case "$last" in',
      `  */ok.conf) cat '${new URL('named-checkconf-lab.txt', fixtures).pathname}' ;;`,
      `  */secret.conf) echo "$last:3: bad secret 'c2VjcmV0c2VjcmV0'" >&2; exit 1 ;;`,
      '  *) echo "open: $last: file not found" >&2; exit 1 ;;',
      'esac',
      '',
    ].join('\n'),
  );
  await chmod(binary, 0o755);
  return binary;
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-bind-roller-'));
});

afterAll(() => rm(directory, { recursive: true, force: true }));

describe('rndc dnssec -rollover', () => {
  it('reads the scheduled roll', async () => {
    expect(parseRollover(await text('rollover-scheduled.txt'))).toEqual({
      keyTag: 41221,
      scheduledAt: '02-Dec-2026 07:14:18.000',
    });
  });

  it('turns "no matching key found" (exit 0) into a SignerCommandError', async () => {
    const output = await text('rollover-no-matching-key.txt');
    expect(() => parseRollover(output)).toThrow(SignerCommandError);
    expect(() => parseRollover(output)).toThrow(/no matching key found/);
  });

  it('reads the roll states that the key watch records', async () => {
    const { keys } = parseDnssecStatus(await text('dnssec-status-zsk-prepublished.txt'));
    expect(keys.map((key) => [key.keyTag, key.role, key.states])).toEqual([
      [
        20118,
        'ZSK',
        [
          ['goal', 'hidden'],
          ['dnskey', 'omnipresent'],
          ['zone rrsig', 'omnipresent'],
        ],
      ],
      [
        24036,
        'KSK',
        [
          ['goal', 'omnipresent'],
          ['dnskey', 'omnipresent'],
          ['ds', 'rumoured'],
          ['key rrsig', 'omnipresent'],
        ],
      ],
      [
        43790,
        'ZSK',
        [
          ['goal', 'omnipresent'],
          ['dnskey', 'rumoured'],
          ['zone rrsig', 'rumoured'],
        ],
      ],
    ]);
  });
});

describe('findSuccessor', () => {
  it('finds the successor of a predecessor BIND is replacing', async () => {
    const keys = await ownKeys('dnssec-status-zsk-prepublished.txt');
    expect(findSuccessor(keys, 'ZSK', [20118])?.status.keyTag).toBe(43790);
    expect(
      findSuccessor(await ownKeys('dnssec-status-zsk-retired.txt'), 'ZSK', [20118])?.status.keyTag,
    ).toBe(43790);
  });

  it('finds none before the roll, for the wrong role, or for keys BIND does not roll', async () => {
    const before = await ownKeys('dnssec-status-roll-scheduled.txt');
    expect(findSuccessor(before, 'ZSK', [20118])).toBeUndefined();
    const during = await ownKeys('dnssec-status-zsk-prepublished.txt');
    expect(findSuccessor(during, 'KSK', [24036])).toBeUndefined();
    expect(findSuccessor(during, 'ZSK', [43790])).toBeUndefined();
    // Both sign the SOA mid-roll: listing the successor as a predecessor must not roll it again.
    expect(findSuccessor(during, 'ZSK', [20118, 43790])?.status.keyTag).toBe(43790);
    // A tag BIND does not know: the current ZSK is not its "successor".
    expect(findSuccessor(during, 'ZSK', [12345])).toBeUndefined();
  });
});

describe('BindKeyRoller.rolloverTiming', () => {
  it("reports BIND's Ipub from named-checkconf -px, and the setting to raise", async () => {
    const binary = await fakeCheckconf();
    const { roller: subject } = roller({
      config: { namedConfigFile: path.join(directory, 'ok.conf'), namedCheckconfBinary: binary },
    });
    expect(await subject.rolloverTiming('roll.test', {})).toEqual({
      mode: 'server-timed',
      prePublicationSeconds: 50,
      settings: 'dnskey-ttl 30 + publish-safety 15 + zone-propagation-delay 5',
      settingToRaise: 'publish-safety in the dnssec-policy of roll.test.',
      confirmsParentDs: true,
    });
  });

  it('reads named.conf once for the zones that ask together, and again for a failed read', async () => {
    const binary = await fakeCheckconf();
    const runs = path.join(directory, 'checkconf-runs');
    await rm(runs, { force: true });
    const { roller: subject } = roller({
      config: { namedConfigFile: path.join(directory, 'ok.conf'), namedCheckconfBinary: binary },
    });
    const timings = await Promise.all(
      ['roll.test', 'roll.test', 'roll.test'].map((name) => subject.rolloverTiming(name, {})),
    );
    await subject.rolloverTiming('roll.test', {});
    expect(timings.map((timing) => timing.prePublicationSeconds)).toEqual([50, 50, 50]);
    expect((await readFile(runs, 'utf8')).trim().split('\n')).toHaveLength(1);

    const { roller: failing } = roller({
      config: {
        namedConfigFile: path.join(directory, 'missing.conf'),
        namedCheckconfBinary: binary,
      },
    });
    await expect(failing.rolloverTiming(zone, {})).rejects.toThrow(/file not found/);
    await expect(failing.rolloverTiming(zone, {})).rejects.toThrow(/file not found/);
    expect((await readFile(runs, 'utf8')).trim().split('\n')).toHaveLength(3);
  });

  it('names namedConfigFile when it is not configured', async () => {
    const error = await roller({})
      .roller.rolloverTiming(zone, {})
      .catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect((error as SignerConfigurationError).setting).toBe('namedConfigFile');
    expect((error as SignerConfigurationError).isRetryable).toBe(false);
  });

  it('names namedConfigFile when named-checkconf cannot read it, without quoting secrets', async () => {
    const binary = await fakeCheckconf();
    const failure = async (file: string) => {
      const { roller: subject } = roller({
        config: { namedConfigFile: path.join(directory, file), namedCheckconfBinary: binary },
      });
      const error = await subject.rolloverTiming(zone, {}).catch((caught: unknown) => caught);
      expect(SignerConfigurationError.isInstance(error)).toBe(true);
      expect((error as SignerConfigurationError).setting).toBe('namedConfigFile');
      return (error as Error).message;
    };
    expect(await failure('missing.conf')).toMatch(/missing\.conf: file not found/);
    expect(await failure('secret.conf')).not.toContain('c2VjcmV0c2VjcmV0');
  });
});

describe('BindKeyRoller.startRoll', () => {
  it('returns the successor BIND already rolls, without asking rndc again', async () => {
    const { roller: subject, rollover } = roller({});
    const successor = await subject.startRoll(zone, 'ZSK', [20118], {});
    expect(successor).toMatchObject({
      keyTag: 43790,
      role: 'ZSK',
      algorithm: 13,
      state: 'goal omnipresent, dnskey rumoured, zone rrsig rumoured',
    });
    expect(rollover).not.toHaveBeenCalled();
  });

  it('runs rndc dnssec -rollover for the predecessor, then waits for the published successor', async () => {
    let rolled = false;
    const { roller: subject, rollover } = roller({
      keys: () =>
        ownKeys(rolled ? 'dnssec-status-zsk-prepublished.txt' : 'dnssec-status-roll-scheduled.txt'),
      rollover: () => {
        rolled = true;
        return Promise.resolve({ keyTag: 20118, scheduledAt: 'now' });
      },
    });
    expect((await subject.startRoll(zone, 'ZSK', [20118], {})).keyTag).toBe(43790);
    expect(rollover).toHaveBeenCalledWith(zone, { keyTag: 20118, algorithm: 13 }, {});
  });

  it('refuses a key tag BIND does not keep, before asking rndc', async () => {
    const { roller: subject, rollover } = roller({
      keys: () => ownKeys('dnssec-status-roll-scheduled.txt'),
    });
    const error = await subject
      .startRoll(zone, 'ZSK', [12345], {})
      .catch((caught: unknown) => caught);
    expect(SignerCommandError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /BIND has no ZSK 12345 that it still keeps for roll\.test\..*20118/,
    );
    expect(rollover).not.toHaveBeenCalled();
  });

  it('stops waiting with AbortError when the caller aborts', async () => {
    const controller = new AbortController();
    const { roller: subject } = roller({
      keys: () => ownKeys('dnssec-status-roll-scheduled.txt'),
      rollover: () => {
        setTimeout(() => controller.abort(), 50);
        return Promise.resolve({ keyTag: 20118, scheduledAt: 'now' });
      },
    });
    const error = await subject
      .startRoll(zone, 'ZSK', [20118], { signal: controller.signal })
      .catch((caught: unknown) => caught);
    expect(AbortError.isInstance(error)).toBe(true);
  });
});

describe('held-mode steps', () => {
  it('reject with UnsupportedCapabilityError: BIND times activation and removal', async () => {
    const { roller: subject } = roller({});
    for (const call of [
      subject.activateSuccessor(zone, 43790, [20118], {}),
      subject.removeKeys(zone, [20118], {}),
    ]) {
      const error = await call.catch((caught: unknown) => caught);
      expect(UnsupportedCapabilityError.isInstance(error)).toBe(true);
      expect((error as UnsupportedCapabilityError).capability).toBe('key-hold-published');
      expect((error as Error).message).toMatch(/dnssec-policy times activation and removal/);
    }
  });
});
