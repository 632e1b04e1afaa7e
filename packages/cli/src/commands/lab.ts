/** `chorus lab up | status | down`. */
import { defaultLabDirectory, labDown, labStatus, labUp } from '@chorus/lab';
import {
  expectPositionals,
  integerOption,
  listOption,
  parseCommandArgs,
  UsageError,
} from '../args.js';
import { formatLabStatus } from '../format.js';
import { LAB_DOWN_HELP, LAB_HELP, LAB_STATUS_HELP, LAB_UP_HELP } from '../help.js';
import { progressTo, type CliIo } from '../io.js';

const HELP = { type: 'boolean', short: 'h' } as const;
const DIRECTORY = { type: 'string' } as const;

async function up(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('lab up', args, {
    dir: DIRECTORY,
    'address-prefix': { type: 'string' },
    port: { type: 'string' },
    ttl: { type: 'string' },
    zones: { type: 'string' },
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
    onProgress: progressTo(io),
  });
  io.stdout(values.json ? `${JSON.stringify(status, null, 2)}\n` : formatLabStatus(status));
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
  io.stdout(values.json ? `${JSON.stringify(current, null, 2)}\n` : formatLabStatus(current));
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
        `unknown lab command ${JSON.stringify(subcommand)}; expected up, status or down`,
        'lab',
      );
  }
}
