import { describe, expect, it } from 'vitest';
import { resolveLabConfig } from '../src/config.js';
import { planLab } from '../src/plan.js';
import { delvTrustAnchors } from '../src/prepare.js';
import { serverZoneFile } from '../src/server-zones.js';
import { DEBIAN_PACKAGE_OF, LAB_PROGRAMS, REQUIRED_FILES } from '../src/server-kinds.js';
import { controlSockets, daemonArguments, serverKind } from '../src/server-kinds.js';

// No servers: the plan is computed from the config and the program paths alone.
const programs = Object.fromEntries(LAB_PROGRAMS.map((name) => [name, `/usr/sbin/${name}`]));
const config = resolveLabConfig({
  directory: '/tmp/chorus-plan',
  addressPrefix: '127.66.0',
  traps: true,
});
const status = planLab(config, programs, ['node', 'agent.js']);

describe('the lab plan, per server kind', () => {
  it('gives each server the files, control endpoint and key store of its kind', () => {
    expect(
      status.servers.map((server) => [
        server.id,
        server.software,
        server.control.kind,
        server.keys.kind,
      ]),
    ).toEqual([
      ['parent', 'bind', 'rndc', 'key-directory'],
      ['bind', 'bind', 'rndc', 'key-directory'],
      ['powerdns', 'powerdns', 'powerdns-api', 'sqlite-database'],
      ['knot', 'knot', 'knotc', 'kasp-database'],
      ['bind-inline-signing', 'bind', 'rndc', 'key-directory'],
      ['powerdns-no-direct-dnskey', 'powerdns', 'powerdns-api', 'sqlite-database'],
      ['knot-full-management', 'knot', 'knotc', 'kasp-database'],
      ['knot-zonefile-revert', 'knot', 'knotc', 'kasp-database'],
    ]);
    const powerdns = status.servers.find((server) => server.id === 'powerdns')!;
    expect(powerdns).toMatchObject({
      binary: '/usr/sbin/pdns_server',
      configFile: '/tmp/chorus-plan/powerdns/pdns.conf',
      keys: { path: '/tmp/chorus-plan/powerdns/pdns.sqlite3' },
      control: {
        url: 'http://127.66.0.3:8081/api/v1/servers/localhost',
        apiKeyFile: '/tmp/chorus-plan/powerdns/api.key',
      },
      tsig: { name: 'chorus-powerdns', keyFile: '/tmp/chorus-plan/powerdns/tsig.key' },
    });
  });

  it('starts each daemon with its kind’s command line and knows its unix sockets', () => {
    const byId = new Map(
      [...status.servers, ...status.resolvers].map((entry) => [entry.id, entry]),
    );
    expect(daemonArguments(byId.get('bind')!)).toEqual([
      '-g',
      '-c',
      '/tmp/chorus-plan/bind/named.conf',
    ]);
    expect(daemonArguments(byId.get('powerdns')!)).toEqual([
      '--config-dir=/tmp/chorus-plan/powerdns',
    ]);
    expect(daemonArguments(byId.get('knot')!)).toEqual(['-c', '/tmp/chorus-plan/knot/knot.conf']);
    expect(daemonArguments(byId.get('resolver-bind')!)).toEqual([
      '-d',
      '-c',
      '/tmp/chorus-plan/resolver-bind/unbound.conf',
    ]);
    expect(controlSockets(byId.get('knot')!)).toEqual(['/tmp/chorus-plan/knot/knot.sock']);
    expect(controlSockets(byId.get('bind')!)).toEqual([]);
    expect(controlSockets(byId.get('resolver-bind')!)).toEqual([
      '/tmp/chorus-plan/resolver-bind/control.sock',
    ]);
    expect(
      status.servers
        .filter((server) => serverKind(server).needsLoopbackAlias)
        .map((server) => server.id),
    ).toEqual(['parent', 'bind', 'bind-inline-signing']);
  });

  it('derives the program list and their Debian packages from the kinds', () => {
    expect([...LAB_PROGRAMS].sort()).toEqual(
      [
        'named',
        'rndc',
        'dnssec-keygen',
        'pdns_server',
        'pdnsutil',
        'zone2sql',
        'knotd',
        'knotc',
        'keymgr',
        'unbound',
        'unbound-control',
        'ip',
        'softhsm2-util',
      ].sort(),
    );
    expect(DEBIAN_PACKAGE_OF).toMatchObject({
      named: 'bind9',
      'dnssec-keygen': 'bind9-utils',
      pdnsutil: 'pdns-server',
      keymgr: 'knot',
      'unbound-control': 'unbound',
      ip: 'iproute2',
      delv: 'bind9-dnsutils',
      'softhsm2-util': 'softhsm2',
    });
    expect(REQUIRED_FILES.map((file) => file.debianPackage)).toEqual([
      'pdns-backend-sqlite3',
      'softhsm2',
    ]);
  });

  it('puts the delv trust-anchor file next to the unbound one', () => {
    expect(status.trustAnchor).toMatchObject({
      file: '/tmp/chorus-plan/trust-anchor.ds',
      delvFile: '/tmp/chorus-plan/trust-anchor.delv.conf',
    });
  });
});

describe('the model-1 zone (owner)', () => {
  const ownerPlan = (providers: ('desec' | 'ns1')[]) => {
    const ownerConfig = resolveLabConfig({
      directory: '/tmp/chorus-plan',
      addressPrefix: '127.66.0',
      owner: true,
      providers,
    });
    return { ownerConfig, plan: planLab(ownerConfig, programs, ['node', 'agent.js']) };
  };
  const zonesBy = (plan: ReturnType<typeof planLab>) =>
    Object.fromEntries(plan.servers.map((server) => [server.id, server.zones]));
  const stubsOf = (plan: ReturnType<typeof planLab>, id: string) =>
    plan.resolvers.find((resolver) => resolver.id === id)!.stubZones.map((stub) => stub.zone);
  const apexNs = (text: string) => text.split('\n').filter((line) => line.startsWith('@ NS '));

  it('is at Knot alone without the NS1 fake, with Knot’s NS name alone', () => {
    for (const providers of [[], ['desec']] as const) {
      const { ownerConfig, plan } = ownerPlan([...providers]);
      expect(plan.owner?.servers).toEqual(['knot']);
      const zones = zonesBy(plan);
      expect(Object.keys(zones).filter((id) => zones[id]!.includes('owner.test.'))).toEqual([
        'knot',
      ]);
      expect(stubsOf(plan, 'resolver-knot')).toContain('owner.test.');
      const knot = plan.servers.find((server) => server.id === 'knot')!;
      expect(apexNs(serverZoneFile(knot, 'owner.test.', ownerConfig))).toEqual([
        '@ NS ns.knot.test.',
      ]);
    }
  });

  it('is also at the NS1 fake when it runs: both NS names at both, and the resolvers pinned to each ask it', () => {
    const { ownerConfig, plan } = ownerPlan(['ns1']);
    expect(plan.owner?.servers).toEqual(['knot', 'ns1']);
    expect(zonesBy(plan).ns1).toEqual(['example.test.', 'owner.test.']);
    expect(stubsOf(plan, 'resolver-ns1')).toEqual(['test.', 'example.test.', 'owner.test.']);
    expect(plan.resolvers.find((resolver) => resolver.id === 'resolver-ns1')!.target).toEqual({
      server: 'ns1',
      zones: ['example.test.', 'owner.test.'],
    });
    expect(stubsOf(plan, 'resolver-knot')).toContain('owner.test.');
    for (const id of ['knot', 'ns1']) {
      const server = plan.servers.find((entry) => entry.id === id)!;
      expect(apexNs(serverZoneFile(server, 'owner.test.', ownerConfig))).toEqual([
        '@ NS ns.knot.test.',
        '@ NS ns.ns1.test.',
      ]);
      // The lab zones keep the server's own NS name alone.
      expect(apexNs(serverZoneFile(server, 'example.test.', ownerConfig))).toEqual([
        `@ NS ns.${id}.test.`,
      ]);
    }
  });
});

describe('delvTrustAnchors', () => {
  it('writes a static-ds clause per DS, digest quoted', () => {
    const ds = { text: '', keyTag: 12345, algorithm: 13, digestType: 2, digest: 'ABCDEF' };
    expect(delvTrustAnchors({ zone: 'test.', ds: [ds, { ...ds, keyTag: 7 }] })).toBe(
      'trust-anchors {\n  test. static-ds 12345 13 2 "ABCDEF";\n  test. static-ds 7 13 2 "ABCDEF";\n};\n',
    );
  });
});
