/** `chorus signer add|remove ZONE SIGNER`: runs ADD-SIGNER or REMOVE-SIGNER and follows it. */
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { describeLeaving } from '../coordination/describe.js';
import { withEventLog, LOG_OPTIONS } from '../coordination/event-log.js';
import { requestAndFollow } from '../coordination/follow.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { SIGNER_ADD_HELP, SIGNER_HELP, SIGNER_REMOVE_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import { GROUP_REQUEST_OPTIONS, requestOnGroup } from './group.js';

const KINDS = { add: 'add-signer', remove: 'remove-signer' } as const;
const HELP = { add: SIGNER_ADD_HELP, remove: SIGNER_REMOVE_HELP };

export async function signerCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'add' || sub === 'remove') return signerProcessCommand(sub, rest, io);
  if (sub === '-h' || sub === '--help' || sub === undefined) {
    io[sub === undefined ? 'stderr' : 'stdout'](SIGNER_HELP);
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(
    `expected "chorus signer add|remove ZONE SIGNER", not "signer ${sub}"`,
    'signer',
  );
}

async function signerProcessCommand(
  sub: 'add' | 'remove',
  args: string[],
  io: CliIo,
): Promise<number> {
  const command = `signer ${sub}`;
  const { values, positionals } = parseCommandArgs(command, args, {
    ...LOG_OPTIONS,
    ...GROUP_REQUEST_OPTIONS,
    detach: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(HELP[sub]);
    return 0;
  }
  if (values.group !== undefined) {
    expectPositionals(positionals, 1, command);
    if (values.detach)
      throw new UsageError('--detach is for one zone; a group run paces its zones', command);
    const signerId = positionals[0];
    if (!signerId) throw new UsageError(`expected "chorus ${command} --group G SIGNER"`, command);
    return requestOnGroup(values, command, [{ kind: KINDS[sub], signerId }], io);
  }
  const usage = `chorus ${command} ZONE SIGNER`;
  expectPositionals(positionals, 2, command);
  const zone = zoneArgument(positionals[0], command, usage);
  const signerId = positionals[1];
  if (!signerId) throw new UsageError(`expected "${usage}"`, command);
  const json = values.json === true;
  const process = await withEventLog(values, command, (log) =>
    requestAndFollow(log, zone, KINDS[sub], signerId, io, { json, detach: values.detach === true }),
  );
  if (json) return 0;
  io.stdout(`${process.kind} ${process.signerId}: ${process.status}\n`);
  const leaving = describeLeaving(process);
  if (leaving) io.stdout(`${leaving}\n`);
  return 0;
}
