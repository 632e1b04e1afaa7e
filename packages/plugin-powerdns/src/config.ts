import { isIP } from 'node:net';
import { ConfigError, type NameServer } from '@chorus/core';

/**
 * Configuration of one PowerDNS signer. Plain JSON; the API key is never in it, only the path
 * of the file that holds it.
 *
 * @example
 * {
 *   "id": "powerdns-ams",
 *   "server": { "address": "127.53.0.3", "port": 53 },
 *   "api": {
 *     "url": "http://127.53.0.3:8081/api/v1/servers/localhost",
 *     "apiKeyFile": "/etc/chorus/powerdns-api.key"
 *   }
 * }
 */
export interface PowerDnsConfig {
  /** The signer's id, e.g. `powerdns-ams`: lower-case letters, digits and dashes. */
  id: string;
  /** Where PowerDNS answers DNS queries; the apex is read from here, on the wire. */
  server: NameServer;
  /** Every address that serves this signer's zones (post-conditions ask each). Default: `[server]`. */
  nameServers?: NameServer[];
  api: {
    /** Base URL of the server in the HTTP API, e.g. `http://127.0.0.1:8081/api/v1/servers/localhost`. */
    url: string;
    /** A file whose content (trimmed) is sent as the `X-API-Key` header. */
    apiKeyFile: string;
  };
  /** Time limit of each HTTP request and DNS query, in milliseconds. Default 10000. */
  requestTimeoutMs?: number;
}

/** The configuration with every default filled in. */
export interface ResolvedPowerDnsConfig {
  id: string;
  server: NameServer;
  nameServers: NameServer[];
  api: { url: string; apiKeyFile: string };
  requestTimeoutMs: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

const SOURCE = 'powerdns plugin configuration';

function fail(key: string, problem: string): never {
  throw new ConfigError({ key, problem, source: SOURCE });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shown(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : `a ${typeof value}`;
}

const SECRET_HINT = 'secrets are never inline: put the API key in a file and set api.apiKeyFile';

function rejectUnknownKeys(
  object: Record<string, unknown>,
  prefix: string,
  allowed: readonly string[],
): void {
  for (const key of Object.keys(object)) {
    if (allowed.includes(key)) continue;
    const looksSecret = /key|secret|password|token/i.test(key) && key !== 'apiKeyFile';
    fail(
      `${prefix}${key}`,
      `unknown key (expected one of ${allowed.join(', ')})${looksSecret ? `; ${SECRET_HINT}` : ''}`,
    );
  }
}

function parseNameServer(value: unknown, key: string): NameServer {
  if (!isObject(value))
    fail(key, `must be an object like { "address": "127.0.0.1", "port": 53 }, got ${shown(value)}`);
  rejectUnknownKeys(value, `${key}.`, ['address', 'port']);
  const { address, port } = value;
  if (typeof address !== 'string' || isIP(address) === 0)
    fail(`${key}.address`, `must be an IPv4 or IPv6 address, got ${shown(address)}`);
  if (port === undefined) return { address };
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    fail(`${key}.port`, `must be an integer from 1 to 65535, got ${shown(port)}`);
  return { address, port };
}

function parseApiUrl(value: unknown): string {
  const key = 'api.url';
  if (typeof value !== 'string' || value.trim() === '')
    fail(
      key,
      `must be the server's API URL, e.g. http://127.0.0.1:8081/api/v1/servers/localhost, got ${shown(value)}`,
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(key, `is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    fail(key, `must use http or https, got ${url.protocol}`);
  if (url.username !== '' || url.password !== '')
    fail(key, `must not contain credentials; ${SECRET_HINT}`);
  if (url.search !== '' || url.hash !== '') fail(key, 'must not have a query string or a fragment');
  const path = url.pathname.replace(/\/+$/, '');
  if (!/\/api\/v1\/servers\/[^/]+$/.test(path))
    fail(
      key,
      `must end with /api/v1/servers/<server id> (usually /api/v1/servers/localhost), got path ${JSON.stringify(url.pathname)}`,
    );
  return `${url.origin}${path}`;
}

/**
 * Validates a raw configuration object. Throws ConfigError naming the offending key; reads no
 * files (the API key file is read at each call, so it can be rotated).
 */
export function parseConfig(raw: unknown): ResolvedPowerDnsConfig {
  if (!isObject(raw)) fail('(root)', `must be an object, got ${shown(raw)}`);
  rejectUnknownKeys(raw, '', ['id', 'server', 'nameServers', 'api', 'requestTimeoutMs']);

  const { id } = raw;
  if (typeof id !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(id))
    fail(
      'id',
      `must be lower-case letters, digits and dashes, e.g. "powerdns-ams", got ${shown(id)}`,
    );

  if (raw.server === undefined) fail('server', 'is required');
  const server = parseNameServer(raw.server, 'server');

  let nameServers: NameServer[] = [server];
  if (raw.nameServers !== undefined) {
    if (!Array.isArray(raw.nameServers) || raw.nameServers.length === 0)
      fail(
        'nameServers',
        `must be a non-empty array of { address, port? }, got ${shown(raw.nameServers)}`,
      );
    nameServers = raw.nameServers.map((entry, index) =>
      parseNameServer(entry, `nameServers[${index}]`),
    );
  }

  if (raw.api === undefined) fail('api', 'is required: { "url": …, "apiKeyFile": … }');
  if (!isObject(raw.api)) fail('api', `must be an object, got ${shown(raw.api)}`);
  rejectUnknownKeys(raw.api, 'api.', ['url', 'apiKeyFile']);
  const url = parseApiUrl(raw.api.url);
  const { apiKeyFile } = raw.api;
  if (typeof apiKeyFile !== 'string' || apiKeyFile.trim() === '')
    fail(
      'api.apiKeyFile',
      `must be the path of the file holding the API key, got ${shown(apiKeyFile)}`,
    );

  let requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS;
  if (raw.requestTimeoutMs !== undefined) {
    const value = raw.requestTimeoutMs;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 100 || value > 600_000)
      fail('requestTimeoutMs', `must be an integer from 100 to 600000, got ${shown(value)}`);
    requestTimeoutMs = value;
  }

  return { id, server, nameServers, api: { url, apiKeyFile }, requestTimeoutMs };
}
