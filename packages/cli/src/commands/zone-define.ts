/**
 * `chorus zone define ZONE --signer ID…`: records the group that signs a zone now. A group of two
 * or more signers is adopted as it stands: checked on the wire first, and refused with every
 * reason when it is not consistent.
 */
import { ChorusError, type EventLog, type NameServer, type ZoneEvent } from '@chorus/core';
import {
  adoptionFindings,
  adoptionRecord,
  DEFAULT_TIMING,
  defineZone,
  prePublicationShortfall,
  type ZoneAdoption,
  type ZoneState,
} from '@chorus/engine';
import type { DnskeyData, TimingSettings, ZoneOwner } from '@chorus/core';
import { parseRdata } from '@chorus/dns';
import { expectPositionals, integerOption, parseCommandArgs, UsageError } from '../args.js';
import { AdoptionRefusedError, describeAdoption, observeAdoption } from '../coordination/adopt.js';
import { zoneModelCommand } from './zone-model.js';
import { parentServerOptions, parentServerSource } from '../coordination/adopt-parent.js';
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
  'parent-server': { type: 'string', multiple: true },
  'owner-dnskey': { type: 'string', multiple: true },
  'owner-validity': { type: 'string' },
  'owner-refresh-lead': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Two weeks, as signers commonly sign; the owner re-signs with half of it left by default. */
const DEFAULT_OWNER_VALIDITY_SECONDS = 14 * 86_400;

/** Model 1: the owner section from --owner-dnskey (the KSKs' public keys) and its schedule. */
export function ownerFrom(values: {
  'owner-dnskey'?: string[] | undefined;
  'owner-validity'?: string | undefined;
  'owner-refresh-lead'?: string | undefined;
}): ZoneOwner | undefined {
  const texts = values['owner-dnskey'] ?? [];
  if (texts.length === 0) {
    if (values['owner-validity'] ?? values['owner-refresh-lead'])
      throw new UsageError(
        '--owner-validity and --owner-refresh-lead need --owner-dnskey',
        COMMAND,
      );
    return undefined;
  }
  const dnskeys = texts.map((text) => {
    let data: DnskeyData;
    try {
      data = parseRdata('DNSKEY', text) as DnskeyData;
    } catch (error) {
      throw new UsageError(
        `--owner-dnskey ${JSON.stringify(text)}: ${(error as Error).message}`,
        COMMAND,
      );
    }
    if ((data.flags & 0x101) !== 0x101)
      throw new UsageError(
        `--owner-dnskey ${JSON.stringify(text)} is no KSK: flags ${data.flags}, not 257`,
        COMMAND,
      );
    return data;
  });
  const validity =
    integerOption(values['owner-validity'], 'owner-validity', COMMAND) ??
    DEFAULT_OWNER_VALIDITY_SECONDS;
  const lead =
    integerOption(values['owner-refresh-lead'], 'owner-refresh-lead', COMMAND) ??
    Math.floor(validity / 2);
  if (!(lead > 0 && lead < validity))
    throw new UsageError(
      `--owner-refresh-lead ${lead} must be above 0 and below the validity ${validity}`,
      COMMAND,
    );
  return { dnskeys, signatureValiditySeconds: validity, refreshLeadSeconds: lead };
}

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
export function parentZoneOf(zone: string, value: string | undefined, command = COMMAND): string {
  if (value !== undefined) return zoneArgument(value, command, USAGE);
  return zone.split('.').slice(1).join('.') || '.';
}

export async function zoneCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'define') return zoneDefineCommand(rest, io);
  if (sub === 'model') return zoneModelCommand(rest, io);
  if (sub === '-h' || sub === '--help' || sub === undefined) {
    io[sub === undefined ? 'stderr' : 'stdout'](ZONE_HELP);
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(`expected "${USAGE}", not "zone ${sub}"`, 'zone');
}

export interface Definition {
  parentZone: string;
  signerIds: string[];
  timing: TimingSettings;
  recordTtlSeconds: number;
  group?: string;
  /** Model 1: the zone owner's KSKs and signature schedule. */
  owner?: ZoneOwner;
}

/** Where the parent servers of an adoption come from (see adopt-parent.ts). */
type ParentServers = (parentZone: string) => Promise<NameServer[]>;

/** The `zone-defined` event for `state`; throws when the zone is defined already or cannot be. */
function definitionEvent(state: ZoneState, definition: Definition): ZoneEvent {
  if (state.defined)
    throw new ChorusError('Chorus_ZoneDefinedError', {
      message: `${state.zone} is already defined (group: ${state.members.join(', ')}${state.group ? `; in group ${state.group}` : ''})`,
    });
  refuseShortPrePublication(state, definition);
  return defineZone(state, { source: OPERATOR, now: new Date().toISOString() }, definition);
}

/**
 * Checks the group on the wire before adopting it: every signer's addresses and the parent.
 * Throws AdoptionRefusedError with every finding; returns what `zone-defined` records.
 */
async function checkAdoption(
  log: EventLog<ZoneEvent>,
  zone: string,
  definition: Definition,
  parentServers: ParentServers,
): Promise<ZoneAdoption> {
  // The TTL of the records the findings show is the one the definition gives.
  const state = { ...(await readZone(log, zone)), recordTtlSeconds: definition.recordTtlSeconds };
  definitionEvent(state, definition); // what would be refused anyway, before asking the wire
  const parent = {
    zone: definition.parentZone,
    servers: await parentServers(definition.parentZone),
  };
  const observed = await observeAdoption(state, definition.signerIds, parent);
  const findings = adoptionFindings(state, definition.signerIds, observed);
  if (findings.length > 0 || 'error' in observed.delegation)
    throw new AdoptionRefusedError(zone, findings, definition.signerIds);
  return adoptionRecord(state, definition.signerIds, observed.delegation);
}

/**
 * Defines one zone; throws naming the zone when it is defined already or cannot be. A group of
 * two or more signers is adopted: checked on the wire first, at the parent's `parentServers`.
 */
async function defineOne(
  log: EventLog<ZoneEvent>,
  zone: string,
  definition: Definition,
  parentServers: ParentServers,
): Promise<ZoneEvent> {
  // Adoption checks a model-2 group on the wire; a model-1 group is checked by I8 instead.
  const adopted =
    definition.signerIds.length >= 2 && !definition.owner
      ? await checkAdoption(log, zone, definition, parentServers)
      : undefined;
  return appendToZone(log, zone, (state) => {
    const event = definitionEvent(state, definition);
    return adopted && event.type === 'zone-defined'
      ? { ...event, data: { ...event.data, adopted } }
      : event;
  });
}

/**
 * Defines a zone without the adoption check: for a group not yet signed at the parent, whose
 * signers do not know one another's keys yet (`chorus bootstrap`).
 */
export function defineUnsignedZone(
  log: EventLog<ZoneEvent>,
  zone: string,
  definition: Definition,
): Promise<ZoneEvent> {
  return appendToZone(log, zone, (state) => definitionEvent(state, definition));
}

/** What `zone define` prints for a zone it defined. */
function definedText(event: ZoneEvent): string {
  const adopted = event.type === 'zone-defined' ? event.data.adopted : undefined;
  return `${describeEvent(event)}\n${adopted ? `${describeAdoption(adopted)}\n` : ''}`;
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
  const owner = ownerFrom(values);
  if (owner) Object.assign(definition, { owner });
  const parentServers = parentServerSource(
    parentServerOptions(values['parent-server'] ?? [], COMMAND),
  );
  try {
    const event = await withEventLog(values, COMMAND, (log) =>
      defineOne(log, zone, definition, parentServers),
    );
    io.stdout(values.json ? `${JSON.stringify(event)}\n` : definedText(event));
    return 0;
  } catch (error) {
    if (!values.json || !(error instanceof AdoptionRefusedError)) throw error;
    io.stdout(`${JSON.stringify({ zone, defined: false, findings: error.findings })}\n`);
    return 1;
  }
}

/** One zone of `zone define --group`: defined now, already in the group, or why not. */
interface GroupZoneOutcome {
  zone: string;
  defined?: ZoneEvent;
  error?: string;
  /** An adoption refused: every finding. */
  findings?: AdoptionRefusedError['findings'];
}

function failedOutcome(zone: string, error: unknown): GroupZoneOutcome {
  const message = error instanceof Error ? error.message : String(error);
  return error instanceof AdoptionRefusedError
    ? { zone, error: message, findings: error.findings }
    : { zone, error: message };
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
  const parentServers = parentServerSource(
    parentServerOptions(values['parent-server'] ?? [], COMMAND),
  );
  const outcomes = await withEventLog(values, COMMAND, async (log) => {
    const group = await readDefinedGroup(log, name);
    const results: GroupZoneOutcome[] = [];
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
        results.push({ zone, defined: await defineOne(log, zone, definition, parentServers) });
      } catch (error) {
        const state = await readZone(log, zone);
        if (state.group === name) results.push({ zone });
        else results.push(failedOutcome(zone, error));
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
    else if (outcome.defined) io.stdout(definedText(outcome.defined));
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
