import { describe, expect, it } from 'vitest';
import { parseHostsMode, resolveLabConfig } from '../src/config.js';
import { controlClients, netnsSubnet, requireNamespaces, switchFirewall } from '../src/hosts.js';
import { planLab } from '../src/plan.js';
import { LAB_PROGRAMS } from '../src/server-kinds.js';

// `--hosts netns` is planned from the config alone; making the namespaces is the scenario tests'.
const programs = Object.fromEntries(
  [...LAB_PROGRAMS, 'nats-server', 'openssl'].map((name) => [name, `/usr/sbin/${name}`]),
);
const config = resolveLabConfig({
  directory: '/tmp/chorus-hosts',
  addressPrefix: '127.66.0',
  eventLog: 'nats',
  providers: ['desec'],
  hosts: 'netns',
});
const status = planLab(config, programs, ['node', 'agent.js']);

describe('separate hosts (--hosts netns), planned', () => {
  it('derives one /24 of 198.18.0.0/15 from the address prefix', () => {
    expect(netnsSubnet('127.53.0')).toBe('198.18.53');
    expect(netnsSubnet('127.66.0')).toBe('198.18.66');
    expect(netnsSubnet('127.1.1')).toBe('198.19.1');
    expect(netnsSubnet('127.0.2')).toBe('198.18.0');
  });

  it('gives every server, the registry agent and each NATS node a namespace and an address', () => {
    const hosts = config.hosts;
    expect(hosts.mode).toBe('netns');
    expect(hosts.uplink).toEqual({ interface: 'chorus66-0', address: '198.18.66.254' });
    expect(hosts.namespaces.map((host) => [host.id, host.address, host.signer])).toEqual([
      ['parent', '198.18.66.1', false],
      ['bind', '198.18.66.2', true],
      ['powerdns', '198.18.66.3', true],
      ['knot', '198.18.66.4', true],
      ['desec', '198.18.66.5', true],
      ['registry-agent', '198.18.66.60', false],
      ['nats-1', '198.18.66.71', false],
      ['nats-2', '198.18.66.72', false],
      ['nats-3', '198.18.66.73', false],
    ]);
    for (const host of hosts.namespaces) expect(host.namespace).toBe(`chorus-66-0-${host.id}`);
  });

  it('runs each process in its host, the resolvers on the lab host, an API fake beside its server', () => {
    for (const server of status.servers) {
      expect(server.namespace).toBe(`chorus-66-0-${server.id}`);
      expect(server.address).toMatch(/^198\.18\.66\./);
    }
    for (const resolver of status.resolvers) {
      expect(resolver.namespace).toBeUndefined();
      expect(resolver.address).toMatch(/^127\.66\.0\./);
    }
    expect(status.providers.map((api) => [api.namespace, api.url])).toEqual([
      ['chorus-66-0-desec', expect.stringMatching(/^http:\/\/198\.18\.66\.5:/) as string],
    ]);
    expect(status.registryAgent?.namespace).toBe('chorus-66-0-registry-agent');
    if (status.eventLog.kind !== 'nats') throw new Error('expected NATS');
    expect(status.eventLog.nodes.map((node) => node.namespace)).toEqual([
      'chorus-66-0-nats-1',
      'chorus-66-0-nats-2',
      'chorus-66-0-nats-3',
    ]);
    expect(status.eventLog.servers.every((url) => url.includes('198.18.66.7'))).toBe(true);
  });

  it('lets one signer reach another on port 53 only, and leaves the rest open', () => {
    const rules = switchFirewall(config.hosts);
    expect(rules).toContain(
      'set signers { type ipv4_addr; elements = { 198.18.66.2, 198.18.66.3, 198.18.66.4, 198.18.66.5 } }',
    );
    expect(rules).toContain('th dport 53 accept');
    expect(rules).toContain('ip saddr @signers ip daddr @signers counter drop');
    expect(rules).not.toContain('198.18.66.71');
  });

  it('opens control channels to the server’s own host and the lab host only', () => {
    expect(controlClients(config.hosts, '198.18.66.3')).toEqual([
      '127.0.0.0/8',
      '198.18.66.3/32',
      '198.18.66.254/32',
    ]);
    expect(controlClients(resolveLabConfig({}).hosts, '127.53.0.3')).toEqual(['127.0.0.0/8']);
  });

  it('keeps everything on loopback by default', () => {
    const plain = resolveLabConfig({ addressPrefix: '127.66.0' });
    expect(plain.hosts).toEqual({ mode: 'loopback', namespaces: [] });
    expect(plain.addresses.bind).toBe('127.66.0.2');
  });

  it('refuses namespaces without root, saying what to do, and an unknown mode', () => {
    expect(() => requireNamespaces(1000)).toThrow(
      /--hosts netns .* needs root .*run as root, or leave out --hosts netns/,
    );
    expect(() => requireNamespaces(0)).not.toThrow();
    expect(() => parseHostsMode('docker')).toThrow(
      /invalid hosts "docker": expected loopback or netns/,
    );
  });
});
