/** `chorus zone define ZONE --signer ID…`: records the group that signs a zone now. */
import { ChorusError, type EventLog, type ZoneEvent } from '@chorus/core';
import {
  DEFAULT_TIMING,
  defineZone,
  prePublicationShortfall,
  type ZoneState,
} from '@chorus/engine';
import type { TimingSettings } from '@chorus/core';
import { expectPositionals, integerOption, parseCommandArgs, UsageError } from '../args.js';
import { describeEvent } from '../coordination/describe.js';
import { appendToZone, readZone, withEventLog, LOG_OPTIONS } from '../coordination/event-log.js';
import { OPERATOR } from '../coordination/follow.js';
import { addZonesToGroup, groupArgument, readDefinedGroup } from '../coordination/groups.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { ZONE_DEFINE_HELP, ZONE_HELP } from '../help.js';
import type { CliIo } from '../io.js';

const COMMAND = 'zone define';
const USAGE = 'chorus zone define ZONE --signer ID, or chorus zone define ZONE… --group G';

/** Default TTL of the records Chorus adds, when --record-ttl is not given. */
export const DEFAULT_RECORD_TTL_SECONDS = 3600;

/** The timing options `zone define` and `group define` share. */
export const TIMING_OPTIONS = {
  'record-ttl': { type: 'string' },
  'child-propagation': { type: 'string' },
  'parent-propagation': { type: 'string' },
  'safety-margin': { type: 'string' },
  'max-zone-ttl': { type: 'string' },
} as const;

const OPTIONS = {
  ...LOG_OPTIONS,
  ...TIMING_OPTIONS,
  signer: { type: 'string', multiple: true },
  group: { type: 'string' },
  'parent-zone': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type TimingValues = Partial<Record<keyof typeof TIMING_OPTIONS, string | undefined>>;

type SecondsOption =
  'record-ttl' | 'child-propagation' | 'parent-propagation' | 'safety-margin' | 'max-zone-ttl';

function seconds(values: TimingValues, name: SecondsOption, fallback: number, command = COMMAND) {
  return integerOption(values[name], name, command) ?? fallback;
}

/** The timing from the options, each one not given taken from `defaults`. */
export function timingFrom(
  values: TimingValues,
  defaults: TimingSettings = DEFAULT_TIMING,
  command = COMMAND,
): TimingSettings {
  return {
    childPropagationSeconds: seconds(
      values,
      'child-propagation',
      defaults.childPropagationSeconds,
      command,
    ),
    parentPropagationSeconds: seconds(
      values,
      'parent-propagation',
      defaults.parentPropagationSeconds,
      command,
    ),
    safetyMarginSeconds: seconds(values, 'safety-margin', defaults.safetyMarginSeconds, command),
    maxZoneTtlSeconds: seconds(values, 'max-zone-ttl', defaults.maxZoneTtlSeconds, command),
  };
}

/** The record TTL from --record-ttl, else `fallback`. */
export function recordTtlFrom(values: TimingValues, fallback: number, command = COMMAND): number {
  return seconds(values, 'record-ttl', fallback, command);
}

/** The parent from --parent-zone, else the zone minus its first label. */
function parentZoneOf(zone: string, value: string | undefined): string {
  if (value !== undefined) return zoneArgument(value, COMMAND, USAGE);
  return zone.split('.').slice(1).join('.') || '.';
}

export async function zoneCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'define') return zoneDefineCommand(rest, io);
  if (sub === '-h' || sub === '--help' || sub === undefined) {
    io[sub === undefined ? 'stderr' : 'stdout'](ZONE_HELP);
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(`expected "${USAGE}", not "zone ${sub}"`, 'zone');
}

interface Definition {
  parentZone: string;
  signerIds: string[];
  timing: TimingSettings;
  recordTtlSeconds: number;
  group?: string;
}

/** Defines one zone; throws naming the zone when it is defined already or cannot be. */
async function defineOne(
  log: EventLog<ZoneEvent>,
  zone: string,
  definition: Definition,
): Promise<ZoneEvent> {
  return appendToZone(log, zone, (state) => {
    if (state.defined)
      throw new ChorusError('Chorus_ZoneDefinedError', {
        message: `${zone} is already defined (group: ${state.members.join(', ')}${state.group ? `; in group ${state.group}` : ''})`,
      });
    refuseShortPrePublication(state, definition);
    return defineZone(state, { source: OPERATOR, now: new Date().toISOString() }, definition);
  });
}

async function zoneDefineCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(COMMAND, args, OPTIONS);
  if (values.help) {
    io.stdout(ZONE_DEFINE_HELP);
    return 0;
  }
  if (values.group !== undefined) return defineGroupZones(values, positionals, io);
  expectPositionals(positionals, 1, COMMAND);
  const zone = zoneArgument(positionals[0], COMMAND, USAGE);
  const signerIds = values.signer ?? [];
  if (signerIds.length === 0)
    throw new UsageError(
      'name the signer(s) that serve the zone now with --signer ID, or take them from a group with --group G',
      COMMAND,
    );
  const definition = {
    parentZone: parentZoneOf(zone, values['parent-zone']),
    signerIds,
    timing: timingFrom(values),
    recordTtlSeconds: recordTtlFrom(values, DEFAULT_RECORD_TTL_SECONDS),
  };
  const event = await withEventLog(values, COMMAND, (log) => defineOne(log, zone, definition));
  io.stdout(values.json ? `${JSON.stringify(event)}\n` : `${describeEvent(event)}\n`);
  return 0;
}

/**
 * `zone define ZONE… --group G`: defines each zone with the group's signers and timing (options
 * given here win), then adds the zones to the group. A zone that cannot be defined is named and
 * the others go on; a zone already defined in the group is added again harmlessly.
 */
async function defineGroupZones(
  values: ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'],
  positionals: string[],
  io: CliIo,
): Promise<number> {
  if (values.signer)
    throw new UsageError('--group takes the signers from the group: leave out --signer', COMMAND);
  if (positionals.length === 0) throw new UsageError(`expected "${USAGE}"`, COMMAND);
  const name = groupArgument(values.group, COMMAND);
  const zones = positionals.map((zone) => zoneArgument(zone, COMMAND, USAGE));
  const outcomes = await withEventLog(values, COMMAND, async (log) => {
    const group = await readDefinedGroup(log, name);
    const results: { zone: string; defined?: ZoneEvent; error?: string }[] = [];
    for (const zone of zones) {
      const definition: Definition = {
        parentZone: parentZoneOf(zone, values['parent-zone']),
        signerIds: group.signers,
        timing: timingFrom(values, group.timing),
        recordTtlSeconds: recordTtlFrom(
          values,
          group.recordTtlSeconds ?? DEFAULT_RECORD_TTL_SECONDS,
        ),
        group: name,
      };
      try {
        results.push({ zone, defined: await defineOne(log, zone, definition) });
      } catch (error) {
        const state = await readZone(log, zone);
        if (state.group === name) results.push({ zone });
        else results.push({ zone, error: error instanceof Error ? error.message : String(error) });
      }
    }
    await addZonesToGroup(
      log,
      name,
      results.filter((result) => !result.error).map((r) => r.zone),
    );
    return results;
  });
  for (const outcome of outcomes) {
    if (values.json) io.stdout(`${JSON.stringify(outcome)}\n`);
    else if (outcome.error) io.stderr(`${outcome.zone}: NOT defined: ${outcome.error}\n`);
    else if (outcome.defined) io.stdout(`${describeEvent(outcome.defined)}\n`);
    else io.stdout(`${outcome.zone}: already defined in group ${name}\n`);
  }
  const failed = outcomes.filter((outcome) => outcome.error).length;
  if (!values.json)
    io.stdout(
      `group ${name}: ${outcomes.length - failed} zone(s) in the group, ${failed} not defined\n`,
    );
  return failed > 0 ? 1 : 0;
}

/**
 * A signer whose server times its own rolls must pre-publish a new key for longer than the
 * group's DNSKEY wait; otherwise its first roll would fail validation somewhere. The record TTL
 * stands in for the DNSKEY TTL until the servers are observed (pre-flight checks the served one).
 */
function refuseShortPrePublication(
  state: ZoneState,
  definition: { signerIds: string[]; timing: ZoneState['timing']; recordTtlSeconds: number },
): void {
  const reasons = definition.signerIds.flatMap((id) => {
    const signer = state.signers[id];
    const shortfall =
      signer && prePublicationShortfall(signer, definition.timing, definition.recordTtlSeconds);
    return shortfall ? [shortfall.message] : [];
  });
  if (reasons.length > 0)
    throw new ChorusError('Chorus_PrePublicationTooShortError', {
      message: `cannot define ${state.zone}: ${reasons.join('; ')}`,
    });
}
