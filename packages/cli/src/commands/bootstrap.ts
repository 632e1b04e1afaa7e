/**
 * `chorus bootstrap ZONE --signer ID…`: takes a zone that is delegated to its signers without a
 * DS to a signed multi-signer group (RFC 9615 with RFC 8901 model 2), and follows the process.
 */
import { ChorusError } from '@chorus/core';
import { describeEvent } from '../coordination/describe.js';
import { LOG_OPTIONS, readZone, withEventLog } from '../coordination/event-log.js';
import { requestAndFollow } from '../coordination/follow.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { BOOTSTRAP_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import {
  DEFAULT_RECORD_TTL_SECONDS,
  defineUnsignedZone,
  parentZoneOf,
  recordTtlFrom,
  TIMING_OPTIONS,
  timingFrom,
} from './zone-define.js';

const COMMAND = 'bootstrap';
const USAGE = 'chorus bootstrap ZONE --signer ID [--signer ID…]';

const OPTIONS = {
  ...LOG_OPTIONS,
  ...TIMING_OPTIONS,
  signer: { type: 'string', multiple: true },
  'parent-zone': { type: 'string' },
  detach: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const sameMembers = (a: readonly string[], b: readonly string[]) =>
  [...a].sort().join(',') === [...b].sort().join(',');

export async function bootstrapCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(COMMAND, args, OPTIONS);
  if (values.help) {
    io.stdout(BOOTSTRAP_HELP);
    return 0;
  }
  expectPositionals(positionals, 1, COMMAND);
  const zone = zoneArgument(positionals[0], COMMAND, USAGE);
  const signerIds = values.signer ?? [];
  const json = values.json === true;
  const process = await withEventLog(values, COMMAND, async (log) => {
    const state = await readZone(log, zone);
    if (!state.defined) {
      if (signerIds.length === 0)
        throw new UsageError(`${zone} is not defined yet: name its signers with --signer`, COMMAND);
      const event = await defineUnsignedZone(log, zone, {
        parentZone: parentZoneOf(zone, values['parent-zone'], COMMAND),
        signerIds,
        timing: timingFrom(values, undefined, COMMAND),
        recordTtlSeconds: recordTtlFrom(values, DEFAULT_RECORD_TTL_SECONDS, COMMAND),
      });
      if (!json) io.stdout(`${describeEvent(event)}\n`);
    } else if (signerIds.length > 0 && !sameMembers(signerIds, state.members)) {
      throw new ChorusError('Chorus_ZoneDefinedError', {
        message: `${zone} is already defined with ${state.members.join(', ')}, not ${signerIds.join(', ')}: leave out --signer to bootstrap the group as defined`,
      });
    }
    const members = (await readZone(log, zone)).members;
    return requestAndFollow(log, zone, 'bootstrap', members[0]!, io, {
      json,
      detach: values.detach === true,
    });
  });
  if (!json) io.stdout(`bootstrap of ${zone}: ${process.status}\n`);
  return 0;
}
