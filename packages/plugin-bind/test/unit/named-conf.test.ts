import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  parseBindDuration,
  parseNamedConf,
  readPolicyTiming,
  type PolicyTiming,
} from '../../src/index.js';

// `named-checkconf -px` output of BIND 9.18.49 (2026-12-02): the lab's BIND signer, a scratch
// config whose zones inherit the policy from options or use `default`, and one with a view.
// Paths are rewritten to /srv; shared secrets are printed as question marks by -x.
const fixture = async (name: string) =>
  parseNamedConf(await readFile(new URL(`fixtures/${name}`, import.meta.url), 'utf8'));

async function timing(name: string, zone: string): Promise<PolicyTiming> {
  const result = readPolicyTiming(await fixture(name), zone, '/srv/named.conf');
  if ('setting' in result) throw new Error(`expected a timing, got ${result.problem}`);
  return result;
}

describe('readPolicyTiming (named-checkconf -px)', () => {
  it("reads the lab signer's policy: Ipub 30 + 15 + 5", async () => {
    expect(await timing('named-checkconf-lab.txt', 'roll.test.')).toEqual({
      policy: 'chorus',
      dnskeyTtl: 30,
      publishSafety: 15,
      zonePropagationDelay: 5,
      defaulted: [],
    });
  });

  it('follows a policy inherited from options, with an ISO 8601 duration', async () => {
    expect(await timing('named-checkconf-inherited.txt', 'a.test.')).toMatchObject({
      policy: 'p',
      dnskeyTtl: 3600,
      publishSafety: 5400,
      zonePropagationDelay: 300,
      defaulted: [],
    });
  });

  it("uses BIND's defaults for the built-in default policy", async () => {
    expect(await timing('named-checkconf-inherited.txt', 'b.test.')).toEqual({
      policy: 'default',
      dnskeyTtl: 3600,
      publishSafety: 3600,
      zonePropagationDelay: 300,
      defaulted: ['dnskey-ttl', 'publish-safety', 'zone-propagation-delay'],
    });
  });

  it("finds a zone in a view (any case), takes the view's policy and defaults what it omits", async () => {
    expect(await timing('named-checkconf-view.txt', 'shop.test.')).toEqual({
      policy: 'multi-signer',
      dnskeyTtl: 300,
      publishSafety: 3600,
      zonePropagationDelay: 300,
      defaulted: ['zone-propagation-delay'],
    });
    expect(await timing('named-checkconf-view.txt', 'undefined.test.')).toMatchObject({
      policy: 'bad',
      defaulted: ['dnskey-ttl', 'publish-safety', 'zone-propagation-delay'],
    });
  });

  it('names dnssec-policy for a zone whose policy is none, and namedConfigFile for a missing zone', async () => {
    const statements = await fixture('named-checkconf-view.txt');
    expect(readPolicyTiming(statements, 'plain.test.', '/srv/named.conf')).toMatchObject({
      setting: 'dnssec-policy',
      problem: expect.stringMatching(/dnssec-policy is none/),
    });
    expect(readPolicyTiming(statements, 'missing.test.', '/srv/named.conf')).toMatchObject({
      setting: 'namedConfigFile',
      problem: '/srv/named.conf has no zone statement for missing.test.',
    });
  });

  it('refuses a policy that is named but not defined', () => {
    const statements = parseNamedConf('zone "x.test" { type primary; dnssec-policy "gone"; };');
    expect(readPolicyTiming(statements, 'x.test.', '/srv/named.conf')).toMatchObject({
      setting: 'dnssec-policy',
    });
  });
});

describe('parseNamedConf', () => {
  it('reads quoted words with escapes, skips comments, keeps the first block of a statement', () => {
    const [controls, policy] = parseNamedConf(
      [
        '# comment',
        'controls { inet 127.0.0.1 port 953 allow { 127.0.0.0/8; } keys { "k"; }; };',
        '// another',
        'dnssec-policy "a \\"b\\"" { /* inline */ publish-safety 15; };',
      ].join('\n'),
    );
    expect(controls!.block).toEqual([
      {
        words: ['inet', '127.0.0.1', 'port', '953', 'allow'],
        block: [{ words: ['127.0.0.0/8'], block: undefined }],
      },
    ]);
    expect(policy).toEqual({
      words: ['dnssec-policy', 'a "b"'],
      block: [{ words: ['publish-safety', '15'], block: undefined }],
    });
  });
});

describe('parseBindDuration', () => {
  it.each([
    ['300', 300],
    ['1h30m', 5400],
    ['2w', 1_209_600],
    ['PT1H30M', 5400],
    ['P1D', 86400],
    ['P1W', 604_800],
    ['P1M', 31 * 86400],
    ['P1Y', 365 * 86400],
    ['P1DT2H', 93600],
  ])('%s is %i s', (text, seconds) => {
    expect(parseBindDuration(text)).toBe(seconds);
  });

  it.each(['unlimited', 'P', 'PT', 'P1DT', '1x', ''])('%j is not a duration', (text) => {
    expect(parseBindDuration(text)).toBeUndefined();
  });
});
