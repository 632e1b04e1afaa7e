import { ConfigError } from '@chorus/core';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  createDesecSigner,
  desecPlugin,
  parseConfig,
} from '../../src/index.js';

const valid = {
  id: 'desec',
  api: { tokenFile: '/etc/chorus/desec.token' },
  server: { address: '192.0.2.53' },
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
      id: 'desec',
      api: { url: 'https://desec.io/api/v1', tokenFile: '/etc/chorus/desec.token' },
      server: { address: '192.0.2.53' },
      nameServers: [{ address: '192.0.2.53' }],
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    });
  });

  test('keeps the URL (without its trailing slash), nameServers and requestTimeoutMs', () => {
    const parsed = parseConfig({
      ...valid,
      api: { ...valid.api, url: 'http://127.54.0.5:8000/api/v1/' },
      server: { address: '127.54.0.5', port: 53 },
      nameServers: [{ address: '127.54.0.5' }, { address: '::1', port: 5353 }],
      requestTimeoutMs: 2500,
    });
    expect(parsed.api.url).toBe('http://127.54.0.5:8000/api/v1');
    expect(parsed.nameServers).toEqual([{ address: '127.54.0.5' }, { address: '::1', port: 5353 }]);
    expect(parsed.requestTimeoutMs).toBe(2500);
  });

  test.each([
    ['not an object', 'desec', '(root)', /must be an object/],
    ['a missing id', { ...valid, id: undefined }, 'id', /lower-case letters/],
    ['a missing api', { ...valid, api: undefined }, 'api', /required/],
    ['a missing token file', { ...valid, api: {} }, 'api.tokenFile', /non-empty string/],
    [
      'a relative token file',
      { ...valid, api: { tokenFile: 'desec.token' } },
      'api.tokenFile',
      /absolute file path/,
    ],
    [
      'an inline token',
      { ...valid, api: { ...valid.api, token: 'abcdef' } },
      'api.token',
      /never inline/,
    ],
    [
      'plain http to a remote host',
      { ...valid, api: { ...valid.api, url: 'http://desec.io/api/v1/' } },
      'api.url',
      /must use https/,
    ],
    [
      'credentials in the URL',
      { ...valid, api: { ...valid.api, url: 'https://u:p@desec.io/api/v1/' } },
      'api.url',
      /credentials/,
    ],
    [
      'a URL without /api/v1',
      { ...valid, api: { ...valid.api, url: 'https://desec.io/' } },
      'api.url',
      /\/api\/v1\//,
    ],
    [
      'a query string',
      { ...valid, api: { ...valid.api, url: 'https://desec.io/api/v1/?x=1' } },
      'api.url',
      /query string/,
    ],
    ['a missing server', { ...valid, server: undefined }, 'server', /required/],
    [
      'a host name as server',
      { ...valid, server: { address: 'ns1.desec.io' } },
      'server.address',
      /IPv4 or IPv6/,
    ],
    ['empty nameServers', { ...valid, nameServers: [] }, 'nameServers', /non-empty list/],
    ['an unknown key', { ...valid, zone: 'example.com.' }, 'zone', /not a known setting/],
    ['a tiny timeout', { ...valid, requestTimeoutMs: 5 }, 'requestTimeoutMs', /100 to 600000/],
  ])('rejects %s with a ConfigError naming the key', (_name, raw, key, message) => {
    const error = errorOf(raw);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(message);
    expect(error.message).toContain('desec plugin configuration');
    expect(error.isRetryable).toBe(false);
  });

  test('never echoes an inline token', () => {
    const error = errorOf({ ...valid, api: { ...valid.api, token: 'inline-secret-123' } });
    expect(error.message).not.toContain('inline-secret-123');
  });

  test('the factory refuses a token file that cannot be read, naming the key', () => {
    expect(() => createDesecSigner(valid)).toThrow(
      /api.tokenFile: cannot read \/etc\/chorus\/desec.token/,
    );
    const readable = { ...valid, api: { tokenFile: '/dev/null' } };
    expect(() => createDesecSigner(readable)).not.toThrow();
  });

  test('the plugin definition', () => {
    expect(desecPlugin.kind).toBe('desec');
    expect(desecPlugin.specificationVersion).toBe('v1');
    const signer = desecPlugin.create(
      desecPlugin.parseConfig({ ...valid, api: { tokenFile: '/dev/null' } }),
      { logger: pino({ level: 'silent' }) },
    );
    expect(signer.kind).toBe('desec');
    expect(signer.nameServers).toEqual([{ address: '192.0.2.53' }]);
  });
});
