import { describe, expect, it } from 'vitest';
import { namedConfig, policyConfig, type BindConfigOptions } from '../src/bind.js';
import { parseAlgorithm, parseDenial, resolveLabConfig, type LabOptions } from '../src/config.js';
import { LabError } from '../src/errors.js';
import { knotConfig, type KnotConfigOptions } from '../src/knot.js';
import { planLab } from '../src/plan.js';
import { pdnsConfig, type PowerDnsConfigOptions } from '../src/powerdns.js';
import { LAB_PROGRAMS } from '../src/server-kinds.js';

// `--denial` and `--algorithm`, and what they turn into in each server's config, without servers.
// The real servers are checked by test/scenario/nsec3-rsa.test.ts.
const programs = Object.fromEntries(LAB_PROGRAMS.map((name) => [name, `/usr/sbin/${name}`]));

function labError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(LabError.isInstance(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected a LabError');
}

/** named.conf and the policy file it includes. */
const bind = (overrides: Partial<BindConfigOptions>): string => {
  const options: BindConfigOptions = {
    directory: '/srv/lab/bind',
    address: '127.66.0.2',
    port: 53,
    rndcPort: 953,
    ttl: 30,
    role: 'signer',
    inlineSigning: false,
    algorithm: 13,
    denial: 'nsec',
    zones: [{ zone: 'example.test', file: '/srv/lab/bind/example.test.db' }],
    keyDirectory: '/srv/lab/bind/keys',
    tsigKeyName: 'chorus-bind',
    tsigKeyFile: '/srv/lab/bind/tsig.key',
    rndcKeyName: 'chorus-rndc-bind',
    rndcKeyFile: '/srv/lab/bind/rndc.key',
    pidFile: '/srv/lab/bind/named.pid',
    policyFile: '/srv/lab/bind/dnssec-policy.conf',
    ...overrides,
  };
  return `${namedConfig(options)}${policyConfig(options)}`;
};

const knot = (overrides: Partial<KnotConfigOptions>): string =>
  knotConfig({
    directory: '/srv/lab/knot',
    address: '127.66.0.4',
    port: 53,
    ttl: 30,
    zones: ['example.test.', 'csk.test.'],
    controlSocket: '/srv/lab/knot/knot.sock',
    pidFile: '/srv/lab/knot/knot.pid',
    keyDirectory: '/srv/lab/knot/keys',
    tsigKeyName: 'chorus-knot',
    tsigKeySectionFile: '/srv/lab/knot/tsig.knot.conf',
    dnskeyManagement: 'incremental',
    zonefileSync: 0,
    propagationDelaySeconds: 10,
    zskLifetimeSeconds: 0,
    kskLifetimeSeconds: 0,
    algorithm: 13,
    denial: 'nsec',
    ...overrides,
  });

const pdns = (overrides: Partial<PowerDnsConfigOptions>): string =>
  pdnsConfig({
    directory: '/srv/lab/powerdns',
    address: '127.66.0.3',
    port: 53,
    apiPort: 8081,
    apiKey: 'not-a-secret',
    database: '/srv/lab/powerdns/pdns.sqlite3',
    directDnskey: true,
    keys: 'ksk-zsk',
    algorithm: 13,
    ...overrides,
  });

/** The lines of `text` that mention NSEC3, in order. */
const nsec3Lines = (text: string) =>
  text
    .split('\n')
    .filter((line) => /nsec3/i.test(line))
    .map((line) => line.trim());

describe('lab options denial and algorithm', () => {
  it('default to NSEC and algorithm 13', () => {
    const config = resolveLabConfig({ directory: '/tmp/chorus-signing' });
    expect([config.denial, config.algorithm]).toEqual(['nsec', 13]);
  });

  it('take nsec3 and 8', () => {
    const config = resolveLabConfig({
      directory: '/tmp/chorus-signing',
      denial: 'nsec3',
      algorithm: 8,
    });
    expect([config.denial, config.algorithm]).toEqual(['nsec3', 8]);
  });

  it.each<[LabOptions, RegExp]>([
    [
      { denial: 'nsec5' as never },
      /invalid denial "nsec5": the lab option denial takes nsec .*or nsec3/,
    ],
    [{ denial: 'NSEC3' as never }, /the lab option denial takes nsec/],
    [{ algorithm: 5 as never }, /invalid algorithm 5: the lab option algorithm takes 13 .* or 8 /],
    [{ algorithm: '8' as never }, /invalid algorithm "8": the lab option algorithm takes 13/],
  ])('refuses %j with a LabError naming the option and the allowed values', (options, message) => {
    expect(
      labError(() => resolveLabConfig({ directory: '/tmp/chorus-signing', ...options })),
    ).toMatch(message);
  });

  it('parse the CLI forms, and refuse others naming the allowed values', () => {
    expect(parseDenial(' NSEC3 ')).toBe('nsec3');
    expect(parseDenial('nsec')).toBe('nsec');
    expect(parseAlgorithm('8')).toBe(8);
    expect(parseAlgorithm('rsasha256')).toBe(8);
    expect(parseAlgorithm('ECDSAP256SHA256')).toBe(13);
    expect(labError(() => parseDenial('nsec3-optout'))).toMatch(/expected nsec .*or nsec3/);
    expect(labError(() => parseAlgorithm('15'))).toMatch(/expected 13 .* or 8 /);
    expect(labError(() => parseAlgorithm('RSASHA1'))).toMatch(/invalid algorithm "RSASHA1"/);
  });

  it('are recorded in the status, with the NSEC3PARAM only for nsec3', () => {
    const plain = planLab(resolveLabConfig({ directory: '/tmp/chorus-signing' }), programs, [
      'node',
    ]);
    expect(plain).toMatchObject({
      algorithm: 13,
      algorithmName: 'ECDSAP256SHA256',
      denial: 'nsec',
    });
    expect(plain).not.toHaveProperty('nsec3param');
    const rsa = planLab(
      resolveLabConfig({ directory: '/tmp/chorus-signing', denial: 'nsec3', algorithm: 8 }),
      programs,
      ['node'],
    );
    expect(rsa).toMatchObject({
      algorithm: 8,
      algorithmName: 'RSASHA256',
      denial: 'nsec3',
      nsec3param: '1 0 0 -',
    });
  });
});

describe('BIND dnssec-policy', () => {
  it('uses ECDSA P-256 and NSEC by default: no nsec3param (negative control)', () => {
    const text = bind({});
    expect(text).toContain('ksk key-directory lifetime unlimited algorithm ecdsap256sha256;');
    expect(text).toContain('zsk key-directory lifetime unlimited algorithm ecdsap256sha256;');
    expect(nsec3Lines(text)).toEqual([]);
  });

  it('gives RSA its key size and NSEC3 the RFC 9276 parameters, for signers and the parent', () => {
    for (const role of ['signer', 'parent', 'trap'] as const) {
      const text = bind({ role, algorithm: 8, denial: 'nsec3' });
      expect(text).toContain('ksk key-directory lifetime unlimited algorithm rsasha256 2048;');
      expect(text).toContain('zsk key-directory lifetime unlimited algorithm rsasha256 2048;');
      expect(nsec3Lines(text)).toEqual(['nsec3param iterations 0 optout no salt-length 0;']);
    }
  });
});

describe('Knot policies', () => {
  it('say nsec3: off and ecdsap256sha256 by default (negative control)', () => {
    const text = knot({});
    expect(nsec3Lines(text)).toEqual(['nsec3: off', 'nsec3: off']);
    expect(text.match(/algorithm: ecdsap256sha256/g)).toHaveLength(2);
    expect(text).not.toContain('ksk-size');
  });

  it('give both policies (KSK+ZSK and CSK) RSA 2048 and NSEC3 1 0 0 -', () => {
    const text = knot({ algorithm: 8, denial: 'nsec3' });
    const policies = text.split('  - id: ').filter((part) => part.startsWith('chorus'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(policy).toContain(
        '    algorithm: rsasha256\n    ksk-size: 2048\n    zsk-size: 2048\n',
      );
      // Knot 3.2's default salt is 8 octets: it must be spelled out.
      expect(nsec3Lines(policy)).toEqual([
        'nsec3: on',
        'nsec3-iterations: 0',
        'nsec3-salt-length: 0',
        'nsec3-opt-out: off',
        'nsec3-salt-lifetime: 0',
      ]);
    }
  });
});

describe('pdns.conf', () => {
  const defaults = (text: string) => text.split('\n').filter((line) => line.startsWith('default-'));

  it('makes ECDSA P-256 keys by default, without sizes', () => {
    expect(defaults(pdns({}))).toEqual([
      'default-ksk-algorithm=ecdsa256',
      'default-zsk-algorithm=ecdsa256',
    ]);
  });

  it('makes 2048-bit RSASHA256 keys with algorithm 8, and one CSK for deSEC', () => {
    expect(defaults(pdns({ algorithm: 8 }))).toEqual([
      'default-ksk-algorithm=rsasha256',
      'default-zsk-algorithm=rsasha256',
      'default-ksk-size=2048',
      'default-zsk-size=2048',
    ]);
    expect(defaults(pdns({ algorithm: 8, keys: 'csk' })).slice(0, 2)).toEqual([
      'default-ksk-algorithm=rsasha256',
      'default-zsk-algorithm=',
    ]);
  });
});
