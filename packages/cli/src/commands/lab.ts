/** `chorus lab up | status | restart | down`. */
import {
  defaultLabDirectory,
  labDown,
  labRestart,
  labStatus,
  labUp,
  SERVER_IDS,
  type LabStatus,
  type ServerId,
} from '@chorus/lab';
import {
  expectPositionals,
  integerOption,
  listOption,
  parseCommandArgs,
  UsageError,
} from '../args.js';
import { formatLabStatus } from '../format.js';
import {
  LAB_DOWN_HELP,
  LAB_HELP,
  LAB_RESTART_HELP,
  LAB_STATUS_HELP,
  LAB_UP_HELP,
} from '../help.js';
import { progressTo, type CliIo } from '../io.js';

const HELP = { type: 'boolean', short: 'h' } as const;
const DIRECTORY = { type: 'string' } as const;

/** The status table, plus what is wrong with each trap server. */
function formatStatus(status: LabStatus): string {
  const traps = status.servers.filter((server) => server.role === 'trap' && server.trap);
  if (traps.length === 0) return formatLabStatus(status);
  const lines = [
    '',
    'traps (deliberately misconfigured signers; no parent delegates to them):',
    ...traps.flatMap((server) => [
      `  ${server.id}: ${server.trap?.setting ?? ''}`,
      `    ${server.trap?.problem ?? ''}`,
    ]),
  ];
  return `${formatLabStatus(status)}${lines.join('\n')}\n`;
}

function print(io: CliIo, status: LabStatus, json: boolean | undefined): void {
  io.stdout(json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
}

async function up(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('lab up', args, {
    dir: DIRECTORY,
    'address-prefix': { type: 'string' },
    port: { type: 'string' },
    ttl: { type: 'string' },
    zones: { type: 'string' },
    traps: { type: 'boolean' },
    json: { type: 'boolean' },
    help: HELP,
  });
  if (values.help) {
    io.stdout(LAB_UP_HELP);
    return 0;
  }
  expectPositionals(positionals, 0, 'lab up');
  const status = await labUp({
    ...(values.dir === undefined ? {} : { directory: values.dir }),
    ...(values['address-prefix'] === undefined ? {} : { addressPrefix: values['address-prefix'] }),
    ...optional('port', integerOption(values.port, 'port', 'lab up')),
    ...optional('ttl', integerOption(values.ttl, 'ttl', 'lab up')),
    ...optional('zones', listOption(values.zones)),
    ...(values.traps ? { traps: true } : {}),
    onProgress: progressTo(io),
  });
  print(io, status, values.json);
  return 0;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

async function status(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('lab status', args, {
    dir: DIRECTORY,
    json: { type: 'boolean' },
    help: HELP,
  });
  if (values.help) {
    io.stdout(LAB_STATUS_HELP);
    return 0;
  }
  expectPositionals(positionals, 0, 'lab status');
  const current = await labStatus(values.dir === undefined ? {} : { directory: values.dir });
  if (!current) {
    io.stderr(`no lab in ${values.dir ?? defaultLabDirectory()}; start one with: chorus lab up\n`);
    if (values.json) io.stdout('null\n');
    return 1;
  }
  print(io, current, values.json);
  return 0;
}

async function restart(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('lab restart', args, {
    dir: DIRECTORY,
    json: { type: 'boolean' },
    help: HELP,
  });
  if (values.help) {
    io.stdout(LAB_RESTART_HELP);
    return 0;
  }
  const unknown = positionals.find((name) => !(SERVER_IDS as readonly string[]).includes(name));
  if (unknown !== undefined) {
    throw new UsageError(
      `unknown server ${JSON.stringify(unknown)}; the lab's servers are ${SERVER_IDS.join(', ')}`,
      'lab restart',
    );
  }
  // Whether this lab runs the server (traps) is checked by labRestart against its state.
  const status = await labRestart({
    ...(values.dir === undefined ? {} : { directory: values.dir }),
    ...(positionals.length > 0 ? { servers: positionals as ServerId[] } : {}),
    onProgress: progressTo(io),
  });
  print(io, status, values.json);
  return 0;
}

async function down(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('lab down', args, {
    dir: DIRECTORY,
    help: HELP,
  });
  if (values.help) {
    io.stdout(LAB_DOWN_HELP);
    return 0;
  }
  expectPositionals(positionals, 0, 'lab down');
  const report = await labDown(values.dir === undefined ? {} : { directory: values.dir });
  if (!report.found) {
    io.stderr(`no lab state in ${report.directory}; nothing to stop\n`);
    return 0;
  }
  for (const entry of report.stopped) {
    io.stderr(`[lab] ${entry.id} pid ${entry.pid}: ${entry.outcome}\n`);
  }
  if (report.removedLoopbackAliases.length > 0) {
    io.stderr(`[lab] removed loopback addresses ${report.removedLoopbackAliases.join(' ')}\n`);
  }
  io.stdout(`lab in ${report.directory} is down\n`);
  return 0;
}

export async function labCommand(args: string[], io: CliIo): Promise<number> {
  const [subcommand, ...rest] = args;
  switch (subcommand) {
    case 'up':
      return up(rest, io);
    case 'status':
      return status(rest, io);
    case 'restart':
      return restart(rest, io);
    case 'down':
      return down(rest, io);
    case '-h':
    case '--help':
    case 'help':
      io.stdout(LAB_HELP);
      return 0;
    case undefined:
      io.stderr(LAB_HELP);
      return 2;
    default:
      throw new UsageError(
        `unknown lab command ${JSON.stringify(subcommand)}; expected up, status, restart or down`,
        'lab',
      );
  }
}
