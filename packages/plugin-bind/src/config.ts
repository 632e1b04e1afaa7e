import { isIP } from 'node:net';
import path from 'node:path';
import { ConfigError } from '@chorus/core';

/** A DNS or control endpoint: an IP literal and a port. */
export interface BindEndpoint {
  address: string;
  /** Default 53 for DNS, 953 for rndc. */
  port?: number;
}

/** How to reach rndc: an rndc.conf that names the server and the key, or the server and a key file. */
export type BindRndcConfig =
  | {
      /** `rndc -c <configFile>`: the file names the server, port and key. */
      configFile: string;
      /** The rndc program. Default `rndc` from PATH. */
      binary?: string;
      /** Per-command timeout in milliseconds. Default 10000. */
      timeoutMs?: number;
    }
  | {
      /** `rndc -s <address> -p <port> -k <keyFile>`. */
      address: string;
      /** Default 953. */
      port?: number;
      /** The file with the rndc `key` clause (as written by `rndc-confgen -a`). */
      keyFile: string;
      binary?: string;
      timeoutMs?: number;
    };

/** The plain-JSON configuration of one BIND signer. Secrets appear only as file paths. */
export interface BindConfig {
  /** The instance id, e.g. `bind-ams`. */
  id: string;
  /** Where BIND answers queries and takes DNS UPDATE. */
  server: BindEndpoint;
  /** The addresses the conformance suite and core ask; default `[server]`. */
  nameServers?: BindEndpoint[];
  /** A BIND `key` clause file with the TSIG key allowed to update the zones (`tsig-keygen`). */
  tsigKeyFile: string;
  rndc: BindRndcConfig;
  /** The zones' `key-directory`, where BIND keeps `K<zone>+<alg>+<tag>.{key,private,state}`. */
  keyDirectory: string;
}

export const DEFAULT_DNS_PORT = 53;
export const DEFAULT_RNDC_PORT = 953;
export const DEFAULT_RNDC_TIMEOUT_MS = 10_000;

const SOURCE = 'bind plugin configuration';

function fail(key: string, problem: string): never {
  throw new ConfigError({ key, problem, source: SOURCE });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireObject(value: unknown, key: string): Record<string, unknown> {
  if (!isRecord(value)) fail(key, `must be an object, got ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : `a ${typeof value}`;
}

function rejectUnknownKeys(
  value: Record<string, unknown>,
  allowed: readonly string[],
  prefix: string,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const hint = /secret|password|token/i.test(key)
        ? ' (secrets are configured only as file paths: tsigKeyFile, rndc.keyFile)'
        : ` (known keys: ${allowed.join(', ')})`;
      fail(`${prefix}${key}`, `is not a known setting${hint}`);
    }
  }
}

function requireString(value: unknown, key: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    fail(key, `must be a non-empty string, got ${describe(value)}`);
  return value;
}

function requireFilePath(value: unknown, key: string): string {
  const text = requireString(value, key);
  if (!path.isAbsolute(text))
    fail(key, `must be an absolute file path, got ${JSON.stringify(text)}`);
  return text;
}

function optionalPort(value: unknown, key: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535)
    fail(key, `must be an integer port between 1 and 65535, got ${describe(value)}`);
  return value;
}

function requireAddress(value: unknown, key: string): string {
  const text = requireString(value, key);
  if (isIP(text) === 0)
    fail(key, `must be an IPv4 or IPv6 address literal, got ${JSON.stringify(text)}`);
  return text;
}

function parseEndpoint(value: unknown, key: string): BindEndpoint {
  const raw = requireObject(value, key);
  rejectUnknownKeys(raw, ['address', 'port'], `${key}.`);
  const address = requireAddress(raw.address, `${key}.address`);
  const port = optionalPort(raw.port, `${key}.port`);
  return port === undefined ? { address } : { address, port };
}

function parseRndc(value: unknown): BindRndcConfig {
  const raw = requireObject(value, 'rndc');
  const common: { binary?: string; timeoutMs?: number } = {};
  if (raw.binary !== undefined) common.binary = requireString(raw.binary, 'rndc.binary');
  if (raw.timeoutMs !== undefined) {
    if (typeof raw.timeoutMs !== 'number' || !Number.isInteger(raw.timeoutMs) || raw.timeoutMs < 1)
      fail(
        'rndc.timeoutMs',
        `must be a positive integer of milliseconds, got ${describe(raw.timeoutMs)}`,
      );
    common.timeoutMs = raw.timeoutMs;
  }
  if (raw.configFile !== undefined) {
    rejectUnknownKeys(raw, ['configFile', 'binary', 'timeoutMs'], 'rndc.');
    return { configFile: requireFilePath(raw.configFile, 'rndc.configFile'), ...common };
  }
  if (raw.address === undefined && raw.keyFile === undefined)
    fail('rndc', 'needs either configFile, or address and keyFile');
  rejectUnknownKeys(raw, ['address', 'port', 'keyFile', 'binary', 'timeoutMs'], 'rndc.');
  const address = requireAddress(raw.address, 'rndc.address');
  const port = optionalPort(raw.port, 'rndc.port');
  const keyFile = requireFilePath(raw.keyFile, 'rndc.keyFile');
  return { address, ...(port === undefined ? {} : { port }), keyFile, ...common };
}

/**
 * Validates the raw (JSON) configuration of a BIND signer. Throws ConfigError naming the key.
 *
 * @example
 * parseBindConfig({
 *   id: 'bind-ams',
 *   server: { address: '127.0.0.1', port: 53 },
 *   tsigKeyFile: '/etc/chorus/bind-ddns.key',
 *   rndc: { configFile: '/etc/bind/rndc.conf' },
 *   keyDirectory: '/var/lib/bind/keys',
 * });
 */
export function parseBindConfig(raw: unknown): BindConfig {
  const input = requireObject(raw, '(root)');
  rejectUnknownKeys(
    input,
    ['id', 'server', 'nameServers', 'tsigKeyFile', 'rndc', 'keyDirectory'],
    '',
  );
  const id = requireString(input.id, 'id');
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(id))
    fail('id', `must be letters, digits, dots, dashes or underscores, got ${JSON.stringify(id)}`);
  const server = parseEndpoint(input.server, 'server');
  let nameServers: BindEndpoint[] | undefined;
  if (input.nameServers !== undefined) {
    if (!Array.isArray(input.nameServers) || input.nameServers.length === 0)
      fail(
        'nameServers',
        `must be a non-empty array of { address, port? }, got ${describe(input.nameServers)}`,
      );
    nameServers = input.nameServers.map((entry, index) =>
      parseEndpoint(entry, `nameServers[${index}]`),
    );
  }
  return {
    id,
    server,
    ...(nameServers ? { nameServers } : {}),
    tsigKeyFile: requireFilePath(input.tsigKeyFile, 'tsigKeyFile'),
    rndc: parseRndc(input.rndc),
    keyDirectory: requireFilePath(input.keyDirectory, 'keyDirectory'),
  };
}
