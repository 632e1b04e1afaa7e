import { describe, expect, it } from 'vitest';
import {
  bindMinimumLifetimes,
  bindPolicyTiming,
  checkBindKeyLifetimes,
  namedConfig,
  policyConfig,
  type BindConfigOptions,
} from '../src/bind.js';
import { parseDuration, parseKeyLifetimes, resolveLabConfig } from '../src/config.js';
import { LabError } from '../src/errors.js';
import { planLab } from '../src/plan.js';
import { LAB_PROGRAMS } from '../src/server-kinds.js';

// `--key-lifetimes` and the BIND policy it ends up in, without servers. The minimums are the ones
// named-checkconf 9.18.49 enforces ("key lifetime is shorter than the time it takes to do a
// rollover"), measured on 2026-12-02: with the lab policy at TTL 30, a ZSK needs 111 s, a KSK 51 s.
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

const options = (overrides: Partial<BindConfigOptions>): BindConfigOptions => ({
  directory: '/srv/lab/bind',
  address: '127.66.0.2',
  port: 53,
  rndcPort: 953,
  ttl: 30,
  role: 'signer',
  inlineSigning: false,
  algorithm: 13,
  denial: 'nsec',
  zones: [{ zone: 'roll.test', file: '/srv/lab/bind/roll.test.db' }],
  keyDirectory: '/srv/lab/bind/keys',
  tsigKeyName: 'chorus-bind',
  tsigKeyFile: '/srv/lab/bind/tsig.key',
  rndcKeyName: 'chorus-rndc-bind',
  rndcKeyFile: '/srv/lab/bind/rndc.key',
  pidFile: '/srv/lab/bind/named.pid',
  policyFile: '/srv/lab/bind/dnssec-policy.conf',
  ...overrides,
});

/** named.conf and the policy file it includes. */
const fullConfig = (config: BindConfigOptions): string =>
  `${namedConfig(config)}${policyConfig(config)}`;

describe('parseDuration', () => {
  it.each([
    ['120', 120],
    ['120s', 120],
    ['5m', 300],
    ['1h', 3600],
    ['2d', 172_800],
    [' 10 M ', 600],
  ])('%j is %i s', (text, seconds) => expect(parseDuration(text)).toBe(seconds));

  it.each(['', 'm', '1.5h', '-5', '5x', 'PT5M', '1h30m'])('%j is not a duration', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});

describe('parseKeyLifetimes', () => {
  it('reads either role or both', () => {
    expect(parseKeyLifetimes('zsk=5m,ksk=1h')).toEqual({ zskSeconds: 300, kskSeconds: 3600 });
    expect(parseKeyLifetimes('KSK = 2d')).toEqual({ kskSeconds: 172_800 });
    expect(parseKeyLifetimes('zsk=120')).toEqual({ zskSeconds: 120 });
  });

  it('refuses bad input, saying what it expects', () => {
    expect(labError(() => parseKeyLifetimes('zsk=5x'))).toMatch(
      /invalid key lifetime "zsk=5x".*expected zsk=DURATION,ksk=DURATION.*120, 120s, 5m, 1h/,
    );
    expect(labError(() => parseKeyLifetimes('csk=5m'))).toMatch(/invalid key lifetime "csk=5m"/);
    expect(labError(() => parseKeyLifetimes(''))).toMatch(/invalid key lifetimes ""/);
    expect(labError(() => parseKeyLifetimes('zsk=1m,zsk=2m'))).toMatch(/zsk is given twice/);
    expect(labError(() => parseKeyLifetimes('zsk=0'))).toMatch(/ZSK lifetime \(s\) 0/);
    expect(labError(() => parseKeyLifetimes('ksk=99999d'))).toMatch(/KSK lifetime/);
  });
});

describe('resolveLabConfig keyLifetimes', () => {
  it('is absent by default and kept when given', () => {
    expect(resolveLabConfig({}).keyLifetimes).toBeUndefined();
    expect(resolveLabConfig({ keyLifetimes: {} }).keyLifetimes).toBeUndefined();
    expect(resolveLabConfig({ keyLifetimes: { zskSeconds: 300 } }).keyLifetimes).toEqual({
      zskSeconds: 300,
    });
  });

  it('refuses a lifetime that is not a whole number of seconds', () => {
    expect(labError(() => resolveLabConfig({ keyLifetimes: { kskSeconds: 1.5 } }))).toMatch(
      /invalid KSK lifetime \(s\) 1.5/,
    );
  });

  it('shows the lifetimes in the lab status', () => {
    const config = resolveLabConfig({
      directory: '/tmp/chorus-plan',
      addressPrefix: '127.66.0',
      keyLifetimes: { zskSeconds: 600 },
    });
    expect(planLab(config, programs, ['node', 'agent.js']).keyLifetimes).toEqual({
      zskSeconds: 600,
    });
    const plain = resolveLabConfig({ directory: '/tmp/chorus-plan', addressPrefix: '127.66.0' });
    expect(planLab(plain, programs, ['node', 'agent.js'])).not.toHaveProperty('keyLifetimes');
  });
});

describe('the BIND policy', () => {
  it('pre-publishes for TTL + 20 s, enough for the lab group’s DNSKEY wait (2 + 2 + TTL + 2 s)', () => {
    const timing = bindPolicyTiming(30, 'signer');
    const ipub = timing.dnskeyTtl + timing.publishSafety + timing.zonePropagationDelay;
    expect(ipub).toBe(50);
    expect(ipub).toBeGreaterThanOrEqual(2 + 2 + 30 + 2);
  });

  it('keeps signatures short on signers (a retired ZSK leaves in minutes), default on the parent', () => {
    expect(bindPolicyTiming(30, 'signer').signatures).toEqual({
      validity: 600,
      refresh: 530,
      jitter: 10,
    });
    expect(bindPolicyTiming(3600, 'trap').signatures).toEqual({
      validity: 72_000,
      refresh: 64_790,
      jitter: 10,
    });
    expect(bindPolicyTiming(30, 'parent').signatures).toBeNull();
  });

  it("pre-publishes long enough for a key watch reading 50 zones a second (the sidecar's default)", () => {
    for (const zones of [1, 650, 1_000, 10_001]) {
      const timing = bindPolicyTiming(10, 'signer', zones);
      const ipub = timing.dnskeyTtl + timing.publishSafety + timing.zonePropagationDelay;
      const keyWatchSeconds = Math.max(10, zones / 50);
      // The group's DNSKEY wait in front of the successor signing: watch + DprpC + TTL + margin.
      expect(ipub).toBeGreaterThanOrEqual(keyWatchSeconds + 1 + 10 + 1);
    }
    expect(bindPolicyTiming(10, 'signer', 650).publishSafety).toBe(15);
  });

  it('lengthens signatures with the zone count, so re-signing stays under ~10 zones a second', () => {
    expect(bindPolicyTiming(10, 'signer', 10_001).signatures).toEqual({
      validity: 10_001,
      refresh: 8_990,
      jitter: 167,
    });
    for (const zones of [1, 600, 1_000, 10_001]) {
      const signatures = bindPolicyTiming(10, 'signer', zones).signatures!;
      const resignedPerSecond = zones / (signatures.validity - signatures.refresh);
      expect(resignedPerSecond).toBeLessThanOrEqual(10);
    }
  });

  it('knows the minimum lifetimes named-checkconf enforces', () => {
    expect(bindMinimumLifetimes(bindPolicyTiming(30, 'signer'))).toEqual({ zsk: 111, ksk: 51 });
    // BIND's default signatures (validity 14 d, refresh 5 d; the parent's max-zone-ttl is a day):
    // a ZSK must outlive the 9-day sign delay + max-zone-ttl + retire-safety + propagation.
    expect(bindMinimumLifetimes(bindPolicyTiming(30, 'parent')).zsk).toBe(
      9 * 86400 + 86400 + 5 + 5 + 1,
    );
  });

  it('writes lifetime <seconds> for signers, unlimited without lifetimes and on the parent', () => {
    const lifetimes = { zskSeconds: 300, kskSeconds: 3600 };
    const signer = fullConfig(options({ keyLifetimes: lifetimes }));
    expect(signer).toContain('ksk key-directory lifetime 3600 algorithm ecdsap256sha256;');
    expect(signer).toContain('zsk key-directory lifetime 300 algorithm ecdsap256sha256;');
    expect(signer).toContain('  publish-safety 15;');
    expect(signer).toContain('  signatures-refresh 530;');
    const parent = fullConfig(options({ role: 'parent', keyLifetimes: lifetimes }));
    expect(parent).toContain('zsk key-directory lifetime unlimited');
    expect(parent).not.toContain('signatures-validity');
    expect(fullConfig(options({}))).toContain('ksk key-directory lifetime unlimited');
  });

  it('refuses a lifetime BIND would refuse, explaining the minimum', () => {
    expect(() =>
      checkBindKeyLifetimes({
        ttl: 30,
        zones: ['example.test.'],
        keyLifetimes: { zskSeconds: 111, kskSeconds: 51 },
      }),
    ).not.toThrow();
    expect(
      labError(() =>
        checkBindKeyLifetimes({
          ttl: 30,
          zones: ['example.test.'],
          keyLifetimes: { zskSeconds: 110 },
        }),
      ),
    ).toMatch(
      /ZSK lifetime of 110 s is too short .* at least 111 s.*sign delay 70 = signatures-validity 600 - signatures-refresh 530/,
    );
    expect(
      labError(() =>
        checkBindKeyLifetimes({
          ttl: 30,
          zones: ['example.test.'],
          keyLifetimes: { kskSeconds: 50 },
        }),
      ),
    ).toMatch(
      /KSK lifetime of 50 s .* at least 51 s.*dnskey-ttl 30 \+ publish-safety 15 \+ zone-propagation-delay 5/,
    );
    // planLab refuses before anything runs.
    const config = resolveLabConfig({
      directory: '/tmp/chorus-plan',
      addressPrefix: '127.66.0',
      keyLifetimes: { zskSeconds: 60 },
    });
    expect(labError(() => planLab(config, programs, ['node', 'agent.js']))).toMatch(
      /at least 111 s/,
    );
  });
});
