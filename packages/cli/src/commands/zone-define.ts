/** `chorus zone define ZONE --signer ID…`: records the group that signs a zone now. */
import { ChorusError, zoneStream } from '@chorus/core';
import {
  DEFAULT_TIMING,
  defineZone,
  prePublicationShortfall,
  type ZoneState,
} from '@chorus/engine';
import type { TimingSettings } from '@chorus/core';
import { expectPositionals, integerOption, parseCommandArgs, UsageError } from '../args.js';
import { describeEvent } from '../coordination/describe.js';
import { readZone, withEventLog, LOG_OPTIONS } from '../coordination/event-log.js';
import { OPERATOR } from '../coordination/follow.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { ZONE_DEFINE_HELP, ZONE_HELP } from '../help.js';
import type { CliIo } from '../io.js';

const COMMAND = 'zone define';
const USAGE = 'chorus zone define ZONE --signer ID';

/** Default TTL of the records Chorus adds, when --record-ttl is not given. */
export const DEFAULT_RECORD_TTL_SECONDS = 3600;

const OPTIONS = {
  ...LOG_OPTIONS,
  signer: { type: 'string', multiple: true },
  'parent-zone': { type: 'string' },
  'record-ttl': { type: 'string' },
  'child-propagation': { type: 'string' },
  'parent-propagation': { type: 'string' },
  'safety-margin': { type: 'string' },
  'max-zone-ttl': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

type SecondsOption =
  'record-ttl' | 'child-propagation' | 'parent-propagation' | 'safety-margin' | 'max-zone-ttl';

function seconds(values: Values, name: SecondsOption, fallback: number): number {
  return integerOption(values[name], name, COMMAND) ?? fallback;
}

function timingFrom(values: Values): TimingSettings {
  return {
    childPropagationSeconds: seconds(
      values,
      'child-propagation',
      DEFAULT_TIMING.childPropagationSeconds,
    ),
    parentPropagationSeconds: seconds(
      values,
      'parent-propagation',
      DEFAULT_TIMING.parentPropagationSeconds,
    ),
    safetyMarginSeconds: seconds(values, 'safety-margin', DEFAULT_TIMING.safetyMarginSeconds),
    maxZoneTtlSeconds: seconds(values, 'max-zone-ttl', DEFAULT_TIMING.maxZoneTtlSeconds),
  };
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

async function zoneDefineCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(COMMAND, args, OPTIONS);
  if (values.help) {
    io.stdout(ZONE_DEFINE_HELP);
    return 0;
  }
  expectPositionals(positionals, 1, COMMAND);
  const zone = zoneArgument(positionals[0], COMMAND, USAGE);
  const signerIds = values.signer ?? [];
  if (signerIds.length === 0)
    throw new UsageError('name the signer(s) that serve the zone now with --signer ID', COMMAND);
  const definition = {
    parentZone: parentZoneOf(zone, values['parent-zone']),
    signerIds,
    timing: timingFrom(values),
    recordTtlSeconds: seconds(values, 'record-ttl', DEFAULT_RECORD_TTL_SECONDS),
  };
  const event = await withEventLog(values, COMMAND, async (log) => {
    const state = await readZone(log, zone);
    if (state.defined)
      throw new ChorusError('Chorus_ZoneDefinedError', {
        message: `${zone} is already defined (group: ${state.members.join(', ')})`,
      });
    const defined = defineZone(
      state,
      { source: OPERATOR, now: new Date().toISOString() },
      definition,
    );
    refuseShortPrePublication(state, definition);
    await log.append(zoneStream(zone), state.version, [defined]);
    return defined;
  });
  io.stdout(values.json ? `${JSON.stringify(event)}\n` : `${describeEvent(event)}\n`);
  return 0;
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
