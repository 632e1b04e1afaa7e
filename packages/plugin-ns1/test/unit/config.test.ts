import { ConfigError } from '@chorus/core';
import { describe, expect, test } from 'vitest';
import {
  DEFAULT_API_URL,
  DEFAULT_REQUEST_TIMEOUT_MS,
  createNs1Signer,
  ns1Plugin,
  parseConfig,
} from '../../src/index.js';

const valid = {
  id: 'ns1',
  server: { address: '198.51.100.53' },
  api: { apiKeyFile: '/etc/chorus/ns1-api.key' },
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
      id: 'ns1',
      server: { address: '198.51.100.53' },
      nameServers: [{ address: '198.51.100.53' }],
      api: {
        url: DEFAULT_API_URL,
        apiKeyFile: '/etc/chorus/ns1-api.key',
        externalKeySet: 'chorus',
      },
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    });
    expect(DEFAULT_API_URL).toBe('https://api.nsone.net/v1/');
  });

  test('keeps the optional settings and normalises the API URL to end in /v1/', () => {
    const parsed = parseConfig({
      ...valid,
      server: { address: '127.54.0.6', port: 53 },
      nameServers: [{ address: '127.54.0.6' }, { address: '::1', port: 5353 }],
      api: { ...valid.api, url: 'http://127.54.0.6:8000/v1', externalKeySet: 'chorus-lab' },
      requestTimeoutMs: 2500,
    });
    expect(parsed.api).toEqual({
      url: 'http://127.54.0.6:8000/v1/',
      apiKeyFile: '/etc/chorus/ns1-api.key',
      externalKeySet: 'chorus-lab',
    });
    expect(parsed.nameServers).toHaveLength(2);
    expect(parsed.requestTimeoutMs).toBe(2500);
  });

  test.each([
    ['not an object', 'ns1', '(root)', /must be an object/],
    ['an id with upper case', { ...valid, id: 'NS1' }, 'id', /lower-case/],
    ['a missing server', { ...valid, server: undefined }, 'server', /required/],
    [
      'a host name as address',
      { ...valid, server: { address: 'dns1.p01.nsone.net' } },
      'server.address',
      /IPv4 or IPv6/,
    ],
    ['a missing api', { ...valid, api: undefined }, 'api', /required/],
    ['a missing key file', { ...valid, api: {} }, 'api.apiKeyFile', /non-empty string/],
    [
      'a relative key file',
      { ...valid, api: { apiKeyFile: 'ns1.key' } },
      'api.apiKeyFile',
      /absolute/,
    ],
    [
      'an inline API key',
      { ...valid, api: { ...valid.api, apiKey: 'inline-secret' } },
      'api.apiKey',
      /never inline/,
    ],
    ['an inline token at the top', { ...valid, token: 'inline-secret' }, 'token', /never inline/],
    [
      'a URL without /v1',
      { ...valid, api: { ...valid.api, url: 'https://api.nsone.net/' } },
      'api.url',
      /\/v1\//,
    ],
    [
      'an ftp URL',
      { ...valid, api: { ...valid.api, url: 'ftp://api.nsone.net/v1/' } },
      'api.url',
      /http or https/,
    ],
    [
      'credentials in the URL',
      { ...valid, api: { ...valid.api, url: 'https://u:p@api.nsone.net/v1/' } },
      'api.url',
      /credentials/,
    ],
    [
      'a key set name with a slash',
      { ...valid, api: { ...valid.api, externalKeySet: 'a/b' } },
      'api.externalKeySet',
      /key set name/,
    ],
    ['an unknown key', { ...valid, zone: 'example.test.' }, 'zone', /not a known setting/],
    ['a tiny timeout', { ...valid, requestTimeoutMs: 5 }, 'requestTimeoutMs', /100 to 600000/],
  ])('rejects %s with a ConfigError naming the key', (_name, raw, key, problem) => {
    const error = errorOf(raw);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(problem);
    expect(error.message).toContain('ns1 plugin configuration');
    expect(error.message).not.toContain('inline-secret');
    expect(error.isRetryable).toBe(false);
  });

  test('the factory refuses an API key file that cannot be read, naming the key', () => {
    expect(() => createNs1Signer(valid)).toThrow(
      /api.apiKeyFile: cannot read \/etc\/chorus\/ns1-api.key/,
    );
    const readable = { ...valid, api: { apiKeyFile: '/dev/null' } };
    expect(createNs1Signer(readable).kind).toBe('ns1');
  });

  test('the plugin definition is kind ns1 and parses like parseConfig', () => {
    expect(ns1Plugin.kind).toBe('ns1');
    expect(ns1Plugin.specificationVersion).toBe('v1');
    expect(ns1Plugin.parseConfig(valid)).toEqual(parseConfig(valid));
  });
});
