/** `chorus serve`: the control-plane REST API (@chorus/serve) over the event log the CLI uses. */
import { runAudit } from '@chorus/audit';
import { parentServerOptions, parentServerSource } from '../coordination/adopt-parent.js';
import { parentZoneOf } from './zone-define.js';
import { readGroup } from '../coordination/groups.js';
import { readFile } from 'node:fs/promises';
import type { EventLog, ZoneEvent } from '@chorus/core';
import {
  isLoopback,
  startServer,
  type Coordination,
  type RunningServer,
  type ServeOptions,
} from '@chorus/serve';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import {
  appendToZone,
  asOperator,
  eventLogPath,
  foldPolicyOf,
  knownZones,
  LOG_OPTIONS,
  openExistingLog,
  readKnownZone,
  readZone,
  type LogValues,
} from '../coordination/event-log.js';
import { appendRequest, processEndError, requestEvent } from '../coordination/follow.js';
import { computeStats } from '../coordination/stats.js';
import { SERVE_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import { readHistory } from './stats.js';
import { zoneStatusJson } from './status.js';
import { processToStop, processToUndo } from './stop.js';

const DEFAULT_LISTEN = '127.0.0.1:8053';

/** The CLI's coordination functions, as the server calls them. */
export const CLI_COORDINATION: Coordination = {
  readZone,
  readKnownZone,
  knownZones,
  foldPolicyOf,
  zoneStatusJson,
  requestEvent,
  appendRequest,
  appendToZone,
  processToStop,
  processToUndo,
  processEndError,
  zoneStats: async (log, zone) => computeStats([await readHistory(log, zone)], foldPolicyOf(log)),
  readGroup,
  auditZone: async (zone, { parentServers, childPort }) => {
    const parentZone = parentZoneOf(zone, undefined, 'serve');
    const given = parentServerOptions(parentServers, 'serve');
    const servers = await parentServerSource(given)(parentZone);
    return runAudit({
      zone,
      parentZone,
      parentServers: servers,
      ...(childPort ? { childPort } : {}),
    });
  },
};

export interface ServeOnLogOptions {
  host: string;
  port: number;
  tokensFile: string;
  tls?: { cert: string; key: string };
  logger?: ServeOptions['logger'];
}

/** Serves the API on an open log; appends are signed as `values` (--key, --trust) say. */
export function serveOnLog(
  log: EventLog<ZoneEvent>,
  path: string,
  values: LogValues,
  options: ServeOnLogOptions,
): Promise<RunningServer> {
  const served = { log: asOperator(log, values, 'serve'), path, coordination: CLI_COORDINATION };
  return startServer({ served, ...options });
}

/** `HOST:PORT` or `[V6]:PORT`. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535)
    throw new UsageError(`--listen needs HOST:PORT, got ${JSON.stringify(value)}`, 'serve');
  return { host: match[1] ?? match[2]!, port };
}

async function tlsOption(cert: string | undefined, key: string | undefined) {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined)
    throw new UsageError('give both --tls-cert and --tls-key', 'serve');
  return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') };
}

const untilSignal = () =>
  new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });

export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('serve', args, {
    ...LOG_OPTIONS,
    listen: { type: 'string' },
    tokens: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(SERVE_HELP);
    return 0;
  }
  expectPositionals(positionals, 0, 'serve');
  const tokensFile = values.tokens ?? process.env.CHORUS_TOKENS;
  if (!tokensFile) throw new UsageError('give the tokens file with --tokens FILE', 'serve');
  const tls = await tlsOption(values['tls-cert'], values['tls-key']);
  const listen = parseListen(values.listen ?? DEFAULT_LISTEN);
  if (!tls && !isLoopback(listen.host))
    throw new UsageError(
      `refusing to listen on ${listen.host} without TLS: give --tls-cert and --tls-key`,
      'serve',
    );
  const path = eventLogPath(values.log, 'serve');
  const log = await openExistingLog(path);
  try {
    const options = { ...listen, tokensFile, ...(tls ? { tls } : {}) };
    const server = await serveOnLog(log, path, values, options);
    io.stdout(`chorus serve: listening on ${server.url} (log ${path})\n`);
    await untilSignal();
    await server.close();
  } finally {
    await log.close();
  }
  return 0;
}
