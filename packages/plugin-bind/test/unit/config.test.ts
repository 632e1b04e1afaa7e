import { describe, expect, it } from 'vitest';
import { ConfigError } from '@chorus/core';
import { bindPlugin, createBindSigner, parseBindConfig } from '../../src/index.js';

const valid = {
  id: 'bind-ams',
  server: { address: '127.0.0.1', port: 5301 },
  tsigKeyFile: '/etc/chorus/ddns.key',
  rndc: { configFile: '/etc/bind/rndc.conf' },
  keyDirectory: '/var/lib/bind/keys',
};

function configError(raw: unknown): ConfigError {
  try {
    parseBindConfig(raw);
  } catch (error) {
    expect(ConfigError.isInstance(error)).toBe(true);
    return error as ConfigError;
  }
  throw new Error('parseBindConfig accepted invalid input');
}

describe('parseBindConfig', () => {
  it('accepts a minimal configuration and keeps it as plain JSON', () => {
    const config = parseBindConfig(valid);
    expect(config).toEqual(valid);
    expect(JSON.parse(JSON.stringify(config))).toEqual(config);
    expect(bindPlugin.parseConfig(valid)).toEqual(config);
  });

  it('accepts named.conf and the named-checkconf program for key rolls', () => {
    const config = parseBindConfig({
      ...valid,
      namedConfigFile: '/etc/bind/named.conf',
      namedCheckconfBinary: '/usr/bin/named-checkconf',
    });
    expect(config.namedConfigFile).toBe('/etc/bind/named.conf');
    expect(config.namedCheckconfBinary).toBe('/usr/bin/named-checkconf');
    expect(configError({ ...valid, namedConfigFile: 'named.conf' }).key).toBe('namedConfigFile');
  });

  it('accepts rndc by address and key file, and explicit name servers', () => {
    const config = parseBindConfig({
      ...valid,
      nameServers: [{ address: '127.0.0.1', port: 5301 }, { address: '::1' }],
      rndc: { address: '127.0.0.1', port: 9530, keyFile: '/etc/bind/rndc.key', timeoutMs: 5000 },
    });
    expect(config.rndc).toEqual({
      address: '127.0.0.1',
      port: 9530,
      keyFile: '/etc/bind/rndc.key',
      timeoutMs: 5000,
    });
    expect(config.nameServers).toHaveLength(2);
  });

  it.each([
    ['a non-object', 'nope', '(root)', /must be an object/],
    ['a missing id', { ...valid, id: undefined }, 'id', /non-empty string/],
    ['an id with spaces', { ...valid, id: 'bind ams' }, 'id', /letters, digits/],
    ['a missing server', { ...valid, server: undefined }, 'server', /must be an object/],
    [
      'a host name as address',
      { ...valid, server: { address: 'ns1.example' } },
      'server.address',
      /IPv4 or IPv6/,
    ],
    [
      'a port out of range',
      { ...valid, server: { address: '127.0.0.1', port: 70000 } },
      'server.port',
      /from 1 to 65535/,
    ],
    [
      'a port as a string',
      { ...valid, server: { address: '127.0.0.1', port: '53' } },
      'server.port',
      /integer port/,
    ],
    ['an empty nameServers list', { ...valid, nameServers: [] }, 'nameServers', /non-empty list/],
    [
      'a bad name server',
      { ...valid, nameServers: [{ address: 'x' }] },
      'nameServers[0].address',
      /IPv4 or IPv6/,
    ],
    [
      'a relative TSIG key path',
      { ...valid, tsigKeyFile: 'ddns.key' },
      'tsigKeyFile',
      /absolute file path/,
    ],
    [
      'a missing key directory',
      { ...valid, keyDirectory: undefined },
      'keyDirectory',
      /non-empty string/,
    ],
    ['rndc without anything', { ...valid, rndc: {} }, 'rndc', /configFile, or address and keyFile/],
    [
      'rndc address without key file',
      { ...valid, rndc: { address: '127.0.0.1' } },
      'rndc.keyFile',
      /non-empty string/,
    ],
    [
      'rndc with both forms',
      { ...valid, rndc: { configFile: '/a', address: '127.0.0.1' } },
      'rndc.address',
      /not a known setting/,
    ],
    [
      'a zero rndc timeout',
      { ...valid, rndc: { configFile: '/a', timeoutMs: 0 } },
      'rndc.timeoutMs',
      /integer of milliseconds from 1/,
    ],
    [
      'a typo',
      { ...valid, keyDirectroy: '/x' },
      'keyDirectroy',
      /not a known setting.*known keys: id, server/,
    ],
  ])('refuses %s, naming the key', (_label, raw, key, message) => {
    const error = configError(raw);
    expect(error.key).toBe(key);
    expect(error.message).toContain(key);
    expect(error.message).toMatch(message);
    expect(error.isRetryable).toBe(false);
  });

  it('refuses an inline secret and says secrets are file paths', () => {
    const error = configError({ ...valid, tsigSecret: 'c2VjcmV0' });
    expect(error.key).toBe('tsigSecret');
    expect(error.message).toMatch(/only as file paths/);
    expect(error.message).not.toContain('c2VjcmV0');
  });

  it('refuses at start-up (the factory) a key file that cannot be read, naming the key', () => {
    const missing = (raw: unknown) => {
      try {
        createBindSigner(raw);
      } catch (error) {
        expect(ConfigError.isInstance(error)).toBe(true);
        return error as ConfigError;
      }
      throw new Error('createBindSigner accepted a missing key file');
    };
    expect(missing(valid).key).toBe('tsigKeyFile');
    expect(missing(valid).message).toMatch(/cannot read \/etc\/chorus\/ddns.key \(ENOENT\)/);
    const rndcByKey = { address: '127.0.0.1', keyFile: '/nonexistent/rndc.key' };
    expect(missing({ ...valid, tsigKeyFile: '/dev/null', rndc: rndcByKey }).key).toBe(
      'rndc.keyFile',
    );
  });
});
