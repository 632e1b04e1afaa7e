/** `chorus events ZONE`: the zone's stream, one line (or one JSON object) per event. */
import { applyZoneEvent, emptyZoneState } from '@chorus/engine';
import { zoneStream } from '@chorus/core';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { describeEvent } from '../coordination/describe.js';
import {
  foldPolicyOf,
  knownZonesText,
  LOG_OPTIONS,
  readKnownZone,
  withEventLog,
} from '../coordination/event-log.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { EVENTS_HELP } from '../help.js';
import type { CliIo } from '../io.js';

const USAGE = 'chorus events ZONE';

export async function eventsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('events', args, {
    ...LOG_OPTIONS,
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(EVENTS_HELP);
    return 0;
  }
  expectPositionals(positionals, 1, 'events');
  const argument = positionals[0];
  if (argument === undefined) throw new UsageError(`expected "${USAGE}"`, 'events');
  const lines = await withEventLog(values, 'events', async (log, path) => {
    if (argument.includes('/'))
      throw new UsageError(
        `"events" takes a zone name, not a stream name like ${JSON.stringify(argument)} (observations are in "chorus report"); ${await knownZonesText(log)}`,
        'events',
      );
    const zone = zoneArgument(argument, 'events', USAGE);
    await readKnownZone(log, zone, path);
    let state = emptyZoneState(zone, foldPolicyOf(log));
    return (await log.readStream(zoneStream(zone))).map((recorded) => {
      const before = state.securityFindingCount;
      state = applyZoneEvent(state, recorded.event);
      const refused =
        state.securityFindingCount > before ? state.securityFindings.at(-1) : undefined;
      if (values.json) return JSON.stringify(refused ? { ...recorded, refused } : recorded);
      const line = refused
        ? `REFUSED [${refused.code}] ${refused.message}: ${describeEvent(recorded.event)}`
        : describeEvent(recorded.event, state);
      return `${String(recorded.streamVersion).padStart(4)} ${line}`;
    });
  });
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}
