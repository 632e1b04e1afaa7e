/**
 * The registrar fake's config file (`node dist/main.js --config FILE` with `"provider":
 * "registrar"`), as the lab writes it. Plain JSON: secrets are never in it, only the paths of the
 * 0600 files that hold them (the API token, the admin token, the parent's TSIG key).
 */
import { isIP } from 'node:net';
import type { NameServer } from '@chorus/core';
import type { Rate } from '../config.js';
import { FakeConfigError } from '../errors.js';
import { isObject, parseRate, requireInteger, requireObject, requireText } from '../load-config.js';

/** The registrar's one rate class: every API request of a token takes a token of its bucket. */
export interface RegistrarRateLimits {
  api: Rate;
}

export interface RegistrarFakeConfig {
  provider: 'registrar';
  /** Where the API listens (loopback only). */
  listen: { address: string; port: number };
  /** 0600 file holding the account's API token (`Authorization: Bearer …`); read per request. */
  tokenFile: string;
  /** 0600 file holding the token of the `/_fake/` control endpoints (header `X-Fake-Admin`). */
  adminTokenFile: string;
  /** One JSON line per request: time, method, path, status, domain. Never headers or bodies. */
  requestLogFile: string;
  /** The token state (valid, expired, revoked), kept across restarts. */
  stateFile: string;
  /** The parent the registrar writes to, by RFC 2136 UPDATE signed with the parent's TSIG key. */
  parent: {
    /** e.g. `test.` */
    zone: string;
    /** Every parent server address; the first is the primary that receives the UPDATEs. */
    servers: NameServer[];
    /** The parent's TSIG key file (BIND `key` syntax). */
    tsigKeyFile: string;
  };
  /** The account's domains (absolute names under `parent.zone`). */
  domains: string[];
  /** TTL of DS, NS and glue records when the parent has none to keep. */
  ttl: number;
  /** Absent: REGISTRAR_RATE_LIMITS. */
  rateLimits?: Partial<RegistrarRateLimits>;
  /** How long a PUT waits for every parent server to serve the change (default 10 000 ms). */
  propagationTimeoutMs?: number;
  /** Time limit of one DNS query or UPDATE to the parent (default 2000 ms). */
  dnsTimeoutMs?: number;
  /** How long an `Idempotency-Key` is remembered (default 86 400 s). */
  idempotencyTtlSeconds?: number;
}

/** The documented default: a bucket of 60 requests, refilled at 60 a minute, per token. */
export const REGISTRAR_RATE_LIMITS: RegistrarRateLimits = {
  api: { limit: 60, periodSeconds: 60 },
};

function absoluteName(value: unknown, field: string): string {
  const text = requireText(value, field).trim().toLowerCase();
  return text.endsWith('.') ? text : `${text}.`;
}

function parseServer(value: unknown, field: string): NameServer {
  const server = requireObject(value, field);
  const address = requireText(server.address, `${field}.address`);
  if (isIP(address) === 0) throw new FakeConfigError(`${field}.address`, 'must be an IP address');
  return server.port === undefined
    ? { address }
    : { address, port: requireInteger(server.port, `${field}.port`, 1, 65535) };
}

function parseParent(value: unknown): RegistrarFakeConfig['parent'] {
  const parent = requireObject(value, 'parent');
  if (!Array.isArray(parent.servers) || parent.servers.length === 0)
    throw new FakeConfigError('parent.servers', 'must list at least one server');
  return {
    zone: absoluteName(parent.zone, 'parent.zone'),
    servers: parent.servers.map((server, index) => parseServer(server, `parent.servers[${index}]`)),
    tsigKeyFile: requireText(parent.tsigKeyFile, 'parent.tsigKeyFile'),
  };
}

function parseDomains(value: unknown, parentZone: string): string[] {
  if (!Array.isArray(value)) throw new FakeConfigError('domains', 'must be a list of names');
  return value.map((entry, index) => {
    const name = absoluteName(entry, `domains[${index}]`);
    if (!name.endsWith(`.${parentZone}`))
      throw new FakeConfigError(`domains[${index}]`, `${name} is not below ${parentZone}`);
    return name;
  });
}

function parseLimits(value: unknown): Partial<RegistrarRateLimits> | undefined {
  if (value === undefined) return undefined;
  const limits = requireObject(value, 'rateLimits');
  const unknown = Object.keys(limits).find((name) => name !== 'api');
  if (unknown !== undefined)
    throw new FakeConfigError(`rateLimits.${unknown}`, 'unknown rate class (known: api)');
  return limits.api === undefined ? {} : { api: parseRate(limits.api, 'rateLimits.api') };
}

function optionalInteger(
  config: Record<string, unknown>,
  field: 'propagationTimeoutMs' | 'dnsTimeoutMs' | 'idempotencyTtlSeconds',
  min: number,
  max: number,
): Partial<RegistrarFakeConfig> {
  const value = config[field];
  return value === undefined ? {} : { [field]: requireInteger(value, field, min, max) };
}

/** Validates a parsed registrar config; throws FakeConfigError naming the first wrong field. */
export function parseRegistrarFakeConfig(value: unknown): RegistrarFakeConfig {
  if (!isObject(value)) throw new FakeConfigError('(config)', 'must be an object');
  if (value.provider !== 'registrar') throw new FakeConfigError('provider', 'must be "registrar"');
  const listen = requireObject(value.listen, 'listen');
  const address = requireText(listen.address, 'listen.address');
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address))
    throw new FakeConfigError('listen.address', 'must be a 127.x.y.z loopback address');
  const parent = parseParent(value.parent);
  const rateLimits = parseLimits(value.rateLimits);
  return {
    provider: 'registrar',
    listen: { address, port: requireInteger(listen.port, 'listen.port', 0, 65535) },
    tokenFile: requireText(value.tokenFile, 'tokenFile'),
    adminTokenFile: requireText(value.adminTokenFile, 'adminTokenFile'),
    requestLogFile: requireText(value.requestLogFile, 'requestLogFile'),
    stateFile: requireText(value.stateFile, 'stateFile'),
    parent,
    domains: parseDomains(value.domains, parent.zone),
    ttl: requireInteger(value.ttl, 'ttl', 1, 86400),
    ...(rateLimits === undefined ? {} : { rateLimits }),
    ...optionalInteger(value, 'propagationTimeoutMs', 100, 600_000),
    ...optionalInteger(value, 'dnsTimeoutMs', 100, 60_000),
    ...optionalInteger(value, 'idempotencyTtlSeconds', 1, 30 * 86400),
  };
}
