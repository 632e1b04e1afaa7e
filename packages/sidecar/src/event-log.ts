import path from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, type ChorusEvent, type EventLog } from '@chorus/core';
import { createNatsEventLog } from '@chorus/event-log-nats';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';

/** Where the shared log is: one SQLite file on this host, or a NATS JetStream cluster. */
export type EventLogConfig =
  | { kind: 'sqlite'; path: string }
  | {
      kind: 'nats';
      /** `tls://host:port` (or `nats://`) of the cluster's nodes. */
      servers: string[];
      /** `user:password`, mode 0600: the credentials of this sidecar (or operator) only. */
      credentialsFile: string;
      /** The CA that signed the servers' certificates. */
      caFile?: string;
      /** The JetStream stream; default `CHORUS`. */
      streamName?: string;
    };

function refuse(key: string, problem: string, source: string): never {
  throw new ConfigError({ key, problem, source });
}

const text = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** Validates an `eventLog` section; relative paths are resolved against `baseDirectory`. */
export function parseEventLogConfig(
  raw: unknown,
  source: string,
  baseDirectory: string,
  key = 'eventLog',
): EventLogConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    refuse(
      key,
      'must be { "kind": "sqlite", "path": … } or { "kind": "nats", "servers": [ … ], … }',
      source,
    );
  const entry = raw as Record<string, unknown>;
  const known =
    entry.kind === 'sqlite'
      ? ['kind', 'path']
      : ['kind', 'servers', 'credentialsFile', 'caFile', 'streamName'];
  const unknown = Object.keys(entry).find((name) => !known.includes(name));
  if (entry.kind !== 'sqlite' && entry.kind !== 'nats')
    refuse(`${key}.kind`, 'must be "sqlite" or "nats"', source);
  if (unknown) refuse(`${key}.${unknown}`, 'is not a known setting', source);
  const file = (name: string): string => {
    const value = entry[name];
    if (!text(value)) return refuse(`${key}.${name}`, 'must be a file path', source);
    return path.resolve(baseDirectory, value);
  };
  if (entry.kind === 'sqlite') return { kind: 'sqlite', path: file('path') };
  const servers = entry.servers;
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every(text))
    refuse(`${key}.servers`, 'must list the NATS servers, e.g. ["tls://192.0.2.7:4222"]', source);
  const bad = servers.find((server) => !/^(nats|tls):\/\/[^/@\s]+:\d+$/.test(server));
  if (bad)
    refuse(
      `${key}.servers`,
      `${JSON.stringify(bad)} is not nats://host:port or tls://host:port (credentials go in credentialsFile)`,
      source,
    );
  if (entry.streamName !== undefined && !text(entry.streamName))
    refuse(`${key}.streamName`, 'must be a JetStream stream name', source);
  return {
    kind: 'nats',
    servers,
    credentialsFile: file('credentialsFile'),
    ...(entry.caFile === undefined ? {} : { caFile: file('caFile') }),
    ...(text(entry.streamName) ? { streamName: entry.streamName } : {}),
  };
}

/** Opens the configured log. NATS: connects (it keeps reconnecting on its own afterwards). */
export async function openEventLog<E extends ChorusEvent = ChorusEvent>(
  config: EventLogConfig,
  logger?: Logger,
): Promise<EventLog<E>> {
  if (config.kind === 'sqlite')
    return createSqliteEventLog<E>({ path: config.path, ...(logger ? { logger } : {}) });
  return createNatsEventLog<E>({
    servers: config.servers,
    credentialsFile: config.credentialsFile,
    ...(config.caFile ? { tls: { caFile: config.caFile } } : {}),
    ...(config.streamName ? { streamName: config.streamName } : {}),
    ...(logger ? { logger } : {}),
  });
}
