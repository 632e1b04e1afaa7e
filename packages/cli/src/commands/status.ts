/** `chorus status [ZONE]`: each process, its step, what it waits for, and what needs attention. */
import type { NameServer } from '@chorus/core';
import type { ProcessState, RegistrationChange, ZoneState } from '@chorus/engine';
import { expectPositionals, parseCommandArgs } from '../args.js';
import { model1Json, model1Lines } from '../coordination/model1-status.js';
import {
  currentWait,
  describeLeaving,
  describeParentChange,
  describeProcess,
  describeSignerFailure,
  pendingParentChange,
} from '../coordination/describe.js';
import {
  knownZones,
  readKnownZone,
  readZone,
  withEventLog,
  LOG_OPTIONS,
  type LogValues,
} from '../coordination/event-log.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { groupSummaryLines, summarizeGroup } from '../coordination/group-summary.js';
import { groupArgument, readDefinedGroup } from '../coordination/groups.js';
import { groupLines } from './group.js';
import { ChorusError } from '@chorus/core';
import { STATUS_HELP } from '../help.js';
import type { CliIo } from '../io.js';

const EARLIER_SHOWN = 5;

/** Processes that have not ended: the one in flight, and any that holds for the operator. */
function openProcesses(state: ZoneState): ProcessState[] {
  return state.processes.filter(
    (process) => process.status === 'running' || process.status === 'needs-operator',
  );
}

function processLines(process: ProcessState, zone: string, now: Date): string[] {
  const failures = Object.entries(process.signerFailures ?? {}).map(
    ([id, failure]) => `    ${describeSignerFailure(id, failure)}`,
  );
  const leaving = describeLeaving(process);
  const roll = process.roll ? [`    ${describeRoll(process)}`] : [];
  const parentChange = pendingParentChange(process);
  const parent = parentChange ? describeParentChange(zone, parentChange) : [];
  const stop = process.stopRequested;
  const stopping = stop
    ? [
        `    STOP requested by ${stop.by} at ${stop.at}${stop.reason ? ` (${stop.reason})` : ''}: it ends at its next safe point`,
      ]
    : [];
  return [
    `  ${describeProcess(process, now)}`,
    ...stopping,
    ...parent.map((line) => `    ${line}`),
    ...roll,
    ...failures,
    ...(leaving ? [`    ${leaving}`] : []),
  ];
}

/** Which keys a roll replaces, and who times it. */
function describeRoll(process: ProcessState): string {
  const roll = process.roll!;
  const timing =
    roll.mode === 'held'
      ? 'Chorus drives each step'
      : 'the server times activation and removal; Chorus follows on the wire';
  const successor = roll.successorTag !== undefined ? ` by ${roll.successorTag}` : '';
  return `roll of ${process.signerId}'s ${roll.role} ${roll.predecessorTags.join(' ')}${successor} (${roll.mode}: ${timing})`;
}

const endpointsText = (endpoints: readonly NameServer[]) =>
  endpoints.map((endpoint) => `${endpoint.address}#${endpoint.port ?? 53}`).join(' ');

/** One changed fact, before → after. */
function factChange(change: RegistrationChange, fact: string): string {
  const { before, after } = change;
  switch (fact) {
    case 'kind':
      return `kind ${before.kind} → ${after.kind}`;
    case 'nameServerNames':
      return `NS ${before.nameServerNames.join(' ')} → ${after.nameServerNames.join(' ')}`;
    case 'endpoints':
      return `endpoints ${endpointsText(before.endpoints)} → ${endpointsText(after.endpoints)}`;
    case 'keys':
      return `keys ${before.keyTags.join(' ')} → ${after.keyTags.join(' ')}`;
    default:
      return fact;
  }
}

/** What a registration changed, fact by fact, and whether it hit a member of the group. */
export function describeRegistrationChange(change: RegistrationChange): string {
  const who = change.member ? `member ${change.signerId}` : `signer ${change.signerId}`;
  const what = change.changed.map((fact) => factChange(change, fact)).join('; ');
  return `registration of ${who} CHANGED at ${change.at} by ${change.by}: ${what}`;
}

/** Refused events, or a warning that nothing was verified. */
function securityLines(state: ZoneState): string[] {
  if (!state.trust)
    return [
      '  NOT VERIFIED: give the trust file with --trust FILE or CHORUS_TRUST to check signatures',
    ];
  const shown = state.securityFindings;
  const lines = shown.map(
    (finding) =>
      `  SECURITY: refused ${finding.eventType} at version ${finding.streamVersion} [${finding.code}]: ${finding.message}; nothing was changed`,
  );
  const hidden = state.securityFindingCount - shown.length;
  if (hidden > 0) lines.unshift(`  SECURITY: ${hidden} earlier refused event(s) not shown`);
  return lines;
}

/** The human status of one zone. */
export function zoneStatusLines(state: ZoneState, now = new Date()): string[] {
  const open = openProcesses(state);
  const lines = [`${state.zone}  group: ${state.members.join(', ') || '(undefined)'}`];
  if (!state.defined)
    lines.push(`  not defined yet: run "chorus zone define ${state.zone} --signer ID"`);
  lines.push(...model1Lines(state, now));
  for (const process of open) lines.push(...processLines(process, state.zone, now));
  for (const request of state.pendingRequests)
    lines.push(
      `  pending: ${request.kind} ${request.signerId} requested by ${request.requestedBy} at ${request.requestedAt}, waiting for the sidecars' pre-flight checks`,
    );
  if (open.length === 0 && state.pendingRequests.length === 0) lines.push('  no process in flight');
  for (const change of state.registrationChanges ?? [])
    lines.push(`  ${describeRegistrationChange(change)}`);
  for (const finding of state.keyFindings ?? [])
    lines.push(`  KEY FINDING at ${finding.at}: ${finding.message}`);
  lines.push(...securityLines(state));
  const earlier = state.processes.filter((process) => !open.includes(process));
  for (const process of earlier.slice(-EARLIER_SHOWN))
    lines.push(`  earlier: ${describeProcess(process, now)}`);
  return lines;
}

function processJson(process: ProcessState) {
  const inFlight = process.status === 'running' || process.status === 'needs-operator';
  const parentChange = inFlight ? pendingParentChange(process) : undefined;
  const wait = inFlight ? currentWait(process) : undefined;
  return {
    id: process.id,
    kind: process.kind,
    signerId: process.signerId,
    status: process.status,
    currentStep: process.currentStep,
    steps: process.steps.map((step) => step.name),
    ...(process.reasons ? { reasons: process.reasons } : {}),
    ...(process.signerFailures ? { signerFailures: process.signerFailures } : {}),
    ...(process.leavingSigner ? { leavingSigner: process.leavingSigner } : {}),
    ...(process.roll ? { roll: process.roll } : {}),
    /** What a person must still change at the parent for the current step. */
    ...(parentChange ? { parentChange } : {}),
    /** The mandated wait the current step is in: `notBefore`, its formula and what it waits out. */
    ...(wait ? { wait } : {}),
    /** What it waits for now, in words, as `chorus status` prints it. */
    description: describeProcess(process),
  };
}

/** The machine-readable status of one zone. */
export function zoneStatusJson(state: ZoneState) {
  return {
    zone: state.zone,
    defined: state.defined,
    members: state.members,
    /** Model 1 only: the owner's KSKs, what it signed last, until when, and what it does next. */
    ...(state.owner ? { model1: model1Json(state) } : {}),
    /** The oldest process in flight (kept for scripts written before processes could overlap). */
    activeProcess: state.activeProcess ? processJson(state.activeProcess) : null,
    /** Every process in flight, oldest first: they hold disjoint resources. */
    activeProcesses: state.activeProcesses.map(processJson),
    pendingRequests: state.pendingRequests,
    registrationChanges: state.registrationChanges ?? [],
    keyFindings: state.keyFindings ?? [],
    /** False when no trust file was given: then nothing below was verified. */
    verified: state.trust !== null,
    securityFindings: state.securityFindings,
    securityFindingCount: state.securityFindingCount,
    processes: state.processes.map(processJson),
  };
}

export async function statusCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('status', args, {
    ...LOG_OPTIONS,
    group: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(STATUS_HELP);
    return 0;
  }
  if (values.group !== undefined) {
    expectPositionals(positionals, 0, 'status');
    return groupStatus(values, groupArgument(values.group, 'status'), io);
  }
  expectPositionals(positionals, 1, 'status');
  const zone =
    positionals[0] === undefined
      ? undefined
      : zoneArgument(positionals[0], 'status', 'chorus status [ZONE]');
  const states = await withEventLog(values, 'status', async (log, path) => {
    if (zone) return [await readKnownZone(log, zone, path)];
    const zones = await knownZones(log);
    if (zones.length === 0)
      throw new ChorusError('Chorus_UnknownZoneError', {
        message: `no zone in ${path} yet: the sidecars register their zones when they start; then run "chorus zone define ZONE --signer ID"`,
      });
    return Promise.all(zones.map((name) => readZone(log, name)));
  });
  if (values.json) io.stdout(`${JSON.stringify(states.map(zoneStatusJson), null, 2)}\n`);
  else io.stdout(`${states.flatMap((state) => zoneStatusLines(state)).join('\n')}\n`);
  return 0;
}

/** `chorus status --group G`: how many zones are where, the wait window, and the failures. */
async function groupStatus(
  values: LogValues & { json?: boolean | undefined },
  name: string,
  io: CliIo,
): Promise<number> {
  const { group, states } = await withEventLog(values, 'status', async (log) => {
    const group = await readDefinedGroup(log, name);
    const states: ZoneState[] = [];
    for (const zone of group.zones) states.push(await readZone(log, zone));
    return { group, states };
  });
  const summary = summarizeGroup(name, states);
  if (values.json)
    io.stdout(
      `${JSON.stringify({ ...summary, signers: group.signers, verified: group.verified, refused: group.refused }, null, 2)}\n`,
    );
  else io.stdout(`${[...groupSummaryLines(summary), ...groupLines(group).slice(1)].join('\n')}\n`);
  return 0;
}
