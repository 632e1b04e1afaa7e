import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveLabConfig, validateInsecureZones, type LabOptions } from '../src/config.js';
import { planLab } from '../src/plan.js';
import { readRegistryAgentConfig, registryAgentConfigFromStatus } from '../src/registry-agent.js';
import { sha256DsFrom } from '../src/server-kind.js';
import { LAB_PROGRAMS } from '../src/server-kinds.js';
import { serverZoneFile } from '../src/server-zones.js';
import { childZoneFile, parentZoneFile, signallingZoneFile } from '../src/zones.js';

// No servers: the signalling and insecure zones in the config, the plan and the files.
const programs = Object.fromEntries(LAB_PROGRAMS.map((name) => [name, `/usr/sbin/${name}`]));
const SIGNER_NS = ['ns.bind.test.', 'ns.powerdns.test.', 'ns.knot.test.'];

function config(options: LabOptions = {}) {
  return resolveLabConfig({
    directory: '/tmp/chorus-signalling',
    addressPrefix: '127.66.0',
    ...options,
  });
}

function plan(options: LabOptions = {}) {
  return planLab(config(options), programs, ['node', 'agent.js']);
}

const bootLab = { signalling: true, insecureZones: ['boot.test'] };

function lines(file: string, pattern: RegExp): string[] {
  return file.split('\n').filter((line) => pattern.test(line));
}

describe('signalling and insecure zone options', () => {
  it('are off by default', () => {
    expect(config()).toMatchObject({ signalling: false, insecureZones: [] });
    const status = plan();
    expect(status).toMatchObject({ signalling: [], insecureZones: [] });
    expect(status.servers.map((server) => [server.id, server.zones])).toEqual([
      ['parent', ['test.']],
      ['bind', ['example.test.', 'broken.test.']],
      ['powerdns', ['example.test.']],
      ['knot', ['example.test.', 'csk.test.']],
    ]);
  });

  it('validates insecure zone names like the lab zones', () => {
    expect(validateInsecureZones(['Boot.test', 'other.test.'], ['example.test.'])).toEqual([
      'boot.test.',
      'other.test.',
    ]);
    expect(() => validateInsecureZones(['bind.test'], [])).toThrow(/reserved by the lab/);
    expect(() => validateInsecureZones(['a.b.test'], [])).toThrow(/single labels under test/);
    expect(() => validateInsecureZones(['boot.test', 'boot.test.'], [])).toThrow(/listed twice/);
    expect(() => config({ zones: ['boot.test'], insecureZones: ['boot.test'] })).toThrow(
      /both as a zone and as an insecure zone/,
    );
  });

  it('refuses signalling off port 53, and with netns hosts while the agent runs', () => {
    expect(() => config({ signalling: true, port: 5353 })).toThrow(/signalling needs port 53/);
    expect(() => config({ signalling: true, hosts: 'netns' })).toThrow(/--no-registry-agent/);
    expect(config({ signalling: true, hosts: 'netns', registryAgent: false }).signalling).toBe(
      true,
    );
  });
});

describe('the lab plan with signalling and an insecure zone', () => {
  const status = plan(bootLab);

  it('lists the signalling zones and the insecure zones in the status', () => {
    expect(status.signalling).toEqual([
      { server: 'bind', zone: 'bind.test.', nameserver: 'ns.bind.test.' },
      { server: 'powerdns', zone: 'powerdns.test.', nameserver: 'ns.powerdns.test.' },
      { server: 'knot', zone: 'knot.test.', nameserver: 'ns.knot.test.' },
    ]);
    expect(status.insecureZones).toEqual(['boot.test.']);
    expect(status.zones).toEqual(['example.test.']);
  });

  it('has each signer serve the insecure zone and its own signalling zone', () => {
    expect(status.servers.map((server) => [server.id, server.zones])).toEqual([
      ['parent', ['test.']],
      ['bind', ['example.test.', 'boot.test.', 'broken.test.', 'bind.test.']],
      ['powerdns', ['example.test.', 'boot.test.', 'powerdns.test.']],
      ['knot', ['example.test.', 'boot.test.', 'csk.test.', 'knot.test.']],
    ]);
  });

  it('leaves traps and providers out of both', () => {
    const withOthers = plan({ ...bootLab, traps: true, providers: ['desec'] });
    const others = withOthers.servers.filter(
      (server) => !['parent', 'bind', 'powerdns', 'knot'].includes(server.id),
    );
    expect(others.map((server) => server.zones)).toEqual(others.map(() => ['example.test.']));
  });

  it('gives the registry agent and the registrar the insecure zones', () => {
    const withRegistrar = plan({ ...bootLab, registrar: true, registryAgent: false });
    expect(status.registryAgent?.zones).toEqual(['example.test.', 'boot.test.']);
    expect(withRegistrar.registrar?.domains).toEqual(['example.test.', 'boot.test.']);
  });

  it('off port 53, stubs the insecure zones at bind, and at each signer for its resolver', () => {
    const offPort = plan({ insecureZones: ['boot.test'], port: 5353 });
    const resolver = (id: string) => offPort.resolvers.find((entry) => entry.id === id)!;
    const stubs = (id: string) =>
      resolver(id).stubZones.map((stub) => `${stub.zone}@${stub.server}`);
    expect(stubs('resolver-delegation')).toEqual([
      'test.@parent',
      'example.test.@bind',
      'boot.test.@bind',
      'broken.test.@bind',
    ]);
    expect(stubs('resolver-knot')).toEqual([
      'test.@parent',
      'example.test.@knot',
      'boot.test.@knot',
    ]);
  });
});

describe('the zone files', () => {
  it('puts every signer’s NS name at the apex of an insecure zone', () => {
    const file = childZoneFile({
      zone: 'boot.test.',
      ttl: 30,
      nameserverName: 'ns.knot.test.',
      apexNameservers: SIGNER_NS,
    });
    expect(lines(file, /^@ (SOA|NS) /)).toEqual([
      '@ SOA ns.knot.test. hostmaster.boot.test. 1 3600 600 86400 30',
      '@ NS ns.bind.test.',
      '@ NS ns.powerdns.test.',
      '@ NS ns.knot.test.',
    ]);
  });

  it('keeps the signer’s own NS name alone at the apex of a lab zone', () => {
    const file = childZoneFile({ zone: 'example.test.', ttl: 30, nameserverName: 'ns.bind.test.' });
    expect(lines(file, /^@ NS /)).toEqual(['@ NS ns.bind.test.']);
  });

  it('writes a signalling zone with SOA, NS and the address of the NS name only', () => {
    const file = signallingZoneFile({
      zone: 'bind.test.',
      ttl: 30,
      nameserverName: 'ns.bind.test.',
      address: '127.66.0.2',
    });
    expect(file).toBe(
      [
        '$ORIGIN bind.test.',
        '$TTL 30',
        '@ SOA ns.bind.test. hostmaster.bind.test. 1 3600 600 86400 30',
        '@ NS ns.bind.test.',
        'ns.bind.test. A 127.66.0.2',
        '',
      ].join('\n'),
    );
  });

  it('chooses each server’s content by zone', () => {
    const labConfig = config(bootLab);
    const knot = plan(bootLab).servers.find((server) => server.id === 'knot')!;
    expect(serverZoneFile(knot, 'knot.test.', labConfig)).toContain('ns.knot.test. A 127.66.0.4');
    expect(lines(serverZoneFile(knot, 'boot.test.', labConfig), /^@ NS /)).toHaveLength(3);
    expect(lines(serverZoneFile(knot, 'example.test.', labConfig), /^@ NS /)).toEqual([
      '@ NS ns.knot.test.',
    ]);
  });
});

describe('the parent zone', () => {
  const file = parentZoneFile({
    zone: 'test.',
    ttl: 30,
    nameserverName: 'ns.test.',
    addresses: [
      { name: 'ns.test.', address: '127.66.0.1' },
      { name: 'ns.bind.test.', address: '127.66.0.2' },
    ],
    delegations: [
      { zone: 'boot.test.', nameserverNames: SIGNER_NS, ds: [] },
      { zone: 'bind.test.', nameserverNames: ['ns.bind.test.'], ds: ['1234 13 2 ABCD'] },
    ],
  });

  it('delegates an insecure zone to the three signers without DS', () => {
    expect(lines(file, /^boot\.test\. /)).toEqual([
      'boot.test. NS ns.bind.test.',
      'boot.test. NS ns.powerdns.test.',
      'boot.test. NS ns.knot.test.',
    ]);
  });

  it('delegates a signalling zone with its DS, the NS address becoming glue', () => {
    expect(lines(file, /^(bind\.test\.|ns\.bind\.test\.) /)).toEqual([
      'ns.bind.test. A 127.66.0.2',
      'bind.test. NS ns.bind.test.',
      'bind.test. DS 1234 13 2 ABCD',
    ]);
  });
});

describe('DS from the servers’ tools', () => {
  it('takes the SHA-256 DS from keymgr and pdnsutil output', () => {
    const keymgr = [
      'knot.test. DS 52516 13 2 2ebf7291b33d',
      'knot.test. DS 52516 13 4 6d11996145ad',
    ].join('\n');
    const pdnsutil = [
      'powerdns.test. IN DS 26778 13 4 02023f9b ; ( SHA-384 digest )',
      'powerdns.test. IN DS 26778 13 2 81d7f1df ; ( SHA256 digest )',
    ].join('\n');
    expect(sha256DsFrom('knot.test.', keymgr)).toEqual({
      zone: 'knot.test.',
      ds: '52516 13 2 2EBF7291B33D',
    });
    expect(sha256DsFrom('powerdns.test.', pdnsutil).ds).toBe('26778 13 2 81D7F1DF');
    expect(() => sha256DsFrom('knot.test.', 'nothing')).toThrow(/no SHA-256 DS/);
  });
});

describe('the registry agent with signalling', () => {
  it('validates the signals through resolver-delegation and scans the insecure zones', () => {
    const agent = registryAgentConfigFromStatus(plan(bootLab));
    expect(agent.validatingResolver).toEqual({ address: '127.66.0.50', port: 53 });
    expect(agent.zones).toEqual(['example.test.', 'boot.test.']);
  });

  it('has no validating resolver without signalling', () => {
    const agent = registryAgentConfigFromStatus(plan({ insecureZones: ['boot.test'] }));
    expect(agent.validatingResolver).toBeUndefined();
    expect(agent.zones).toEqual(['example.test.', 'boot.test.']);
  });

  it('reads the validating resolver from its config file, and checks it', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'chorus-agent-config-'));
    const file = path.join(directory, 'agent.json');
    try {
      const agent = registryAgentConfigFromStatus(plan(bootLab));
      await writeFile(file, JSON.stringify(agent));
      expect((await readRegistryAgentConfig(file)).validatingResolver).toEqual({
        address: '127.66.0.50',
        port: 53,
      });
      await writeFile(file, JSON.stringify({ ...agent, validatingResolver: { port: 53 } }));
      await expect(readRegistryAgentConfig(file)).rejects.toThrow(
        /validatingResolver must be \{ address, port \}/,
      );
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
