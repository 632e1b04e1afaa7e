import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseConfRead } from '../../src/knotc.js';
import {
  findApplyMisconfigurations,
  findMisconfigurations,
  resolveZoneConfig,
} from '../../src/zone-config.js';

// conf-read output of the lab's normal Knot, its two traps, and a hand-written knot.conf with
// zone-level settings, a named template and a zone without dnssec-policy (all Knot 3.2.6).
function entries(server: string) {
  return ['zone', 'template', 'policy'].flatMap((section) =>
    parseConfRead(
      readFileSync(new URL(`fixtures/conf-read-${section}.${server}.txt`, import.meta.url), 'utf8'),
    ),
  );
}

const settings = (server: string, zone: string) =>
  findMisconfigurations(resolveZoneConfig(entries(server), zone)).map((problem) => problem.setting);

describe('effective zone configuration', () => {
  test('the lab Knot: settings come from template[default] and policy[chorus]', () => {
    const config = resolveZoneConfig(entries('knot'), 'conformance.test.');
    expect(config.configured).toBe(true);
    expect(config.template).toBe('default');
    expect(config.policy).toBe('chorus');
    expect(config.zoneItem('zonefile-sync')).toMatchObject({
      value: '0',
      source: 'template[default].zonefile-sync',
    });
    expect(config.policyItem('dnskey-management').value).toBe('incremental');
    expect(findMisconfigurations(config)).toEqual([]);
  });

  test('trap knot-full-management: refused for policy[chorus].dnskey-management', () => {
    const [problem] = findMisconfigurations(
      resolveZoneConfig(entries('knot-full-management'), 'conformance.test.'),
    );
    expect(problem?.setting).toBe('policy[chorus].dnskey-management');
    expect(problem?.problem).toMatch(/silently drops|silently/);
    expect(problem?.fix).toMatch(/dnskey-management: incremental/);
    expect(settings('knot-full-management', 'example.test.')).toEqual([
      'policy[chorus].dnskey-management',
    ]);
  });

  test('trap knot-zonefile-revert: refused for template[default].zonefile-sync', () => {
    const problems = findMisconfigurations(
      resolveZoneConfig(entries('knot-zonefile-revert'), 'conformance.test.'),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]!.setting).toBe('template[default].zonefile-sync');
    expect(problems[0]!.problem).toMatch(/difference-no-serial.*every restart/);
    expect(problems[0]!.fix).toMatch(/zonefile-sync: 0/);
  });

  test('a named template wins over default; zonefile-load none with a journal is safe', () => {
    const config = resolveZoneConfig(entries('custom'), 'a.test.');
    expect(config.template).toBe('journal-only');
    expect(config.zoneItem('zonefile-sync').value).toBe('-1');
    expect(config.zoneItem('zonefile-load').value).toBe('none');
    expect(findMisconfigurations(config)).toEqual([]);
  });

  test('a zone without dnssec-policy uses the built-in policy: dnskey-management full', () => {
    const config = resolveZoneConfig(entries('custom'), 'b.test');
    expect(config.template).toBeUndefined();
    expect(config.policy).toBeUndefined();
    expect(config.policyItem('dnskey-management')).toMatchObject({
      value: 'full',
      source: 'built-in default',
      location: 'zone[b.test.].dnssec-policy',
    });
    expect(settings('custom', 'b.test.')).toEqual([
      'zone[b.test.].dnssec-policy',
      'zone[b.test.].dnssec-policy',
    ]);
  });

  test('zone-level settings win, zone names match case-insensitively', () => {
    expect(settings('custom', 'C.TEST.')).toEqual(['zone[c.test.].zonefile-sync']);
    const [problem] = findMisconfigurations(resolveZoneConfig(entries('custom'), 'c.test.'));
    expect(problem!.problem).toMatch(/whole \(the built-in default\).*next edit and reload/);
    expect(settings('custom', 'd.test.')).toEqual([]);
  });

  test('an unknown zone is refused for the zone section', () => {
    const [problem] = findMisconfigurations(resolveZoneConfig(entries('knot'), 'other.test.'));
    expect(problem).toMatchObject({ setting: 'zone' });
  });

  test('dnssec-signing off and cds-cdnskey-publish rollover are refused', () => {
    const base = entries('knot').filter(
      (entry) => entry.item !== 'dnssec-signing' && entry.item !== 'cds-cdnskey-publish',
    );
    expect(findMisconfigurations(resolveZoneConfig(base, 'conformance.test.'))).toMatchObject([
      { setting: 'template[default].dnssec-signing' },
      { setting: 'policy[chorus].cds-cdnskey-publish' },
    ]);
  });

  test('zonefile-load none without journal-content all is refused', () => {
    const base = entries('custom').map((entry) =>
      entry.item === 'journal-content' ? { ...entry, value: 'changes' } : entry,
    );
    expect(findMisconfigurations(resolveZoneConfig(base, 'a.test.'))).toMatchObject([
      { setting: 'template[journal-only].journal-content' },
    ]);
  });
});

describe('applying a plan to a model-1 zone (offline-ksk: on)', () => {
  // The lab's owner.test. (Knot 3.2.6 conf-read): template default, policy chorus-owner.
  const config = resolveZoneConfig(
    parseConfRead(
      [
        'zone.domain = owner.test.',
        'zone[owner.test.].dnssec-policy = chorus-owner',
        'template.id = default',
        'template[default].dnssec-signing = on',
        'policy.id = chorus-owner',
        'policy[chorus-owner].offline-ksk = on',
        'policy[chorus-owner].zsk-lifetime = 0',
      ].join('\n'),
    ),
    'owner.test.',
  );

  test('takes NS and CSYNC changes without the model-2 settings, and refuses DNSKEY, CDS and CDNSKEY', () => {
    expect(findApplyMisconfigurations(config, ['NS', 'CSYNC'])).toEqual([]);
    const [problem] = findApplyMisconfigurations(config, ['NS', 'DNSKEY', 'CDS']);
    expect(problem?.setting).toBe('policy[chorus-owner].offline-ksk');
    expect(problem?.problem).toMatch(/owner signed \(model 1\).*no DNSKEY, CDS change/);
    // Negative control: model 2's check of the same zone names dnskey-management first.
    expect(findMisconfigurations(config)[0]?.setting).toBe(
      'policy[chorus-owner].dnskey-management',
    );
  });

  test('a model-2 zone is judged by model 2 settings whatever the plan holds', () => {
    const lab = resolveZoneConfig(entries('knot-full-management'), 'conformance.test.');
    expect(findApplyMisconfigurations(lab, ['NS']).map((problem) => problem.setting)).toEqual(
      findMisconfigurations(lab).map((problem) => problem.setting),
    );
  });
});
