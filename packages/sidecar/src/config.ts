import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type DsData, type NameServer } from '@chorus/core';
import { normalizeName, parseRdata } from '@chorus/dns';

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
  /**
   * Observers this sidecar runs for each of its zones, recording what they find in the event
   * log's observation stream. One sidecar of a group is enough.
   */
  observers?: SidecarObserversConfig;
}

export interface SidecarObserversConfig {
  /**
   * The invariants I1–I9, sampled every `intervalMs`: all the time (`always`, the default), or
   * during each process and a minute after (`during-process`).
   */
  consistency?: { intervalMs: number; mode: 'always' | 'during-process' };
  /** Our own validator against every signer, cross-checked against the resolvers given. */
  validation?: {
    /** DS records of the parent zone's KSK: the trust anchor, e.g. `12345 13 2 ABCD…`. */
    trustAnchor: DsData[];
    /** Validating resolvers to cross-check; `pinnedTo` names the signer a resolver only asks. */
    resolvers: { id: string; server: NameServer; pinnedTo?: string }[];
    intervalMs: number;
  };
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
    'observers',
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
  const servers = parent.servers.map((server, index) =>
    nameServer(server, `parent.servers[${index}]`, source),
  );
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
    ...(root.observers === undefined ? {} : { observers: parseObservers(root.observers, source) }),
  };
}

function nameServer(value: unknown, key: string, source: string): NameServer {
  const entry = record(value, key, source);
  const port = entry.port === undefined ? 53 : entry.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new ConfigError({ key: `${key}.port`, problem: 'must be a port number', source });
  return { address: text(entry.address, `${key}.address`, source), port };
}

function interval(value: unknown, key: string, source: string): number {
  const ms = value === undefined ? 1000 : value;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 200 || ms > 3_600_000)
    throw new ConfigError({ key, problem: 'must be milliseconds from 200 to 3600000', source });
  return ms;
}

function only(entry: Record<string, unknown>, keys: string[], key: string, source: string): void {
  for (const name of Object.keys(entry))
    if (!keys.includes(name))
      throw new ConfigError({
        key: `${key}.${name}`,
        problem: `unknown setting (known: ${keys.join(', ')})`,
        source,
      });
}

function parseObservers(value: unknown, source: string): SidecarObserversConfig {
  const observers = record(value, 'observers', source);
  only(observers, ['consistency', 'validation'], 'observers', source);
  const result: SidecarObserversConfig = {};
  if (observers.consistency !== undefined) {
    const consistency = record(observers.consistency, 'observers.consistency', source);
    only(consistency, ['intervalMs', 'mode'], 'observers.consistency', source);
    const mode = consistency.mode ?? 'always';
    if (mode !== 'always' && mode !== 'during-process')
      throw new ConfigError({
        key: 'observers.consistency.mode',
        problem: 'must be "always" or "during-process"',
        source,
      });
    result.consistency = {
      intervalMs: interval(consistency.intervalMs, 'observers.consistency.intervalMs', source),
      mode,
    };
  }
  if (observers.validation !== undefined) {
    const key = 'observers.validation';
    const validation = record(observers.validation, key, source);
    only(validation, ['trustAnchor', 'resolvers', 'intervalMs'], key, source);
    if (!Array.isArray(validation.trustAnchor) || validation.trustAnchor.length === 0)
      throw new ConfigError({
        key: `${key}.trustAnchor`,
        problem: 'list the DS records of the parent zone, e.g. "12345 13 2 ABCD…"',
        source,
      });
    const trustAnchor = validation.trustAnchor.map((item, index) => {
      try {
        return parseRdata('DS', text(item, `${key}.trustAnchor[${index}]`, source)) as DsData;
      } catch (error) {
        if (ConfigError.isInstance(error)) throw error;
        throw new ConfigError({
          key: `${key}.trustAnchor[${index}]`,
          problem: `not a DS record: ${(error as Error).message}`,
          source,
        });
      }
    });
    const resolvers = (validation.resolvers ?? []) as unknown;
    if (!Array.isArray(resolvers))
      throw new ConfigError({ key: `${key}.resolvers`, problem: 'must be a list', source });
    result.validation = {
      trustAnchor,
      resolvers: resolvers.map((item, index) => {
        const at = `${key}.resolvers[${index}]`;
        const entry = record(item, at, source);
        only(entry, ['id', 'address', 'port', 'pinnedTo'], at, source);
        return {
          id: text(entry.id, `${at}.id`, source),
          server: nameServer({ address: entry.address, port: entry.port }, at, source),
          ...(entry.pinnedTo === undefined
            ? {}
            : { pinnedTo: text(entry.pinnedTo, `${at}.pinnedTo`, source) }),
        };
      }),
      intervalMs: interval(validation.intervalMs, `${key}.intervalMs`, source),
    };
  }
  return result;
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
