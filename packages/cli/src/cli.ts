/**
 * The `chorus` command line: dispatch, usage errors (exit 2), other errors (exit 1) with the
 * message only, unless CHORUS_DEBUG=1 asks for the stack.
 */
import { UsageError } from './args.js';
import { auditCommand } from './commands/audit.js';
import { demoCommand } from './commands/demo.js';
import { eventsCommand } from './commands/events.js';
import { labCommand } from './commands/lab.js';
import { bootstrapCommand } from './commands/bootstrap.js';
import { ownerCommand } from './commands/owner.js';
import { stopCommand, undoCommand } from './commands/stop.js';
import { migrateCommand } from './commands/migrate.js';
import { queryCommand } from './commands/query.js';
import { reportCommand } from './commands/report.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommand } from './commands/token.js';
import { sidecarCommand } from './commands/sidecar.js';
import { rollCommand } from './commands/roll.js';
import { signerCommand } from './commands/signer.js';
import { statusCommand } from './commands/status.js';
import { statsCommand } from './commands/stats.js';
import { keygenCommand, trustCommand } from './commands/trust.js';
import { zoneCommand } from './commands/zone-define.js';
import { groupCommand } from './commands/group.js';
import { MAIN_HELP } from './help.js';
import { versionText } from './version.js';
import { processIo, type CliIo } from './io.js';

async function dispatch(args: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case 'lab':
      return labCommand(rest, io);
    case 'query':
      return queryCommand(rest, io);
    case 'audit':
      return auditCommand(rest, io);
    case 'demo':
      return demoCommand(rest, io);
    case 'report':
      return reportCommand(rest, io);
    case 'sidecar':
      return sidecarCommand(rest, io);
    case 'zone':
      return zoneCommand(rest, io);
    case 'group':
      return groupCommand(rest, io);
    case 'signer':
      return signerCommand(rest, io);
    case 'migrate':
      return migrateCommand(rest, io);
    case 'bootstrap':
      return bootstrapCommand(rest, io);
    case 'owner':
      return ownerCommand(rest, io);
    case 'stop':
      return stopCommand(rest, io);
    case 'undo':
      return undoCommand(rest, io);
    case 'roll':
      return rollCommand(rest, io);
    case 'status':
      return statusCommand(rest, io);
    case 'events':
      return eventsCommand(rest, io);
    case 'stats':
      return statsCommand(rest, io);
    case 'keygen':
      return keygenCommand(rest, io);
    case 'trust':
      return trustCommand(rest, io);
    case 'serve':
      return serveCommand(rest, io);
    case 'token':
      return tokenCommand(rest, io);
    case '--version':
    case '-V':
      io.stdout(versionText());
      return 0;
    case '-h':
    case '--help':
    case 'help':
      io.stdout(MAIN_HELP);
      return 0;
    case undefined:
      io.stderr(MAIN_HELP);
      return 2;
    default:
      throw new UsageError(
        `unknown command ${JSON.stringify(command)}; expected lab, query, audit, demo, report, sidecar, zone, group, signer, migrate, bootstrap, owner, stop, undo, roll, status, events, stats, keygen, trust, serve or token`,
      );
  }
}

function describeError(error: unknown): string {
  if (process.env.CHORUS_DEBUG === '1' && error instanceof Error && error.stack) {
    const cause =
      error.cause instanceof Error
        ? `\ncaused by: ${error.cause.stack ?? error.cause.message}`
        : '';
    return `${error.stack}${cause}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Runs one command line; returns the exit code. Never throws. */
export async function runCli(args: string[], io: CliIo = processIo): Promise<number> {
  try {
    return await dispatch(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      const help = error.command ? `chorus ${error.command} --help` : 'chorus --help';
      io.stderr(`chorus: ${error.message}\nSee "${help}".\n`);
      return 2;
    }
    io.stderr(`chorus: ${describeError(error)}\n`);
    return 1;
  }
}
