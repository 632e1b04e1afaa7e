import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@chorus/core';
import {
  apiUrl,
  configParser,
  dnsName,
  endpoint,
  filePath,
  integer,
  list,
  object,
  oneOf,
  optional,
  validateConfig,
  withDefault,
} from '@chorus/dns';

let directory: string;
let keyFile: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-kit-config-'));
  keyFile = path.join(directory, 'secret.key');
  await writeFile(keyFile, 'not shown\n', { mode: 0o600 });
});
afterAll(() => rm(directory, { recursive: true, force: true }));

const schema = object(
  {
    zone: dnsName(),
    server: endpoint({ defaultPort: 53 }),
    resolvers: optional(list(endpoint())),
    keyFile: filePath({ mustExist: true }),
    mode: withDefault(oneOf(['a', 'b']), 'a'),
    timeoutMs: withDefault(integer({ min: 100, max: 1000, unit: 'milliseconds' }), 500),
  },
  { secretHint: 'secrets are file paths: keyFile' },
);
const parse = configParser(schema, 'test plugin');

function problem(raw: unknown, checkFiles = false): ConfigError {
  try {
    parse(raw, { checkFiles });
  } catch (error) {
    if (ConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('config schema', () => {
  const valid = { zone: 'Example.Test', server: { address: '::1' }, keyFile: '/x/secret.key' };

  it('fills defaults, normalises names and leaves absent optional keys out', () => {
    expect(parse(valid)).toStrictEqual({
      zone: 'Example.Test.',
      server: { address: '::1', port: 53 },
      keyFile: '/x/secret.key',
      mode: 'a',
      timeoutMs: 500,
    });
  });

  it.each([
    [{ ...valid, zone: 'example.test. extra' }, 'zone', /not " "/],
    [{ ...valid, zone: 'example.test;' }, 'zone', /not ";"/],
    [{ ...valid, zone: 'a..b' }, 'zone', /no empty labels/],
    [{ ...valid, server: { address: 'ns1.test' } }, 'server.address', /IPv4 or IPv6/],
    [{ ...valid, server: { address: '::1', port: 0 } }, 'server.port', /1 to 65535/],
    [{ ...valid, resolvers: [] }, 'resolvers', /non-empty list/],
    [{ ...valid, resolvers: [{ address: 'x' }] }, 'resolvers[0].address', /IPv4/],
    [{ ...valid, keyFile: 'relative.key' }, 'keyFile', /absolute file path/],
    [{ ...valid, mode: 'c' }, 'mode', /"a" or "b"/],
    [{ ...valid, timeoutMs: 5 }, 'timeoutMs', /integer of milliseconds from 100 to 1000/],
    [{ ...valid, tiemoutMs: 5 }, 'tiemoutMs', /not a known setting \(known keys: zone, server/],
    [{ ...valid, secret: 'hunter2' }, 'secret', /secrets are file paths: keyFile/],
    [{ ...valid, server: undefined }, 'server', /is required/],
    ['x', '(root)', /must be an object/],
  ])('refuses %j, naming the key and the source', (raw, key, message) => {
    const error = problem(raw);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`test plugin: ${key}: `)).toBe(true);
    expect(error.message).not.toContain('hunter2');
  });

  it('checks that a key file is readable only when asked (at start-up)', () => {
    expect(parse({ ...valid, keyFile: path.join(directory, 'absent.key') }).keyFile).toMatch(
      /absent/,
    );
    const error = problem({ ...valid, keyFile: path.join(directory, 'absent.key') }, true);
    expect(error.key).toBe('keyFile');
    expect(error.message).toMatch(/cannot read .*absent.key \(ENOENT\)/);
    expect(parse({ ...valid, keyFile }, { checkFiles: true }).keyFile).toBe(keyFile);
  });

  it('validateConfig runs any field on its own', () => {
    expect(validateConfig(list(dnsName()), ['a.test'], { source: 's' })).toEqual(['a.test.']);
  });
});

describe('apiUrl', () => {
  const parseUrl = configParser(
    object(
      {
        url: apiUrl({
          path: /\/api\/v1$/,
          pathHint: '/api/v1/',
          secretHint: 'put the token in a file',
          httpsUnlessLoopback: true,
          trailingSlash: true,
        }),
      },
      {},
    ),
    'test plugin',
  );
  const refusal = (url: string) => {
    try {
      parseUrl({ url });
    } catch (error) {
      if (ConfigError.isInstance(error)) return error.message;
      throw error;
    }
    throw new Error(`accepted ${url}`);
  };

  it('normalises an https URL, and plain http on loopback only', () => {
    expect(parseUrl({ url: 'https://desec.io/api/v1' }).url).toBe('https://desec.io/api/v1/');
    expect(parseUrl({ url: 'http://127.53.0.5:8000/api/v1/' }).url).toBe(
      'http://127.53.0.5:8000/api/v1/',
    );
  });

  it('refuses clear text off loopback, credentials, queries and a wrong path, naming why', () => {
    expect(refusal('http://desec.io/api/v1/')).toMatch(/must use https.*in clear/);
    expect(refusal('https://user:pw@desec.io/api/v1/')).toMatch(/credentials; put the token/);
    expect(refusal('https://desec.io/api/v1/?token=x')).toMatch(/query string/);
    expect(refusal('https://desec.io/v1/')).toMatch(/must end with \/api\/v1\//);
    expect(refusal('not a url')).toMatch(/is not a URL/);
  });
});
