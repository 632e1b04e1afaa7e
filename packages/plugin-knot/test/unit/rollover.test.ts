import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseKeymgrList } from '../../src/keymgr.js';
import { parseConfRead } from '../../src/knotc.js';
import {
  findSuccessor,
  parseKnotTime,
  rolloverKeyType,
  rolloverPolicyOf,
  rolloverTimingOf,
  runningRollover,
  type RolloverPolicy,
} from '../../src/rollover.js';
import { resolveZoneConfig } from '../../src/zone-config.js';

// Real output of Knot 3.2.6: conf-read of fixtures/knot.conf.rollover.txt (policies with set,
// unset, CSK and manual timing, inherited through templates or set on the zone), and keymgr list
// -j of roll.test. during a ZSK roll and a KSK roll under its policy "chorus" (dnskey-ttl 30,
// zone-max-ttl 30, propagation-delay 10).
const fixture = (name: string) =>
  readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

const entries = (server: string) =>
  ['zone', 'template', 'policy'].flatMap((section) =>
    parseConfRead(fixture(`conf-read-${section}.${server}.txt`)),
  );

function policyOf(zone: string, server = 'rollover'): RolloverPolicy {
  const result = rolloverPolicyOf(resolveZoneConfig(entries(server), zone));
  if ('problem' in result) throw new Error(`unexpected problem: ${result.problem.problem}`);
  return result.policy;
}

function problemOf(zone: string) {
  const result = rolloverPolicyOf(resolveZoneConfig(entries('rollover'), zone));
  if (!('problem' in result)) throw new Error('expected a problem');
  return result.problem;
}

describe('Knot TIME values', () => {
  test('conf-read prints seconds; knot.conf units s, m, h, d are understood', () => {
    expect(parseKnotTime('86400')).toBe(86_400);
    expect(parseKnotTime('0')).toBe(0);
    expect(parseKnotTime('90s')).toBe(90);
    expect(parseKnotTime('2m')).toBe(120);
    expect(parseKnotTime('1h')).toBe(3600);
    expect(parseKnotTime('30d')).toBe(2_592_000);
  });

  test('anything else is not a duration (knotd 3.2 has no w unit)', () => {
    for (const value of ['', '1w', '-1', '1.5', 'ten', '1 h'])
      expect(parseKnotTime(value)).toBe(undefined);
  });

  test('conf-read prints durations configured with units as seconds', () => {
    const policy = parseConfRead(fixture('conf-read-policy.rollover.txt'));
    // knot.conf.rollover.txt sets dnskey-ttl: 1h, propagation-delay: 2m, ksk-lifetime: 365d.
    expect(policy).toContainEqual({
      section: 'policy',
      id: 'csk',
      item: 'dnskey-ttl',
      value: '3600',
    });
    expect(policy).toContainEqual({
      section: 'policy',
      id: 'csk',
      item: 'propagation-delay',
      value: '120',
    });
    expect(policy).toContainEqual({
      section: 'policy',
      id: 'csk',
      item: 'ksk-lifetime',
      value: '31536000',
    });
  });
});

describe('rolloverTiming from conf-read', () => {
  test('policy from the default template: dnskey-ttl + propagation-delay', () => {
    const policy = policyOf('roll.test.');
    expect(policy).toMatchObject({
      policy: 'chorus',
      propagationDelaySeconds: 10,
      dnskeyTtlSeconds: 30,
      singleTypeSigning: false,
    });
    expect(rolloverTimingOf(policy, 45)).toEqual({
      mode: 'server-timed',
      prePublicationSeconds: 40,
      settings: 'dnskey-ttl 30 + propagation-delay 10',
      settingToRaise: 'propagation-delay in Knot policy chorus',
      confirmsParentDs: true,
    });
  });

  test('unset values take Knot’s defaults: the SOA TTL and 1h', () => {
    const policy = policyOf('defaults.test.');
    expect(policy).toMatchObject({
      policy: 'knot-defaults',
      propagationDelaySeconds: 3600,
      propagationDelayIsDefault: true,
      dnskeyTtlSeconds: undefined,
      propagationDelayLocation: 'policy[knot-defaults].propagation-delay',
    });
    // defaults.test's SOA has TTL 45 (its minimum is 20): Knot served DNSKEY with TTL 45.
    expect(rolloverTimingOf(policy, 45)).toEqual({
      mode: 'server-timed',
      prePublicationSeconds: 3645,
      settings:
        'dnskey-ttl 45 (unset: the SOA TTL) + propagation-delay 3600 (unset: the default 1h)',
      settingToRaise: 'propagation-delay in Knot policy knot-defaults',
      confirmsParentDs: true,
    });
  });

  test('a policy named on the zone wins over the template; CSK policies are recognised', () => {
    const policy = policyOf('csk.test.');
    expect(policy).toMatchObject({ policy: 'csk', singleTypeSigning: true });
    expect(rolloverTimingOf(policy, 30).prePublicationSeconds).toBe(3600 + 120);
  });

  test('the lab Knot waits dnskey-ttl + propagation-delay 10; its traps dnskey-ttl alone', () => {
    expect(rolloverTimingOf(policyOf('conformance.test.', 'knot'), 30).prePublicationSeconds).toBe(
      40,
    );
    for (const trap of ['knot-full-management', 'knot-zonefile-revert']) {
      const timing = rolloverTimingOf(policyOf('conformance.test.', trap), 30);
      expect(timing.prePublicationSeconds, trap).toBe(30);
    }
  });

  test('a zone without dnssec-policy uses Knot’s built-in policy: where to set it is named', () => {
    const policy = policyOf('b.test.', 'custom');
    expect(policy.policy).toBe(undefined);
    const timing = rolloverTimingOf(policy, 30);
    expect(timing.prePublicationSeconds).toBe(3630);
    expect(timing.settingToRaise).toMatch(/built-in policy.*zone\[b\.test\.\]\.dnssec-policy/);
  });

  test('zones Knot does not roll by itself are problems naming the setting', () => {
    expect(problemOf('manual.test.')).toMatchObject({
      setting: 'policy[by-hand].manual',
      fix: expect.stringMatching(/manual: off/) as unknown,
    });
    expect(problemOf('unsigned.test.').setting).toBe('zone[unsigned.test.].dnssec-signing');
    expect(problemOf('absent.test.').setting).toBe('zone');
  });

  test('an unreadable duration names the setting', () => {
    const broken = parseConfRead('policy.id = odd\npolicy[odd].propagation-delay = soon\n');
    const config = resolveZoneConfig(
      [
        ...broken,
        ...parseConfRead(
          'zone.domain = odd.test.\nzone[odd.test.].dnssec-signing = on\nzone[odd.test.].dnssec-policy = odd\n',
        ),
      ],
      'odd.test.',
    );
    const result = rolloverPolicyOf(config);
    expect('problem' in result && result.problem.setting).toBe('policy[odd].propagation-delay');
  });
});

describe('zone-key-rollover key type', () => {
  test('ZSK → zsk and KSK → ksk without single-type-signing; CSK → ksk with it', () => {
    expect(rolloverKeyType('ZSK', policyOf('roll.test.'))).toEqual({ keyType: 'zsk' });
    expect(rolloverKeyType('KSK', policyOf('roll.test.'))).toEqual({ keyType: 'ksk' });
    expect(rolloverKeyType('CSK', policyOf('csk.test.'))).toEqual({ keyType: 'ksk' });
  });

  test('a role the policy does not use is refused (Knot would add a ZSK next to a CSK)', () => {
    const zsk = rolloverKeyType('ZSK', policyOf('csk.test.'));
    expect('problem' in zsk && zsk.problem.setting).toBe('policy[csk].single-type-signing');
    const csk = rolloverKeyType('CSK', policyOf('roll.test.'));
    expect('problem' in csk && csk.problem.problem).toMatch(/KSK and a ZSK/);
  });
});

describe('successor and running rollover from keymgr list -j', () => {
  const published = parseKeymgrList(fixture('keymgr-list.zsk-roll-published.json'));
  const active = parseKeymgrList(fixture('keymgr-list.zsk-roll-active.json'));
  const removed = parseKeymgrList(fixture('keymgr-list.zsk-roll-removed.json'));
  const submission = parseKeymgrList(fixture('keymgr-list.ksk-roll-submission.json'));
  // Captured at these times (seconds since the epoch).
  const at = {
    published: 1796195462,
    active: 1796195504,
    removed: 1796195545,
    submission: 1796195590,
  };

  test('before the roll, with the old ZSK as predecessor, there is no successor', () => {
    const before = published.filter((key) => key.tag !== 4510);
    expect(findSuccessor(before, 'ZSK', [40844], at.published)).toBe(undefined);
    expect(runningRollover(before, at.published)).toBe(undefined);
  });

  test('the published new ZSK is the successor, and the roll is running', () => {
    expect(findSuccessor(published, 'ZSK', [40844], at.published)?.tag).toBe(4510);
    expect(runningRollover(published, at.published)).toMatch(/ZSK 4510 is published/);
  });

  test('the successor stays the successor once active; the retired predecessor is not one', () => {
    expect(findSuccessor(active, 'ZSK', [40844], at.active)?.tag).toBe(4510);
    // A later roll replacing 4510: the retired 40844 must not be taken for its successor.
    expect(findSuccessor(active, 'ZSK', [4510], at.active)).toBe(undefined);
    // Retired keys do not block a new roll in Knot.
    expect(runningRollover(active, at.active)).toBe(undefined);
    expect(findSuccessor(removed, 'ZSK', [4510], at.removed)).toBe(undefined);
  });

  test('a ZSK roll is no successor of a KSK roll, and vice versa', () => {
    expect(findSuccessor(published, 'KSK', [24917], at.published)).toBe(undefined);
    expect(findSuccessor(submission, 'KSK', [24917], at.submission)?.tag).toBe(45889);
    expect(findSuccessor(submission, 'ZSK', [40844], at.submission)?.tag).toBe(4510);
  });

  test('a KSK waiting for submission next to an active KSK is a running rollover', () => {
    expect(runningRollover(submission, at.submission)).toMatch(
      /KSK 45889 is ready and waits for zone-ksk-submitted while 24917 is active/,
    );
  });

  test('the successor among several candidates is the newest; public-only keys never count', () => {
    const newer = {
      ...published[2]!,
      tag: 1,
      timers: { ...published[2]!.timers, publish: at.published + 5 },
    };
    const imported = { ...newer, tag: 2, publicOnly: true };
    expect(
      findSuccessor([...published, newer, imported], 'ZSK', [40844], at.published + 10)?.tag,
    ).toBe(1);
  });
});
