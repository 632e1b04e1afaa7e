import { ConfigError } from '@chorus/core';
import { describe, expect, test } from 'vitest';
import { parseKnotConfig } from '../../src/config.js';
import { createKnotSigner } from '../../src/index.js';

const valid = {
  id: 'knot',
  server: { address: '127.53.0.4' },
  tsigKeyFile: '/etc/knot/chorus.key',
  knotc: { configFile: '/etc/knot/knot.conf' },
};

function configError(raw: unknown): ConfigError {
  try {
    parseKnotConfig(raw);
  } catch (error) {
    if (ConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('parseKnotConfig accepted invalid input');
}

describe('parseKnotConfig', () => {
  test('fills the defaults', () => {
    expect(parseKnotConfig(valid)).toEqual({
      id: 'knot',
      server: { address: '127.53.0.4', port: 53 },
      nameServers: [{ address: '127.53.0.4', port: 53 }],
      tsigKeyFile: '/etc/knot/chorus.key',
      knotc: { configFile: '/etc/knot/knot.conf' },
      updateMethod: 'dns-update',
      binaries: { knotc: 'knotc', keymgr: 'keymgr' },
      timeoutMs: 10_000,
    });
  });

  test('accepts every optional key and is idempotent', () => {
    const full = {
      ...valid,
      server: { address: '::1', port: 5353 },
      nameServers: [{ address: '127.0.0.1' }, { address: '127.0.0.2', port: 5300 }],
      knotc: { socket: '/run/knot/knot.sock', kaspDb: '/var/lib/knot/keys' },
      updateMethod: 'knotc',
      binaries: { knotc: '/usr/sbin/knotc' },
      timeoutMs: 2000,
    };
    const parsed = parseKnotConfig(full);
    expect(parsed.nameServers).toEqual([
      { address: '127.0.0.1', port: 53 },
      { address: '127.0.0.2', port: 5300 },
    ]);
    expect(parsed.binaries).toEqual({ knotc: '/usr/sbin/knotc', keymgr: 'keymgr' });
    expect(parseKnotConfig(parsed)).toEqual(parsed);
  });

  test('the TSIG key file is optional only with updateMethod knotc', () => {
    const withoutKey: Record<string, unknown> = { ...valid };
    delete withoutKey.tsigKeyFile;
    expect(parseKnotConfig({ ...withoutKey, updateMethod: 'knotc' }).tsigKeyFile).toBeUndefined();
    expect(configError(withoutKey).key).toBe('tsigKeyFile');
  });

  test.each([
    [null, '(root)', /must be an object/],
    [{ ...valid, id: '' }, 'id', /non-empty string/],
    [{ ...valid, id: 'has space' }, 'id', /letters, digits/],
    [{ ...valid, server: undefined }, 'server', /must be an object/],
    [{ ...valid, server: { address: 'localhost' } }, 'server.address', /IPv4 or IPv6/],
    [{ ...valid, server: { address: '127.0.0.1', port: 0 } }, 'server.port', /1 to 65535/],
    [
      { ...valid, server: { address: '127.0.0.1', host: 'x' } },
      'server.host',
      /not a known setting/,
    ],
    [{ ...valid, nameServers: [] }, 'nameServers', /non-empty list/],
    [{ ...valid, nameServers: [{ address: '300.1.1.1' }] }, 'nameServers[0].address', /IPv4/],
    [{ ...valid, tsigKeyFile: 'relative.key' }, 'tsigKeyFile', /absolute file path/],
    [{ ...valid, knotc: undefined }, 'knotc', /configFile.*socket/],
    [{ ...valid, knotc: {} }, 'knotc', /exactly one of configFile/],
    [{ ...valid, knotc: { configFile: '/a', socket: '/b' } }, 'knotc', /exactly one of configFile/],
    [{ ...valid, knotc: { configFile: 'knot.conf' } }, 'knotc.configFile', /absolute file path/],
    [{ ...valid, knotc: { configFile: '/a', kaspDb: '/b' } }, 'knotc.kaspDb', /not allowed/],
    [{ ...valid, knotc: { socket: '/a', password: 'x' } }, 'knotc.password', /not a known setting/],
    [{ ...valid, updateMethod: 'nsupdate' }, 'updateMethod', /"dns-update" or "knotc"/],
    [{ ...valid, binaries: { kdig: '/usr/bin/kdig' } }, 'binaries.kdig', /not a known setting/],
    [{ ...valid, timeoutMs: 5 }, 'timeoutMs', /100 to 600000/],
    [{ ...valid, tsigSecret: 'abc' }, 'tsigSecret', /not a known setting/],
  ])('rejects %j naming %s', (raw, key, problem) => {
    const error = configError(raw);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(problem);
    expect(error.message).toContain(key);
    expect(error.isRetryable).toBe(false);
  });

  test('the factory refuses a TSIG key file that cannot be read, naming the key', () => {
    expect(() => createKnotSigner(valid)).toThrow(
      /tsigKeyFile: cannot read \/etc\/knot\/chorus.key/,
    );
    expect(() => createKnotSigner({ ...valid, tsigKeyFile: '/dev/null' })).not.toThrow();
  });
});
