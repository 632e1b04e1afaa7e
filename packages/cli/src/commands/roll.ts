/** `chorus roll ZONE SIGNER --zsk|--ksk|--csk|--algorithm`: a key roll inside the group, followed. */
import type { DnskeyData, KeyRole, ProcessKind } from '@chorus/core';
import { parseRdata } from '@chorus/dns';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { withEventLog, LOG_OPTIONS } from '../coordination/event-log.js';
import { requestAndFollow } from '../coordination/follow.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { ROLL_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import { GROUP_REQUEST_OPTIONS, requestOnGroup } from './group.js';

const COMMAND = 'roll';
const USAGE = 'chorus roll ZONE SIGNER --zsk|--ksk|--csk|--algorithm';

/** Which process and key role each flag asks for. */
const ROLLS: Record<'zsk' | 'ksk' | 'csk' | 'algorithm', { kind: ProcessKind; role?: KeyRole }> = {
  zsk: { kind: 'roll-zsk', role: 'ZSK' },
  ksk: { kind: 'roll-ksk', role: 'KSK' },
  csk: { kind: 'roll-ksk', role: 'CSK' },
  algorithm: { kind: 'roll-algorithm' },
};

export async function rollCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(COMMAND, args, {
    zsk: { type: 'boolean' },
    ksk: { type: 'boolean' },
    csk: { type: 'boolean' },
    algorithm: { type: 'boolean' },
    ...LOG_OPTIONS,
    ...GROUP_REQUEST_OPTIONS,
    'new-owner-dnskey': { type: 'string' },
    detach: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(ROLL_HELP);
    return 0;
  }
  const chosen = (['zsk', 'ksk', 'csk', 'algorithm'] as const).filter((flag) => values[flag]);
  if (chosen.length !== 1)
    throw new UsageError(
      `choose exactly one of --zsk, --ksk, --csk or --algorithm (got ${chosen.length === 0 ? 'none' : chosen.map((flag) => `--${flag}`).join(' ')})`,
      COMMAND,
    );
  const roll = ROLLS[chosen[0]!];
  if (values.group !== undefined) {
    expectPositionals(positionals, 1, COMMAND);
    const signerId = positionals[0];
    if (!signerId) throw new UsageError('expected "chorus roll --group G SIGNER --zsk|…"', COMMAND);
    if (values.detach)
      throw new UsageError('--detach is for one zone; a group run paces its zones', COMMAND);
    const request = { kind: roll.kind, signerId, ...(roll.role ? { role: roll.role } : {}) };
    return requestOnGroup(values, COMMAND, [request], io);
  }
  expectPositionals(positionals, 2, COMMAND);
  const zone = zoneArgument(positionals[0], COMMAND, USAGE);
  const signerId = positionals[1];
  if (!signerId) throw new UsageError(`expected "${USAGE}"`, COMMAND);
  const json = values.json === true;
  const ownerKsk = newOwnerKsk(values['new-owner-dnskey'], roll.kind);
  const process = await withEventLog(values, COMMAND, (log) =>
    requestAndFollow(log, zone, roll.kind, signerId, io, {
      json,
      detach: values.detach === true,
      ...(roll.role ? { role: roll.role } : {}),
      ...(ownerKsk ? { ownerKsk } : {}),
    }),
  );
  if (!json) io.stdout(`${process.kind} ${process.signerId}: ${process.status}\n`);
  return 0;
}

/** Model 1's KSK roll: the owner's new KSK from `--new-owner-dnskey "257 3 13 …"`. */
function newOwnerKsk(text: string | undefined, kind: ProcessKind): DnskeyData | undefined {
  if (text === undefined) return undefined;
  if (kind !== 'roll-ksk')
    throw new UsageError("--new-owner-dnskey goes with --ksk (the owner's KSK roll)", COMMAND);
  try {
    return parseRdata('DNSKEY', text) as DnskeyData;
  } catch (error) {
    throw new UsageError(
      `--new-owner-dnskey ${JSON.stringify(text)}: ${(error as Error).message}`,
      COMMAND,
    );
  }
}
