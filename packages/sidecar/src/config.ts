import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, normalizeName, type NameServer } from '@chorus/core';

/**
 * The sidecar's configuration file (JSON). Secrets never appear in it: plugins take key files,
 * and `${env:NAME}` references are expanded from the environment for values that must be
 * inline. Every problem is a ConfigError naming the key.
 */
export interface SidecarConfig {
  /** This sidecar's signer id, unique in every zone it serves, e.g. `bind`. */
  id: string;
  /** The shared event log. */
  eventLog: { kind: 'sqlite'; path: string };
  /** The signer plugin: a package name (or a file path) exporting a plugin definition, and its configuration. */
  signer: { plugin: string; config: unknown };
  zones: string[];
  /** The NS names this signer serves the zones under (what the parent will delegate to). */
  nameServerNames: string[];
  /** Where the parent is observed: the addresses of every parent nameserver. */
  parent: { zone: string; servers: NameServer[] };
  /** pino level; default `info`. */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function record(value: unknown, key: string, source: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError({ key, problem: 'must be an object', source });
  return value as Record<string, unknown>;
}

function text(value: unknown, key: string, source: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new ConfigError({ key, problem: 'must be a non-empty string', source });
  return value;
}

function names(value: unknown, key: string, source: string): string[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new ConfigError({ key, problem: 'must be a non-empty list of domain names', source });
  return value.map((item, index) => {
    try {
      return normalizeName(text(item, `${key}[${index}]`, source));
    } catch (error) {
      throw new ConfigError({ key: `${key}[${index}]`, problem: (error as Error).message, source });
    }
  });
}

/** Replaces `${env:NAME}` in strings; a missing variable is an error naming it (never its value). */
function expandEnvironment(value: unknown, key: string, source: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
      const found = process.env[name];
      if (found === undefined)
        throw new ConfigError({ key, problem: `environment variable ${name} is not set`, source });
      return found;
    });
  }
  if (Array.isArray(value))
    return value.map((item, index) => expandEnvironment(item, `${key}[${index}]`, source));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [
        name,
        expandEnvironment(item, key ? `${key}.${name}` : name, source),
      ]),
    );
  }
  return value;
}

export function parseSidecarConfig(
  raw: unknown,
  source = 'sidecar config',
  baseDirectory = process.cwd(),
): SidecarConfig {
  const root = record(expandEnvironment(raw, '', source), '(root)', source);
  const known = new Set([
    'id',
    'eventLog',
    'signer',
    'zones',
    'nameServerNames',
    'parent',
    'logLevel',
  ]);
  for (const key of Object.keys(root))
    if (!known.has(key))
      throw new ConfigError({
        key,
        problem: `unknown setting (known: ${[...known].join(', ')})`,
        source,
      });
  const id = text(root.id, 'id', source);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id))
    throw new ConfigError({
      key: 'id',
      problem: 'use lower-case letters, digits and dashes',
      source,
    });
  const eventLog = record(root.eventLog, 'eventLog', source);
  if (eventLog.kind !== 'sqlite')
    throw new ConfigError({
      key: 'eventLog.kind',
      problem: 'only "sqlite" is supported so far',
      source,
    });
  const signer = record(root.signer, 'signer', source);
  const parent = record(root.parent, 'parent', source);
  if (!Array.isArray(parent.servers) || parent.servers.length === 0)
    throw new ConfigError({
      key: 'parent.servers',
      problem: 'list every parent nameserver address',
      source,
    });
  const servers = parent.servers.map((server, index) => {
    const entry = record(server, `parent.servers[${index}]`, source);
    const port = entry.port === undefined ? 53 : entry.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
      throw new ConfigError({
        key: `parent.servers[${index}].port`,
        problem: 'must be a port number',
        source,
      });
    return { address: text(entry.address, `parent.servers[${index}].address`, source), port };
  });
  const logLevel = root.logLevel ?? 'info';
  if (!LEVELS.includes(logLevel as (typeof LEVELS)[number]))
    throw new ConfigError({
      key: 'logLevel',
      problem: `must be one of ${LEVELS.join(', ')}`,
      source,
    });
  return {
    id,
    eventLog: {
      kind: 'sqlite',
      path: path.resolve(baseDirectory, text(eventLog.path, 'eventLog.path', source)),
    },
    signer: { plugin: text(signer.plugin, 'signer.plugin', source), config: signer.config },
    zones: names(root.zones, 'zones', source),
    nameServerNames: names(root.nameServerNames, 'nameServerNames', source),
    parent: { zone: names([parent.zone], 'parent.zone', source)[0]!, servers },
    logLevel: logLevel as SidecarConfig['logLevel'] & string,
  };
}

export async function loadSidecarConfig(file: string): Promise<SidecarConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError({
      key: 'file',
      problem: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError({
      key: 'file',
      problem: `${file} is not valid JSON: ${(error as Error).message}`,
    });
  }
  return parseSidecarConfig(raw, file, path.dirname(path.resolve(file)));
}
