/**
 * Reading and validating the fake's config file. Every problem names the field, so the lab's log
 * says what to fix.
 */
import { readFile } from 'node:fs/promises';
import type { ProviderFakeConfig, Rate } from './config.js';
import { FakeConfigError } from './errors.js';

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new FakeConfigError(field, 'must be a non-empty string');
  return value;
}

export function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (!isObject(value)) throw new FakeConfigError(field, 'must be an object');
  return value;
}

export function requireInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new FakeConfigError(field, `must be an integer from ${min} to ${max}`);
  return value;
}

export function parseRate(value: unknown, field: string): Rate {
  const rate = requireObject(value, field);
  return {
    limit: requireInteger(rate.limit, `${field}.limit`, 1, 1_000_000_000),
    periodSeconds: requireInteger(rate.periodSeconds, `${field}.periodSeconds`, 1, 31_536_000),
  };
}

/** `rateLimits`: each class is one rate (NS1) or a list of rates (deSEC). */
function parseRateLimits(
  value: unknown,
  provider: ProviderFakeConfig['provider'],
): ProviderFakeConfig['rateLimits'] {
  if (value === undefined) return undefined;
  const limits = requireObject(value, 'rateLimits');
  const allowed = provider === 'desec' ? ['read', 'perDomainWrite', 'user'] : ['read', 'write'];
  const parsed: Record<string, Rate | Rate[]> = {};
  for (const [name, entry] of Object.entries(limits)) {
    const field = `rateLimits.${name}`;
    if (!allowed.includes(name))
      throw new FakeConfigError(
        field,
        `unknown rate class for ${provider} (known: ${allowed.join(', ')})`,
      );
    if (provider === 'desec') {
      if (!Array.isArray(entry)) throw new FakeConfigError(field, 'must be a list of rates');
      parsed[name] = entry.map((rate, index) => parseRate(rate, `${field}[${index}]`));
    } else {
      parsed[name] = parseRate(entry, field);
    }
  }
  return parsed;
}

/** Validates a parsed config object; throws FakeConfigError naming the first wrong field. */
export function parseProviderFakeConfig(value: unknown): ProviderFakeConfig {
  const config = requireObject(value, '(config)');
  const provider = config.provider;
  if (provider !== 'desec' && provider !== 'ns1')
    throw new FakeConfigError('provider', 'must be "desec", "ns1" or "registrar"');
  const listen = requireObject(config.listen, 'listen');
  const address = requireText(listen.address, 'listen.address');
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address))
    throw new FakeConfigError('listen.address', 'must be a 127.x.y.z loopback address');
  const backend = requireObject(config.backend, 'backend');
  const backendUrl = requireText(backend.url, 'backend.url');
  if (!/^https?:\/\//.test(backendUrl))
    throw new FakeConfigError('backend.url', 'must be an http(s) URL');
  const result: ProviderFakeConfig = {
    provider,
    listen: { address, port: requireInteger(listen.port, 'listen.port', 0, 65535) },
    tokenFile: requireText(config.tokenFile, 'tokenFile'),
    adminTokenFile: requireText(config.adminTokenFile, 'adminTokenFile'),
    backend: { url: backendUrl, apiKeyFile: requireText(backend.apiKeyFile, 'backend.apiKeyFile') },
    stateFile: requireText(config.stateFile, 'stateFile'),
    requestLogFile: requireText(config.requestLogFile, 'requestLogFile'),
  };
  if (backend.database !== undefined)
    result.backend.database = requireText(backend.database, 'backend.database');
  if (config.minimumTtl !== undefined)
    result.minimumTtl = requireInteger(config.minimumTtl, 'minimumTtl', 1, 86400);
  const rateLimits = parseRateLimits(config.rateLimits, provider);
  if (rateLimits !== undefined) result.rateLimits = rateLimits;
  return result;
}

/** Reads the JSON config file at `file`. */
export async function readProviderFakeConfig(file: string): Promise<ProviderFakeConfig> {
  return parseProviderFakeConfig(await readConfigJson(file));
}

/** The parsed JSON of a config file (any fake's); FakeConfigError when unreadable or not JSON. */
export async function readConfigJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new FakeConfigError('--config', `cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FakeConfigError('--config', `${file} is not JSON: ${(error as Error).message}`);
  }
  return parsed;
}
