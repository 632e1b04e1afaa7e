import { ConfigError } from '@chorus/core';
import { describe, expect, test } from 'vitest';
import { DEFAULT_REQUEST_TIMEOUT_MS, createPowerDnsSigner, parseConfig } from '../../src/index.js';

const valid = {
  id: 'powerdns-ams',
  server: { address: '127.53.0.3', port: 53 },
  api: {
    url: 'http://127.53.0.3:8081/api/v1/servers/localhost',
    apiKeyFile: '/etc/chorus/powerdns-api.key',
  },
};

function errorOf(raw: unknown): ConfigError {
  try {
    parseConfig(raw);
  } catch (error) {
    if (ConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('parseConfig accepted the input');
}

describe('parseConfig', () => {
  test('accepts a minimal configuration and fills in the defaults', () => {
    expect(parseConfig(valid)).toEqual({
      id: 'powerdns-ams',
      server: { address: '127.53.0.3', port: 53 },
      nameServers: [{ address: '127.53.0.3', port: 53 }],
      api: valid.api,
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    });
  });

  test('keeps nameServers and requestTimeoutMs, and drops a trailing slash of the API URL', () => {
    const parsed = parseConfig({
      ...valid,
      server: { address: '::1' },
      nameServers: [{ address: '127.53.0.3' }, { address: '127.53.0.33', port: 5353 }],
      api: { ...valid.api, url: 'https://pdns.example:8443/api/v1/servers/localhost/' },
      requestTimeoutMs: 2500,
    });
    expect(parsed.server).toEqual({ address: '::1' });
    expect(parsed.nameServers).toEqual([
      { address: '127.53.0.3' },
      { address: '127.53.0.33', port: 5353 },
    ]);
    expect(parsed.api.url).toBe('https://pdns.example:8443/api/v1/servers/localhost');
    expect(parsed.requestTimeoutMs).toBe(2500);
  });

  test.each([
    ['not an object', 'pdns', '(root)', /must be an object/],
    ['a missing id', { ...valid, id: undefined }, 'id', /lower-case letters/],
    ['an id with upper case', { ...valid, id: 'PowerDNS' }, 'id', /lower-case/],
    ['a missing server', { ...valid, server: undefined }, 'server', /required/],
    [
      'a host name as address',
      { ...valid, server: { address: 'ns1' } },
      'server.address',
      /IPv4 or IPv6/,
    ],
    [
      'port 0',
      { ...valid, server: { address: '127.0.0.1', port: 0 } },
      'server.port',
      /1 to 65535/,
    ],
    [
      'a string port',
      { ...valid, server: { address: '127.0.0.1', port: '53' } },
      'server.port',
      /integer/,
    ],
    ['empty nameServers', { ...valid, nameServers: [] }, 'nameServers', /non-empty list/],
    [
      'a bad name server',
      { ...valid, nameServers: [{ address: 'x' }] },
      'nameServers[0].address',
      /IPv4/,
    ],
    ['a missing api', { ...valid, api: undefined }, 'api', /required/],
    ['a relative URL', { ...valid, api: { ...valid.api, url: '/api/v1' } }, 'api.url', /not a URL/],
    [
      'an ftp URL',
      { ...valid, api: { ...valid.api, url: 'ftp://h/api/v1/servers/localhost' } },
      'api.url',
      /http or https/,
    ],
    [
      'a URL without the server path',
      { ...valid, api: { ...valid.api, url: 'http://127.0.0.1:8081/' } },
      'api.url',
      /\/api\/v1\/servers\/<server id>/,
    ],
    [
      'credentials in the URL',
      { ...valid, api: { ...valid.api, url: 'http://u:p@h/api/v1/servers/localhost' } },
      'api.url',
      /credentials/,
    ],
    [
      'a missing key file',
      { ...valid, api: { url: valid.api.url } },
      'api.apiKeyFile',
      /non-empty string/,
    ],
    [
      'an inline API key',
      { ...valid, api: { ...valid.api, apiKey: 'labsecret' } },
      'api.apiKey',
      /never inline/,
    ],
    [
      'an unknown top-level key',
      { ...valid, zone: 'example.test.' },
      'zone',
      /not a known setting/,
    ],
    ['a tiny timeout', { ...valid, requestTimeoutMs: 5 }, 'requestTimeoutMs', /100 to 600000/],
  ])('rejects %s with a ConfigError naming the key', (_name, raw, key, message) => {
    const error = errorOf(raw);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(message);
    expect(error.message).toContain('powerdns plugin configuration');
    expect(error.isRetryable).toBe(false);
  });

  test('never echoes an inline secret', () => {
    const error = errorOf({ ...valid, api: { ...valid.api, apiKey: 'labsecret' } });
    expect(error.message).not.toContain('labsecret');
  });

  test('the factory refuses an API key file that cannot be read, naming the key', () => {
    expect(() => createPowerDnsSigner(valid)).toThrow(
      /api.apiKeyFile: cannot read \/etc\/chorus\/powerdns-api.key/,
    );
    const readable = { ...valid, api: { ...valid.api, apiKeyFile: '/dev/null' } };
    expect(() => createPowerDnsSigner(readable)).not.toThrow();
  });
});
