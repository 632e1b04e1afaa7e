import { describe, expect, it } from 'vitest';
import { DESEC_RATE_LIMITS, NS1_RATE_LIMITS } from '@chorus/provider-fakes';
import { parseProviders, parseRateLimits, resolveLabConfig, validateZones } from '../src/config.js';
import { planLab } from '../src/plan.js';
import { powerDnsServerSettings } from '../src/powerdns.js';
import { LAB_PROGRAMS } from '../src/server-kinds.js';

// No servers: the provider fakes' part of the plan, and the options that shape it.
const programs = Object.fromEntries(LAB_PROGRAMS.map((name) => [name, `/usr/sbin/${name}`]));

function plan(options: Parameters<typeof resolveLabConfig>[0]) {
  return planLab(
    resolveLabConfig({ directory: '/tmp/chorus-providers', addressPrefix: '127.66.0', ...options }),
    programs,
    ['node', 'agent.js'],
  );
}

describe('the lab with provider fakes', () => {
  it('adds a PowerDNS per provider, a pinned resolver each, and an API fake in front of it', () => {
    const status = plan({ providers: ['ns1', 'desec'] });
    const backends = status.servers.filter((server) => ['desec', 'ns1'].includes(server.id));
    expect(backends.map((server) => [server.id, server.software, server.address])).toEqual([
      ['desec', 'powerdns', '127.66.0.5'],
      ['ns1', 'powerdns', '127.66.0.6'],
    ]);
    expect(backends.map((server) => server.nameserverName)).toEqual([
      'ns.desec.test.',
      'ns.ns1.test.',
    ]);
    expect(
      status.resolvers
        .filter((resolver) => resolver.mode === 'forced-signer')
        .map((resolver) => resolver.target.server),
    ).toEqual(['bind', 'powerdns', 'knot', 'desec', 'ns1']);
    expect(status.providers).toMatchObject([
      {
        id: 'desec-api',
        server: 'desec',
        url: 'http://127.66.0.5:8000/api/v1/',
        tokenFile: '/tmp/chorus-providers/desec-api/api.token',
        rateLimits: DESEC_RATE_LIMITS,
      },
      {
        id: 'ns1-api',
        server: 'ns1',
        url: 'http://127.66.0.6:8000/v1/',
        tokenFile: '/tmp/chorus-providers/ns1-api/api.token',
        rateLimits: NS1_RATE_LIMITS,
      },
    ]);
    // The token is in a file only: never on the fake's command line.
    expect(status.providers[0]!.arguments).toEqual([
      expect.stringMatching(/provider-fakes\/dist\/main\.js$/),
      '--config',
      '/tmp/chorus-providers/desec-api/fake.json',
    ]);
  });

  it('has none of it by default', () => {
    const status = plan({});
    expect(status.providers).toEqual([]);
    expect(status.servers.map((server) => server.id)).toEqual([
      'parent',
      'bind',
      'powerdns',
      'knot',
    ]);
  });

  it('signs like each provider: deSEC one CSK with CDS 2 and 4, NS1 no CDS of its own', () => {
    expect(powerDnsServerSettings('desec')).toEqual({
      directDnskey: true,
      keys: 'csk',
      publishCds: '2,4',
      publishCdnskey: true,
    });
    expect(powerDnsServerSettings('ns1')).toMatchObject({ keys: 'ksk-zsk', publishCds: null });
    expect(powerDnsServerSettings('powerdns')).toMatchObject({ publishCds: '2' });
    expect(powerDnsServerSettings('powerdns-no-direct-dnskey').directDnskey).toBe(false);
  });

  it('reserves the providers’ labels', () => {
    expect(() => validateZones(['desec.test'])).toThrow(/reserved/);
    expect(() => validateZones(['ns1.test'])).toThrow(/reserved/);
  });
});

describe('parseProviders', () => {
  it('reads a list, in the lab order, and "all"', () => {
    expect(parseProviders('ns1, desec')).toEqual(['desec', 'ns1']);
    expect(parseProviders('all')).toEqual(['desec', 'ns1']);
  });

  it('names what it does not know', () => {
    expect(() => parseProviders('desec,route53')).toThrow(/unknown provider "route53"/);
    expect(() => parseProviders(' , ')).toThrow(/expected e\.g\. desec,ns1/);
  });
});

describe('parseRateLimits', () => {
  it('replaces a class with the given rates', () => {
    expect(parseRateLimits('desec.write=1/1s+5/1m, ns1.write=10/60s')).toEqual({
      desec: {
        perDomainWrite: [
          { limit: 1, periodSeconds: 1 },
          { limit: 5, periodSeconds: 60 },
        ],
      },
      ns1: { write: { limit: 10, periodSeconds: 60 } },
    });
    const status = plan({ providers: ['desec'], rateLimits: parseRateLimits('desec.write=3/1m') });
    expect(status.providers[0]!.rateLimits).toEqual({
      ...DESEC_RATE_LIMITS,
      perDomainWrite: [{ limit: 3, periodSeconds: 60 }],
    });
  });

  it('refuses what it cannot read, naming the part', () => {
    expect(() => parseRateLimits('desec.writes=1/1s')).toThrow(/"desec\.writes=1\/1s"/);
    expect(() => parseRateLimits('desec.write=0/1s')).toThrow(/invalid rate "0\/1s"/);
    expect(() => parseRateLimits('desec.write=5')).toThrow(/invalid rate "5"/);
    expect(() => parseRateLimits('ns1.write=1/1s+2/1m')).toThrow(/one rate/);
  });
});
